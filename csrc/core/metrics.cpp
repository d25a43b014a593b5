#include "metrics.hpp"

#include <cmath>

namespace bprop {
namespace {

// First index of the largest value (a NaN counts as the largest, as in NumPy).
template <typename T>
index_t argmax_row(const T* x, index_t cols) {
    index_t best = 0;
    for (index_t j = 0; j < cols; ++j) {
        if (x[j] != x[j]) return j;
        if (x[j] > x[best]) best = j;
    }
    return best;
}

// Whether class `target` is among the k highest of a row's scores.
template <typename T>
bool in_top_k(const T* x, index_t cols, index_t target, index_t k) {
    const T score = x[target];
    index_t higher = 0;
    for (index_t j = 0; j < cols; ++j) {
        if (!std::isfinite(x[j])) return false;
        higher += x[j] > score ? 1 : 0;
    }
    return higher < k;
}

}  // namespace

template <typename T>
double metric_sum(MetricKind kind, const T* pred, const std::int64_t* labels, const T* target,
                  index_t rows, index_t cols, double threshold, index_t k) {
    const T thr = T(threshold);
    double total = 0.0;
    for (index_t r = 0; r < rows; ++r) {
        const T* p = pred + r * cols;
        const T* t = target == nullptr ? nullptr : target + r * cols;
        switch (kind) {
            case MetricKind::sparse_categorical_accuracy:
                total += argmax_row(p, cols) == labels[r] ? 1.0 : 0.0;
                break;
            case MetricKind::categorical_accuracy:
                total += argmax_row(p, cols) == argmax_row(t, cols) ? 1.0 : 0.0;
                break;
            case MetricKind::sparse_top_k_accuracy:
                total += in_top_k(p, cols, static_cast<index_t>(labels[r]), k) ? 1.0 : 0.0;
                break;
            case MetricKind::top_k_accuracy:
                total += in_top_k(p, cols, argmax_row(t, cols), k) ? 1.0 : 0.0;
                break;
            case MetricKind::binary_accuracy: {
                index_t hits = 0;
                for (index_t j = 0; j < cols; ++j) hits += (p[j] > thr) == (t[j] > T(0.5)) ? 1 : 0;
                total += static_cast<double>(hits) / static_cast<double>(cols);
                break;
            }
            case MetricKind::mean_squared_error:
            case MetricKind::mean_absolute_error: {
                double s = 0.0;
                for (index_t j = 0; j < cols; ++j) {
                    const double d = static_cast<double>(p[j]) - static_cast<double>(t[j]);
                    s += kind == MetricKind::mean_squared_error ? d * d : std::fabs(d);
                }
                total += s / static_cast<double>(cols);
                break;
            }
        }
    }
    return total;
}

template double metric_sum<float>(MetricKind, const float*, const std::int64_t*, const float*, index_t,
                                  index_t, double, index_t);
template double metric_sum<double>(MetricKind, const double*, const std::int64_t*, const double*, index_t,
                                   index_t, double, index_t);

}  // namespace bprop
