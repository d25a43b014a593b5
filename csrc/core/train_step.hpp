// One whole training step of a stack of dense layers ending in a softmax
// cross-entropy on integer labels, in one call: forward, fused loss on the
// logits, backward and the optimizer update of every parameter.  It runs the
// very kernels the Python training loop calls, in the same order, so the
// result is the same to the bit; what it saves is the per-kernel crossing of
// the Python boundary (the step of a batch-32 MLP is mostly that).
#pragma once

#include <cstdint>
#include <vector>

#include "activation_kind.hpp"
#include "common.hpp"

namespace bprop {

template <typename T>
struct StepLayer {
    T* w;          // in x out, updated in place
    T* b;          // out, or null (no bias); updated in place
    index_t in, out;
    Act act;       // the hidden activation; the last layer's is ignored (logits)
    T* y;          // n x out: the layer's output (the logits for the last layer)
    T* dx;         // n x in: gradient wrt the layer's input; null for the first layer
    T* dw;         // in x out
    T* db;         // out (written even without a bias: the kernel always sums)
    // optimizer slots for w and b (adam: m, v; sgd with momentum: velocity, unused)
    T* w_slot0; T* w_slot1;
    T* b_slot0; T* b_slot1;
};

enum class StepOptimizer { sgd, adam };

struct StepOptimizerParams {
    StepOptimizer kind;
    double lr;
    double step;          // adam: iterations after this step (counts from 1)
    double beta1, beta2, eps, weight_decay;   // adam
    double momentum;      // sgd
    bool nesterov;        // sgd
};

struct StepResult {
    double loss;          // mean softmax cross-entropy over the batch
    index_t correct;      // rows whose softmax argmax equals the label
    bool updated;         // false when the loss is not finite (nothing changed)
};

// x: n x layers[0].in, C-contiguous; labels in [0, layers.back().out) (checked
// by the caller); dlogits: n x classes scratch.
template <typename T>
StepResult dense_softmax_xent_step(index_t n, const T* x, const std::int64_t* labels,
                                   std::vector<StepLayer<T>>& layers, T* dlogits,
                                   const StepOptimizerParams& opt);

}  // namespace bprop
