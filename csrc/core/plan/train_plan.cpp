#include "train_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "../regularizers.hpp"

namespace bprop::plan {

template <typename T>
TrainPlan<T>::TrainPlan(index_t input_size, index_t label_size, std::vector<std::unique_ptr<Param<T>>> params,
                        std::vector<std::unique_ptr<Node<T>>> nodes, std::unique_ptr<Objective<T>> objective,
                        OptimizerSpec optimizer)
    : input_size_(input_size),
      label_size_(label_size),
      params_(std::move(params)),
      nodes_(std::move(nodes)),
      objective_(std::move(objective)),
      optimizer_(optimizer) {
    for (auto& p : params_)
        if (p->trainable) trainable_.push_back(p.get());
    outputs_.assign(nodes_.size(), nullptr);
    first_trainable_node_ = static_cast<index_t>(nodes_.size());
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i]->has_trainable()) {
            first_trainable_node_ = static_cast<index_t>(i);
            break;
        }
}

template <typename T>
void TrainPlan<T>::reserve(index_t n) {
    if (n <= reserved_) return;
    const index_t out_size = output_size();
    const index_t out_rows = nodes_.empty() ? 1 : nodes_.back()->out.rows_per_sample;
    x_buf_.reserve(n * input_size_);
    label_buf_.reserve(n * std::max<index_t>(label_size_, 1));
    target_buf_.reserve(n * out_size);
    weight_buf_.reserve(n * out_rows);
    for (auto& node : nodes_) node->reserve(n);
    objective_->reserve(n);
    for (Param<T>* p : trainable_) p->grad.reserve(p->size);
    reserved_ = n;
}

namespace {

// Asks the memory system for the next batch's rows while this one trains: a
// shuffled batch is a few dozen rows scattered over the data set.
template <typename T>
void prefetch_rows(const T* x, index_t size, const std::int64_t* rows, index_t n) {
    const std::size_t row_bytes = sizeof(T) * static_cast<std::size_t>(size);
    for (index_t r = 0; r < n; ++r) {
        const char* p = reinterpret_cast<const char*>(x + rows[r] * size);
        for (std::size_t off = 0; off < row_bytes; off += 64) __builtin_prefetch(p + off);
    }
}

template <typename U>
void copy_rows(const U* src, index_t size, const std::int64_t* rows, index_t n, U* dst) {
    const std::size_t bytes = sizeof(U) * static_cast<std::size_t>(size);
    for (index_t r = 0; r < n; ++r) std::memcpy(dst + r * size, src + rows[r] * size, bytes);
}

}  // namespace

template <typename T>
typename TrainPlan<T>::Batch TrainPlan<T>::gather(const DataSet<T>& data, const std::int64_t* rows, index_t n) {
    Batch b{x_buf_.data(), {}, nullptr};
    copy_rows(data.x, input_size_, rows, n, x_buf_.data());
    if (data.labels != nullptr) {
        copy_rows(data.labels, label_size_, rows, n, label_buf_.data());
        b.targets.labels = label_buf_.data();
    }
    if (data.targets != nullptr) {
        copy_rows(data.targets, output_size(), rows, n, target_buf_.data());
        b.targets.dense = target_buf_.data();
    }
    if (data.sample_weight != nullptr) {
        // One weight per output row: a sample's weight on each of its rows.
        const index_t per = nodes_.empty() ? 1 : nodes_.back()->out.rows_per_sample;
        double* w = weight_buf_.data();
        for (index_t r = 0; r < n; ++r)
            for (index_t k = 0; k < per; ++k) w[r * per + k] = data.sample_weight[rows[r]];
        b.row_weights = w;
    }
    return b;
}

template <typename T>
const T* TrainPlan<T>::forward(const T* x, index_t n, const StepContext& ctx, double& penalty) {
    const T* h = x;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        Node<T>& node = *nodes_[i];
        h = node.forward(h, n, ctx);
        outputs_[i] = h;
        if (node.activity_l1 != 0.0 || node.activity_l2 != 0.0)
            penalty += l1_l2_penalty(h, n * node.out.size(), node.activity_l1, node.activity_l2);
    }
    return h;
}

template <typename T>
double TrainPlan<T>::objective(const T* y, const Batch& b, index_t n, bool want_grad, double penalty) {
    double loss = objective_->loss(y, n, b.targets, b.row_weights, want_grad);
    // Keras adds the layers' regularization losses (of every weight, frozen or
    // not) to the loss it reports and differentiates.
    for (auto& p : params_)
        if (p->l1 != 0.0 || p->l2 != 0.0) penalty += l1_l2_penalty(p->value, p->size, p->l1, p->l2);
    return loss + penalty;
}

template <typename T>
void TrainPlan<T>::backward(index_t n) {
    T* dy = objective_->grad();
    for (index_t i = static_cast<index_t>(nodes_.size()) - 1; i >= first_trainable_node_; --i) {
        Node<T>& node = *nodes_[static_cast<std::size_t>(i)];
        if (node.activity_l1 != 0.0 || node.activity_l2 != 0.0)
            l1_l2_grad(outputs_[static_cast<std::size_t>(i)], dy, n * node.out.size(), node.activity_l1,
                       node.activity_l2);
        // Each node returns its own dx buffer or the dy it was given: both are
        // scratch of this step, so the next node up may add into it.
        dy = const_cast<T*>(node.backward(dy, n, i > first_trainable_node_));
    }
    add_regularizer_grads(trainable_);
}

