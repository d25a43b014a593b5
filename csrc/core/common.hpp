// Shared basics of the core: index type and small helpers.  No Python here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bprop {

// Signed so that strides may be negative (reversed NumPy views reach GEMM as is).
using index_t = std::ptrdiff_t;

}  // namespace bprop
