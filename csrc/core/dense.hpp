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

}  // namespace bprop
