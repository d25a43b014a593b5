// What an optimizer step does to gradients before the update: squared L2
// norms for clipnorm/global_clipnorm, and clipping.
#pragma once

#include "common.hpp"

namespace bprop {

// sum of x^2 in double over fixed chunks (thread-count independent).
template <typename T>
double sum_squares(const T* x, index_t n);

// g = min(max(g, -c), c) in place.
template <typename T>
void clip_by_value(T* g, index_t n, double c);

// g *= scale in place (scale rounded to T first).
template <typename T>
void scale_in_place(T* g, index_t n, double scale);

}  // namespace bprop
