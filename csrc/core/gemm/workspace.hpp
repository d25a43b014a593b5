// Grow-only, 64-byte aligned scratch memory, one set per calling thread,
// so that repeated calls (a training loop) allocate nothing after the first.
#pragma once

#include <cstdlib>
#include <new>

#include "../common.hpp"

namespace bprop {

class AlignedBuffer {
public:
    AlignedBuffer() = default;
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
    ~AlignedBuffer() { std::free(data_); }

    // At least `bytes` bytes; contents are not preserved when it grows.
    void* reserve(std::size_t bytes) {
        if (bytes > capacity_) {
            std::free(data_);
            data_ = nullptr;
            capacity_ = 0;
            const std::size_t rounded = (bytes + 63) / 64 * 64;
            data_ = std::aligned_alloc(64, rounded);
            if (data_ == nullptr) throw std::bad_alloc();
            capacity_ = rounded;
        }
        return data_;
    }

private:
    void* data_ = nullptr;
    std::size_t capacity_ = 0;
};

}  // namespace bprop