template <typename T>
void TrainPlan<T>::snapshot() {
    const int slots = optimizer_.slots();
    index_t total = 0;
    for (Param<T>* p : trainable_) total += p->size * (1 + slots);
    T* dst = saved_.reserve(total);
    for (Param<T>* p : trainable_) {
        std::memcpy(dst, p->value, sizeof(T) * static_cast<std::size_t>(p->size));
        dst += p->size;
        for (int s = 0; s < slots; ++s) {
            std::memcpy(dst, p->slots[s], sizeof(T) * static_cast<std::size_t>(p->size));
            dst += p->size;
        }
    }
}

template <typename T>
void TrainPlan<T>::restore() {
    const int slots = optimizer_.slots();
    const T* src = saved_.data();
    for (Param<T>* p : trainable_) {
        std::memcpy(p->value, src, sizeof(T) * static_cast<std::size_t>(p->size));
        src += p->size;
        for (int s = 0; s < slots; ++s) {
            std::memcpy(p->slots[s], src, sizeof(T) * static_cast<std::size_t>(p->size));
            src += p->size;
        }
    }
}

template <typename T>
void TrainPlan<T>::run(const DataSet<T>& data, const RunRequest& req, RunResult& result) {
    const index_t steps = req.batch > 0 ? (req.total + req.batch - 1) / req.batch : 0;
    const std::size_t metrics = objective_->metric_count();
    for (index_t s = 0; s < steps; ++s) {
        result.losses[s] = std::nan("");
        result.status[s] = static_cast<std::int8_t>(StepStatus::applied);
        for (std::size_t m = 0; m < metrics; ++m)
            result.metric_sums[s * metrics + m] = result.metric_counts[s * metrics + m] = 0.0;
    }
    result.done = 0;
    reserve(std::min(req.batch, std::max<index_t>(req.total, 1)));
    const bool train = req.mode == RunMode::train;
    const bool update = train && !trainable_.empty();
    if (update) snapshot();

    // One step: s indexes the batch, `record` whether its results are kept
    // (not when replaying after an undone update).  Returns its status.
    auto step = [&](index_t s, bool record) {
        const index_t begin = s * req.batch, n = std::min(req.batch, req.total - begin);
        if (record && begin + n < req.total)
            prefetch_rows(data.x, input_size_, req.rows + begin + n, std::min(req.batch, req.total - begin - n));
        const Batch b = gather(data, req.rows + begin, n);
        StepContext ctx;
        ctx.training = train;
        ctx.dropout_counter = req.dropout_counter + static_cast<std::uint64_t>(s);
        ctx.row_offset = req.row_offset;
        double penalty = 0.0;
        const T* y = forward(b.x, n, ctx, penalty);
        const double loss = objective(y, b, n, train, penalty);
        if (record) {
            result.losses[s] = loss;
            objective_->metrics(y, n, b.targets, result.metric_sums + s * metrics,
                                result.metric_counts + s * metrics);
        }
        if (!train) return StepStatus::applied;
        if (!std::isfinite(loss)) return StepStatus::loss_not_finite;
        if (!update) return StepStatus::applied;
        backward(n);
        const double t = static_cast<double>(req.iterations + s + 1);
        return apply_update(optimizer_, trainable_, req.lrs[s], t) ? StepStatus::applied
                                                                   : StepStatus::update_not_finite;
    };

    try {
        for (index_t s = 0; s < steps; ++s) {
            const StepStatus status = step(s, true);
            result.status[s] = static_cast<std::int8_t>(status);
            if (status == StepStatus::update_not_finite) {
                restore();
                for (index_t r = 0; r < s; ++r) step(r, false);
            }
            if (status != StepStatus::applied) break;
            result.done = s + 1;
        }
    } catch (...) {
        // A node that calls out (a Python layer) raised: leave the state as it
        // was before the call, so that the caller's step count stays true.
        if (update) restore();
        result.done = 0;
        throw;
    }
}

template <typename T>
void TrainPlan<T>::predict(const T* x, index_t n, index_t batch, T* out) {
    if (n <= 0) return;
    reserve(std::min(batch, n));
    const index_t out_size = output_size();
    StepContext ctx;
    for (index_t begin = 0; begin < n; begin += batch) {
        const index_t m = std::min(batch, n - begin);
        double penalty = 0.0;
        const T* y = forward(x + begin * input_size_, m, ctx, penalty);
        std::memcpy(out + begin * out_size, y, sizeof(T) * static_cast<std::size_t>(m * out_size));
    }
}

template <typename T>
double TrainPlan<T>::gradients(const DataSet<T>& data, index_t n, bool training, std::uint64_t dropout_counter) {
    reserve(std::max<index_t>(n, 1));
    Batch b{data.x, {data.labels, data.targets}, nullptr};
    if (data.sample_weight != nullptr) {
        const index_t per = nodes_.empty() ? 1 : nodes_.back()->out.rows_per_sample;
        double* w = weight_buf_.data();
        for (index_t r = 0; r < n; ++r)
            for (index_t k = 0; k < per; ++k) w[r * per + k] = data.sample_weight[r];
        b.row_weights = w;
    }
    StepContext ctx;
    ctx.training = training;
    ctx.dropout_counter = dropout_counter;
    double penalty = 0.0;
    const T* y = forward(b.x, n, ctx, penalty);
    const double loss = objective(y, b, n, true, penalty);
    if (std::isfinite(loss)) backward(n);
    return loss;
}

template class TrainPlan<float>;
template class TrainPlan<double>;

}  // namespace bprop::plan
