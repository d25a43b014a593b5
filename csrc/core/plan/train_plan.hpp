// A model's compiled step: its nodes, parameters, loss, metrics and
// optimizer, run for many batches per call without returning to Python.
//
// One training step is
//     gather the batch's rows -> forward through the nodes -> loss and its
//     gradient (+ regularization penalties) -> metrics -> backward ->
//     regularizer gradients -> clip -> update -> check the update is finite
// and is the same sequence of kernel calls as the op-by-op plan of
// bprop/engine (the oracle), so both give the same bits.
//
// A step whose loss is not finite changes nothing.  A step whose update
// leaves a non-finite parameter or slot is undone: the plan keeps a copy of
// the parameters and slots (and of the state parameters, which a training
// forward writes) from the start of the call, restores it and replays the
// call's earlier steps (every step is deterministic), so the state is
// exactly that before the bad step.
//
// With two or more threads, a plan of Dense, Activation and Dropout nodes
// runs each step on a team of threads that stays together for the whole
// call (train_plan_team.cpp): each thread owns a fixed share of every Dense
// layer's output columns, in the forward, the weight gradients and the
// update, so its part of W, dW and the slots stays in its own cache from
// step to step.  The bits are those of the one-thread step, and which of
// the two runs is chosen call by call by their measured speed (mode_pacer.hpp).
//
// Data-parallel (a Collective given): each process runs the same steps on
// its own slice of each global batch.  Its loss and its loss gradient are its
// rows' part of the global mean (the loss kernels divide by the global
// batch's rows); after backward one reduction sums every process's
// gradients, loss and metric sums, so each process then holds the global
// step and makes the same decisions (not finite: skip; the same update).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "collective.hpp"
#include "mode_pacer.hpp"
#include "node.hpp"
#include "nodes.hpp"
#include "objective.hpp"
#include "update.hpp"

namespace bprop::plan {

// The arrays of a data set, read by row index.
template <typename T>
struct DataSet {
    const T* x = nullptr;                      // n_rows x input size
    const std::int64_t* labels = nullptr;      // n_rows x label size (sparse targets), or null
    const T* targets = nullptr;                // n_rows x output size (dense targets), or null
    const double* sample_weight = nullptr;     // n_rows, or null
};

enum class StepStatus : std::int8_t { applied = 0, loss_not_finite = 1, update_not_finite = 2 };

enum class RunMode { train, evaluate };

struct RunRequest {
    RunMode mode = RunMode::train;
    const std::int64_t* rows = nullptr;   // the samples, in order; step s takes rows[s*batch, (s+1)*batch)
    index_t total = 0;
    index_t batch = 1;
    // Data-parallel slices (all null otherwise): step s takes the next
    // step_rows[s] of `rows`, which start at row step_offsets[s] of a global
    // batch of step_global_rows[s] rows.
    const std::int64_t* step_rows = nullptr;
    const std::int64_t* step_offsets = nullptr;
    const std::int64_t* step_global_rows = nullptr;
    index_t steps = 0;                    // with step_rows: how many steps
    const double* lrs = nullptr;          // train: the learning rate of each step
    std::int64_t iterations = 0;          // train: the optimizer's count before the first step
    std::uint64_t dropout_counter = 0;    // of the first step (one more per step)
    index_t row_offset = 0;               // this process's first row in the global batch
};

// Per-step results; arrays of steps (metric ones steps x metrics).
struct RunResult {
    double* losses = nullptr;
    double* metric_sums = nullptr;
    double* metric_counts = nullptr;
    std::int8_t* status = nullptr;
    index_t done = 0;  // train: steps applied (a stop leaves the rest untouched)
};

template <typename T>
class TrainPlan {
public:
    TrainPlan(index_t input_size, index_t label_size, std::vector<std::unique_ptr<Param<T>>> params,
              std::vector<std::unique_ptr<Node<T>>> nodes, std::unique_ptr<Objective<T>> objective,
              OptimizerSpec optimizer);

