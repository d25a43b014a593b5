// The avx2 GEMM micro-kernels: microkernel.hpp compiled with this file's
// target flags (see CMakeLists.txt), 32-byte vectors.
#include "kernel_table.hpp"
#include "microkernel.hpp"

namespace bprop {
namespace gemm_detail {

using FloatAvx2 = MicroKernel<float, 32, 6, 16>;
using DoubleAvx2 = MicroKernel<double, 32, 6, 8>;

template <>
KernelInfo<float> avx2_kernel<float>() {
    return FloatAvx2::info(256, 144, 4080, "avx2 fp32 6x16");
}

template <>
KernelInfo<double> avx2_kernel<double>() {
    return DoubleAvx2::info(256, 72, 2040, "avx2 fp64 6x8");
}

}  // namespace gemm_detail
}  // namespace bprop
