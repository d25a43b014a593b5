// The optimizer's part of a step: weight-regularizer gradients, clipping
// and the update of every trainable parameter with Keras' formulas (the
// kernels of core/optimizers.hpp), then the check that what it wrote is
// finite.
#pragma once

#include <vector>

#include "../optimizers.hpp"
#include "node.hpp"

namespace bprop::plan {

enum class OptimizerKind { sgd, rmsprop, adam, adagrad };

struct OptimizerSpec {
    OptimizerKind kind = OptimizerKind::sgd;
    double momentum = 0.0;       // sgd, rmsprop
    bool nesterov = false;       // sgd
    double rho = 0.9;            // rmsprop (with momentum, and centered)
    bool centered = false;       // rmsprop
    double beta1 = 0.9, beta2 = 0.999, weight_decay = 0.0;  // adam (weight_decay: AdamW)
    double epsilon = 1e-7;       // rmsprop, adam, adagrad
    // At most one is set (> 0): clip each gradient's elements, each
    // gradient's L2 norm, or all gradients' joint L2 norm.
    double clipvalue = 0.0, clipnorm = 0.0, global_clipnorm = 0.0;

    // Slot arrays per parameter, in the order of the Python optimizer's _slot_names.
    int slots() const;
};

// Adds the weight regularizers' gradients, clips, and updates each
// parameter of `params` in order.  `step` is the optimizer's iteration count
// after this step (Adam's t).  Returns false when a parameter or slot is no
// longer finite afterwards.
template <typename T>
bool apply_update(const OptimizerSpec& opt, const std::vector<Param<T>*>& params, double lr, double step);

// apply_update in two parts, for a team that updates each parameter in
// shares (plan/train_plan_team.cpp): the clipping, which needs whole
// gradients, and the rule of this step, to apply to each share.
template <typename T>
void clip_gradients(const OptimizerSpec& opt, const std::vector<Param<T>*>& params);
template <typename T>
SpanUpdate<T> update_rule(const OptimizerSpec& opt, double lr, double step);
// The rule over elements [begin, begin + count) of p and its slots.
template <typename T>
bool apply_rule(const SpanUpdate<T>& rule, const OptimizerSpec& opt, Param<T>& p, index_t begin, index_t count);

// grad += the parameter's weight-regularizer gradient, for each parameter.
template <typename T>
void add_regularizer_grads(const std::vector<Param<T>*>& params);

}  // namespace bprop::plan
