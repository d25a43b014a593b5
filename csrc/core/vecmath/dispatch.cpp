#include "../cpu_features.hpp"
#include "vecmath.hpp"

namespace bprop {
namespace vecmath {

const Kernels& active_kernels() {
    // Each table is built on first use only, so no code compiled for an ISA
    // runs before the CPU has been found to support it.
#ifdef BPROP_X86_KERNELS
    switch (active_isa()) {
        case Isa::avx512: {
            static const Kernels avx512 = avx512_kernels();
            return avx512;
        }
        case Isa::avx2: {
            static const Kernels avx2 = avx2_kernels();
            return avx2;
        }
        default: break;
    }
#endif
    static const Kernels generic = generic_kernels();
    return generic;
}

}  // namespace vecmath
}  // namespace bprop
