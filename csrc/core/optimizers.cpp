#include "optimizers.hpp"

#include <atomic>
#include <cmath>
#include <type_traits>

#include "flush_denormals.hpp"
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

// RMSprop with momentum and/or centered, float64 (float32 runs the ISA's
// kernel, vecmath's rmsprop_options), one loop per variant so that each
// vectorises (a test inside the loop kept it scalar: 2.4x slower epochs).
// The increment is the plain form's expression.
template <typename T, bool kCentered, bool kMomentum>
bool rmsprop_variant_span(T* __restrict p, const T* __restrict g, T* __restrict s, T* __restrict vel,
                          T* __restrict avg, index_t n, T lr, T rho, T one_m_rho, T eps, T mom) {
    T bad = T(0);
#pragma omp simd reduction(+ : bad)
    for (index_t i = 0; i < n; ++i) {
        s[i] = rho * s[i] + one_m_rho * g[i] * g[i];
        T denominator = s[i] + eps;
        if constexpr (kCentered) {
            avg[i] = rho * avg[i] + one_m_rho * g[i];
            denominator = s[i] - avg[i] * avg[i] + eps;
            bad += avg[i] * T(0);
        }
        const T increment = lr * g[i] / std::sqrt(denominator);
        if constexpr (kMomentum) {
            vel[i] = mom * vel[i] + increment;
            p[i] -= vel[i];
            bad += vel[i] * T(0);
        } else {
            p[i] -= increment;
        }
        bad += p[i] * T(0) + s[i] * T(0);
    }
    return bad == T(0);
}

