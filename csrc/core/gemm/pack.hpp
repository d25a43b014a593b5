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

// Panel of `rows` (<= MR) rows of A, kc columns: dst[p * MR + i] = A(i, p),
// rows past `rows` zero.
template <typename T, int MR>
void pack_a_panel(index_t kc, int rows, const T* a, index_t rsa, index_t csa, T* dst) {
    if (rows == MR) {
        const T* src[MR];
        for (int i = 0; i < MR; ++i) src[i] = a + i * rsa;
        if (csa == 1) {
            for (index_t p = 0; p < kc; ++p) {
#pragma GCC unroll 16
                for (int i = 0; i < MR; ++i) dst[p * MR + i] = src[i][p];
            }
        } else {
            for (index_t p = 0; p < kc; ++p) {
#pragma GCC unroll 16
                for (int i = 0; i < MR; ++i) dst[p * MR + i] = src[i][p * csa];
            }
        }
        return;
    }
    for (index_t p = 0; p < kc; ++p) {
        const T* col = a + p * csa;
        int i = 0;
        for (; i < rows; ++i) dst[p * MR + i] = col[i * rsa];
        for (; i < MR; ++i) dst[p * MR + i] = T(0);
    }
}

// Panel of `cols` (<= NR) columns of B, kc rows: dst[p * NR + j] = B(p, j),
// columns past `cols` zero.
template <typename T, int NR>
void pack_b_panel(index_t kc, int cols, const T* b, index_t rsb, index_t csb, T* dst) {
    if (cols == NR && csb == 1) {  // full panel of a row-major source: row copies
        for (index_t p = 0; p < kc; ++p) {
            const T* src = b + p * rsb;
#pragma GCC unroll 32
            for (int j = 0; j < NR; ++j) dst[p * NR + j] = src[j];
        }
        return;
    }
    if (cols == NR) {  // transposed source: NR column streams, read in order
        const T* src[NR];
        for (int j = 0; j < NR; ++j) src[j] = b + j * csb;
        for (index_t p = 0; p < kc; ++p) {
#pragma GCC unroll 32
            for (int j = 0; j < NR; ++j) dst[p * NR + j] = src[j][p * rsb];
        }
        return;
    }
    for (index_t p = 0; p < kc; ++p) {
        const T* row = b + p * rsb;
        int j = 0;
        for (; j < cols; ++j) dst[p * NR + j] = row[j * csb];
        for (; j < NR; ++j) dst[p * NR + j] = T(0);
    }
}

}  // namespace gemm_detail
}  // namespace bprop
