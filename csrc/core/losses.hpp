// Losses (mean over the batch) and their gradients.  Forward sums are taken
// over fixed-size chunks and the chunk sums added in order, in double: the
// value does not depend on the thread count.
#pragma once

#include <cstdint>

#include "common.hpp"

namespace bprop {

// Index of the first label outside [0, classes), or -1 when all are valid.
index_t first_label_out_of_range(const std::int64_t* labels, index_t n, index_t classes);

// Mean over all n elements of (pred - target)^2; gradient 2 (pred - target) / n.
template <typename T>
double mse(const T* pred, const T* target, index_t n);
template <typename T>
void mse_backward(const T* pred, const T* target, T* grad, index_t n);

// Softmax cross-entropy from logits (rows x cols), mean over rows.
// Sparse: integer labels (validated by the caller); dense: probability rows.
template <typename T>
double softmax_xent_sparse(const T* logits, const std::int64_t* labels, index_t rows, index_t cols);
template <typename T>
void softmax_xent_sparse_backward(const T* logits, const std::int64_t* labels, T* grad,
                                  index_t rows, index_t cols);
template <typename T>
double softmax_xent_dense(const T* logits, const T* target, index_t rows, index_t cols);
template <typename T>
void softmax_xent_dense_backward(const T* logits, const T* target, T* grad, index_t rows,
                                 index_t cols);

// Binary cross-entropy from logits, mean over all n elements (stable form
// max(z, 0) - z t + log1p(exp(-|z|))); gradient (sigmoid(z) - t) / n.
template <typename T>
double binary_xent(const T* logits, const T* target, index_t n);
template <typename T>
void binary_xent_backward(const T* logits, const T* target, T* grad, index_t n);

}  // namespace bprop
