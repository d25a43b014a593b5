// The avx2 float32 transcendental kernels (32-byte vectors); target flags
// come from CMakeLists.txt.
#define BPROP_VECMATH_VB 32
#define BPROP_VECMATH_NAME avx2_kernels
#include "kernels_impl.hpp"
