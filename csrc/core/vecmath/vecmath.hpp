// Vectorised float32 exp, sigmoid, tanh and GELU, written once with GCC/Clang
// vector extensions and compiled once per ISA (kernels_<isa>.cpp), so the
// transcendental activations run at SIMD width instead of one libm call per
// element.
//
// Accuracy (float32, normal results; checked against float64 by the tests):
//   exp: Cody-Waite reduction + Cephes' degree-6 polynomial, <= 2 ulp;
//        x < -87.34 gives 0 (true results there are subnormal), x > 88.72 inf.
//   sigmoid: 1 / (1 + exp(-x)), <= 3 ulp; tanh: Cephes' odd polynomial for
//        |x| < 0.625, else 1 - 2 / (exp(2|x|) + 1), <= 4 ulp;
//   gelu: x * sigmoid(2u) (tanh approximation), 2u in float64, <= 4 ulp.
#pragma once

#include <cstdint>
#include <cstring>

#include "../common.hpp"

namespace bprop {
namespace vecmath {

template <int VB>
struct FloatVec {
    typedef float V __attribute__((vector_size(VB)));
    typedef std::int32_t I __attribute__((vector_size(VB)));
    static constexpr int kLanes = VB / 4;

    static V load(const float* p) {
        V v;
        std::memcpy(&v, p, sizeof(V));
        return v;
    }
    static void store(float* p, V v) { std::memcpy(p, &v, sizeof(V)); }
    static V splat(float s) { return s - V{}; }  // x - 0 == x folds away; x + 0 does not (-0)

    static V select(I mask, V a, V b) {  // mask lanes are 0 or -1
        I ai, bi;
        std::memcpy(&ai, &a, sizeof(V));
        std::memcpy(&bi, &b, sizeof(V));
        const I r = (ai & mask) | (bi & ~mask);
        V out;
        std::memcpy(&out, &r, sizeof(V));
        return out;
    }

    static V abs(V x) {
        I b;
        std::memcpy(&b, &x, sizeof(V));
        b &= 0x7fffffff;
        V out;
        std::memcpy(&out, &b, sizeof(V));
        return out;
    }

    static V exp(V x) {
        const V lo = splat(-87.3365478515625f), hi = splat(88.72283172607421875f);
        const I under = x < lo, over = x > hi;
        V xc = select(under, lo, x);
        xc = select(over, hi, xc);
        // n = round(x / ln 2) with the 1.5 * 2^23 trick (round to nearest even).
        // t's low mantissa bits then hold n itself: n = bits(t) - bits(magic).
        const V magic = splat(12582912.0f);
        const V t = xc * 1.44269504088896341f + magic;
        const V nf = t - magic;
        V r = xc - nf * 0.693359375f;
        r = r - nf * -2.12194440e-4f;
        V p = splat(1.9875691500e-4f);
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        V y = p * (r * r) + r + 1.0f;
        // y * 2^n, n in [-126, 128]: scale in two halves so n = 128 stays finite
        // until the final multiply (which is what rounds to inf above hi).
        I n;
        std::memcpy(&n, &t, sizeof(V));
        n -= 0x4B400000;
        const I n1 = n >> 1, n2 = n - n1;
        I e1 = (n1 + 127) << 23, e2 = (n2 + 127) << 23;
        V s1, s2;
        std::memcpy(&s1, &e1, sizeof(V));
        std::memcpy(&s2, &e2, sizeof(V));
        y = (y * s1) * s2;
        y = select(under, splat(0.0f), y);
        y = select(over, splat(__builtin_inff()), y);
        return y;
    }

    static V sigmoid(V x) { return 1.0f / (1.0f + exp(-x)); }

    static V tanh(V x) {
        const V ax = abs(x);
        // Small |x|: x + x^3 P(x^2) (Cephes tanhf), no cancellation.
        const V z = x * x;
        V p = splat(-5.70498872745e-3f);
        p = p * z + 2.06390887954e-2f;
        p = p * z - 5.37397155531e-2f;
        p = p * z + 1.33314422036e-1f;
        p = p * z - 3.33332819422e-1f;
        const V small = p * z * x + x;
        // Large |x|: 1 - 2 / (exp(2|x|) + 1), sign restored.
        const V big_abs = 1.0f - 2.0f / (exp(ax + ax) + 1.0f);
        const V big = select(x < 0.0f, -big_abs, big_abs);
        return select(ax < 0.625f, small, big);
    }

