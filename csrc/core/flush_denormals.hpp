// A scope in which the calling thread's floating-point arithmetic flushes
// denormal (subnormal) results and inputs to zero, the FTZ and DAZ bits of
// x86's MXCSR; the previous mode comes back when the scope ends.
//
// Why: an optimizer's moving averages decay geometrically wherever the
// gradient stays zero (Adam's m by beta1 = 0.9 a step), and within a few
// hundred steps they reach the denormal range.  After one epoch of the seed
// MLP, 5% of the first layer's m was denormal, and each vector holding one
// takes a microcode assist: the Adam update of 55K weights took 31 us
// instead of 20.  TensorFlow runs its CPU kernels with the same two bits
// set, so a Keras model's state flushes there as well.  A value below the
// smallest normal (1.2e-38 in float32, 2.2e-308 in float64) becomes 0.
//
// Elsewhere (no SSE control register) the scope changes nothing.
#pragma once

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#define BPROP_HAS_MXCSR 1
#endif

namespace bprop {

class FlushDenormals {
public:
#ifdef BPROP_HAS_MXCSR
    FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
    ~FlushDenormals() { _mm_setcsr(saved_); }
#else
    FlushDenormals() = default;
#endif
    FlushDenormals(const FlushDenormals&) = delete;
    FlushDenormals& operator=(const FlushDenormals&) = delete;

private:
#ifdef BPROP_HAS_MXCSR
    static constexpr unsigned kFlushToZero = 0x8000;
    static constexpr unsigned kDenormalsAreZero = 0x0040;
    unsigned saved_;
#endif
};

}  // namespace bprop
