#include "train_step.hpp"

#include <cmath>

#include "dense.hpp"
#include "gemm/workspace.hpp"
#include "losses.hpp"
#include "optimizers.hpp"
#include "softmax.hpp"

namespace bprop {
namespace {

template <typename T>
void update(const StepOptimizerParams& opt, T* p, const T* g, T* s0, T* s1, index_t size) {
    if (opt.kind == StepOptimizer::adam)
        adam_update(p, g, s0, s1, size, opt.lr, opt.step, opt.beta1, opt.beta2, opt.eps,
                    opt.weight_decay);
    else
        sgd_update(p, g, s0, size, opt.lr, opt.momentum, opt.nesterov);
}

// Rows whose softmax argmax (first maximum, as NumPy's argmax) is the label:
// what the accuracy metric counts from the probabilities.
template <typename T>
index_t count_correct(const T* logits, const std::int64_t* labels, index_t n, index_t classes) {
    thread_local AlignedBuffer buf;
    T* probs = static_cast<T*>(buf.reserve(sizeof(T) * static_cast<std::size_t>(classes)));
    index_t correct = 0;
    for (index_t r = 0; r < n; ++r) {
        softmax_row(logits + r * classes, probs, classes);
        index_t best = 0;
        for (index_t j = 1; j < classes; ++j)
            if (probs[j] > probs[best]) best = j;
        correct += best == labels[r] ? 1 : 0;
    }
    return correct;
}

}  // namespace

template <typename T>
StepResult dense_softmax_xent_step(index_t n, const T* x, const std::int64_t* labels,
                                   std::vector<StepLayer<T>>& layers, T* dlogits,
                                   const StepOptimizerParams& opt) {
    const std::size_t count = layers.size();
    // Forward: each layer one fused GEMM + bias + activation; the last one
    // yields logits (its softmax is fused into the loss).
    const T* input = x;
    for (std::size_t l = 0; l < count; ++l) {
        StepLayer<T>& L = layers[l];
        const Act act = l + 1 == count ? Act::linear : L.act;
        dense_forward<T>(n, L.in, L.out, MatrixRef<const T>{input, L.in, 1},
                         MatrixRef<const T>{L.w, L.out, 1}, L.b, act, L.y);
        input = L.y;
    }
    const StepLayer<T>& last = layers.back();
    StepResult result{0.0, 0, false};
    softmax_xent_sparse_backward<T>(last.y, labels, dlogits, n, last.out);
    result.loss = softmax_xent_sparse<T>(last.y, labels, n, last.out);
    result.correct = count_correct(last.y, labels, n, last.out);
    if (!std::isfinite(result.loss)) return result;  // as fit: no update on a bad loss

    // Backward, last layer first; the first layer's dx is not needed.
    const T* dy = dlogits;
    for (std::size_t l = count; l-- > 0;) {
        StepLayer<T>& L = layers[l];
        const T* layer_in = l == 0 ? x : layers[l - 1].y;
        const Act act = l + 1 == count ? Act::linear : L.act;
        dense_backward<T>(n, L.in, L.out, dy, MatrixRef<const T>{layer_in, L.in, 1},
                          MatrixRef<const T>{L.w, L.out, 1}, act == Act::linear ? nullptr : L.y,
                          act, l == 0 ? nullptr : L.dx, L.dw, L.db);
        dy = L.dx;
    }
    // Update, in the model's variable order (kernel, bias per layer).
    for (StepLayer<T>& L : layers) {
        update(opt, L.w, L.dw, L.w_slot0, L.w_slot1, L.in * L.out);
        if (L.b != nullptr) update(opt, L.b, L.db, L.b_slot0, L.b_slot1, L.out);
    }
    result.updated = true;
    return result;
}

template StepResult dense_softmax_xent_step<float>(index_t, const float*, const std::int64_t*,
                                                   std::vector<StepLayer<float>>&, float*,
                                                   const StepOptimizerParams&);
template StepResult dense_softmax_xent_step<double>(index_t, const double*, const std::int64_t*,
                                                    std::vector<StepLayer<double>>&, double*,
                                                    const StepOptimizerParams&);

}  // namespace bprop
