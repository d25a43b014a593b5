#include "bias.hpp"

#include <algorithm>

#include "parallel.hpp"

namespace bprop {

template <typename T>
void add_bias(const T* x, const T* b, T* y, index_t rows, index_t cols) {
    parallel_rows(rows, cols, [&](index_t r) {
        const T* xr = x + r * cols;
        T* yr = y + r * cols;
#pragma omp simd
        for (index_t j = 0; j < cols; ++j) yr[j] = xr[j] + b[j];
    });
}

template <typename T>
void bias_grad(const T* dy, T* db, index_t rows, index_t cols) {
    // Column blocks of 64: each block is summed row by row (vectorised over
    // the block's columns), one block per task.
    constexpr index_t kBlock = 64;
    const index_t blocks = (cols + kBlock - 1) / kBlock;
    const int nt = threads_for(rows * cols, kElementwiseChunk * kMinChunksPerThread);
    const int use = static_cast<int>(std::min<index_t>(nt, blocks));
    parallel_for(blocks, use, [&](index_t blk) {
        const index_t j0 = blk * kBlock;
        bias_grad_columns(dy, db, rows, cols, j0, std::min(cols, j0 + kBlock));
    });
}

template <typename T>
void bias_grad_columns(const T* dy, T* db, index_t rows, index_t cols, index_t c0, index_t c1) {
    for (index_t j = c0; j < c1; ++j) db[j] = T(0);
    for (index_t i = 0; i < rows; ++i) {
        const T* row = dy + i * cols;
#pragma omp simd
        for (index_t j = c0; j < c1; ++j) db[j] += row[j];
    }
}

template void add_bias<float>(const float*, const float*, float*, index_t, index_t);
template void add_bias<double>(const double*, const double*, double*, index_t, index_t);
template void bias_grad_columns<float>(const float*, float*, index_t, index_t, index_t, index_t);
template void bias_grad_columns<double>(const double*, double*, index_t, index_t, index_t, index_t);
template void bias_grad<float>(const float*, float*, index_t, index_t);
template void bias_grad<double>(const double*, double*, index_t, index_t);

}  // namespace bprop
