#include "threading.hpp"

#include <algorithm>
#include <atomic>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace bprop {
namespace {

// 0: follow OpenMP's own setting (OMP_NUM_THREADS, threadpoolctl's limits).
std::atomic<int>& explicit_setting() {
    static std::atomic<int> n{0};
    return n;
}

int openmp_max_threads() {
#ifdef _OPENMP
    return std::max(1, omp_get_max_threads());
#else
    return 1;
#endif
}

}  // namespace

// OpenMP's max-threads ICV is read on every call, so that a limit set through
// omp_set_num_threads (threadpoolctl does that) caps the core too and is
// lifted with it; an explicit set_num_threads(n) also sets that ICV (for the
// calling thread) and caps what other Python threads use.
int get_num_threads() {
    const int omp = openmp_max_threads();
    const int n = explicit_setting().load(std::memory_order_relaxed);
    return n > 0 ? std::min(n, omp) : omp;
}

void set_num_threads(int n) {
    n = std::max(1, n);
    explicit_setting().store(n, std::memory_order_relaxed);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

int threads_for(index_t work, index_t min_work_per_thread) {
    // Inside a parallel region (a convolution's tile loop calling the GEMM)
    // the work is already shared out: nested teams would only oversubscribe.
    if (in_parallel_region()) return 1;
    if (min_work_per_thread < 1) min_work_per_thread = 1;
    const index_t by_work = work / min_work_per_thread;
    if (by_work < 2) return 1;  // no OpenMP call at all for small work
    const index_t n = std::min<index_t>(get_num_threads(), by_work);
    return static_cast<int>(std::max<index_t>(1, n));
}

bool in_parallel_region() {
#ifdef _OPENMP
    return omp_in_parallel() != 0;
#else
    return false;
#endif
}

bool openmp_enabled() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

int openmp_version() {
#ifdef _OPENMP
    return _OPENMP;
#else
    return 0;
#endif
}

}  // namespace bprop
