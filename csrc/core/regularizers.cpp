#include "regularizers.hpp"

#include <cmath>
#include <vector>

#include "parallel.hpp"

namespace bprop {

template <typename T>
double l1_l2_penalty(const T* w, index_t n, double l1, double l2) {
    if (n <= 0 || (l1 == 0.0 && l2 == 0.0)) return 0.0;
    const index_t chunks = (n + kElementwiseChunk - 1) / kElementwiseChunk;
    std::vector<double> abs_sums(static_cast<std::size_t>(chunks)), sq_sums(static_cast<std::size_t>(chunks));
    parallel_chunks(n, kElementwiseChunk, [&](index_t c, index_t b, index_t e) {
        double a = 0.0, s = 0.0;
        for (index_t i = b; i < e; ++i) {
            const double v = static_cast<double>(w[i]);
            a += std::fabs(v);
            s += v * v;
        }
        abs_sums[static_cast<std::size_t>(c)] = a;
        sq_sums[static_cast<std::size_t>(c)] = s;
    });
    double a = 0.0, s = 0.0;
    for (index_t c = 0; c < chunks; ++c) {
        a += abs_sums[static_cast<std::size_t>(c)];
        s += sq_sums[static_cast<std::size_t>(c)];
    }
    return l1 * a + l2 * s;
}

template <typename T>
void l1_l2_grad(const T* w, T* grad, index_t n, double l1, double l2) {
    if (l1 == 0.0 && l2 == 0.0) return;
    const T tl1 = T(l1), two_l2 = T(2.0 * l2);
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
#pragma omp simd
        for (index_t i = b; i < e; ++i) {
            const T sign = w[i] > T(0) ? T(1) : (w[i] < T(0) ? T(-1) : T(0));
            grad[i] += tl1 * sign + two_l2 * w[i];
        }
    });
}

template double l1_l2_penalty<float>(const float*, index_t, double, double);
template double l1_l2_penalty<double>(const double*, index_t, double, double);
template void l1_l2_grad<float>(const float*, float*, index_t, double, double);
template void l1_l2_grad<double>(const double*, double*, index_t, double, double);

}  // namespace bprop
