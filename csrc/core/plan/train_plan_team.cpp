// The team's step: one training step shared by the threads of a team that
// stays together (one OpenMP parallel region) for every step of a call.
//
// Why: a small step (the batch-32 MLP) is a few dozen microseconds of GEMMs
// and updates.  Waking a second thread per kernel, and moving W between two
// caches each time, costs more than the second core gives.  Here each
// thread owns the same columns of every Dense layer's output at every step:
// it computes them in the forward, computes their weight and bias gradients
// in the backward and updates their parameters and optimizer slots, so its
// share of W, dW and the slots stays in its own L2.  Only the activations
// (a batch of rows) move between threads, at the team's barriers.
//
// The shares are whole micro-panels of the GEMM's kernel, so every element
// of every output is computed by the same arithmetic as in the one-thread
// step (same tiles, same K order), and the parts that are not per column
// (softmax, activations read from the pre-activation, the loss, the metrics,
// regularizers and clipping, the other node kinds) run on one thread between
// barriers with the one-thread step's calls: the bits are the same at any
// thread count.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../gemm/gemm.hpp"
#include "../regularizers.hpp"
#include "../threading.hpp"
#include "rows.hpp"
#include "train_plan.hpp"

namespace bprop::plan {

namespace {

// A team is only worth its barriers (about a dozen per step) when a step's
// forward has at least this many multiply-adds (the batch-32 MLP has 1.8M).
constexpr index_t kMinTeamMacs = index_t(1) << 19;

int team_thread() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

int team_threads() {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

void team_barrier() {
#pragma omp barrier
}

struct Range {
    index_t begin, end;
};

// Thread t's share of `count` items grouped in units of `unit` (the last
// unit may be short): whole units, as evenly as they go.
Range share(index_t count, index_t unit, int t, int threads) {
    const index_t units = (count + unit - 1) / unit;
    const index_t u0 = units * t / threads, u1 = units * (t + 1) / threads;
    return {std::min(count, u0 * unit), std::min(count, u1 * unit)};
}

// Update shares start on cache lines (no line written by two threads).
template <typename T>
constexpr index_t kLine = static_cast<index_t>(64 / sizeof(T));

// A Dense kernel is shared out in whole rows that start on a cache line:
// the rows of dW a thread computes are the rows it updates.
template <typename T>
index_t kernel_unit(index_t units) {
    return std::lcm(kLine<T>, units);
}

}  // namespace

// What the team's threads share besides the plan: decisions made by thread
// 0 and read by all after a barrier.
template <typename T>
struct TrainPlan<T>::Team {
    index_t panel = 1;            // the GEMM's micro-panel width
    bool whole_grads = false;     // regularizers or clipping: thread 0 first sees every gradient
    bool backward = false;        // this step goes on past the loss
    StepStatus status = StepStatus::applied;
    std::vector<char> finite;     // per thread: its updates stayed finite
    std::vector<const T*> dx;     // per node: the input gradient thread 0 computed
    std::vector<index_t> unit;    // per trainable parameter: the unit its update is shared out in
};

namespace {

// Barriers only where one thread's results reach another: before every
// phase that all threads run (each reads what came before), and before a
// phase of thread 0 alone that follows one of all threads; none between
// phases thread 0 runs alone (a layer too narrow to share, the loss, ...).
class Phases {
public:
    explicit Phases(bool lead) : lead_(lead) {}
    // Before a phase of all threads.
    void all() {
        team_barrier();
        after_all_ = true;
    }
    // Before a phase of thread 0 alone: true on thread 0.
    bool lead() {
        if (after_all_) team_barrier();
        after_all_ = false;
        return lead_;
    }

private:
    bool lead_;
    bool after_all_ = true;  // the step starts after the last one's final barrier
};

}  // namespace

template <typename T>
int TrainPlan<T>::team_size(index_t widest) const {
    if (!team_ok_ || !openmp_enabled() || in_parallel_region()) return 1;
    const int threads = get_num_threads();
    if (threads < 2 || widest * macs_per_sample_ < kMinTeamMacs) return 1;
    // No more threads than the widest layer has micro-panels to share.
    const index_t panel = gemm_panel_width<T>();
    index_t panels = 1;
    for (DenseNode<T>* d : dense_)
        if (d != nullptr) panels = std::max(panels, (d->units() + panel - 1) / panel);
    return static_cast<int>(std::min<index_t>(threads, panels));
}

template <typename T>
void TrainPlan<T>::run_team(const DataSet<T>& data, const RunRequest& req, RunResult& result,
                            const std::vector<index_t>& start, int threads, index_t s_begin, index_t s_end) {
    Team team;
    team.panel = gemm_panel_width<T>();
    team.whole_grads = optimizer_.clipvalue > 0.0 || optimizer_.clipnorm > 0.0 || optimizer_.global_clipnorm > 0.0 ||
                       std::any_of(trainable_.begin(), trainable_.end(),
                                   [](const Param<T>* p) { return p->l1 != 0.0 || p->l2 != 0.0; });
    team.finite.assign(static_cast<std::size_t>(threads), 1);
    team.dx.assign(nodes_.size(), nullptr);
    team.unit.assign(trainable_.size(), kLine<T>);
    for (const DenseNode<T>* d : dense_) {
        if (d == nullptr) continue;
        const auto it = std::find(trainable_.begin(), trainable_.end(), d->kernel());
        if (it != trainable_.end())
            team.unit[static_cast<std::size_t>(it - trainable_.begin())] = kernel_unit<T>(d->units());
    }
#pragma omp parallel num_threads(threads)
    {
        const bool lead = team_thread() == 0;
        for (index_t s = s_begin; s < s_end; ++s) {
            const StepStatus status = team_step(team, data, req, result, start, s, true);
            if (lead) {
                result.status[s] = static_cast<std::int8_t>(status);
                if (status == StepStatus::applied) result.done = s + 1;
                if (status == StepStatus::update_not_finite) restore();
            }
            if (status == StepStatus::update_not_finite) {
                // Undo: back to the call's start, then its earlier steps again.
                team_barrier();
                for (index_t r = 0; r < s; ++r) team_step(team, data, req, result, start, r, false);
            }
            if (status != StepStatus::applied) break;
        }
    }
}

template <typename T>
StepStatus TrainPlan<T>::team_step(Team& team, const DataSet<T>& data, const RunRequest& req, RunResult& result,
                                   const std::vector<index_t>& start, index_t s, bool record) {
    const int tid = team_thread(), threads = team_threads();
    const bool lead = tid == 0;
    Phases phase(lead);
    const index_t steps = static_cast<index_t>(start.size()) - 1;
    const index_t begin = start[static_cast<std::size_t>(s)];
    const index_t n = start[static_cast<std::size_t>(s) + 1] - begin;
    const std::int64_t* rows = req.rows + begin;
    const bool train = req.mode == RunMode::train;
    // A Dense layer narrower than two micro-panels is thread 0's alone.
    auto shared = [&](const DenseNode<T>* d) { return d->units() > team.panel; };

    // The batch: each thread copies its rows (and asks for its rows of the
    // next).  The last step's readers of x finished before its update.
    const Range mine = share(n, 1, tid, threads);
    gather_x(data, rows, mine.begin, mine.end);
    if (record && s + 1 < steps) {
        const index_t next = start[static_cast<std::size_t>(s) + 2] - begin - n;
        const Range ahead = share(next, 1, tid, threads);
        prefetch_rows(data.x, input_size_, rows + n + ahead.begin, ahead.end - ahead.begin);
    }
    const Batch b = gather_targets(data, rows, lead ? n : 0);  // the targets: thread 0's
    StepContext ctx;
    ctx.training = train;
    ctx.dropout_counter = req.dropout_counter + static_cast<std::uint64_t>(s);
    ctx.row_offset = req.row_offset;

    // Forward.  h: the current activations; a node that thread 0 ran alone
    // leaves them in outputs_[i], read by the others after the next barrier.
    double penalty = 0.0;  // thread 0's
    const T* h = b.x;
    index_t h_from = -1;
    auto all_phase = [&](const T*& x, index_t& from, const std::vector<const T*>& slots) {
        phase.all();
        if (from >= 0) x = slots[static_cast<std::size_t>(from)];
        from = -1;
    };
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        Node<T>& node = *nodes_[i];
        DenseNode<T>* d = dense_[i];
        if (d != nullptr && shared(d)) {
            all_phase(h, h_from, outputs_);
            const Range cols = share(d->units(), team.panel, tid, threads);
            d->forward_columns(h, n, cols.begin, cols.end);
            if (d->forward_has_rows_pass() && phase.lead()) d->forward_rows_pass(n);
            h = d->output();
        } else if (phase.lead()) {
            if (d != nullptr) {
                d->forward_columns(h, n, 0, d->units());
                if (d->forward_has_rows_pass()) d->forward_rows_pass(n);
                h = d->output();
            } else {
                h = node.forward(h, n, ctx);
            }
            outputs_[i] = h;
        } else {
            h_from = static_cast<index_t>(i);
        }
        if ((node.activity_l1 != 0.0 || node.activity_l2 != 0.0) && phase.lead())
            penalty += l1_l2_penalty(h, n * node.out.size(), node.activity_l1, node.activity_l2);
        if (lead) outputs_[i] = h;
    }

