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
#include "kernel_table.hpp"
#include "pack.hpp"

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

    // C tile = alpha * acc + beta * C (C not read when beta == 0), m x n of it.
    static void store_tile(Vec (&acc)[MR][kVecsPerRow], T* c, index_t rsc, index_t csc, T alpha,
                           T beta, int m, int n) {
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

    // Zero the accumulators and prefetch the C tile, which is only touched
    // after the K loop (first and last element of each of its rows).
    static void start_tile(Vec (&acc)[MR][kVecsPerRow], const T* c, index_t rsc, index_t csc,
                           int m, int n) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
            for (int j = 0; j < kVecsPerRow; ++j) acc[i][j] = Vec{};
            __builtin_prefetch(c + (i < m ? i : 0) * rsc, 1);
            __builtin_prefetch(c + (i < m ? i : 0) * rsc + (n - 1) * csc, 1);
        }
    }

    // acc += A @ B over kc steps: B rows of NR contiguous values, rsb apart;
    // a_at(i, p) is A's element (i, p) of this tile.
    template <typename AAt>
    static void multiply_add(Vec (&acc)[MR][kVecsPerRow], index_t kc, const T* b, index_t rsb,
                             AAt a_at) {
#pragma GCC unroll 4
        for (index_t p = 0; p < kc; ++p) {
            Vec bv[kVecsPerRow];
#pragma GCC unroll 8
            for (int j = 0; j < kVecsPerRow; ++j) bv[j] = load(b + j * kLanes);
            // Broadcast by `x - 0` (folds away; x + 0 does not, for -0).
#pragma GCC unroll 16
            for (int i = 0; i < MR; ++i) {
                const Vec av = a_at(i, p) - Vec{};
#pragma GCC unroll 8
                for (int j = 0; j < kVecsPerRow; ++j) acc[i][j] += av * bv[j];
            }
            b += rsb;
        }
    }

    // Packed operands: A panel of kc x MR, B panel of kc x NR (see pack.hpp).
    static void run(index_t kc, const T* a, const T* b, T* c, index_t rsc, index_t csc, T alpha,
                    T beta, int m, int n) {
        Vec acc[MR][kVecsPerRow];
        start_tile(acc, c, rsc, csc, m, n);
        multiply_add(acc, kc, b, NR, [a](int i, index_t p) { return a[p * MR + i]; });
        store_tile(acc, c, rsc, csc, alpha, beta, m, n);
    }

    // Unpacked A: m (<= MR) rows read in place through any strides; B: kc
    // rows of NR contiguous values, rsb apart (a row-major B read in place,
    // or a packed panel with rsb == NR).  For small products, where packing
    // A would cost as much as the multiply-adds.  Rows past m re-read row 0
    // (always valid memory) and are never stored.  Same summation order as
    // run(): the result is identical to the bit.
    static void run_direct(index_t kc, const T* a, index_t rsa, index_t csa, const T* b,
                           index_t rsb, T* c, index_t rsc, index_t csc, T alpha, T beta, int m,
                           int n) {
        const T* ar[MR];
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) ar[i] = a + (i < m ? i : 0) * rsa;
        Vec acc[MR][kVecsPerRow];
        start_tile(acc, c, rsc, csc, m, n);
        multiply_add(acc, kc, b, rsb, [&ar, csa](int i, index_t p) { return ar[i][p * csa]; });
        store_tile(acc, c, rsc, csc, alpha, beta, m, n);
    }

    static void pack_a(index_t kc, int rows, const T* a, index_t rsa, index_t csa, T* dst) {
        pack_a_panel<T, MR>(kc, rows, a, rsa, csa, dst);
    }
    static void pack_b(index_t kc, int cols, const T* b, index_t rsb, index_t csb, T* dst) {
        pack_b_panel<T, NR>(kc, cols, b, rsb, csb, dst);
    }

    // The kernel-table entry of this instantiation, with its cache blocking.
    static KernelInfo<T> info(index_t kc, index_t mc, index_t nc, const char* name) {
        return {&run, &run_direct, &pack_a, &pack_b, MR, NR, kc, mc, nc, name};
    }
};

}  // namespace gemm_detail
}  // namespace bprop
