// The end of a forward pass: the loss of the model's output against the
// batch's targets (and its gradient), and the compiled metrics' sums.
#pragma once

#include <cstdint>
#include <vector>

#include "../activation_kind.hpp"
#include "../losses.hpp"
#include "../metrics.hpp"
#include "node.hpp"

namespace bprop::plan {

enum class LossKind { none, mse, mae, softmax_xent, prob_xent, binary_xent, binary_xent_probs };

struct MetricSpec {
    MetricKind kind;
    double threshold = 0.5;  // binary_accuracy
    index_t k = 1;           // the top-k accuracies
};

// A batch's targets: class indices (rows of the output's last axis), or a
// dense array shaped like the output.
template <typename T>
struct Targets {
    const std::int64_t* labels = nullptr;
    const T* dense = nullptr;
};

template <typename T>
class Objective {
public:
    // `out`: the model output's shape.  `predictions`: how the output becomes
    // what the metrics see: linear (as is), or softmax / sigmoid when the
    // plan hands the loss logits in place of the last layer's activation.
    Objective(LossKind loss, std::vector<MetricSpec> metrics, Shape out, Act predictions);
    void reserve(index_t n);
    bool has_loss() const { return loss_ != LossKind::none; }
    std::size_t metric_count() const { return metrics_.size(); }
    // The loss of output `y` for n samples; with `want_grad` its gradient
    // goes to grad().  row_weights: one per output row, or null.  mean_rows:
    // the samples the mean is over (0: n; a data-parallel step: the global batch).
    double loss(const T* y, index_t n, const Targets<T>& t, const double* row_weights, bool want_grad,
                index_t mean_rows = 0);
    T* grad() { return grad_.data(); }
    // Adds each metric's per-row sum and row count for this batch.
    void metrics(const T* y, index_t n, const Targets<T>& t, double* sums, double* counts);

private:
    LossKind loss_;
    std::vector<MetricSpec> metrics_;
    Shape out_;
    Act predictions_;
    Buffer<T> grad_, probs_;
};

}  // namespace bprop::plan
