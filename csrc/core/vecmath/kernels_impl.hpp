// Body of kernels_<isa>.cpp: the span loops over FloatVec<VB>.  Included
// once per ISA translation unit with BPROP_VECMATH_VB and BPROP_VECMATH_NAME
// defined; everything here has internal linkage.
#include <cstdint>
#include <cstring>

#if defined(__AVX__)
#include <immintrin.h>
#endif

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
// gelu = x * sigmoid(2u) with 2u = 2 sqrt(2/pi) (x + 0.044715 x^3) evaluated
// in float64 and carried as hi + lo: rounding 2u to float32 would cost up to
// |2u| / 2 ulp in exp(-2u) (over 100 ulp where gelu's tail is tiny).
// |2u| beyond 200 saturates sigmoid in float32 (and keeps hi + lo finite).
constexpr double kTwoULimit = 200.0;
typedef float HalfV __attribute__((vector_size(BPROP_VECMATH_VB / 2)));
typedef double DoubleV __attribute__((vector_size(BPROP_VECMATH_VB)));

inline void two_u_hi_lo(HalfV x, HalfV& hi, HalfV& lo) {
    const DoubleV d = __builtin_convertvector(x, DoubleV);
    DoubleV t = 1.5957691216057308 * (d + 0.044715 * d * d * d);
    t = t < -kTwoULimit ? -kTwoULimit : t;  // NaN stays NaN
    t = t > kTwoULimit ? kTwoULimit : t;
    hi = __builtin_convertvector(t, HalfV);
    lo = __builtin_convertvector(t - __builtin_convertvector(hi, DoubleV), HalfV);
}

#if BPROP_VECMATH_VB == 32 && defined(__AVX__)
// The same with AVX's conversions spelled out (GCC splits the generic ones
// into 128-bit pieces through the stack).
inline void two_u_hi_lo_avx(__m128 x, __m128& hi, __m128& lo) {
    const __m256d d = _mm256_cvtps_pd(x);
    __m256d t = _mm256_mul_pd(_mm256_set1_pd(1.5957691216057308),
                              _mm256_add_pd(d, _mm256_mul_pd(_mm256_set1_pd(0.044715),
                                                             _mm256_mul_pd(d, _mm256_mul_pd(d, d)))));
    // Clamp (max/min return their second operand for a NaN: it stays NaN).
    t = _mm256_min_pd(_mm256_set1_pd(kTwoULimit), _mm256_max_pd(_mm256_set1_pd(-kTwoULimit), t));
    hi = _mm256_cvtpd_ps(t);
    lo = _mm256_cvtpd_ps(_mm256_sub_pd(t, _mm256_cvtps_pd(hi)));
}

inline V gelu_accurate(V x) {
    __m256 xv;
    std::memcpy(&xv, &x, sizeof(V));
    __m128 hi0, lo0, hi1, lo1;
    two_u_hi_lo_avx(_mm256_castps256_ps128(xv), hi0, lo0);
    two_u_hi_lo_avx(_mm256_extractf128_ps(xv, 1), hi1, lo1);
    const __m256 hv = _mm256_insertf128_ps(_mm256_castps128_ps256(hi0), hi1, 1);
    const __m256 lv = _mm256_insertf128_ps(_mm256_castps128_ps256(lo0), lo1, 1);
    V hi, lo;
    std::memcpy(&hi, &hv, sizeof(V));
    std::memcpy(&lo, &lv, sizeof(V));
    const V e = VT::exp(-hi) * (1.0f - lo);  // exp(-hi - lo), to first order in the tiny lo
    return x * (1.0f / (1.0f + e));
}
#else
inline V gelu_accurate(V x) {
    HalfV x0, x1, hi0, hi1, lo0, lo1;
    std::memcpy(&x0, &x, sizeof(HalfV));
    std::memcpy(&x1, reinterpret_cast<const char*>(&x) + sizeof(HalfV), sizeof(HalfV));
    two_u_hi_lo(x0, hi0, lo0);
    two_u_hi_lo(x1, hi1, lo1);
    V hi, lo;
    std::memcpy(&hi, &hi0, sizeof(HalfV));
    std::memcpy(reinterpret_cast<char*>(&hi) + sizeof(HalfV), &hi1, sizeof(HalfV));
    std::memcpy(&lo, &lo0, sizeof(HalfV));
    std::memcpy(reinterpret_cast<char*>(&lo) + sizeof(HalfV), &lo1, sizeof(HalfV));
    const V e = VT::exp(-hi) * (1.0f - lo);  // exp(-hi - lo), to first order in the tiny lo
    return x * (1.0f / (1.0f + e));
}
#endif

