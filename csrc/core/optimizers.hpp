// In-place optimizer updates, one pass over each parameter, with Keras'
// formulas (see python/bprop/reference/_optimizers.py for the exact
// equations).  Each returns whether everything it wrote (the parameter and
// its slots) is finite, checked in the same pass.
#pragma once

#include "common.hpp"

namespace bprop {

// momentum == 0: p -= lr g (velocity unused, may be null).
// else: v = momentum v - lr g; p += v, or (nesterov) p += momentum v - lr g.
template <typename T>
bool sgd_update(T* p, const T* g, T* velocity, index_t n, double lr, double momentum,
                bool nesterov);

// s = rho s + (1 - rho) g^2; p -= lr g / sqrt(s + eps).
template <typename T>
bool rmsprop_update(T* p, const T* g, T* sq_avg, index_t n, double lr, double rho, double eps);

// p -= lr wd p; m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
// p -= lr_t m / (sqrt(v) + eps), lr_t = lr sqrt(1 - b2^t) / (1 - b1^t).
template <typename T>
bool adam_update(T* p, const T* g, T* m, T* v, index_t n, double lr, double step, double beta1,
                 double beta2, double eps, double weight_decay);

// a += g^2; p -= lr g / sqrt(a + eps).
template <typename T>
bool adagrad_update(T* p, const T* g, T* accum, index_t n, double lr, double eps);

}  // namespace bprop
