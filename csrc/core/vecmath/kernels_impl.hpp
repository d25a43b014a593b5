// Body of kernels_<isa>.cpp: the span loops over FloatVec<VB>.  Included
// once per ISA translation unit with BPROP_VECMATH_VB and BPROP_VECMATH_NAME
// defined; everything here has internal linkage.
#include <cstring>

#include "vecmath.hpp"

namespace bprop {
namespace vecmath {
namespace {

using VT = FloatVec<BPROP_VECMATH_VB>;
using V = VT::V;

void exp_span(const float* x, float* y, index_t n) {
    map_span<VT>(x, y, n, [](V v) { return VT::exp(v); });
}
void sigmoid_span(const float* x, float* y, index_t n) {
    map_span<VT>(x, y, n, [](V v) { return VT::sigmoid(v); });
}
void tanh_span(const float* x, float* y, index_t n) {
    map_span<VT>(x, y, n, [](V v) { return VT::tanh(v); });
}
void gelu_span(const float* x, float* y, index_t n) {
    map_span<VT>(x, y, n, [](V v) { return VT::gelu(v); });
}

void gelu_backward_span(const float* dy, const float* x, float* dx, index_t n) {
    constexpr int L = VT::kLanes;
    index_t i = 0;
    for (; i + L <= n; i += L) VT::store(dx + i, VT::load(dy + i) * VT::gelu_grad(VT::load(x + i)));
    if (i < n) {
        float xin[L] = {}, gin[L] = {}, out[L];
        const std::size_t bytes = sizeof(float) * static_cast<std::size_t>(n - i);
        std::memcpy(xin, x + i, bytes);
        std::memcpy(gin, dy + i, bytes);
        VT::store(out, VT::load(gin) * VT::gelu_grad(VT::load(xin)));
        std::memcpy(dx + i, out, bytes);
    }
}

float exp_shift_sum_span(const float* x, float shift, float* y, index_t n) {
    constexpr int L = VT::kLanes;
    V acc = V{};
    index_t i = 0;
    for (; i + L <= n; i += L) {
        const V e = VT::exp(VT::load(x + i) - shift);
        VT::store(y + i, e);
        acc += e;
    }
    float lanes[L];
    VT::store(lanes, acc);
    float sum = 0.0f;
    for (int l = 0; l < L; ++l) sum += lanes[l];
    if (i < n) {
        float in[L], out[L];
        for (int l = 0; l < L; ++l) in[l] = shift - 1000.0f;  // padding: exp(...) = 0
        std::memcpy(in, x + i, sizeof(float) * static_cast<std::size_t>(n - i));
        VT::store(out, VT::exp(VT::load(in) - shift));
        for (index_t l = 0; l < n - i; ++l) {
            y[i + l] = out[l];
            sum += out[l];
        }
    }
    return sum;
}

void relu_backward_span(const float* dy, const float* z, float* dx, index_t n) {
    constexpr int L = VT::kLanes;
    const V zero = VT::splat(0.0f);
    index_t i = 0;
    for (; i + L <= n; i += L) VT::store(dx + i, VT::select(VT::load(z + i) > zero, VT::load(dy + i), zero));
    for (; i < n; ++i) dx[i] = z[i] > 0.0f ? dy[i] : 0.0f;
}

// A plain loop: compiled with this file's ISA flags (and -fno-math-errno)
// the compiler vectorises it at full width, sqrt included.
void adam_span(float* p, const float* g, float* m, float* v, index_t n, float lr_t,
               float one_minus_beta1, float one_minus_beta2, float eps, float decay) {
    if (decay != 0.0f)
        for (index_t i = 0; i < n; ++i) p[i] -= decay * p[i];
    for (index_t i = 0; i < n; ++i) {
        m[i] += (g[i] - m[i]) * one_minus_beta1;
        v[i] += (g[i] * g[i] - v[i]) * one_minus_beta2;
        p[i] -= lr_t * m[i] / (__builtin_sqrtf(v[i]) + eps);
    }
}

}  // namespace

Kernels BPROP_VECMATH_NAME() {
    return {&exp_span, &sigmoid_span, &tanh_span, &gelu_span, &gelu_backward_span, &exp_shift_sum_span,
            &relu_backward_span, &adam_span};
}

}  // namespace vecmath
}  // namespace bprop
