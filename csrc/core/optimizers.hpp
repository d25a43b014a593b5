// In-place optimizer updates, one pass over each parameter, with Keras'
// formulas (see python/bprop/reference/_optimizers.py for the exact
// equations).  Each returns whether everything it wrote (the parameter and
// its slots) is finite, checked in the same pass.  They run with denormals
// flushed to zero, as TensorFlow's CPU kernels do (flush_denormals.hpp): a
// slot or parameter that would fall below the smallest normal becomes 0.
#pragma once

#include "common.hpp"

namespace bprop {

// One optimizer step's constants, worked out once, applied to any number of
// spans of a parameter (the shares of a team's step, see
// plan/train_plan_team.cpp).  Every element gets the same arithmetic
// whichever span it is in, so the bits do not depend on how a parameter is
// split.  The *_update functions below are this, over fixed chunks.
enum class UpdateKind { sgd, rmsprop, adam, adagrad };

template <typename T>
struct SpanUpdate {
    UpdateKind kind = UpdateKind::sgd;
    T lr = T(0);        // adam: the bias-corrected lr_t
    T c1 = T(0);        // sgd: momentum; rmsprop: rho; adam: 1 - beta1
    T c2 = T(0);        // rmsprop: 1 - rho; adam: 1 - beta2
    T c3 = T(0);        // rmsprop: momentum
    T eps = T(0);
    T decay = T(0);     // adam: lr * weight_decay
    bool momentum = false, nesterov = false;  // sgd, rmsprop: momentum > 0
    bool centered = false;                    // rmsprop
    // p, g and the optimizer's slots, n elements from each pointer, in the
    // order of the Python optimizer's _slot_names: sgd's velocity; rmsprop's
    // sq_avg, then velocity (with momentum), then average_grad (centered);
    // adam's m and v; adagrad's accumulator.  Unused slots may be null.
    // True when all it wrote is finite.
    bool apply(T* p, const T* g, T* s0, T* s1, T* s2, index_t n) const;
};

template <typename T>
SpanUpdate<T> sgd_rule(double lr, double momentum, bool nesterov);
template <typename T>
SpanUpdate<T> rmsprop_rule(double lr, double rho, double eps, double momentum = 0.0, bool centered = false);
template <typename T>
SpanUpdate<T> adam_rule(double lr, double step, double beta1, double beta2, double eps, double weight_decay);
template <typename T>
SpanUpdate<T> adagrad_rule(double lr, double eps);

// momentum == 0: p -= lr g (velocity unused, may be null).
// else: v = momentum v - lr g; p += v, or (nesterov) p += momentum v - lr g.
template <typename T>
bool sgd_update(T* p, const T* g, T* velocity, index_t n, double lr, double momentum,
                bool nesterov);

// s = rho s + (1 - rho) g^2; centered: a = rho a + (1 - rho) g, d = s - a^2 + eps,
// else d = s + eps; inc = lr g / sqrt(d); momentum > 0: v = momentum v + inc,
// p -= v; else p -= inc.  velocity and average_grad may be null when unused.
template <typename T>
bool rmsprop_update(T* p, const T* g, T* sq_avg, T* velocity, T* average_grad, index_t n, double lr,
                    double rho, double eps, double momentum = 0.0, bool centered = false);

// p -= lr wd p; m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
// p -= lr_t m / (sqrt(v) + eps), lr_t = lr sqrt(1 - b2^t) / (1 - b1^t).
template <typename T>
bool adam_update(T* p, const T* g, T* m, T* v, index_t n, double lr, double step, double beta1,
                 double beta2, double eps, double weight_decay);

// a += g^2; p -= lr g / sqrt(a + eps).
template <typename T>
bool adagrad_update(T* p, const T* g, T* accum, index_t n, double lr, double eps);

}  // namespace bprop
