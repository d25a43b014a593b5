#include "losses.hpp"

#include <cmath>
#include <vector>

#include "activation_apply.hpp"
#include "parallel.hpp"
#include "softmax.hpp"

namespace bprop {
namespace {

// Rows per chunk of the row-wise losses (fixed: thread-count independent).
constexpr index_t kRowChunk = 256;

// Sum of f(begin, end) over fixed chunks of [0, n), added in chunk order.
template <typename F>
double chunked_sum(index_t n, index_t chunk, F&& partial) {
    if (n <= 0) return 0.0;
    const index_t chunks = (n + chunk - 1) / chunk;
    std::vector<double> sums(static_cast<std::size_t>(chunks), 0.0);
    parallel_chunks(n, chunk, [&](index_t c, index_t b, index_t e) { sums[c] = partial(b, e); });
    double total = 0.0;
    for (double s : sums) total += s;
    return total;
}

// log(sum(exp(x - max))) + max, in double for accuracy of the loss value.
template <typename T>
double row_logsumexp(const T* x, index_t cols) {
    const double mx = static_cast<double>(row_max(x, cols));
    double s = 0.0;
    for (index_t j = 0; j < cols; ++j) s += std::exp(static_cast<double>(x[j]) - mx);
    return mx + std::log(s);
}

}  // namespace

index_t first_label_out_of_range(const std::int64_t* labels, index_t n, index_t classes) {
    for (index_t i = 0; i < n; ++i)
        if (labels[i] < 0 || labels[i] >= classes) return i;
    return -1;
}

template <typename T>
double mse(const T* pred, const T* target, index_t n) {
    if (n <= 0) return 0.0;
    const double total = chunked_sum(n, kElementwiseChunk, [&](index_t b, index_t e) {
        double s = 0.0;
        for (index_t i = b; i < e; ++i) {
            const double d = static_cast<double>(pred[i]) - static_cast<double>(target[i]);
            s += d * d;
        }
        return s;
    });
    return total / static_cast<double>(n);
}

template <typename T>
void mse_backward(const T* pred, const T* target, T* grad, index_t n) {
    const T scale = T(2.0 / static_cast<double>(n > 0 ? n : 1));
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
#pragma omp simd
        for (index_t i = b; i < e; ++i) grad[i] = (pred[i] - target[i]) * scale;
    });
}

template <typename T>
double softmax_xent_sparse(const T* logits, const std::int64_t* labels, index_t rows,
                           index_t cols) {
    if (rows <= 0) return 0.0;
    const double total = chunked_sum(rows, kRowChunk, [&](index_t b, index_t e) {
        double s = 0.0;
        for (index_t r = b; r < e; ++r) {
            const T* x = logits + r * cols;
            s += row_logsumexp(x, cols) - static_cast<double>(x[labels[r]]);
        }
        return s;
    });
    return total / static_cast<double>(rows);
}

template <typename T>
void softmax_xent_sparse_backward(const T* logits, const std::int64_t* labels, T* grad,
                                  index_t rows, index_t cols) {
    const T inv_n = T(1.0 / static_cast<double>(rows > 0 ? rows : 1));
    parallel_rows(rows, cols, [&](index_t r) {
        T* g = grad + r * cols;
        softmax_row(logits + r * cols, g, cols);
        g[labels[r]] -= T(1);
        for (index_t j = 0; j < cols; ++j) g[j] *= inv_n;
    });
}

template <typename T>
double softmax_xent_dense(const T* logits, const T* target, index_t rows, index_t cols) {
    if (rows <= 0 || cols <= 0) return 0.0;
    const double total = chunked_sum(rows, kRowChunk, [&](index_t b, index_t e) {
        double s = 0.0;
        for (index_t r = b; r < e; ++r) {
            const T* x = logits + r * cols;
            const T* t = target + r * cols;
            const double lse = row_logsumexp(x, cols);
            for (index_t j = 0; j < cols; ++j)
                if (t[j] != T(0)) s -= static_cast<double>(t[j]) * (static_cast<double>(x[j]) - lse);
        }
        return s;
    });
    return total / static_cast<double>(rows);
}

template <typename T>
void softmax_xent_dense_backward(const T* logits, const T* target, T* grad, index_t rows,
                                 index_t cols) {
    const T inv_n = T(1.0 / static_cast<double>(rows > 0 ? rows : 1));
    parallel_rows(rows, cols, [&](index_t r) {
        T* g = grad + r * cols;
        const T* t = target + r * cols;
        softmax_row(logits + r * cols, g, cols);
        for (index_t j = 0; j < cols; ++j) g[j] = (g[j] - t[j]) * inv_n;
    });
}

template <typename T>
double binary_xent(const T* logits, const T* target, index_t n) {
    if (n <= 0) return 0.0;
    const double total = chunked_sum(n, kElementwiseChunk, [&](index_t b, index_t e) {
        double s = 0.0;
        for (index_t i = b; i < e; ++i) {
            const double z = static_cast<double>(logits[i]);
            const double t = static_cast<double>(target[i]);
            s += (z > 0 ? z : 0.0) - z * t + std::log1p(std::exp(-std::fabs(z)));
        }
        return s;
    });
    return total / static_cast<double>(n);
}

template <typename T>
void binary_xent_backward(const T* logits, const T* target, T* grad, index_t n) {
    const T inv_n = T(1.0 / static_cast<double>(n > 0 ? n : 1));
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
        for (index_t i = b; i < e; ++i)
            grad[i] = (act_detail::sigmoid(logits[i]) - target[i]) * inv_n;
    });
}

#define BPROP_INSTANTIATE(T)                                                                   \
    template double mse<T>(const T*, const T*, index_t);                                       \
    template void mse_backward<T>(const T*, const T*, T*, index_t);                            \
    template double softmax_xent_sparse<T>(const T*, const std::int64_t*, index_t, index_t);   \
    template void softmax_xent_sparse_backward<T>(const T*, const std::int64_t*, T*, index_t,  \
                                                  index_t);                                    \
    template double softmax_xent_dense<T>(const T*, const T*, index_t, index_t);               \
    template void softmax_xent_dense_backward<T>(const T*, const T*, T*, index_t, index_t);    \
    template double binary_xent<T>(const T*, const T*, index_t);                               \
    template void binary_xent_backward<T>(const T*, const T*, T*, index_t);
BPROP_INSTANTIATE(float)
BPROP_INSTANTIATE(double)
#undef BPROP_INSTANTIATE

}  // namespace bprop
