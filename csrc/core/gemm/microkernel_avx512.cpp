// The avx512 GEMM micro-kernels: microkernel.hpp compiled with this file's
// target flags (see CMakeLists.txt), 64-byte vectors.
#include "kernel_table.hpp"
#include "microkernel.hpp"

namespace bprop {
namespace gemm_detail {

using FloatAvx512 = MicroKernel<float, 64, 12, 32>;
using DoubleAvx512 = MicroKernel<double, 64, 12, 16>;

template <>
KernelInfo<float> avx512_kernel<float>() {
    return FloatAvx512::info(256, 144, 4096, "avx512 fp32 12x32");
}

template <>
KernelInfo<double> avx512_kernel<double>() {
    return DoubleAvx512::info(256, 144, 2048, "avx512 fp64 12x16");
}

}  // namespace gemm_detail
}  // namespace bprop
