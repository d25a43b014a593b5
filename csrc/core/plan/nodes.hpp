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

    // The same step shared by a thread team (plan/train_plan_team.cpp).
    // Each thread owns output columns [c0, c1) (multiples of the GEMM's
    // panel width) and rows [r0, r1) of the batch; the other parts run on
    // thread 0 alone between the team's barriers.  Every element is computed
    // by the same arithmetic as in forward/backward, so the bits are the same.
    //   forward:  forward_columns (each) -> forward_rows_pass (thread 0, when
    //             forward_has_rows_pass: softmax or an activation taken from z)
    //   backward: backward_dz (thread 0, when the activation is not linear) ->
    //             backward_kernel_rows (each: rows [r0, r1) of dW, the rows
    //             it updates), backward_bias_columns (each: db[c0:c1]) and
    //             backward_dx_rows (each)
    index_t units() const { return this->out.cols; }
    Param<T>* kernel() const { return kernel_; }
    Param<T>* bias() const { return bias_; }
    void forward_columns(const T* x, index_t n, index_t c0, index_t c1);
    bool forward_has_rows_pass() const;
    void forward_rows_pass(index_t n);
    const T* output() const { return y_.data(); }
    bool has_dz() const { return act_ != Act::linear; }
    void backward_dz(const T* dy, index_t n);
    void backward_kernel_rows(const T* dy, index_t n, index_t r0, index_t r1);
    void backward_bias_columns(const T* dy, index_t n, index_t c0, index_t c1);
    void backward_dx_rows(const T* dy, index_t n, index_t r0, index_t r1);
    const T* dx() const { return dx_.data(); }

private:
    const T* dz(const T* dy) const { return act_ == Act::linear ? dy : dz_.data(); }

    Act act_;
    Param<T>* kernel_;
    Param<T>* bias_;  // null without a bias
    Buffer<T> y_, z_, dx_;  // z_: the pre-activation, kept for gelu's backward
    Buffer<T> dz_;          // the team's dy * act'(.)
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
