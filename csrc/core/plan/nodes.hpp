// The layer kinds the core runs: each is the sequence of kernel calls the
// matching Python node makes (bprop/engine/nodes.py), in the same order, so
// the core plan and the op-by-op plan give the same bits.
#pragma once

#include <cstdint>

#include "../activation_kind.hpp"
#include "node.hpp"

namespace bprop::plan {

// Dense: y = act(x @ kernel + bias) over rows of `in.cols` values.
template <typename T>
class DenseNode final : public Node<T> {
public:
    DenseNode(Shape in, index_t units, Act act, Param<T>* kernel, Param<T>* bias);
    void reserve(index_t n) override;
    const T* forward(const T* x, index_t n, const StepContext& ctx) override;
    const T* backward(const T* dy, index_t n, bool need_dx) override;
    bool has_trainable() const override;

private:
    Act act_;
    Param<T>* kernel_;
    Param<T>* bias_;  // null without a bias
    Buffer<T> y_, z_, dx_;  // z_: the pre-activation, kept for gelu's backward
    const T* x_ = nullptr;
};

// An activation over the last axis (softmax row-wise; alpha: leaky_relu's slope).
template <typename T>
class ActivationNode final : public Node<T> {
public:
    ActivationNode(Shape shape, Act act, double alpha);
    void reserve(index_t n) override;
    const T* forward(const T* x, index_t n, const StepContext& ctx) override;
    const T* backward(const T* dy, index_t n, bool need_dx) override;

private:
    Act act_;
    T alpha_;
    Buffer<T> y_, dx_;
    const T* x_ = nullptr;
};

// Inverted dropout with the counter-based mask of core/dropout.hpp; the
// identity outside training.
template <typename T>
class DropoutNode final : public Node<T> {
public:
    DropoutNode(Shape shape, double rate, std::uint64_t seed);
    void reserve(index_t n) override;
    const T* forward(const T* x, index_t n, const StepContext& ctx) override;
    const T* backward(const T* dy, index_t n, bool need_dx) override;

private:
    double rate_;
    std::uint64_t seed_;
    bool active_ = false;
    Buffer<T> y_, dx_;
    Buffer<std::uint8_t> mask_;
};

}  // namespace bprop::plan
