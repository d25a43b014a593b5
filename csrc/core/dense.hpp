// The fused dense layer: forward y = act(x @ w + b) in one pass over y (bias
// and activation applied by GEMM's epilogue while each tile is in cache),
// backward (dx, dw, db) from dy.
#pragma once

#include "activation_kind.hpp"
#include "common.hpp"
#include "gemm/gemm.hpp"

namespace bprop {

// x: n x k (any strides), w: k x m (any strides), b: m or null,
// y: n x m contiguous.
template <typename T>
void dense_forward(index_t n, index_t k, index_t m, MatrixRef<const T> x, MatrixRef<const T> w,
                   const T* b, Act act, T* y);

// dy, z_or_y: n x m contiguous (z_or_y unused for linear); dx: n x k
// contiguous or null (not wanted); dw: k x m contiguous or null (not wanted:
// a frozen kernel); db: m or null.
template <typename T>
void dense_backward(index_t n, index_t k, index_t m, const T* dy, MatrixRef<const T> x,
                    MatrixRef<const T> w, const T* z_or_y, Act act, T* dx, T* dw, T* db);

// dz = dy * act'(.) over `rows` rows of `cols` (softmax row by row), the
// activation's part of dense_backward and conv2d_backward; z_or_y is what
// the activation's derivative reads (backward_reads_input: z, else y).
// act must not be linear (dz is then dy itself).
template <typename T>
void activation_grad(Act act, const T* dy, const T* z_or_y, index_t rows, index_t cols, T* dz);

// The same into a scratch buffer of the calling thread (grow-only); dy
// itself for a linear layer.
template <typename T>
const T* activation_grad_scratch(Act act, const T* dy, const T* z_or_y, index_t rows, index_t cols);

}  // namespace bprop
