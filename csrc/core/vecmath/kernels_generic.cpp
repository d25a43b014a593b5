// The generic float32 transcendental kernels (16-byte vectors); target flags
// come from CMakeLists.txt.
#define BPROP_VECMATH_VB 16
#define BPROP_VECMATH_NAME generic_kernels
#include "kernels_impl.hpp"
