#include "optimizers.hpp"

#include <cmath>
#include <type_traits>

#include "parallel.hpp"
#include "vecmath/vecmath.hpp"

namespace bprop {

template <typename T>
void sgd_update(T* p, const T* g, T* velocity, index_t n, double lr, double momentum,
                bool nesterov) {
    const T tlr = T(lr), tm = T(momentum);
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
        if (momentum == 0.0) {
#pragma omp simd
            for (index_t i = b; i < e; ++i) p[i] -= tlr * g[i];
        } else if (nesterov) {
#pragma omp simd
            for (index_t i = b; i < e; ++i) {
                velocity[i] = tm * velocity[i] - tlr * g[i];
                p[i] += tm * velocity[i] - tlr * g[i];
            }
        } else {
#pragma omp simd
            for (index_t i = b; i < e; ++i) {
                velocity[i] = tm * velocity[i] - tlr * g[i];
                p[i] += velocity[i];
            }
        }
    });
}

template <typename T>
void rmsprop_update(T* p, const T* g, T* sq_avg, index_t n, double lr, double rho, double eps) {
    const T tlr = T(lr), trho = T(rho), one_m_rho = T(1 - rho), teps = T(eps);
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
#pragma omp simd
        for (index_t i = b; i < e; ++i) {
            sq_avg[i] = trho * sq_avg[i] + one_m_rho * g[i] * g[i];
            p[i] -= tlr * g[i] / std::sqrt(sq_avg[i] + teps);
        }
    });
}

template <typename T>
void adam_update(T* p, const T* g, T* m, T* v, index_t n, double lr, double step, double beta1,
                 double beta2, double eps, double weight_decay) {
    const double lr_t = lr * std::sqrt(1.0 - std::pow(beta2, step)) / (1.0 - std::pow(beta1, step));
    const T tlr_t = T(lr_t), one_m_b1 = T(1 - beta1), one_m_b2 = T(1 - beta2), teps = T(eps);
    const T decay = T(lr * weight_decay);
    if constexpr (std::is_same<T, float>::value) {  // the ISA's vectorised loop
        const auto adam = vecmath::active_kernels().adam;
        parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
            adam(p + b, g + b, m + b, v + b, e - b, tlr_t, one_m_b1, one_m_b2, teps,
                 weight_decay != 0.0 ? decay : 0.0f);
        });
        return;
    }
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
        if (weight_decay != 0.0) {
#pragma omp simd
            for (index_t i = b; i < e; ++i) p[i] -= decay * p[i];
        }
#pragma omp simd
        for (index_t i = b; i < e; ++i) {
            m[i] += (g[i] - m[i]) * one_m_b1;
            v[i] += (g[i] * g[i] - v[i]) * one_m_b2;
            p[i] -= tlr_t * m[i] / (std::sqrt(v[i]) + teps);
        }
    });
}

template <typename T>
void adagrad_update(T* p, const T* g, T* accum, index_t n, double lr, double eps) {
    const T tlr = T(lr), teps = T(eps);
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
#pragma omp simd
        for (index_t i = b; i < e; ++i) {
            accum[i] += g[i] * g[i];
            p[i] -= tlr * g[i] / std::sqrt(accum[i] + teps);
        }
    });
}

#define BPROP_INSTANTIATE(T)                                                              \
    template void sgd_update<T>(T*, const T*, T*, index_t, double, double, bool);         \
    template void rmsprop_update<T>(T*, const T*, T*, index_t, double, double, double);   \
    template void adam_update<T>(T*, const T*, T*, T*, index_t, double, double, double,   \
                                 double, double, double);                                 \
    template void adagrad_update<T>(T*, const T*, T*, index_t, double, double);
BPROP_INSTANTIATE(float)
BPROP_INSTANTIATE(double)
#undef BPROP_INSTANTIATE

}  // namespace bprop
