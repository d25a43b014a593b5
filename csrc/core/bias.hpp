// Bias add over rows and its gradient (sum over the batch axis).
#pragma once

#include "common.hpp"

namespace bprop {

// y[i, j] = x[i, j] + b[j]; y may alias x exactly.
template <typename T>
void add_bias(const T* x, const T* b, T* y, index_t rows, index_t cols);

// db[j] = sum_i dy[i, j].  Threads split the columns, each summing its
// columns over all rows in row order: the result is thread-count independent.
template <typename T>
void bias_grad(const T* dy, T* db, index_t rows, index_t cols);

// db[j] for j in [c0, c1) only, on the calling thread, as bias_grad sums it.
template <typename T>
void bias_grad_columns(const T* dy, T* db, index_t rows, index_t cols, index_t c0, index_t c1);

}  // namespace bprop
