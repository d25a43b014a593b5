// Public GEMM of the core:  C = alpha * A @ B + beta * C  (+ optional epilogue).
//
// Every operand is described by a pointer and two element strides (row, col),
// so a transposed or sliced NumPy view reaches the kernel without a copy:
// transposition is just swapped strides, absorbed by packing.  beta == 0
// never reads C (NaN there does not propagate), as in BLAS.
#pragma once

#include "../activation_kind.hpp"
#include "../common.hpp"

namespace bprop {

template <typename T>
struct MatrixRef {
    T* data;
    index_t rs;  // row stride, in elements
    index_t cs;  // column stride, in elements
};

// Applied to C after the last K block, while its tile is still in cache:
// C[i, j] = act(C[i, j] + bias[j]).  Requires C's column stride to be 1.
// Act::softmax is not a tile-wise operation and is rejected here.
template <typename T>
struct Epilogue {
    const T* bias = nullptr;  // length n, or null
    Act act = Act::linear;
    T alpha = T(kLeakyReluAlpha);  // leaky_relu slope
    bool active() const { return bias != nullptr || act != Act::linear; }
};

// C (m x n) = alpha * A (m x k) @ B (k x n) + beta * C, then the epilogue.
// C must not overlap A or B (the bindings refuse such calls).
template <typename T>
void gemm(index_t m, index_t n, index_t k, T alpha, MatrixRef<const T> a, MatrixRef<const T> b,
          T beta, MatrixRef<T> c, const Epilogue<T>& epilogue = Epilogue<T>());

// Columns of C per micro-tile of the active ISA's kernel.  A product split
// into column ranges at multiples of it has the same tiles, and so the same
// bits (epilogue included), as the whole one.
template <typename T>
index_t gemm_panel_width();

// Which GEMM driver runs.  Both give the same bits (same K blocking, same
// summation order); `automatic` picks the direct one (A read in place, no
// packing) for small products.  Forcing one is for tests and benchmarks.
enum class GemmPath { automatic = 0, packed = 1, direct = 2 };
GemmPath gemm_path();
void set_gemm_path(GemmPath path);

}  // namespace bprop
