// Inverted dropout with a counter-based mask: element (row, col) of a batch
// is kept when the top 32 bits of a hash of (seed, counter, global row, col)
// are at or above floor(rate * 2^32).  The mask is a pure function of those
// numbers, so it does not depend on the thread count, on how the batch is
// split across processes (the row is the row in the global batch), or on
// anything drawn before; bprop.reference.dropout computes the same bits.
#pragma once

#include <cstdint>

#include "common.hpp"

namespace bprop {

// splitmix64's finaliser: a bijection of 64-bit words with good avalanche.
inline std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

constexpr std::uint64_t kGolden64 = 0x9E3779B97F4A7C15ULL;

// floor(rate * 2^32) for rate in [0, 1).
std::uint64_t dropout_threshold(double rate);

// y = x / (1 - rate) where kept, 0 elsewhere; mask[i] = 1 where kept.
// x, y: rows x cols (y may alias x); row_offset: index of row 0 in the
// global batch.
template <typename T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, index_t rows, index_t cols, double rate,
                     std::uint64_t seed, std::uint64_t counter, index_t row_offset);

// dx = dy / (1 - rate) where mask is set, 0 elsewhere (dx may alias dy).
template <typename T>
void dropout_backward(const T* dy, const std::uint8_t* mask, T* dx, index_t n, double rate);

}  // namespace bprop