    // The reduction of a data-parallel job (null: one process).  Not owned.
    void set_collective(Collective<T>* collective) { collective_ = collective; }

    std::size_t metric_count() const { return objective_->metric_count(); }
    index_t output_size() const { return nodes_.empty() ? input_size_ : nodes_.back()->out.size(); }
    const Param<T>& param(std::size_t i) const { return *params_[i]; }
    std::size_t param_count() const { return params_.size(); }
    // Steps run so far by a thread team (for tests: that the path ran).
    index_t team_steps() const { return team_steps_; }

    // Training or evaluation over req.total rows of `data`.
    void run(const DataSet<T>& data, const RunRequest& req, RunResult& result);
    // Outputs of n samples x (batches of `batch`) into out (n x output size).
    void predict(const T* x, index_t n, index_t batch, T* out);
    // Loss of one batch (the first n rows of `data`) and the gradient of
    // every trainable parameter into its grad; nothing is updated.
    double gradients(const DataSet<T>& data, index_t n, bool training, std::uint64_t dropout_counter);

private:
    struct Batch {
        const T* x;
        Targets<T> targets;
        const double* row_weights;
    };
    void reserve(index_t n);
    Batch gather(const DataSet<T>& data, const std::int64_t* rows, index_t n);
    const T* forward(const T* x, index_t n, const StepContext& ctx, double& penalty);
    double objective(const T* y, const Batch& b, index_t n, bool want_grad, double penalty,
                     index_t mean_rows = 0);
    double weight_penalty() const;
    // The data's gradient into the parameters' grads (no regularizer).
    void backward(index_t n);
    StepStatus parallel_step(const DataSet<T>& data, const std::int64_t* rows, index_t n, index_t global,
                             const StepContext& ctx, double* loss_out, double* sums_out, double* counts_out,
                             double lr, double t, bool update);
    void snapshot();
    void restore();

    // The team's step (train_plan_team.cpp).
    struct Team;
    int team_size(index_t widest) const;
    // Steps [s_begin, s_end) of the call (an undone step replays the call's
    // earlier steps from its start, whichever mode ran them).
    void run_team(const DataSet<T>& data, const RunRequest& req, RunResult& result,
                  const std::vector<index_t>& start, int threads, index_t s_begin, index_t s_end);
    StepStatus team_step(Team& team, const DataSet<T>& data, const RunRequest& req, RunResult& result,
                   const std::vector<index_t>& start, index_t s, bool record);
    void gather_x(const DataSet<T>& data, const std::int64_t* rows, index_t r0, index_t r1);
    Batch gather_targets(const DataSet<T>& data, const std::int64_t* rows, index_t n);

    index_t input_size_, label_size_;
    std::vector<std::unique_ptr<Param<T>>> params_;
    std::vector<Param<T>*> trainable_;
    std::vector<Param<T>*> state_;   // non-trainable, written by a training forward
    std::vector<std::unique_ptr<Node<T>>> nodes_;
    std::vector<const T*> outputs_;  // each node's output in the current step
    std::unique_ptr<Objective<T>> objective_;
    OptimizerSpec optimizer_;
    index_t first_trainable_node_;   // nodes before it need no backward
    index_t reserved_ = 0;
    index_t grad_count_ = 0;         // the trainable parameters' gradients, then (data-parallel)
    Buffer<T> flat_;                 // the loss, the metric sums and counts
    Collective<T>* collective_ = nullptr;
    Buffer<T> x_buf_, target_buf_, saved_;
    Buffer<std::int64_t> label_buf_;
    Buffer<double> weight_buf_;
    // For the team's step: each node as a Dense (null for the other kinds).
    std::vector<DenseNode<T>*> dense_;
    bool team_ok_ = false;        // every node is of a kind the team runs
    ModePacer pacer_[2];          // team or one thread: for training, for evaluation
    index_t team_steps_ = 0;
    index_t macs_per_sample_ = 0; // the Dense layers' forward multiply-adds
};

}  // namespace bprop::plan
