#include "losses.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "activation_apply.hpp"
#include "parallel.hpp"
#include "softmax.hpp"

namespace bprop {
namespace {

// Rows per chunk of the row-wise losses (fixed: thread-count independent).
constexpr index_t kRowChunk = 256;

// Sum of partial(begin, end) over fixed chunks of [0, n), added in chunk order.
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

// Rows of `cols` values that make about one elementwise chunk.
inline index_t rows_per_chunk(index_t cols) {
    return std::max<index_t>(1, kElementwiseChunk / std::max<index_t>(cols, 1));
}

// The rows the mean divides by.
template <typename T>
inline index_t mean_rows(const LossBatch<T>& b) {
    return b.mean_rows > 0 ? b.mean_rows : b.rows;
}

template <typename T>
inline double weight_of(const LossBatch<T>& b, index_t r) {
    return b.weight == nullptr ? 1.0 : b.weight[r];
}

// Elementwise losses: sum over rows of w_r * sum_j e(i), over rows * cols.
// Without weights the sum runs over element chunks (the order the unweighted
// kernels always had); with weights over row chunks.
template <typename T, typename E>
double elementwise_value(const LossBatch<T>& b, E&& e) {
    const index_t n = b.rows * b.cols;
    if (n <= 0) return 0.0;
    double total;
    if (b.weight == nullptr) {
        total = chunked_sum(n, kElementwiseChunk, [&](index_t lo, index_t hi) {
            double s = 0.0;
            for (index_t i = lo; i < hi; ++i) s += e(i);
            return s;
        });
    } else {
        total = chunked_sum(b.rows, rows_per_chunk(b.cols), [&](index_t r0, index_t r1) {
            double s = 0.0;
            for (index_t r = r0; r < r1; ++r) {
                double row = 0.0;
                for (index_t j = 0; j < b.cols; ++j) row += e(r * b.cols + j);
                s += b.weight[r] * row;
            }
            return s;
        });
    }
    return total / static_cast<double>(mean_rows(b) * b.cols);
}

// grad[i] = g(i) * (factor w_r / (rows cols)), the scale in g's own type
// (T for the simple ones, double for those computed in double).
template <typename T, typename G>
void elementwise_grad(const LossBatch<T>& b, T* grad, double factor, G&& g) {
    using R = decltype(g(index_t{0}));
    const index_t n = b.rows * b.cols, mean_n = mean_rows(b) * b.cols;
    const double inv_n = 1.0 / static_cast<double>(mean_n > 0 ? mean_n : 1);
    if (b.weight == nullptr) {
        const R scale = R(factor * inv_n);
        parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t lo, index_t hi) {
#pragma omp simd
            for (index_t i = lo; i < hi; ++i) grad[i] = static_cast<T>(g(i) * scale);
        });
        return;
    }
    parallel_rows(b.rows, b.cols, [&](index_t r) {
        const R scale = R(factor * b.weight[r] * inv_n);
        for (index_t i = r * b.cols; i < (r + 1) * b.cols; ++i) grad[i] = static_cast<T>(g(i) * scale);
    });
}

// Row-wise losses: sum over rows of w_r * row_loss(r), over rows.
template <typename T, typename F>
double rowwise_value(const LossBatch<T>& b, F&& row_loss) {
    if (b.rows <= 0 || b.cols <= 0) return 0.0;
    const double total = chunked_sum(b.rows, kRowChunk, [&](index_t r0, index_t r1) {
        double s = 0.0;
        for (index_t r = r0; r < r1; ++r) {
            const double l = row_loss(r);
            s += b.weight == nullptr ? l : b.weight[r] * l;
        }
        return s;
    });
    return total / static_cast<double>(mean_rows(b));
}

// log(sum(exp(x - max))) + max, in double for accuracy of the loss value.
template <typename T>
double row_logsumexp(const T* x, index_t cols) {
    const double mx = static_cast<double>(row_max(x, cols));
    double s = 0.0;
    for (index_t j = 0; j < cols; ++j) s += std::exp(static_cast<double>(x[j]) - mx);
    return mx + std::log(s);
}