template <typename T>
bool rmsprop_general_span(T* p, const T* g, T* s, T* vel, T* avg, index_t n, T lr, T rho, T one_m_rho, T eps,
                          T mom) {
    if (avg != nullptr && vel != nullptr)
        return rmsprop_variant_span<T, true, true>(p, g, s, vel, avg, n, lr, rho, one_m_rho, eps, mom);
    if (avg != nullptr)
        return rmsprop_variant_span<T, true, false>(p, g, s, vel, avg, n, lr, rho, one_m_rho, eps, mom);
    return rmsprop_variant_span<T, false, true>(p, g, s, vel, avg, n, lr, rho, one_m_rho, eps, mom);
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
SpanUpdate<T> sgd_rule(double lr, double momentum, bool nesterov) {
    SpanUpdate<T> r;
    r.kind = UpdateKind::sgd;
    r.lr = T(lr);
    r.c1 = T(momentum);
    r.momentum = momentum != 0.0;
    r.nesterov = nesterov;
    return r;
}

template <typename T>
SpanUpdate<T> rmsprop_rule(double lr, double rho, double eps, double momentum, bool centered) {
    SpanUpdate<T> r;
    r.kind = UpdateKind::rmsprop;
    r.lr = T(lr);
    r.c1 = T(rho);
    r.c2 = T(1 - rho);
    r.c3 = T(momentum);
    r.eps = T(eps);
    r.momentum = momentum > 0.0;
    r.centered = centered;
    return r;
}

template <typename T>
SpanUpdate<T> adam_rule(double lr, double step, double beta1, double beta2, double eps, double weight_decay) {
    SpanUpdate<T> r;
    r.kind = UpdateKind::adam;
    r.lr = T(lr * std::sqrt(1.0 - std::pow(beta2, step)) / (1.0 - std::pow(beta1, step)));
    r.c1 = T(1 - beta1);
    r.c2 = T(1 - beta2);
    r.eps = T(eps);
    r.decay = weight_decay != 0.0 ? T(lr * weight_decay) : T(0);
    return r;
}

template <typename T>
SpanUpdate<T> adagrad_rule(double lr, double eps) {
    SpanUpdate<T> r;
    r.kind = UpdateKind::adagrad;
    r.lr = T(lr);
    r.eps = T(eps);
    return r;
}

template <typename T>
bool SpanUpdate<T>::apply(T* p, const T* g, T* s0, T* s1, T* s2, index_t n) const {
    const FlushDenormals flush;  // decayed slots would otherwise go denormal (see flush_denormals.hpp)
    switch (kind) {
        case UpdateKind::sgd: return sgd_span(p, g, momentum ? s0 : nullptr, n, lr, c1, nesterov);
        case UpdateKind::rmsprop:
            if (momentum || centered) {
                T* velocity = momentum ? s1 : nullptr;
                T* average = centered ? (momentum ? s2 : s1) : nullptr;
                if constexpr (std::is_same<T, float>::value)
                    return vecmath::active_kernels().rmsprop_options(p, g, s0, velocity, average, n, lr, c1, c2,
                                                                     eps, c3);
                return rmsprop_general_span(p, g, s0, velocity, average, n, lr, c1, c2, eps, c3);
            }
            if constexpr (std::is_same<T, float>::value)
                return vecmath::active_kernels().rmsprop(p, g, s0, n, lr, c1, c2, eps);
            return rmsprop_span(p, g, s0, n, lr, c1, c2, eps);
        case UpdateKind::adam:
            if constexpr (std::is_same<T, float>::value)  // the ISA's vectorised loop
                return vecmath::active_kernels().adam(p, g, s0, s1, n, lr, c1, c2, eps, decay);
            return adam_span(p, g, s0, s1, n, lr, c1, c2, eps, decay);
        case UpdateKind::adagrad:
            if constexpr (std::is_same<T, float>::value) return vecmath::active_kernels().adagrad(p, g, s0, n, lr, eps);
            return adagrad_span(p, g, s0, n, lr, eps);
    }
    return true;
}

namespace {

// The rule over fixed chunks of [0, n), shared by the thread team.
template <typename T>
bool apply_chunked(const SpanUpdate<T>& rule, T* p, const T* g, T* s0, T* s1, index_t n, T* s2 = nullptr) {
    return chunks_all_finite(n, [&](index_t b, index_t e) {
        return rule.apply(p + b, g + b, s0 == nullptr ? nullptr : s0 + b, s1 == nullptr ? nullptr : s1 + b,
                          s2 == nullptr ? nullptr : s2 + b, e - b);
    });
}

}  // namespace

template <typename T>
bool sgd_update(T* p, const T* g, T* velocity, index_t n, double lr, double momentum,
                bool nesterov) {
    return apply_chunked(sgd_rule<T>(lr, momentum, nesterov), p, g, momentum == 0.0 ? nullptr : velocity,
                         static_cast<T*>(nullptr), n);
}

template <typename T>
bool rmsprop_update(T* p, const T* g, T* sq_avg, T* velocity, T* average_grad, index_t n, double lr,
                    double rho, double eps, double momentum, bool centered) {
    // The slots in apply's order: sq_avg, then the ones in use.
    T* second = momentum > 0.0 ? velocity : (centered ? average_grad : nullptr);
    T* third = momentum > 0.0 && centered ? average_grad : nullptr;
    return apply_chunked(rmsprop_rule<T>(lr, rho, eps, momentum, centered), p, g, sq_avg, second, n, third);
}

template <typename T>
bool adam_update(T* p, const T* g, T* m, T* v, index_t n, double lr, double step, double beta1,
                 double beta2, double eps, double weight_decay) {
    return apply_chunked(adam_rule<T>(lr, step, beta1, beta2, eps, weight_decay), p, g, m, v, n);
}

template <typename T>
bool adagrad_update(T* p, const T* g, T* accum, index_t n, double lr, double eps) {
    return apply_chunked(adagrad_rule<T>(lr, eps), p, g, accum, static_cast<T*>(nullptr), n);
}

#define BPROP_INSTANTIATE(T)                                                              \
    template struct SpanUpdate<T>;                                                        \
    template SpanUpdate<T> sgd_rule<T>(double, double, bool);                             \
    template SpanUpdate<T> rmsprop_rule<T>(double, double, double, double, bool);         \
    template SpanUpdate<T> adam_rule<T>(double, double, double, double, double, double);  \
    template SpanUpdate<T> adagrad_rule<T>(double, double);                               \
    template bool sgd_update<T>(T*, const T*, T*, index_t, double, double, bool);         \
    template bool rmsprop_update<T>(T*, const T*, T*, T*, T*, index_t, double, double, double, \
                                    double, bool);                                        \
    template bool adam_update<T>(T*, const T*, T*, T*, index_t, double, double, double,   \
                                 double, double, double);                                 \
    template bool adagrad_update<T>(T*, const T*, T*, index_t, double, double);
BPROP_INSTANTIATE(float)
BPROP_INSTANTIATE(double)
#undef BPROP_INSTANTIATE

}  // namespace bprop
