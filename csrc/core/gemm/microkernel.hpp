// The register-tiled GEMM micro-kernel, written once with GCC/Clang vector
// extensions and compiled once per ISA (microkernel_<isa>.cpp sets the
// target flags), so the generic, AVX2+FMA and AVX-512 paths are the same
// source and differ only in vector width and tile shape.
//
// Computes, for one MR x NR tile of C,
//     C[:m, :n] = alpha * (A_panel @ B_panel)[:m, :n] + beta * C[:m, :n]
// from packed panels (A: kc rows of MR values, B: kc rows of NR values,
// zero padded), never reading C when beta == 0.
#pragma once

#include <cstring>

#include "../common.hpp"

namespace bprop {
namespace gemm_detail {

template <typename T, int VectorBytes, int MR, int NR>
struct MicroKernel {
    typedef T Vec __attribute__((vector_size(VectorBytes)));
    static constexpr int kLanes = VectorBytes / static_cast<int>(sizeof(T));
    static constexpr int kVecsPerRow = NR / kLanes;
    static_assert(NR % kLanes == 0, "NR must be a multiple of the vector width");

    static Vec load(const T* p) {
        Vec v;
        std::memcpy(&v, p, sizeof(Vec));
        return v;
    }
    static void store(T* p, Vec v) { std::memcpy(p, &v, sizeof(Vec)); }

    static void run(index_t kc, const T* a, const T* b, T* c, index_t rsc, index_t csc, T alpha,
                    T beta, int m, int n) {
        Vec acc[MR][kVecsPerRow];
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int j = 0; j < kVecsPerRow; ++j) acc[i][j] = Vec{};

        for (index_t p = 0; p < kc; ++p) {
            Vec bv[kVecsPerRow];
#pragma GCC unroll 8
            for (int j = 0; j < kVecsPerRow; ++j) bv[j] = load(b + j * kLanes);
#pragma GCC unroll 16
            for (int i = 0; i < MR; ++i) {
                const Vec av = a[i] - Vec{};  // broadcast (x - 0 == x folds; x + 0 does not, for -0)
#pragma GCC unroll 8
                for (int j = 0; j < kVecsPerRow; ++j) acc[i][j] += av * bv[j];
            }
            a += MR;
            b += NR;
        }

        if (m == MR && n == NR && csc == 1) {
#pragma GCC unroll 16
            for (int i = 0; i < MR; ++i) {
                T* row = c + i * rsc;
#pragma GCC unroll 8
                for (int j = 0; j < kVecsPerRow; ++j) {
                    Vec r = acc[i][j] * alpha;
                    if (beta != T(0)) r += load(row + j * kLanes) * beta;
                    store(row + j * kLanes, r);
                }
            }
            return;
        }
        // Edge tile or strided C: go through a local tile.
        T tile[MR * NR];
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < kVecsPerRow; ++j) store(tile + i * NR + j * kLanes, acc[i][j]);
        for (int i = 0; i < m; ++i) {
            T* row = c + i * rsc;
            for (int j = 0; j < n; ++j) {
                T r = alpha * tile[i * NR + j];
                if (beta != T(0)) r += beta * row[j * csc];
                row[j * csc] = r;
            }
        }
    }
};

}  // namespace gemm_detail
}  // namespace bprop
