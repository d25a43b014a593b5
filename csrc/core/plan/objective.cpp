#include "objective.hpp"

#include <utility>

#include "../elementwise.hpp"
#include "../softmax.hpp"

namespace bprop::plan {

template <typename T>
Objective<T>::Objective(LossKind loss, std::vector<MetricSpec> metrics, Shape out, Act predictions)
    : loss_(loss), metrics_(std::move(metrics)), out_(out), predictions_(predictions) {}

template <typename T>
void Objective<T>::reserve(index_t n) {
    grad_.reserve(n * out_.size());
    if (predictions_ != Act::linear) probs_.reserve(n * out_.size());
}

template <typename T>
double Objective<T>::loss(const T* y, index_t n, const Targets<T>& t, const double* row_weights,
                          bool want_grad, index_t mean_rows) {
    LossBatch<T> b{y, n * out_.rows_per_sample, out_.cols, t.labels, t.dense, row_weights};
    b.mean_rows = mean_rows * out_.rows_per_sample;
    T* g = want_grad ? grad_.data() : nullptr;
    switch (loss_) {
        case LossKind::none:
            return 0.0;
        case LossKind::mse:
            if (g) mse_backward(b, g);
            return mse(b);
        case LossKind::mae:
            if (g) mae_backward(b, g);
            return mae(b);
        case LossKind::softmax_xent:
            if (g) softmax_xent_backward(b, g);
            return softmax_xent(b);
        case LossKind::prob_xent:
            if (g) prob_xent_backward(b, g);
            return prob_xent(b);
        case LossKind::binary_xent:
            if (g) binary_xent_backward(b, g);
            return binary_xent(b);
        case LossKind::binary_xent_probs:
            if (g) binary_xent_probs_backward(b, g);
            return binary_xent_probs(b);
    }
    return 0.0;
}

template <typename T>
void Objective<T>::metrics(const T* y, index_t n, const Targets<T>& t, double* sums, double* counts) {
    if (metrics_.empty()) return;
    const index_t rows = n * out_.rows_per_sample, cols = out_.cols;
    const T* p = y;
    if (predictions_ == Act::softmax) {
        softmax_forward<T>(y, probs_.data(), rows, cols);
        p = probs_.data();
    } else if (predictions_ != Act::linear) {
        activation_forward<T>(predictions_, y, probs_.data(), rows * cols, T(kLeakyReluAlpha));
        p = probs_.data();
    }
    for (std::size_t i = 0; i < metrics_.size(); ++i) {
        sums[i] += metric_sum<T>(metrics_[i].kind, p, t.labels, t.dense, rows, cols, metrics_[i].threshold,
                                 metrics_[i].k);
        counts[i] += static_cast<double>(rows);
    }
}

template class Objective<float>;
template class Objective<double>;

}  // namespace bprop::plan
