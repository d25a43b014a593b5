// Activations over contiguous arrays, forward and backward, multi-threaded
// over fixed chunks.  Softmax and log-softmax are row-wise: softmax.hpp.
#pragma once

#include "activation_kind.hpp"
#include "common.hpp"

namespace bprop {

// y = act(x); y may alias x exactly (in place).  act != softmax.
template <typename T>
void activation_forward(Act act, const T* x, T* y, index_t n, T alpha);

// dx = dy * act'(z_or_y) (see activation_apply.hpp for what z_or_y is).
template <typename T>
void activation_backward(Act act, const T* dy, const T* z_or_y, T* dx, index_t n, T alpha);

}  // namespace bprop
