#include "kernel_table.hpp"

namespace bprop {
namespace gemm_detail {

template <typename T>
KernelInfo<T> select_kernel(Isa isa) {
#ifdef BPROP_X86_KERNELS
    if (isa == Isa::avx512) return avx512_kernel<T>();
    if (isa == Isa::avx2) return avx2_kernel<T>();
#else
    (void)isa;
#endif
    return generic_kernel<T>();
}

template KernelInfo<float> select_kernel<float>(Isa);
template KernelInfo<double> select_kernel<double>(Isa);

}  // namespace gemm_detail
}  // namespace bprop
