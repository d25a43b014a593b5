// Element formulas of the activations and their derivatives, inline so
// that both the elementwise kernels and GEMM's epilogue use one definition.
// float32 transcendentals go to the vectorised kernels of vecmath/; float64
// uses libm (full double accuracy).
// The loops here are serial: callers parallelise over rows or chunks.
#pragma once

#include <cmath>
#include <type_traits>

#include "activation_kind.hpp"
#include "common.hpp"
#include "vecmath/vecmath.hpp"

namespace bprop {

namespace act_detail {

constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
constexpr double kGeluC = 0.044715;

template <typename T>
inline T sigmoid(T x) {
    // Never exponentiates a positive number: no overflow for |x| large.
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
}

// GELU (tanh approximation) 0.5 x (1 + tanh(u)) evaluated as x sigmoid(2u):
// the same function without the cancellation of 1 + tanh(u) for x << 0.
template <typename T>
inline T gelu_u(T x) {
    return T(kSqrt2OverPi) * (x + T(kGeluC) * x * x * x);
}

template <typename T>
inline T gelu(T x) {
    return x * sigmoid(T(2) * gelu_u(x));
}

// d/dx [x s] with s = sigmoid(2u): s + 2 x s (1 - s) du/dx.
template <typename T>
inline T gelu_grad(T x) {
    const T s = sigmoid(T(2) * gelu_u(x));
    const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluC) * x * x);
    return s + T(2) * x * s * (T(1) - s) * du;
}

}  // namespace act_detail

// y = act(x) elementwise for n values (softmax excluded: it is row-wise).
template <typename T>
inline void activation_forward_span(Act act, const T* x, T* y, index_t n, T alpha) {
    switch (act) {
        case Act::linear:
            if (x != y)
                for (index_t i = 0; i < n; ++i) y[i] = x[i];
            break;
        case Act::relu:
#pragma omp simd
            for (index_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];  // NaN stays NaN
            break;
        case Act::leaky_relu:
#pragma omp simd
            for (index_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? alpha * x[i] : x[i];
            break;
        case Act::sigmoid:
            if constexpr (std::is_same<T, float>::value) {
                vecmath::active_kernels().sigmoid(x, y, n);
            } else {
                for (index_t i = 0; i < n; ++i) y[i] = act_detail::sigmoid(x[i]);
            }
            break;
        case Act::tanh:
            if constexpr (std::is_same<T, float>::value) {
                vecmath::active_kernels().tanh(x, y, n);
            } else {
                for (index_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
            }
            break;
        case Act::gelu:
            if constexpr (std::is_same<T, float>::value) {
                vecmath::active_kernels().gelu(x, y, n);
            } else {
                for (index_t i = 0; i < n; ++i) y[i] = act_detail::gelu(x[i]);
            }
            break;
        case Act::softmax:
            break;  // row-wise: see softmax.hpp
    }
}

template <typename T>
inline void activation_forward_inplace(Act act, T* row, index_t n, T alpha) {
    activation_forward_span(act, row, row, n, alpha);
}

// dx = dy * act'(.) for n values.  `z_or_y` is the activation's output for
// relu, leaky_relu (alpha >= 0), sigmoid and tanh, its input for gelu, and
// unused for linear.
template <typename T>
inline void activation_backward_span(Act act, const T* dy, const T* z_or_y, T* dx, index_t n,
                                     T alpha) {
    switch (act) {
        case Act::linear:
            if (dy != dx)
                for (index_t i = 0; i < n; ++i) dx[i] = dy[i];
            break;
        case Act::relu:
            if constexpr (std::is_same<T, float>::value) {
                vecmath::active_kernels().relu_backward(dy, z_or_y, dx, n);
            } else {
                for (index_t i = 0; i < n; ++i) dx[i] = z_or_y[i] > T(0) ? dy[i] : T(0);
            }
            break;
        case Act::leaky_relu:
#pragma omp simd
            for (index_t i = 0; i < n; ++i) dx[i] = z_or_y[i] > T(0) ? dy[i] : alpha * dy[i];
            break;
        case Act::sigmoid:
#pragma omp simd
            for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * z_or_y[i] * (T(1) - z_or_y[i]);
            break;
        case Act::tanh:
#pragma omp simd
            for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * (T(1) - z_or_y[i] * z_or_y[i]);
            break;
        case Act::gelu:
            if constexpr (std::is_same<T, float>::value) {
                vecmath::active_kernels().gelu_backward(dy, z_or_y, dx, n);
            } else {
                for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * act_detail::gelu_grad(z_or_y[i]);
            }
            break;
        case Act::softmax:
            break;  // row-wise: see softmax.hpp
    }
}

}  // namespace bprop