    // The loss, the metrics and what comes next: thread 0.
    if (phase.lead()) {
        const double loss = objective(h, b, n, train, penalty);
        if (record) {
            result.losses[s] = loss;
            objective_->metrics(h, n, b.targets, result.metric_sums + s * objective_->metric_count(),
                                result.metric_counts + s * objective_->metric_count());
        }
        team.backward = train && std::isfinite(loss) && !trainable_.empty();
        team.status = train && !std::isfinite(loss) ? StepStatus::loss_not_finite : StepStatus::applied;
        if (!team.backward) {
            team_barrier();  // the one the others wait at, to learn there is nothing more
            return team.status;
        }
    }
    // The other threads learn whether the step goes on after their next
    // barrier, the first of a phase of all threads (there is always one: the update).
    bool known = lead;
    auto all_phase_bwd = [&](const T*& x, index_t& from) {
        all_phase(x, from, team.dx);
        if (!known) {
            known = true;
            return team.backward;
        }
        return true;
    };

    // Backward.
    const T* dy = objective_->grad();
    index_t dy_from = -1;
    for (index_t i = static_cast<index_t>(nodes_.size()) - 1; i >= first_trainable_node_; --i) {
        const std::size_t at = static_cast<std::size_t>(i);
        Node<T>& node = *nodes_[at];
        DenseNode<T>* d = dense_[at];
        const bool need_dx = i > first_trainable_node_;
        if ((node.activity_l1 != 0.0 || node.activity_l2 != 0.0) && phase.lead())
            l1_l2_grad(outputs_[at], const_cast<T*>(dy), n * node.out.size(), node.activity_l1, node.activity_l2);
        if (d != nullptr && shared(d)) {
            if (d->has_dz() && phase.lead()) d->backward_dz(dy, n);
            if (!all_phase_bwd(dy, dy_from)) return team.status;
            // dW by rows: each thread's are the rows it updates, so they stay
            // in its cache (see the update below); db by columns.
            if (d->kernel()->trainable) {
                const Range w = share(d->kernel()->size, kernel_unit<T>(d->units()), tid, threads);
                d->backward_kernel_rows(dy, n, w.begin / d->units(), w.end / d->units());
            }
            const Range cols = share(d->units(), team.panel, tid, threads);
            d->backward_bias_columns(dy, n, cols.begin, cols.end);
            if (need_dx) {
                const Range r = share(n * d->in.rows_per_sample, 1, tid, threads);
                d->backward_dx_rows(dy, n, r.begin, r.end);
            }
            dy = need_dx ? d->dx() : nullptr;
        } else if (phase.lead()) {
            if (d != nullptr) {
                d->backward_dz(dy, n);
                d->backward_kernel_rows(dy, n, 0, d->in.cols);
                d->backward_bias_columns(dy, n, 0, d->units());
                if (need_dx) d->backward_dx_rows(dy, n, 0, n * d->in.rows_per_sample);
                dy = need_dx ? d->dx() : nullptr;
            } else {
                dy = node.backward(dy, n, need_dx);
            }
            team.dx[at] = dy;
        } else {
            dy_from = i;
        }
    }

