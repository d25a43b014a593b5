// Packing of A and B into the contiguous, zero-padded panels the
// micro-kernel streams through.  Any strides work here (transposed and
// sliced views included): this is where "transpose" is absorbed.
#pragma once

#include <cstring>

#include "../common.hpp"

namespace bprop {
namespace gemm_detail {

// Panel of `rows` (<= mr) rows of A, kc columns: dst[p * mr + i] = A(i, p),
// rows past `rows` zero.
template <typename T>
void pack_a_panel(index_t kc, int rows, int mr, const T* a, index_t rsa, index_t csa, T* dst) {
    if (csa == 1) {  // row-major source: read each row contiguously
        for (int i = 0; i < rows; ++i) {
            const T* src = a + i * rsa;
            for (index_t p = 0; p < kc; ++p) dst[p * mr + i] = src[p];
        }
    } else {
        for (index_t p = 0; p < kc; ++p) {
            const T* src = a + p * csa;
            for (int i = 0; i < rows; ++i) dst[p * mr + i] = src[i * rsa];
        }
    }
    for (int i = rows; i < mr; ++i)
        for (index_t p = 0; p < kc; ++p) dst[p * mr + i] = T(0);
}

// Panel of `cols` (<= nr) columns of B, kc rows: dst[p * nr + j] = B(p, j),
// columns past `cols` zero.
template <typename T>
void pack_b_panel(index_t kc, int cols, int nr, const T* b, index_t rsb, index_t csb, T* dst) {
    if (csb == 1 && cols == nr) {  // full panel of a row-major source: row copies
        for (index_t p = 0; p < kc; ++p) std::memcpy(dst + p * nr, b + p * rsb, sizeof(T) * nr);
    } else if (csb == 1) {  // edge panel: copy, then zero the padding
        for (index_t p = 0; p < kc; ++p) {
            const T* src = b + p * rsb;
            T* d = dst + p * nr;
            int j = 0;
            for (; j < cols; ++j) d[j] = src[j];
            for (; j < nr; ++j) d[j] = T(0);
        }
    } else {
        for (int j = 0; j < cols; ++j) {
            const T* src = b + j * csb;
            for (index_t p = 0; p < kc; ++p) dst[p * nr + j] = src[p * rsb];
        }
        for (int j = cols; j < nr; ++j)
            for (index_t p = 0; p < kc; ++p) dst[p * nr + j] = T(0);
    }
}

}  // namespace gemm_detail
}  // namespace bprop