inline double clip_prob(double p) {
    return p < kProbEpsilon ? kProbEpsilon : (p > 1.0 - kProbEpsilon ? 1.0 - kProbEpsilon : p);
}

inline bool inside_clip(double p) { return p > kProbEpsilon && p < 1.0 - kProbEpsilon; }

// Target j of row r: the one-hot label, or the dense target.
template <typename T>
inline double target_at(const LossBatch<T>& b, index_t r, index_t j) {
    if (b.labels != nullptr) return b.labels[r] == j ? 1.0 : 0.0;
    return static_cast<double>(b.target[r * b.cols + j]);
}

}  // namespace

index_t first_label_out_of_range(const std::int64_t* labels, index_t n, index_t classes) {
    for (index_t i = 0; i < n; ++i)
        if (labels[i] < 0 || labels[i] >= classes) return i;
    return -1;
}

// ------------------------------------------------------------------ mse / mae
template <typename T>
double mse(const LossBatch<T>& b) {
    return elementwise_value(b, [&](index_t i) {
        const double d = static_cast<double>(b.pred[i]) - static_cast<double>(b.target[i]);
        return d * d;
    });
}

template <typename T>
void mse_backward(const LossBatch<T>& b, T* grad) {
    elementwise_grad(b, grad, 2.0, [&](index_t i) { return b.pred[i] - b.target[i]; });
}

template <typename T>
double mae(const LossBatch<T>& b) {
    return elementwise_value(b, [&](index_t i) {
        return std::fabs(static_cast<double>(b.pred[i]) - static_cast<double>(b.target[i]));
    });
}

template <typename T>
void mae_backward(const LossBatch<T>& b, T* grad) {
    elementwise_grad(b, grad, 1.0, [&](index_t i) {
        const T d = b.pred[i] - b.target[i];
        return d > T(0) ? T(1) : (d < T(0) ? T(-1) : d);  // sign, NaN stays NaN
    });
}

// ------------------------------------------------------------------ softmax cross-entropy
template <typename T>
double softmax_xent(const LossBatch<T>& b) {
    return rowwise_value(b, [&](index_t r) {
        const T* x = b.pred + r * b.cols;
        const double lse = row_logsumexp(x, b.cols);
        if (b.labels != nullptr) return lse - static_cast<double>(x[b.labels[r]]);
        const T* t = b.target + r * b.cols;
        double s = 0.0;
        for (index_t j = 0; j < b.cols; ++j)
            if (t[j] != T(0)) s -= static_cast<double>(t[j]) * (static_cast<double>(x[j]) - lse);
        return s;
    });
}

template <typename T>
void softmax_xent_backward(const LossBatch<T>& b, T* grad) {
    const double inv_rows = 1.0 / static_cast<double>(mean_rows(b) > 0 ? mean_rows(b) : 1);
    const T inv_n = T(inv_rows);
    parallel_rows(b.rows, b.cols, [&](index_t r) {
        const T scale = b.weight == nullptr ? inv_n : T(b.weight[r] * inv_rows);
        T* g = grad + r * b.cols;
        softmax_row(b.pred + r * b.cols, g, b.cols);
        if (b.labels != nullptr) {
            g[b.labels[r]] -= T(1);
            for (index_t j = 0; j < b.cols; ++j) g[j] *= scale;
        } else {
            const T* t = b.target + r * b.cols;
            for (index_t j = 0; j < b.cols; ++j) g[j] = (g[j] - t[j]) * scale;
        }
    });
}

// ------------------------------------------------------------------ cross-entropy of probabilities
template <typename T>
double prob_xent(const LossBatch<T>& b) {
    return rowwise_value(b, [&](index_t r) {
        const T* p = b.pred + r * b.cols;
        double sum = 0.0;
        for (index_t j = 0; j < b.cols; ++j) sum += static_cast<double>(p[j]);
        if (b.labels != nullptr) return -std::log(clip_prob(static_cast<double>(p[b.labels[r]]) / sum));
        double s = 0.0;
        for (index_t j = 0; j < b.cols; ++j) {
            const double t = target_at(b, r, j);
            if (t != 0.0) s -= t * std::log(clip_prob(static_cast<double>(p[j]) / sum));
        }
        return s;
    });
}

