// The avx512 float32 transcendental kernels (64-byte vectors); target flags
// come from CMakeLists.txt.
#define BPROP_VECMATH_VB 64
#define BPROP_VECMATH_NAME avx512_kernels
#include "kernels_impl.hpp"
