// Reading a batch's rows out of a data set by index.
#pragma once

#include <cstdint>
#include <cstring>

#include "../common.hpp"

namespace bprop::plan {

// Asks the memory system for the next batch's rows while this one trains: a
// shuffled batch is a few dozen rows scattered over the data set.
template <typename T>
inline void prefetch_rows(const T* x, index_t size, const std::int64_t* rows, index_t n) {
    const std::size_t row_bytes = sizeof(T) * static_cast<std::size_t>(size);
    for (index_t r = 0; r < n; ++r) {
        const char* p = reinterpret_cast<const char*>(x + rows[r] * size);
        for (std::size_t off = 0; off < row_bytes; off += 64) __builtin_prefetch(p + off);
    }
}

template <typename U>
inline void copy_rows(const U* src, index_t size, const std::int64_t* rows, index_t n, U* dst) {
    const std::size_t bytes = sizeof(U) * static_cast<std::size_t>(size);
    for (index_t r = 0; r < n; ++r) std::memcpy(dst + r * size, src + rows[r] * size, bytes);
}


}  // namespace bprop::plan