    static constexpr float kSqrt2OverPi = 0.79788456080286535588f;
    static constexpr float kGeluC = 0.044715f;

    static V gelu_u(V x) { return kSqrt2OverPi * (x + kGeluC * x * x * x); }
    static V gelu_grad(V x) {
        const V s = sigmoid(2.0f * gelu_u(x));
        const V du = kSqrt2OverPi * (1.0f + (3.0f * kGeluC) * x * x);
        return s + 2.0f * x * s * (1.0f - s) * du;
    }
};

// y[i] = F(x[i]) over a span, the tail through a zero-padded vector.
template <typename VecT, typename F>
inline void map_span(const float* x, float* y, index_t n, F f) {
    using V = typename VecT::V;
    constexpr int L = VecT::kLanes;
    index_t i = 0;
    for (; i + L <= n; i += L) VecT::store(y + i, f(VecT::load(x + i)));
    if (i < n) {
        float in[L] = {}, out[L];
        std::memcpy(in, x + i, sizeof(float) * static_cast<std::size_t>(n - i));
        V v;
        std::memcpy(&v, in, sizeof(V));
        std::memcpy(out, &v, sizeof(V));
        VecT::store(out, f(v));
        std::memcpy(y + i, out, sizeof(float) * static_cast<std::size_t>(n - i));
    }
}

// The per-ISA entry points (all float32, contiguous spans, serial).
struct Kernels {
    void (*exp)(const float* x, float* y, index_t n);
    void (*sigmoid)(const float* x, float* y, index_t n);
    void (*tanh)(const float* x, float* y, index_t n);
    void (*gelu)(const float* x, float* y, index_t n);
    // dx = dy * gelu'(x)
    void (*gelu_backward)(const float* dy, const float* x, float* dx, index_t n);
    // y = exp(x - shift), returns the sum of y, accumulated in float64 (a
    // softmax row: the sum's rounding would otherwise dominate its error).
    double (*exp_shift_sum)(const float* x, float shift, float* y, index_t n);
    // max of x[0..n) (n >= 1) by the rule of `x[j] > m ? x[j] : m`; a row
    // holding a NaN may yield NaN or ignore it (its softmax is NaN either way).
    float (*max)(const float* x, index_t n);
    // sum of a[i] * b[i] (b null: of a[i]), accumulated in float64 lanes.
    double (*dot)(const float* a, const float* b, index_t n);
    // dx = dy - exp(y) * total (log_softmax backward, y the log-probabilities)
    void (*log_softmax_backward)(const float* dy, const float* y, float total, float* dx, index_t n);
    // dx = dy where z > 0, else 0 (exactly: a lane select, no multiply)
    void (*relu_backward)(const float* dy, const float* z, float* dx, index_t n);
    // The Adam update of optimizers.hpp over a span (lr_t already bias-corrected);
    // returns whether every p, m, v it wrote is finite.
    bool (*adam)(float* p, const float* g, float* m, float* v, index_t n, float lr_t,
                 float one_minus_beta1, float one_minus_beta2, float eps, float decay);
    // The RMSprop and Adagrad updates of optimizers.hpp over a span: a
    // square root and a division per element, which the baseline build
    // (SSE2) runs at a quarter of AVX-512's width.
    bool (*rmsprop)(float* p, const float* g, float* sq_avg, index_t n, float lr, float rho, float one_minus_rho,
                    float eps);
    // RMSprop with momentum (velocity non-null) and/or centered (average non-null).
    bool (*rmsprop_options)(float* p, const float* g, float* sq_avg, float* velocity, float* average, index_t n,
                            float lr, float rho, float one_minus_rho, float eps, float momentum);
    bool (*adagrad)(float* p, const float* g, float* accum, index_t n, float lr, float eps);
};

Kernels generic_kernels();
Kernels avx2_kernels();
Kernels avx512_kernels();

// The kernels of the active ISA (cpu_features.hpp).
const Kernels& active_kernels();

}  // namespace vecmath
}  // namespace bprop
