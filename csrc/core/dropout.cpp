#include "dropout.hpp"

#include <cmath>

#include "parallel.hpp"

namespace bprop {

std::uint64_t dropout_threshold(double rate) {
    return static_cast<std::uint64_t>(std::floor(rate * 4294967296.0));
}

template <typename T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, index_t rows, index_t cols, double rate,
                     std::uint64_t seed, std::uint64_t counter, index_t row_offset) {
    const std::uint64_t key = mix64(seed + kGolden64 * (counter + 1));
    const std::uint64_t threshold = dropout_threshold(rate);
    const T scale = T(1.0 / (1.0 - rate));
    const auto first = static_cast<std::uint64_t>(row_offset) * static_cast<std::uint64_t>(cols);
    parallel_chunks(rows * cols, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
        for (index_t i = b; i < e; ++i) {
            const std::uint64_t h = mix64(key + kGolden64 * (first + static_cast<std::uint64_t>(i) + 1));
            const bool keep = (h >> 32) >= threshold;
            mask[i] = keep ? 1 : 0;
            y[i] = keep ? x[i] * scale : T(0);
        }
    });
}

template <typename T>
void dropout_backward(const T* dy, const std::uint8_t* mask, T* dx, index_t n, double rate) {
    const T scale = T(1.0 / (1.0 - rate));
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
#pragma omp simd
        for (index_t i = b; i < e; ++i) dx[i] = mask[i] ? dy[i] * scale : T(0);
    });
}

template void dropout_forward<float>(const float*, float*, std::uint8_t*, index_t, index_t, double,
                                     std::uint64_t, std::uint64_t, index_t);
template void dropout_forward<double>(const double*, double*, std::uint8_t*, index_t, index_t, double,
                                      std::uint64_t, std::uint64_t, index_t);
template void dropout_backward<float>(const float*, const std::uint8_t*, float*, index_t, double);
template void dropout_backward<double>(const double*, const std::uint8_t*, double*, index_t, double);

}  // namespace bprop
