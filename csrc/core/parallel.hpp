// parallel_chunks: split [0, n) into fixed-size chunks and run them on the
// thread team.  Chunk boundaries do not depend on the thread count, so any
// per-chunk partial result (and hence the final one) is thread-count
// independent.
#pragma once

#include <algorithm>

#include "common.hpp"
#include "threading.hpp"

namespace bprop {

// Elementwise ops work in chunks of 16K elements (the unit of determinism:
// partial sums are per chunk), and a thread is only woken for at least
// kMinChunksPerThread chunks (~20-50 us of memory-bound work): waking one for
// less costs more than it saves, badly so when the cores are shared.
constexpr index_t kElementwiseChunk = 16384;
constexpr index_t kMinChunksPerThread = 4;

// body(i) for i in [0, count), statically shared by `threads` threads.  With
// one thread no OpenMP region is entered at all: GNU OpenMP still sets up a
// team for one, even under if(false), and wakes parked workers through futex
// calls, which costs more than a small op itself.
template <typename F>
void parallel_for(index_t count, int threads, F&& body) {
    if (threads > 1) {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (index_t i = 0; i < count; ++i) body(i);
    } else {
        for (index_t i = 0; i < count; ++i) body(i);
    }
}

template <typename F>
void parallel_chunks(index_t n, index_t chunk, F&& body) {
    if (n <= 0) return;
    const index_t chunks = (n + chunk - 1) / chunk;
    const int nt = threads_for(chunks, kMinChunksPerThread);
    parallel_for(chunks, nt, [&](index_t c) {
        const index_t begin = c * chunk;
        body(c, begin, std::min(n, begin + chunk));
    });
}

// Rows of a (rows x cols) array, grouped so each task has ~`chunk` elements.
template <typename F>
void parallel_rows(index_t rows, index_t cols, F&& body) {
    if (rows <= 0) return;
    const index_t per_task = std::max<index_t>(1, kElementwiseChunk / std::max<index_t>(cols, 1));
    const index_t tasks = (rows + per_task - 1) / per_task;
    const int nt = threads_for(tasks, kMinChunksPerThread);
    parallel_for(tasks, nt, [&](index_t t) {
        const index_t r0 = t * per_task;
        const index_t r1 = std::min(rows, r0 + per_task);
        for (index_t r = r0; r < r1; ++r) body(r);
    });
}

}  // namespace bprop
