// Which SIMD code path the running CPU (and its OS) supports, chosen once.
#pragma once

namespace bprop {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

// Best path the CPU and OS support (cpuid + xgetbv on x86; generic elsewhere).
Isa detect_isa();

// The path in use: detect_isa(), lowered by the environment variable
// BPROP_CPU=generic|avx2|avx512 (a request above what the CPU supports is
// clamped to what it supports, never trusted blindly).
Isa active_isa();

// Set the path for this process (clamped like BPROP_CPU); used by tests.
void set_isa(Isa isa);

const char* isa_name(Isa isa);

// True when this build contains kernels for `isa` (x86-64 builds do).
bool isa_compiled(Isa isa);

}  // namespace bprop
