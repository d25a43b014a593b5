#include "train_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "../regularizers.hpp"
#include "rows.hpp"

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
    for (auto& p : params_) {
        if (p->trainable) trainable_.push_back(p.get());
        else if (p->state) state_.push_back(p.get());
    }
    // One flat buffer: every trainable gradient, then a tail for the loss and
    // the metrics' sums and counts (what a data-parallel step reduces).
    for (Param<T>* p : trainable_) grad_count_ += p->size;
    T* flat = flat_.reserve(grad_count_ + 1 + 2 * static_cast<index_t>(objective_->metric_count()));
    for (Param<T>* p : trainable_) {
        p->grad = flat;
        flat += p->size;
    }
    outputs_.assign(nodes_.size(), nullptr);
    // What the team's step needs to know (see train_plan_team.cpp).
    team_ok_ = true;
    dense_.assign(nodes_.size(), nullptr);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        Node<T>* node = nodes_[i].get();
        if (auto* d = dynamic_cast<DenseNode<T>*>(node)) {
            dense_[i] = d;
            macs_per_sample_ += d->in.size() * d->units();
        } else if (dynamic_cast<ActivationNode<T>*>(node) == nullptr && dynamic_cast<DropoutNode<T>*>(node) == nullptr) {
            team_ok_ = false;  // a node that may call out (Python) or shares its own work
        }
    }
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
    reserved_ = n;
}

template <typename T>
typename TrainPlan<T>::Batch TrainPlan<T>::gather(const DataSet<T>& data, const std::int64_t* rows, index_t n) {
    gather_x(data, rows, 0, n);
    return gather_targets(data, rows, n);
}

template <typename T>
void TrainPlan<T>::gather_x(const DataSet<T>& data, const std::int64_t* rows, index_t r0, index_t r1) {
    if (r1 > r0) copy_rows(data.x, input_size_, rows + r0, r1 - r0, x_buf_.data() + r0 * input_size_);
}

