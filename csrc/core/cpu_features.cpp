#include "cpu_features.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#define BPROP_X86 1
#include <cpuid.h>
#endif

namespace bprop {
namespace {

#ifdef BPROP_X86
unsigned long long xgetbv0() {
    unsigned int eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

Isa detect() {
#ifdef BPROP_X86
    unsigned int a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::generic;
    const bool osxsave = (c >> 27) & 1u;
    const bool fma = (c >> 12) & 1u;
    const bool avx = (c >> 28) & 1u;
    if (!osxsave || !avx) return Isa::generic;
    const unsigned long long xcr0 = xgetbv0();
    const bool os_ymm = (xcr0 & 0x6) == 0x6;          // SSE + AVX state
    const bool os_zmm = (xcr0 & 0xe6) == 0xe6;        // + opmask, ZMM_Hi256, Hi16_ZMM
    if (!os_ymm) return Isa::generic;
    if (__get_cpuid_max(0, nullptr) < 7) return Isa::generic;
    __cpuid_count(7, 0, a, b, c, d);
    const bool avx2 = (b >> 5) & 1u;
    const bool avx512f = (b >> 16) & 1u;
    if (avx512f && avx2 && fma && os_zmm) return Isa::avx512;
    if (avx2 && fma) return Isa::avx2;
#endif
    return Isa::generic;
}

Isa clamp(Isa wanted) {
    const Isa best = detect_isa();
    return static_cast<int>(wanted) <= static_cast<int>(best) ? wanted : best;
}

Isa from_environment() {
    const char* env = std::getenv("BPROP_CPU");
    if (env == nullptr || *env == '\0') return detect_isa();
    if (std::strcmp(env, "generic") == 0) return clamp(Isa::generic);
    if (std::strcmp(env, "avx2") == 0) return clamp(Isa::avx2);
    if (std::strcmp(env, "avx512") == 0) return clamp(Isa::avx512);
    return detect_isa();  // unknown value: ignored (build_info shows the path)
}

std::atomic<int>& active() {
    static std::atomic<int> isa{static_cast<int>(from_environment())};
    return isa;
}

}  // namespace

Isa detect_isa() {
    static const Isa isa = detect();
    return isa;
}

Isa active_isa() { return static_cast<Isa>(active().load(std::memory_order_relaxed)); }

void set_isa(Isa isa) { active().store(static_cast<int>(clamp(isa)), std::memory_order_relaxed); }

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::avx512: return "avx512";
        case Isa::avx2: return "avx2";
        default: return "generic";
    }
}

bool isa_compiled(Isa isa) {
#ifdef BPROP_X86
    (void)isa;
    return true;
#else
    return isa == Isa::generic;
#endif
}

}  // namespace bprop
