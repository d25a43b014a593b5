// What the compiled metrics add per batch: a sum of per-row values (the row
// is the last axis, as Keras reduces metrics per sample) and a count of rows.
// Predictions are probabilities (or whatever the model outputs), targets
// are integer labels or a dense array like the predictions.
#pragma once

#include <cstdint>

#include "common.hpp"

namespace bprop {

enum class MetricKind {
    sparse_categorical_accuracy,  // argmax(pred) == label
    categorical_accuracy,         // argmax(pred) == argmax(target)
    binary_accuracy,              // mean over the row of ((pred > threshold) == (target > 0.5))
    mean_squared_error,           // mean over the row of (pred - target)^2
    mean_absolute_error,          // mean over the row of |pred - target|
    sparse_top_k_accuracy,        // the label among the k highest scores (TensorFlow's in_top_k)
    top_k_accuracy,               // argmax(target) among the k highest scores (in_top_k)
};

// Sum over rows of the metric's per-row value (in double; argmax takes the
// first maximum, as NumPy's).  `threshold`: binary_accuracy's; `k`: the top-k
// accuracies', where classes tied with the target count for it (fewer than k
// score strictly higher) and a row with a NaN or infinite score is no hit.
template <typename T>
double metric_sum(MetricKind kind, const T* pred, const std::int64_t* labels, const T* target,
                  index_t rows, index_t cols, double threshold = 0.5, index_t k = 1);

}  // namespace bprop
