// The generic GEMM micro-kernels: microkernel.hpp compiled with this file's
// target flags (see CMakeLists.txt), 16-byte vectors.
#include "kernel_table.hpp"
#include "microkernel.hpp"

namespace bprop {
namespace gemm_detail {

using FloatGeneric = MicroKernel<float, 16, 6, 8>;
using DoubleGeneric = MicroKernel<double, 16, 6, 4>;

template <>
KernelInfo<float> generic_kernel<float>() {
    return FloatGeneric::info(256, 96, 4096, "generic fp32 6x8");
}

template <>
KernelInfo<double> generic_kernel<double>() {
    return DoubleGeneric::info(256, 96, 2048, "generic fp64 6x4");
}

}  // namespace gemm_detail
}  // namespace bprop
