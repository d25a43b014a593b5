// Packing of A and B into the contiguous, zero-padded panels the
// micro-kernel streams through.  Any strides work here (transposed and
// sliced views included): this is where "transpose" is absorbed.
//
// The panel width (MR or NR) is a template parameter and the functions are
// instantiated in each per-ISA translation unit, so the copies are unrolled
// and vectorised for the running CPU.  Every loop writes the panel in order
// (p outer): scattering single values with a stride of MR elements, as a
// row-by-row copy of a row-major A would, runs at a third of the speed.
#pragma once

#include <algorithm>

#include "../common.hpp"

namespace bprop {
namespace gemm_detail {

// The one packing loop behind both operands: a panel W wide and kc deep,
// dst[p * W + i] = src[i * across + p * along] for i < count, zero for
// count <= i < W.  A's panel walks its rows across and its columns along;
// B's walks its columns across and its rows along.
template <typename T, int W>
void pack_panel(index_t kc, int count, const T* src, index_t across, index_t along, T* dst) {
    if (count == W && across == 1) {  // each step is W contiguous values: row copies
        for (index_t p = 0; p < kc; ++p) {
            const T* line = src + p * along;
#pragma GCC unroll 32
            for (int i = 0; i < W; ++i) dst[p * W + i] = line[i];
        }
    } else if (count == W) {  // W streams, each read in order
        const T* stream[W];
        for (int i = 0; i < W; ++i) stream[i] = src + i * across;
        if (along == 1) {
            for (index_t p = 0; p < kc; ++p) {
#pragma GCC unroll 32
                for (int i = 0; i < W; ++i) dst[p * W + i] = stream[i][p];
            }
        } else {
            for (index_t p = 0; p < kc; ++p) {
#pragma GCC unroll 32
                for (int i = 0; i < W; ++i) dst[p * W + i] = stream[i][p * along];
            }
        }
    } else {  // an edge panel
        for (index_t p = 0; p < kc; ++p) {
            const T* line = src + p * along;
            int i = 0;
            for (; i < count; ++i) dst[p * W + i] = line[i * across];
            for (; i < W; ++i) dst[p * W + i] = T(0);
        }
    }
}

// Panel of `rows` (<= MR) rows of A, kc columns: dst[p * MR + i] = A(i, p).
template <typename T, int MR>
void pack_a_panel(index_t kc, int rows, const T* a, index_t rsa, index_t csa, T* dst) {
    pack_panel<T, MR>(kc, rows, a, rsa, csa, dst);
}

// Panel of `cols` (<= NR) columns of B, kc rows: dst[p * NR + j] = B(p, j).
template <typename T, int NR>
void pack_b_panel(index_t kc, int cols, const T* b, index_t rsb, index_t csb, T* dst) {
    pack_panel<T, NR>(kc, cols, b, csb, rsb, dst);
}

}  // namespace gemm_detail
}  // namespace bprop