void gelu_span(const float* x, float* y, index_t n) {
    map_span<VT>(x, y, n, [](V v) { return gelu_accurate(v); });
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

// Float64 accumulation of float32 vectors: each half of `v` is widened with
// the ISA's conversion and added to its own float64 vector.
struct F64Acc {
    typedef float H __attribute__((vector_size(BPROP_VECMATH_VB / 2)));
    typedef double D __attribute__((vector_size(BPROP_VECMATH_VB)));
    D lo{}, hi{};

    void add(V v) {
        H a, b;
        std::memcpy(&a, &v, sizeof(H));
        std::memcpy(&b, reinterpret_cast<const char*>(&v) + sizeof(H), sizeof(H));
        lo += __builtin_convertvector(a, D);
        hi += __builtin_convertvector(b, D);
    }
    double total() const {
        const D both = lo + hi;
        double lanes[sizeof(D) / sizeof(double)];
        std::memcpy(lanes, &both, sizeof(D));
        double sum = 0.0;
        for (double l : lanes) sum += l;
        return sum;
    }
};

// exp(x - shift) without the rounding of x - shift: that error, up to half an
// ulp of |x - shift|, would be amplified |x - shift| times by exp (20 ulp at
// x - shift = -20).  TwoSum gives the rounding error `err` exactly, and
// exp(t + err) = exp(t) * (1 + err) to float precision.
inline V exp_of_difference(V x, V shift) {
    const V t = x - shift;
    const V bp = t - x;
    const V err = (x - (t - bp)) - (shift + bp);
    const V e = VT::exp(t);
    return e + e * err;
}

double exp_shift_sum_span(const float* x, float shift, float* y, index_t n) {
    constexpr int L = VT::kLanes;
    const V vs = VT::splat(shift);
    F64Acc acc;
    index_t i = 0;
    for (; i + L <= n; i += L) {
        const V e = exp_of_difference(VT::load(x + i), vs);
        VT::store(y + i, e);
        acc.add(e);
    }
    double sum = acc.total();
    if (i < n) {
        float in[L], out[L];
        for (int l = 0; l < L; ++l) in[l] = shift - 1000.0f;  // padding: exp(...) = 0
        std::memcpy(in, x + i, sizeof(float) * static_cast<std::size_t>(n - i));
        VT::store(out, exp_of_difference(VT::load(in), vs));
        for (index_t l = 0; l < n - i; ++l) {
            y[i + l] = out[l];
            sum += static_cast<double>(out[l]);
        }
    }
    return sum;
}

float max_span(const float* x, index_t n) {
    constexpr int L = VT::kLanes;
    float mx = x[0];
    index_t i = 0;
    if (n >= 2 * L) {
        V m = VT::load(x);
        for (i = L; i + L <= n; i += L) {
            const V v = VT::load(x + i);
            m = VT::select(v > m, v, m);
        }
        float lanes[L];
        VT::store(lanes, m);
        mx = lanes[0];
        for (int l = 1; l < L; ++l) mx = lanes[l] > mx ? lanes[l] : mx;
    }
    for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
    return mx;
}

double dot_span(const float* a, const float* b, index_t n) {
    constexpr int L = VT::kLanes;
    F64Acc acc;
    index_t i = 0;
    if (b == nullptr)
        for (; i + L <= n; i += L) acc.add(VT::load(a + i));
    else
        for (; i + L <= n; i += L) acc.add(VT::load(a + i) * VT::load(b + i));
    double sum = acc.total();
    for (; i < n; ++i)
        sum += static_cast<double>(b == nullptr ? a[i] : a[i] * b[i]);
    return sum;
}

void log_softmax_backward_span(const float* dy, const float* y, float total, float* dx, index_t n) {
    constexpr int L = VT::kLanes;
    index_t i = 0;
    for (; i + L <= n; i += L)
        VT::store(dx + i, VT::load(dy + i) - VT::exp(VT::load(y + i)) * total);
    if (i < n) {
        float yin[L] = {}, gin[L] = {}, out[L];
        const std::size_t bytes = sizeof(float) * static_cast<std::size_t>(n - i);
        std::memcpy(yin, y + i, bytes);
        std::memcpy(gin, dy + i, bytes);
        VT::store(out, VT::load(gin) - VT::exp(VT::load(yin)) * total);
        std::memcpy(dx + i, out, bytes);
    }
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
bool adam_span(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
               index_t n, float lr_t, float one_minus_beta1, float one_minus_beta2, float eps, float decay) {
    if (decay != 0.0f)
        for (index_t i = 0; i < n; ++i) p[i] -= decay * p[i];
    // Whether what it wrote is finite, in the same pass: s - s is +0 for a
    // finite s and NaN otherwise, so OR-ing its bits (an integer reduction,
    // which vectorises as is) leaves 0 exactly when every s was finite.  s is
    // p + v: m cannot overflow without v doing so, and a non-finite m makes p
    // NaN.  (p + v overflows only when both are near the float range.)
    std::uint32_t bad = 0;
    for (index_t i = 0; i < n; ++i) {
        m[i] += (g[i] - m[i]) * one_minus_beta1;
        v[i] += (g[i] * g[i] - v[i]) * one_minus_beta2;
        p[i] -= lr_t * m[i] / (__builtin_sqrtf(v[i]) + eps);
        const float s = p[i] + v[i];
        const float zero_or_nan = s - s;
        std::uint32_t bits;
        std::memcpy(&bits, &zero_or_nan, sizeof bits);
        bad |= bits;
    }
    return bad == 0;
}

// The finiteness check as adam_span's: s - s is +0 for a finite s, NaN otherwise.
inline std::uint32_t nonfinite_bits(float s) {
    const float zero_or_nan = s - s;
    std::uint32_t bits;
    std::memcpy(&bits, &zero_or_nan, sizeof bits);
    return bits;
}

bool rmsprop_span(float* __restrict p, const float* __restrict g, float* __restrict s, index_t n, float lr,
                  float rho, float one_minus_rho, float eps) {
    std::uint32_t bad = 0;
    for (index_t i = 0; i < n; ++i) {
        s[i] = rho * s[i] + one_minus_rho * g[i] * g[i];
        p[i] -= lr * g[i] / __builtin_sqrtf(s[i] + eps);
        bad |= nonfinite_bits(p[i] + s[i]);
    }
    return bad == 0;
}

// RMSprop with momentum and/or centered: one loop per variant (a test inside
// the loop would keep it scalar), its operands restrict (with five arrays the
// compiler gives up its runtime aliasing checks and leaves the loop scalar).  A non-finite velocity or average makes p
// or s non-finite, so p + s is the check, as in rmsprop_span.
template <bool kCentered, bool kMomentum>
bool rmsprop_options_loop(float* __restrict p, const float* __restrict g, float* __restrict s,
                          float* __restrict vel, float* __restrict avg, index_t n, float lr, float rho,
                          float one_minus_rho, float eps, float momentum) {
    std::uint32_t bad = 0;
    for (index_t i = 0; i < n; ++i) {
        s[i] = rho * s[i] + one_minus_rho * g[i] * g[i];
        float denominator = s[i] + eps;
        if constexpr (kCentered) {
            avg[i] = rho * avg[i] + one_minus_rho * g[i];
            denominator = s[i] - avg[i] * avg[i] + eps;
        }
        const float increment = lr * g[i] / __builtin_sqrtf(denominator);
        if constexpr (kMomentum) {
            vel[i] = momentum * vel[i] + increment;
            p[i] -= vel[i];
        } else {
            p[i] -= increment;
        }
        bad |= nonfinite_bits(p[i] + s[i]);
    }
    return bad == 0;
}

bool rmsprop_options_span(float* p, const float* g, float* s, float* vel, float* avg, index_t n, float lr,
                          float rho, float one_minus_rho, float eps, float momentum) {
    if (avg != nullptr && vel != nullptr)
        return rmsprop_options_loop<true, true>(p, g, s, vel, avg, n, lr, rho, one_minus_rho, eps, momentum);
    if (avg != nullptr)
        return rmsprop_options_loop<true, false>(p, g, s, vel, avg, n, lr, rho, one_minus_rho, eps, momentum);
    return rmsprop_options_loop<false, true>(p, g, s, vel, avg, n, lr, rho, one_minus_rho, eps, momentum);
}

bool adagrad_span(float* __restrict p, const float* __restrict g, float* __restrict a, index_t n, float lr,
                  float eps) {
    std::uint32_t bad = 0;
    for (index_t i = 0; i < n; ++i) {
        a[i] += g[i] * g[i];
        p[i] -= lr * g[i] / __builtin_sqrtf(a[i] + eps);
        bad |= nonfinite_bits(p[i] + a[i]);
    }
    return bad == 0;
}

}  // namespace

Kernels BPROP_VECMATH_NAME() {
    return {&exp_span, &sigmoid_span, &tanh_span, &gelu_span, &gelu_backward_span, &exp_shift_sum_span,
            &max_span, &dot_span, &log_softmax_backward_span, &relu_backward_span, &adam_span,
            &rmsprop_span, &rmsprop_options_span, &adagrad_span};
}

}  // namespace vecmath
}  // namespace bprop
