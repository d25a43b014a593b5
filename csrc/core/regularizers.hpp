// Keras' L1L2 weight (and activity) penalties: l1 sum|w| + l2 sum w^2, and
// their gradient l1 sign(w) + 2 l2 w added into a gradient buffer.
#pragma once

#include "common.hpp"

namespace bprop {

// Summed in double over fixed chunks (thread-count independent).
template <typename T>
double l1_l2_penalty(const T* w, index_t n, double l1, double l2);

// grad += l1 sign(w) + 2 l2 w (sign(0) = 0).
template <typename T>
void l1_l2_grad(const T* w, T* grad, index_t n, double l1, double l2);

}  // namespace bprop
