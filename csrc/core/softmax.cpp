#include "softmax.hpp"

#include <cmath>
#include <type_traits>

#include "gemm/workspace.hpp"
#include "parallel.hpp"
#include "vecmath/vecmath.hpp"

namespace bprop {
namespace {

// The row max: float32 through the ISA's vector kernel.
template <typename T>
T max_of(const T* x, index_t cols) {
    if constexpr (std::is_same<T, float>::value) return vecmath::active_kernels().max(x, cols);
    else return row_max(x, cols);
}

// e[j] = exp(x[j] - shift); returns their sum, accumulated in float64
// (float32: the ISA's vector exp).
template <typename T>
double exp_shift_sum(const T* x, T shift, T* e, index_t cols) {
    if constexpr (std::is_same<T, float>::value) {
        return vecmath::active_kernels().exp_shift_sum(x, shift, e, cols);
    } else {
        double sum = 0;
        for (index_t j = 0; j < cols; ++j) {
            e[j] = std::exp(x[j] - shift);
            sum += e[j];
        }
        return sum;
    }
}

// sum of a[j] * b[j] (b null: of a[j]), accumulated in float64.
template <typename T>
double dot_of(const T* a, const T* b, index_t cols) {
    if constexpr (std::is_same<T, float>::value) return vecmath::active_kernels().dot(a, b, cols);
    double sum = 0;
    for (index_t j = 0; j < cols; ++j) sum += b == nullptr ? a[j] : a[j] * b[j];
    return sum;
}

}  // namespace

template <typename T>
void softmax_row(const T* x, T* y, index_t cols) {
    if (cols <= 0) return;
    const double sum = exp_shift_sum(x, max_of(x, cols), y, cols);
    const T inv = static_cast<T>(1.0 / sum);
    for (index_t j = 0; j < cols; ++j) y[j] *= inv;
}

// y = (x - max) - log(sum): the sum includes exp(0) = 1 for the max, so
// log(sum) = log1p(sum - 1) keeps its full relative accuracy where the sum is
// close to 1 (then y at the max is tiny, and log(sum) in float32 would be off
// by thousands of ulp).  Both terms are <= 0 and >= 0: no cancellation.
template <typename T>
void log_softmax_row(const T* x, T* y, index_t cols) {
    if (cols <= 0) return;
    const T mx = max_of(x, cols);
    // The exp values go to scratch, not y: y may alias x (in place).
    thread_local AlignedBuffer scratch;
    T* e = static_cast<T*>(scratch.reserve(sizeof(T) * static_cast<std::size_t>(cols)));
    double rest = exp_shift_sum(x, mx, e, cols) - 1.0;
    if (rest < 0x1p-20) {
        // Next to the max's 1, the float64 sum kept under 32 bits of the other
        // terms: add them up on their own (rows dominated by one logit).
        rest = 0.0;
        bool skipped = false;
        for (index_t j = 0; j < cols; ++j) {
            if (!skipped && x[j] == mx) {
                skipped = true;
                continue;
            }
            rest += static_cast<double>(e[j]);
        }
    }
    const double lse = std::log1p(rest);
    const double m = mx;
    for (index_t j = 0; j < cols; ++j) y[j] = static_cast<T>((static_cast<double>(x[j]) - m) - lse);
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
        const T dot = static_cast<T>(dot_of(g, s, cols));
        for (index_t j = 0; j < cols; ++j) d[j] = s[j] * (g[j] - dot);
    });
}

template <typename T>
void log_softmax_backward(const T* dy, const T* y, T* dx, index_t rows, index_t cols) {
    parallel_rows(rows, cols, [&](index_t r) {
        const T* g = dy + r * cols;
        const T* s = y + r * cols;
        T* d = dx + r * cols;
        const T total = static_cast<T>(dot_of<T>(g, nullptr, cols));
        if constexpr (std::is_same<T, float>::value) {
            vecmath::active_kernels().log_softmax_backward(g, s, total, d, cols);
        } else {
            for (index_t j = 0; j < cols; ++j) d[j] = g[j] - std::exp(s[j]) * total;
        }
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