template <typename T>
typename TrainPlan<T>::Batch TrainPlan<T>::gather_targets(const DataSet<T>& data, const std::int64_t* rows,
                                                          index_t n) {
    Batch b{x_buf_.data(), {}, nullptr};
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
double TrainPlan<T>::weight_penalty() const {
    // Keras adds the layers' regularization losses (of every weight, frozen or
    // not) to the loss it reports and differentiates.
    double penalty = 0.0;
    for (auto& p : params_)
        if (p->l1 != 0.0 || p->l2 != 0.0) penalty += l1_l2_penalty(p->value, p->size, p->l1, p->l2);
    return penalty;
}

template <typename T>
double TrainPlan<T>::objective(const T* y, const Batch& b, index_t n, bool want_grad, double penalty,
                               index_t mean_rows) {
    const double loss = objective_->loss(y, n, b.targets, b.row_weights, want_grad, mean_rows);
    if (collective_ != nullptr) return loss + penalty;  // the weights' part is added after the reduction
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
}

template <typename T>
void TrainPlan<T>::snapshot() {
    const int slots = optimizer_.slots();
    index_t total = 0;
    for (Param<T>* p : trainable_) total += p->size * (1 + slots);
    for (Param<T>* p : state_) total += p->size;
    T* dst = saved_.reserve(total);
    for (Param<T>* p : trainable_) {
        std::memcpy(dst, p->value, sizeof(T) * static_cast<std::size_t>(p->size));
        dst += p->size;
        for (int s = 0; s < slots; ++s) {
            std::memcpy(dst, p->slots[s], sizeof(T) * static_cast<std::size_t>(p->size));
            dst += p->size;
        }
    }
    for (Param<T>* p : state_) {
        std::memcpy(dst, p->value, sizeof(T) * static_cast<std::size_t>(p->size));
        dst += p->size;
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
    for (Param<T>* p : state_) {
        std::memcpy(p->value, src, sizeof(T) * static_cast<std::size_t>(p->size));
        src += p->size;
    }
}

template <typename T>
void TrainPlan<T>::run(const DataSet<T>& data, const RunRequest& req, RunResult& result) {
    // The steps: uniform batches of `rows`, or the given data-parallel slices.
    const bool sliced = req.step_rows != nullptr;
    const index_t steps = sliced ? req.steps
                                 : (req.total > 0 && req.batch > 0 ? (req.total - 1) / req.batch + 1 : 0);
    std::vector<index_t> start(static_cast<std::size_t>(steps) + 1, 0);
    index_t widest = 1;
    for (index_t s = 0; s < steps; ++s) {
        const index_t n = sliced ? static_cast<index_t>(req.step_rows[s])
                                 : std::min(req.batch, req.total - s * req.batch);
        start[static_cast<std::size_t>(s) + 1] = start[static_cast<std::size_t>(s)] + n;
        widest = std::max(widest, n);
    }
    const std::size_t metrics = objective_->metric_count();
    for (index_t s = 0; s < steps; ++s) {
        result.losses[s] = std::nan("");
        result.status[s] = static_cast<std::int8_t>(StepStatus::applied);
        for (std::size_t m = 0; m < metrics; ++m)
            result.metric_sums[s * metrics + m] = result.metric_counts[s * metrics + m] = 0.0;
    }
    result.done = 0;
    reserve(widest);
    const bool train = req.mode == RunMode::train;
    const bool update = train && !trainable_.empty();
    const bool parallel = train && collective_ != nullptr;
    const bool keep = update || (train && !state_.empty());  // what a restore brings back
    if (keep) snapshot();
    const int team = parallel || sliced ? 1 : team_size(widest);
    ModePacer& pacer = pacer_[train ? 0 : 1];
    const ModePacer::Schedule plan = team > 1 ? pacer.schedule(steps) : ModePacer::Schedule{};

    // One step: s indexes the batch, `record` whether its results are kept
    // (not when replaying after an undone update).  Returns its status.
    auto step = [&](index_t s, bool record) {
        const index_t begin = start[static_cast<std::size_t>(s)];
        const index_t n = start[static_cast<std::size_t>(s) + 1] - begin;
        if (record && s + 1 < steps)
            prefetch_rows(data.x, input_size_, req.rows + begin + n,
                          start[static_cast<std::size_t>(s) + 2] - begin - n);
        StepContext ctx;
        ctx.training = train;
        ctx.dropout_counter = req.dropout_counter + static_cast<std::uint64_t>(s);
        ctx.row_offset = sliced ? static_cast<index_t>(req.step_offsets[s]) : req.row_offset;
        double* sums = result.metric_sums + s * metrics;
        double* counts = result.metric_counts + s * metrics;
        if (parallel) {
            const index_t global = static_cast<index_t>(req.step_global_rows[s]);
            return parallel_step(data, req.rows + begin, n, global, ctx, record ? &result.losses[s] : nullptr,
                                 record ? sums : nullptr, record ? counts : nullptr, req.lrs[s],
                                 static_cast<double>(req.iterations + s + 1), update);
        }
        const Batch b = gather(data, req.rows + begin, n);
        double penalty = 0.0;
        const T* y = forward(b.x, n, ctx, penalty);
        const double loss = objective(y, b, n, train, penalty);
        if (record) {
            result.losses[s] = loss;
            objective_->metrics(y, n, b.targets, sums, counts);
        }
        if (!train) return StepStatus::applied;
        if (!std::isfinite(loss)) return StepStatus::loss_not_finite;
        if (!update) return StepStatus::applied;
        backward(n);
        add_regularizer_grads(trainable_);
        const double t = static_cast<double>(req.iterations + s + 1);
        return apply_update(optimizer_, trainable_, req.lrs[s], t) ? StepStatus::applied
                                                                   : StepStatus::update_not_finite;
    };

    // Steps [s_begin, s_end) in one mode; whether they all applied.
    auto run_steps = [&](bool in_team, index_t s_begin, index_t s_end) {
        if (s_end <= s_begin) return true;
        const double t0 = team > 1 ? ModePacer::now() : 0.0;
        if (in_team) {
            run_team(data, req, result, start, team, s_begin, s_end);
            team_steps_ += result.done - s_begin;
        } else {
            for (index_t s = s_begin; s < s_end; ++s) {
                const StepStatus status = step(s, true);
                result.status[s] = static_cast<std::int8_t>(status);
                if (status == StepStatus::update_not_finite) {
                    restore();
                    for (index_t r = 0; r < s; ++r) step(r, false);
                }
                if (status != StepStatus::applied) break;
                result.done = s + 1;
            }
        }
        if (team > 1) pacer.record(in_team, result.done - s_begin, ModePacer::now() - t0);
        return result.done == s_end;
    };

    try {
        if (run_steps(plan.probe_team, 0, plan.probe_steps)) run_steps(plan.team, plan.probe_steps, steps);
    } catch (...) {
        // A node that calls out (a Python layer) raised: leave the state as it
        // was before the call, so that the caller's step count stays true.
        if (keep) restore();
        result.done = 0;
        throw;
    }
}

template <typename T>
StepStatus TrainPlan<T>::parallel_step(const DataSet<T>& data, const std::int64_t* rows, index_t n,
                                       index_t global, const StepContext& ctx, double* loss_out,
                                       double* sums_out, double* counts_out, double lr, double t,
                                       bool update) {
    const std::size_t metrics = objective_->metric_count();
    T* tail = flat_.data() + grad_count_;
    std::vector<double> sums(metrics, 0.0), counts(metrics, 0.0);
    double part = 0.0;
    if (n > 0) {
        const Batch b = gather(data, rows, n);
        double penalty = 0.0;
        const T* y = forward(b.x, n, ctx, penalty);
        part = objective(y, b, n, true, penalty, global);  // this slice's part of the global mean
        objective_->metrics(y, n, b.targets, sums.data(), counts.data());
        if (update) backward(n);
    } else {  // an empty slice (more processes than rows): it adds nothing
        std::fill(flat_.data(), tail, T(0));
    }
    tail[0] = static_cast<T>(part);
    for (std::size_t m = 0; m < metrics; ++m) {
        tail[1 + m] = static_cast<T>(sums[m]);
        tail[1 + metrics + m] = static_cast<T>(counts[m]);
    }
    collective_->allreduce_sum(flat_.data(), grad_count_ + 1 + 2 * static_cast<index_t>(metrics));
    // Every process now holds the global step: the same loss, the same gradient.
    const double loss = static_cast<double>(tail[0]) + weight_penalty();
    if (loss_out != nullptr) {
        *loss_out = loss;
        for (std::size_t m = 0; m < metrics; ++m) {
            sums_out[m] = static_cast<double>(tail[1 + m]);
            counts_out[m] = static_cast<double>(tail[1 + metrics + m]);
        }
    }
    if (!std::isfinite(loss)) return StepStatus::loss_not_finite;
    if (!update) return StepStatus::applied;
    add_regularizer_grads(trainable_);
    return apply_update(optimizer_, trainable_, lr, t) ? StepStatus::applied : StepStatus::update_not_finite;
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
    if (std::isfinite(loss)) {
        backward(n);
        add_regularizer_grads(trainable_);
    }
    return loss;
}

template class TrainPlan<float>;
template class TrainPlan<double>;

}  // namespace bprop::plan
