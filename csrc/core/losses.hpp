// Losses of one batch and their gradients.
//
// A batch is `pred` (rows x cols, C-contiguous), its targets (integer class
// indices or a dense rows x cols array) and optional per-row weights.  The
// value is Keras' "sum_over_batch_size": the sum over rows of weight * row
// loss, divided by rows.  The row loss of the elementwise losses (mse, mae,
// the binary cross-entropies) is the mean over the row's cols, so without
// weights they are the mean over all elements.  Gradients are of that value.
//
// Forward sums are taken over fixed-size chunks and the chunk sums added in
// order, in double: the value does not depend on the thread count.
#pragma once

#include <cstdint>

#include "common.hpp"

namespace bprop {

// Keras' backend.epsilon(): probabilities are clipped to [eps, 1 - eps].
constexpr double kProbEpsilon = 1e-7;

template <typename T>
struct LossBatch {
    const T* pred;                 // rows x cols: predictions, logits or probabilities
    index_t rows, cols;
    const std::int64_t* labels;    // class indices (rows), validated; or null
    const T* target;               // rows x cols targets; or null (then labels is set)
    const double* weight;          // per-row weights, or null (all 1)
    // The rows the mean is over (0: `rows`).  A process of a data-parallel
    // job sets the global batch's rows: its part of the global mean.
    index_t mean_rows = 0;
};

// Index of the first label outside [0, classes), or -1 when all are valid.
index_t first_label_out_of_range(const std::int64_t* labels, index_t n, index_t classes);

// (pred - target)^2; gradient 2 (pred - target) / (rows cols).
template <typename T>
double mse(const LossBatch<T>& b);
template <typename T>
void mse_backward(const LossBatch<T>& b, T* grad);

// |pred - target|; gradient sign(pred - target) / (rows cols).
template <typename T>
double mae(const LossBatch<T>& b);
template <typename T>
void mae_backward(const LossBatch<T>& b, T* grad);

// Softmax cross-entropy from logits: -sum_j t_j log softmax(z)_j per row
// (sparse labels: -log softmax(z)_label); gradient (softmax(z) - t) / rows.
template <typename T>
double softmax_xent(const LossBatch<T>& b);
template <typename T>
void softmax_xent_backward(const LossBatch<T>& b, T* grad);

// Cross-entropy of probabilities, as Keras: each row is divided by its sum,
// clipped to [eps, 1 - eps], and -sum_j t_j log q_j taken; the gradient is
// zero where the clip is active.
template <typename T>
double prob_xent(const LossBatch<T>& b);
template <typename T>
void prob_xent_backward(const LossBatch<T>& b, T* grad);

// Binary cross-entropy from logits, stable form max(z, 0) - z t +
// log1p(exp(-|z|)); gradient (sigmoid(z) - t) / (rows cols).
template <typename T>
double binary_xent(const LossBatch<T>& b);
template <typename T>
void binary_xent_backward(const LossBatch<T>& b, T* grad);

// Binary cross-entropy of probabilities p clipped to [eps, 1 - eps]:
// -(t log p + (1 - t) log(1 - p)); gradient zero where the clip is active.
template <typename T>
double binary_xent_probs(const LossBatch<T>& b);
template <typename T>
void binary_xent_probs_backward(const LossBatch<T>& b, T* grad);

}  // namespace bprop
