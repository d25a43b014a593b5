#include "softmax.hpp"

#include <cmath>
#include <type_traits>

#include "gemm/workspace.hpp"
#include "parallel.hpp"
#include "vecmath/vecmath.hpp"

namespace bprop {
namespace {

// e[j] = exp(x[j] - shift); returns their sum (float32: the ISA's vector exp).
template <typename T>
T exp_shift_sum(const T* x, T shift, T* e, index_t cols) {
    if constexpr (std::is_same<T, float>::value) {
        return vecmath::active_kernels().exp_shift_sum(x, shift, e, cols);
    } else {
        T sum = 0;
        for (index_t j = 0; j < cols; ++j) {
            e[j] = std::exp(x[j] - shift);
            sum += e[j];
        }
        return sum;
    }
}

}  // namespace

template <typename T>
void softmax_row(const T* x, T* y, index_t cols) {
    if (cols <= 0) return;
    const T sum = exp_shift_sum(x, row_max(x, cols), y, cols);
    const T inv = T(1) / sum;
    for (index_t j = 0; j < cols; ++j) y[j] *= inv;
}

template <typename T>
void log_softmax_row(const T* x, T* y, index_t cols) {
    if (cols <= 0) return;
    const T mx = row_max(x, cols);
    // The exp values go to scratch, not y: y may alias x (in place).
    thread_local AlignedBuffer scratch;
    T* e = static_cast<T*>(scratch.reserve(sizeof(T) * static_cast<std::size_t>(cols)));
    const T sum = exp_shift_sum(x, mx, e, cols);
    const T lse = std::log(sum);
    for (index_t j = 0; j < cols; ++j) y[j] = x[j] - mx - lse;
}

template <typename T>
void softmax_forward(const T* x, T* y, index_t rows, index_t cols) {
    parallel_rows(rows, cols, [&](index_t r) { softmax_row(x + r * cols, y + r * cols, cols); });
}

template <typename T>
void log_softmax_forward(const T* x, T* y, index_t rows, index_t cols) {
    parallel_rows(rows, cols,
                  [&](index_t r) { log_softmax_row(x + r * cols, y + r * cols, cols); });
}

template <typename T>
void softmax_backward(const T* dy, const T* y, T* dx, index_t rows, index_t cols) {
    parallel_rows(rows, cols, [&](index_t r) {
        const T* g = dy + r * cols;
        const T* s = y + r * cols;
        T* d = dx + r * cols;
        T dot = 0;
        for (index_t j = 0; j < cols; ++j) dot += g[j] * s[j];
        for (index_t j = 0; j < cols; ++j) d[j] = s[j] * (g[j] - dot);
    });
}

template <typename T>
void log_softmax_backward(const T* dy, const T* y, T* dx, index_t rows, index_t cols) {
    parallel_rows(rows, cols, [&](index_t r) {
        const T* g = dy + r * cols;
        const T* s = y + r * cols;
        T* d = dx + r * cols;
        T total = 0;
        for (index_t j = 0; j < cols; ++j) total += g[j];
        for (index_t j = 0; j < cols; ++j) d[j] = g[j] - std::exp(s[j]) * total;
    });
}

#define BPROP_INSTANTIATE(T)                                                  \
    template void softmax_row<T>(const T*, T*, index_t);                      \
    template void log_softmax_row<T>(const T*, T*, index_t);                  \
    template void softmax_forward<T>(const T*, T*, index_t, index_t);         \
    template void log_softmax_forward<T>(const T*, T*, index_t, index_t);     \
    template void softmax_backward<T>(const T*, const T*, T*, index_t, index_t); \
    template void log_softmax_backward<T>(const T*, const T*, T*, index_t, index_t);
BPROP_INSTANTIATE(float)
BPROP_INSTANTIATE(double)
#undef BPROP_INSTANTIATE

}  // namespace bprop
