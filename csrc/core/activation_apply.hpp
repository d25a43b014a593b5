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

// SELU's constants (Klambauer et al. 2017), as TensorFlow and Keras use them.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

// elu: x for x > 0, alpha (exp(x) - 1) otherwise; expm1 keeps the digits near 0.
template <typename T>
inline T elu(T x, T alpha) {
    return x > T(0) ? x : alpha * std::expm1(x);
}

template <typename T>
inline T elu_grad(T x, T alpha) {
    return x > T(0) ? T(1) : alpha * std::exp(x);
}

// softplus = log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): no overflow,
// and exact to the last digits for large negative x (where it is exp(x)).
template <typename T>
inline T softplus(T x) {
    return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

// hard_sigmoid = relu6(x + 3) / 6 (Keras 3); a NaN stays NaN.
template <typename T>
inline T hard_sigmoid(T x) {
    T t = x + T(3);
    t = t < T(0) ? T(0) : t;
    t = t > T(6) ? T(6) : t;
    return t / T(6);
}

}  // namespace act_detail

namespace act_chunk {

// float32 activations built on the vectorised sigmoid/exp of vecmath/ work
// through a small stack buffer, so that y may alias x (in place).
constexpr index_t kChunk = 256;

// y = x * sigmoid(x)
inline void silu_f32(const float* x, float* y, index_t n) {
    float s[kChunk];
    for (index_t b = 0; b < n; b += kChunk) {
        const index_t m = n - b < kChunk ? n - b : kChunk;
        vecmath::active_kernels().sigmoid(x + b, s, m);
        for (index_t i = 0; i < m; ++i) y[b + i] = x[b + i] * s[i];
    }
}

// dx = dy * s (1 + x (1 - s)), s = sigmoid(x)
inline void silu_backward_f32(const float* dy, const float* x, float* dx, index_t n) {
    float s[kChunk];
    for (index_t b = 0; b < n; b += kChunk) {
        const index_t m = n - b < kChunk ? n - b : kChunk;
        vecmath::active_kernels().sigmoid(x + b, s, m);
        for (index_t i = 0; i < m; ++i)
            dx[b + i] = dy[b + i] * (s[i] * (1.0f + x[b + i] * (1.0f - s[i])));
    }
}

// dx = dy * sigmoid(x) (softplus' derivative)
inline void softplus_backward_f32(const float* dy, const float* x, float* dx, index_t n) {
    float s[kChunk];
    for (index_t b = 0; b < n; b += kChunk) {
        const index_t m = n - b < kChunk ? n - b : kChunk;
        vecmath::active_kernels().sigmoid(x + b, s, m);
        for (index_t i = 0; i < m; ++i) dx[b + i] = dy[b + i] * s[i];
    }
}

}  // namespace act_chunk

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
        case Act::elu:
            for (index_t i = 0; i < n; ++i) y[i] = act_detail::elu(x[i], alpha);
            break;
        case Act::selu: {
            const T scale = T(act_detail::kSeluScale), a = T(act_detail::kSeluAlpha);
            for (index_t i = 0; i < n; ++i) y[i] = scale * act_detail::elu(x[i], a);
            break;
        }
        case Act::softplus:
            for (index_t i = 0; i < n; ++i) y[i] = act_detail::softplus(x[i]);
            break;
        case Act::softsign:
#pragma omp simd
            for (index_t i = 0; i < n; ++i) y[i] = x[i] / (T(1) + std::fabs(x[i]));
            break;
        case Act::silu:
            if constexpr (std::is_same<T, float>::value) {
                act_chunk::silu_f32(x, y, n);
            } else {
                for (index_t i = 0; i < n; ++i) y[i] = x[i] * act_detail::sigmoid(x[i]);
            }
            break;
        case Act::exponential:
            if constexpr (std::is_same<T, float>::value) {
                vecmath::active_kernels().exp(x, y, n);
            } else {
                for (index_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
            }
            break;
        case Act::hard_sigmoid:
#pragma omp simd
            for (index_t i = 0; i < n; ++i) y[i] = act_detail::hard_sigmoid(x[i]);
            break;
    }
}

template <typename T>
inline void activation_forward_inplace(Act act, T* row, index_t n, T alpha) {
    activation_forward_span(act, row, row, n, alpha);
}

// dx = dy * act'(.) for n values.  `z_or_y` is the activation's input where
// backward_reads_input(act) (gelu, elu, selu, softplus, softsign, silu), its
// output for the others (relu, leaky_relu with alpha >= 0, sigmoid, tanh,
// exponential, hard_sigmoid), and unused for linear.
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
        case Act::elu:
            for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * act_detail::elu_grad(z_or_y[i], alpha);
            break;
        case Act::selu: {
            const T scale = T(act_detail::kSeluScale), a = T(act_detail::kSeluAlpha);
            for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * (scale * act_detail::elu_grad(z_or_y[i], a));
            break;
        }
        case Act::softplus:
            if constexpr (std::is_same<T, float>::value) {
                act_chunk::softplus_backward_f32(dy, z_or_y, dx, n);
            } else {
                for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * act_detail::sigmoid(z_or_y[i]);
            }
            break;
        case Act::softsign:
#pragma omp simd
            for (index_t i = 0; i < n; ++i) {
                const T d = T(1) + std::fabs(z_or_y[i]);
                dx[i] = dy[i] / (d * d);
            }
            break;
        case Act::silu:
            if constexpr (std::is_same<T, float>::value) {
                act_chunk::silu_backward_f32(dy, z_or_y, dx, n);
            } else {
                for (index_t i = 0; i < n; ++i) {
                    const T s = act_detail::sigmoid(z_or_y[i]);
                    dx[i] = dy[i] * (s * (T(1) + z_or_y[i] * (T(1) - s)));
                }
            }
            break;
        case Act::exponential:
#pragma omp simd
            for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * z_or_y[i];
            break;
        case Act::hard_sigmoid:
            // The slope is 1/6 strictly inside (0, 1), as relu6's gradient (0 < x + 3 < 6).
#pragma omp simd
            for (index_t i = 0; i < n; ++i)
                dx[i] = z_or_y[i] > T(0) && z_or_y[i] < T(1) ? dy[i] / T(6) : T(0);
            break;
    }
}

}  // namespace bprop
