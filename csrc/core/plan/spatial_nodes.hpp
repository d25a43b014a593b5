// The plan's image layers (NHWC samples): convolution, pooling, zero padding.
// Each makes the kernel calls of its Python twin (bprop/engine/spatial_nodes.py).
// A sample is h*w rows of c values (Shape{h*w, c}); a node keeps the
// geometry of one image and sets the batch size per call.
#pragma once

#include <cstdint>

#include "../activation_kind.hpp"
#include "../conv.hpp"
#include "node.hpp"

namespace bprop::plan {

// Conv2D: y = act(conv(x, kernel) + bias), the kernel (kh, kw, c, f).
template <typename T>
class Conv2DNode final : public Node<T> {
public:
    Conv2DNode(const ConvGeometry& image, Act act, Param<T>* kernel, Param<T>* bias);
    void reserve(index_t n) override;
    const T* forward(const T* x, index_t n, const StepContext& ctx) override;
    const T* backward(const T* dy, index_t n, bool need_dx) override;
    bool has_trainable() const override;

private:
    ConvGeometry g_;
    Act act_;
    Param<T>* kernel_;
    Param<T>* bias_;
    Buffer<T> y_, z_, dx_;  // z_: the pre-activation, kept for gelu's backward
    const T* x_ = nullptr;
};

enum class PoolKind { max, average };

// MaxPooling2D / AveragePooling2D (the window: g's kh x kw, f == c).
template <typename T>
class Pool2DNode final : public Node<T> {
public:
    Pool2DNode(const ConvGeometry& image, PoolKind kind);
    void reserve(index_t n) override;
    const T* forward(const T* x, index_t n, const StepContext& ctx) override;
    const T* backward(const T* dy, index_t n, bool need_dx) override;

private:
    ConvGeometry g_;
    PoolKind kind_;
    Buffer<T> y_, dx_;
    Buffer<std::int32_t> argmax_;
};

// GlobalAveragePooling: (positions, c) -> (c,) per sample.
template <typename T>
class GlobalAvgPoolNode final : public Node<T> {
public:
    GlobalAvgPoolNode(index_t positions, index_t channels);
    void reserve(index_t n) override;
    const T* forward(const T* x, index_t n, const StepContext& ctx) override;
    const T* backward(const T* dy, index_t n, bool need_dx) override;

private:
    Buffer<T> y_, dx_;
};

// ZeroPadding2D: (h, w, c) -> (h + top + bottom, w + left + right, c).
template <typename T>
class ZeroPad2DNode final : public Node<T> {
public:
    ZeroPad2DNode(index_t h, index_t w, index_t c, index_t top, index_t bottom, index_t left, index_t right);
    void reserve(index_t n) override;
    const T* forward(const T* x, index_t n, const StepContext& ctx) override;
    const T* backward(const T* dy, index_t n, bool need_dx) override;

private:
    index_t h_, w_, c_, top_, left_, oh_, ow_;
    Buffer<T> y_, dx_;
};

}  // namespace bprop::plan
