// Thread-count policy of the core.
//
// The thread count follows OpenMP's (OMP_NUM_THREADS, or a threadpoolctl
// limit) unless set_num_threads() was called; every parallel region is then
// capped per call by the amount of work, so that tiny ops never wake a team.
#pragma once

#include "common.hpp"

namespace bprop {

int get_num_threads();
// n >= 1; values above the hardware concurrency are allowed (OpenMP's rule).
void set_num_threads(int n);

// Threads to use for `work` units of roughly equal cost, given that one
// thread should get at least `min_work_per_thread` units.
int threads_for(index_t work, index_t min_work_per_thread);

// True inside an active OpenMP parallel region (a nested call).
bool in_parallel_region();

bool openmp_enabled();
// OpenMP's _OPENMP date (e.g. 201511), 0 when compiled without OpenMP.
int openmp_version();

}  // namespace bprop
