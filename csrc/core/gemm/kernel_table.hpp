// The per-ISA GEMM kernels and their blocking, chosen at run time.
#pragma once

#include "../common.hpp"
#include "../cpu_features.hpp"

namespace bprop {
namespace gemm_detail {

template <typename T>
using MicroKernelFn = void (*)(index_t kc, const T* a, const T* b, T* c, index_t rsc,
                               index_t csc, T alpha, T beta, int m, int n);
template <typename T>
using DirectKernelFn = void (*)(index_t kc, const T* a, index_t rsa, index_t csa, const T* b,
                                index_t rsb, T* c, index_t rsc, index_t csc, T alpha, T beta,
                                int m, int n);
template <typename T>
using PackFn = void (*)(index_t kc, int count, const T* src, index_t rs, index_t cs, T* dst);

// A micro-kernel with the tile it computes (MR x NR) and the cache blocking
// that suits it: KC x NR of B stays in L1, MC x KC of A in L2, KC x NC of B in L3.
template <typename T>
struct KernelInfo {
    MicroKernelFn<T> kernel;        // packed A and B panels
    DirectKernelFn<T> direct;       // A in place, B rows in place (small products)
    PackFn<T> pack_a, pack_b;       // count = rows of A / columns of B in the panel
    int mr, nr;
    index_t kc, mc, nc;
    const char* name;
};

// Declared per ISA in microkernel_<isa>.cpp.
template <typename T> KernelInfo<T> generic_kernel();
template <typename T> KernelInfo<T> avx2_kernel();
template <typename T> KernelInfo<T> avx512_kernel();

// The kernel for the active ISA (see cpu_features.hpp).
template <typename T>
KernelInfo<T> select_kernel(Isa isa);

}  // namespace gemm_detail
}  // namespace bprop
