#include "optimizers.hpp"

#include <atomic>
#include <cmath>
#include <type_traits>

#include "parallel.hpp"
#include "vecmath/vecmath.hpp"

namespace bprop {
namespace {

// Runs span(b, e) -> "all finite" over fixed chunks of [0, n); true when
// every chunk is.
template <typename F>
bool chunks_all_finite(index_t n, F&& span) {
    std::atomic<bool> finite{true};
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
        if (!span(b, e)) finite.store(false, std::memory_order_relaxed);
    });
    return finite.load();
}

// The loops over one chunk.  Arguments are values and restrict pointers, not
// a lambda's captured references, so the compiler knows nothing aliases and
// vectorises.  Each also checks, in the same pass, that what it wrote is
// finite: x * 0 is 0 for finite x and NaN otherwise.
template <typename T>
bool sgd_span(T* __restrict p, const T* __restrict g, T* __restrict vel, index_t n, T lr, T mom,
              bool nesterov) {
    T bad = T(0);
    if (vel == nullptr) {
#pragma omp simd reduction(+ : bad)
        for (index_t i = 0; i < n; ++i) {
            p[i] -= lr * g[i];
            bad += p[i] * T(0);
        }
    } else if (nesterov) {
#pragma omp simd reduction(+ : bad)
        for (index_t i = 0; i < n; ++i) {
            vel[i] = mom * vel[i] - lr * g[i];
            p[i] += mom * vel[i] - lr * g[i];
            bad += p[i] * T(0) + vel[i] * T(0);
        }
    } else {
#pragma omp simd reduction(+ : bad)
        for (index_t i = 0; i < n; ++i) {
            vel[i] = mom * vel[i] - lr * g[i];
            p[i] += vel[i];
            bad += p[i] * T(0) + vel[i] * T(0);
        }
    }
    return bad == T(0);
}

template <typename T>
bool rmsprop_span(T* __restrict p, const T* __restrict g, T* __restrict s, index_t n, T lr, T rho,
                  T one_m_rho, T eps) {
    T bad = T(0);
#pragma omp simd reduction(+ : bad)
    for (index_t i = 0; i < n; ++i) {
        s[i] = rho * s[i] + one_m_rho * g[i] * g[i];
        p[i] -= lr * g[i] / std::sqrt(s[i] + eps);
        bad += p[i] * T(0) + s[i] * T(0);
    }
    return bad == T(0);
}

template <typename T>
bool adam_span(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, index_t n,
               T lr_t, T one_m_b1, T one_m_b2, T eps, T decay) {
    if (decay != T(0)) {
#pragma omp simd
        for (index_t i = 0; i < n; ++i) p[i] -= decay * p[i];
    }
    T bad = T(0);
#pragma omp simd reduction(+ : bad)
    for (index_t i = 0; i < n; ++i) {
        m[i] += (g[i] - m[i]) * one_m_b1;
        v[i] += (g[i] * g[i] - v[i]) * one_m_b2;
        p[i] -= lr_t * m[i] / (std::sqrt(v[i]) + eps);
        bad += p[i] * T(0) + m[i] * T(0) + v[i] * T(0);
    }
    return bad == T(0);
}

template <typename T>
bool adagrad_span(T* __restrict p, const T* __restrict g, T* __restrict a, index_t n, T lr, T eps) {
    T bad = T(0);
#pragma omp simd reduction(+ : bad)
    for (index_t i = 0; i < n; ++i) {
        a[i] += g[i] * g[i];
        p[i] -= lr * g[i] / std::sqrt(a[i] + eps);
        bad += p[i] * T(0) + a[i] * T(0);
    }
    return bad == T(0);
}

}  // namespace

template <typename T>
bool sgd_update(T* p, const T* g, T* velocity, index_t n, double lr, double momentum,
                bool nesterov) {
    const T tlr = T(lr), tm = T(momentum);
    T* vel = momentum == 0.0 ? nullptr : velocity;
    return chunks_all_finite(n, [=](index_t b, index_t e) {
        return sgd_span(p + b, g + b, vel == nullptr ? nullptr : vel + b, e - b, tlr, tm, nesterov);
    });
}

template <typename T>
bool rmsprop_update(T* p, const T* g, T* sq_avg, index_t n, double lr, double rho, double eps) {
    const T tlr = T(lr), trho = T(rho), one_m_rho = T(1 - rho), teps = T(eps);
    return chunks_all_finite(n, [=](index_t b, index_t e) {
        return rmsprop_span(p + b, g + b, sq_avg + b, e - b, tlr, trho, one_m_rho, teps);
    });
}

template <typename T>
bool adam_update(T* p, const T* g, T* m, T* v, index_t n, double lr, double step, double beta1,
                 double beta2, double eps, double weight_decay) {
    const double lr_t = lr * std::sqrt(1.0 - std::pow(beta2, step)) / (1.0 - std::pow(beta1, step));
    const T tlr_t = T(lr_t), one_m_b1 = T(1 - beta1), one_m_b2 = T(1 - beta2), teps = T(eps);
    const T decay = weight_decay != 0.0 ? T(lr * weight_decay) : T(0);
    if constexpr (std::is_same<T, float>::value) {  // the ISA's vectorised loop
        const auto adam = vecmath::active_kernels().adam;
        return chunks_all_finite(n, [=](index_t b, index_t e) {
            return adam(p + b, g + b, m + b, v + b, e - b, tlr_t, one_m_b1, one_m_b2, teps, decay);
        });
    }
    return chunks_all_finite(n, [=](index_t b, index_t e) {
        return adam_span(p + b, g + b, m + b, v + b, e - b, tlr_t, one_m_b1, one_m_b2, teps, decay);
    });
}

template <typename T>
bool adagrad_update(T* p, const T* g, T* accum, index_t n, double lr, double eps) {
    const T tlr = T(lr), teps = T(eps);
    return chunks_all_finite(n, [=](index_t b, index_t e) {
        return adagrad_span(p + b, g + b, accum + b, e - b, tlr, teps);
    });
}

#define BPROP_INSTANTIATE(T)                                                              \
    template bool sgd_update<T>(T*, const T*, T*, index_t, double, double, bool);         \
    template bool rmsprop_update<T>(T*, const T*, T*, index_t, double, double, double);   \
    template bool adam_update<T>(T*, const T*, T*, T*, index_t, double, double, double,   \
                                 double, double, double);                                 \
    template bool adagrad_update<T>(T*, const T*, T*, index_t, double, double);
BPROP_INSTANTIATE(float)
BPROP_INSTANTIATE(double)
#undef BPROP_INSTANTIATE

}  // namespace bprop