template <typename T>
void prob_xent_backward(const LossBatch<T>& b, T* grad) {
    const double inv_rows = 1.0 / static_cast<double>(mean_rows(b) > 0 ? mean_rows(b) : 1);
    parallel_rows(b.rows, b.cols, [&](index_t r) {
        const T* p = b.pred + r * b.cols;
        T* g = grad + r * b.cols;
        double sum = 0.0;
        for (index_t j = 0; j < b.cols; ++j) sum += static_cast<double>(p[j]);
        // q = p / sum; d loss / d q_j = -t_j / q_j inside the clip, 0 outside;
        // through the normalisation: d/dp_j = (dq_j - sum_k dq_k q_k) / sum.
        double dot = 0.0;
        for (index_t j = 0; j < b.cols; ++j) {
            const double q = static_cast<double>(p[j]) / sum;
            const double t = target_at(b, r, j);
            if (inside_clip(q) && t != 0.0) dot += (-t / q) * q;
        }
        const double scale = weight_of(b, r) * inv_rows / sum;
        for (index_t j = 0; j < b.cols; ++j) {
            const double q = static_cast<double>(p[j]) / sum;
            const double t = target_at(b, r, j);
            const double dq = inside_clip(q) && t != 0.0 ? -t / q : 0.0;
            g[j] = static_cast<T>((dq - dot) * scale);
        }
    });
}

// ------------------------------------------------------------------ binary cross-entropy
template <typename T>
double binary_xent(const LossBatch<T>& b) {
    return elementwise_value(b, [&](index_t i) {
        const double z = static_cast<double>(b.pred[i]);
        const double t = static_cast<double>(b.target[i]);
        return (z > 0 ? z : 0.0) - z * t + std::log1p(std::exp(-std::fabs(z)));
    });
}

template <typename T>
void binary_xent_backward(const LossBatch<T>& b, T* grad) {
    elementwise_grad(b, grad, 1.0,
                     [&](index_t i) { return act_detail::sigmoid(b.pred[i]) - b.target[i]; });
}

template <typename T>
double binary_xent_probs(const LossBatch<T>& b) {
    return elementwise_value(b, [&](index_t i) {
        const double p = clip_prob(static_cast<double>(b.pred[i]));
        const double t = static_cast<double>(b.target[i]);
        return -(t * std::log(p) + (1.0 - t) * std::log(1.0 - p));
    });
}

template <typename T>
void binary_xent_probs_backward(const LossBatch<T>& b, T* grad) {
    elementwise_grad(b, grad, 1.0, [&](index_t i) {
        const double p = static_cast<double>(b.pred[i]);
        const double t = static_cast<double>(b.target[i]);
        return inside_clip(p) ? (p - t) / (p * (1.0 - p)) : (p == p ? 0.0 : p);
    });
}

#define BPROP_INSTANTIATE(T)                                               \
    template double mse<T>(const LossBatch<T>&);                           \
    template void mse_backward<T>(const LossBatch<T>&, T*);                \
    template double mae<T>(const LossBatch<T>&);                           \
    template void mae_backward<T>(const LossBatch<T>&, T*);                \
    template double softmax_xent<T>(const LossBatch<T>&);                  \
    template void softmax_xent_backward<T>(const LossBatch<T>&, T*);       \
    template double prob_xent<T>(const LossBatch<T>&);                     \
    template void prob_xent_backward<T>(const LossBatch<T>&, T*);          \
    template double binary_xent<T>(const LossBatch<T>&);                   \
    template void binary_xent_backward<T>(const LossBatch<T>&, T*);        \
    template double binary_xent_probs<T>(const LossBatch<T>&);             \
    template void binary_xent_probs_backward<T>(const LossBatch<T>&, T*);
BPROP_INSTANTIATE(float)
BPROP_INSTANTIATE(double)
#undef BPROP_INSTANTIATE

}  // namespace bprop
