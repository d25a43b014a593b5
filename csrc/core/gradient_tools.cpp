#include "gradient_tools.hpp"

#include <vector>

#include "parallel.hpp"

namespace bprop {

template <typename T>
double sum_squares(const T* x, index_t n) {
    if (n <= 0) return 0.0;
    const index_t chunks = (n + kElementwiseChunk - 1) / kElementwiseChunk;
    std::vector<double> sums(static_cast<std::size_t>(chunks));
    parallel_chunks(n, kElementwiseChunk, [&](index_t c, index_t b, index_t e) {
        double s = 0.0;
        for (index_t i = b; i < e; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
        sums[static_cast<std::size_t>(c)] = s;
    });
    double total = 0.0;
    for (double s : sums) total += s;
    return total;
}

template <typename T>
void clip_by_value(T* g, index_t n, double c) {
    const T hi = T(c), lo = T(-c);
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
#pragma omp simd
        for (index_t i = b; i < e; ++i) g[i] = g[i] < lo ? lo : (g[i] > hi ? hi : g[i]);
    });
}

template <typename T>
void scale_in_place(T* g, index_t n, double scale) {
    const T s = T(scale);
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
#pragma omp simd
        for (index_t i = b; i < e; ++i) g[i] *= s;
    });
}

#define BPROP_INSTANTIATE(T)                                  \
    template double sum_squares<T>(const T*, index_t);        \
    template void clip_by_value<T>(T*, index_t, double);      \
    template void scale_in_place<T>(T*, index_t, double);
BPROP_INSTANTIATE(float)
BPROP_INSTANTIATE(double)
#undef BPROP_INSTANTIATE

}  // namespace bprop
