#include "threading.hpp"

#include <algorithm>
#include <atomic>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace bprop {
namespace {

int initial_threads() {
#ifdef _OPENMP
    return std::max(1, omp_get_max_threads());
#else
    return 1;
#endif
}

std::atomic<int>& thread_setting() {
    static std::atomic<int> n{initial_threads()};
    return n;
}

}  // namespace

int get_num_threads() { return thread_setting().load(std::memory_order_relaxed); }

void set_num_threads(int n) { thread_setting().store(std::max(1, n), std::memory_order_relaxed); }

int threads_for(index_t work, index_t min_work_per_thread) {
    if (min_work_per_thread < 1) min_work_per_thread = 1;
    const index_t by_work = work / min_work_per_thread;
    const index_t n = std::min<index_t>(get_num_threads(), by_work);
    return static_cast<int>(std::max<index_t>(1, n));
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