    // The update: regularizers and clipping need whole gradients (thread 0);
    // then each thread updates a contiguous share of every parameter, the
    // rows of dW it computed for a Dense kernel.  (A column share, as in
    // the forward, would keep each thread in half of its L2's sets: a weight
    // row is a multiple of 256 bytes.  Measured slower.)
    if (team.whole_grads && phase.lead()) {
        add_regularizer_grads(trainable_);
        clip_gradients(optimizer_, trainable_);
    }
    if (!all_phase_bwd(dy, dy_from)) return team.status;
    const SpanUpdate<T> rule =
        update_rule<T>(optimizer_, req.lrs[s], static_cast<double>(req.iterations + s + 1));
    bool finite = true;
    for (std::size_t j = 0; j < trainable_.size(); ++j) {
        Param<T>* p = trainable_[j];
        const Range part = share(p->size, team.unit[j], tid, threads);
        if (part.end > part.begin)
            finite = apply_rule(rule, optimizer_, *p, part.begin, part.end - part.begin) && finite;
    }
    team.finite[static_cast<std::size_t>(tid)] = finite ? 1 : 0;
    team_barrier();
    // Every thread reads every flag; the next writes come a step and several barriers later.
    const bool all = std::all_of(team.finite.begin(), team.finite.end(), [](char f) { return f != 0; });
    return all ? StepStatus::applied : StepStatus::update_not_finite;
}

#define BPROP_INSTANTIATE(T)                                                                                \
    template int TrainPlan<T>::team_size(index_t) const;                                                    \
    template void TrainPlan<T>::run_team(const DataSet<T>&, const RunRequest&, RunResult&,                  \
                                         const std::vector<index_t>&, int, index_t, index_t);               \
    template StepStatus TrainPlan<T>::team_step(Team&, const DataSet<T>&, const RunRequest&, RunResult&,    \
                                                const std::vector<index_t>&, index_t, bool);
BPROP_INSTANTIATE(float)
BPROP_INSTANTIATE(double)
#undef BPROP_INSTANTIATE

}  // namespace bprop::plan
