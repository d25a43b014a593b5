// Row-wise softmax and log-softmax over (rows x cols) C-contiguous arrays,
// stable for logits of any magnitude (the row maximum is subtracted first).
#pragma once

#include "common.hpp"

namespace bprop {

template <typename T>
void softmax_forward(const T* x, T* y, index_t rows, index_t cols);

// dx = y * (dy - sum(dy * y)) per row, from the softmax output y.
template <typename T>
void softmax_backward(const T* dy, const T* y, T* dx, index_t rows, index_t cols);

template <typename T>
void log_softmax_forward(const T* x, T* y, index_t rows, index_t cols);

// dx = dy - exp(y) * sum(dy) per row, from the log-softmax output y.
template <typename T>
void log_softmax_backward(const T* dy, const T* y, T* dx, index_t rows, index_t cols);

// Largest value of a row (cols >= 1); NaN-free rows give their maximum.
template <typename T>
inline T row_max(const T* x, index_t cols) {
    T mx = x[0];
    for (index_t j = 1; j < cols; ++j) mx = x[j] > mx ? x[j] : mx;
    return mx;
}

// One row, serial: used by the fused kernels.
template <typename T>
void softmax_row(const T* x, T* y, index_t cols);
template <typename T>
void log_softmax_row(const T* x, T* y, index_t cols);

}  // namespace bprop
