#include "nodes.hpp"

#include "../bias.hpp"
#include "../dense.hpp"
#include "../gemm/gemm.hpp"
#include "../dropout.hpp"
#include "../elementwise.hpp"
#include "../softmax.hpp"

namespace bprop::plan {

// ------------------------------------------------------------------ Dense
template <typename T>
DenseNode<T>::DenseNode(Shape in, index_t units, Act act, Param<T>* kernel, Param<T>* bias)
    : act_(act), kernel_(kernel), bias_(bias) {
    this->in = in;
    this->out = Shape{in.rows_per_sample, units};
}

template <typename T>
void DenseNode<T>::reserve(index_t n) {
    y_.reserve(n * this->out.size());
    dx_.reserve(n * this->in.size());
    if (backward_reads_input(act_)) z_.reserve(n * this->out.size());
    if (act_ != Act::linear) dz_.reserve(n * this->out.size());
}

template <typename T>
const T* DenseNode<T>::forward(const T* x, index_t n, const StepContext&) {
    const index_t rows = n * this->in.rows_per_sample, k = this->in.cols, m = this->out.cols;
    const T* b = bias_ == nullptr ? nullptr : bias_->value;
    const MatrixRef<const T> xr{x, k, 1}, wr{kernel_->value, m, 1};
    if (backward_reads_input(act_)) {
        // The backward needs the pre-activation: the linear part, then the activation.
        dense_forward<T>(rows, k, m, xr, wr, b, Act::linear, z_.data());
        activation_forward<T>(act_, z_.data(), y_.data(), rows * m, T(default_alpha(act_)));
    } else {
        dense_forward<T>(rows, k, m, xr, wr, b, act_, y_.data());
    }
    x_ = x;
    return y_.data();
}

template <typename T>
const T* DenseNode<T>::backward(const T* dy, index_t n, bool need_dx) {
    const index_t rows = n * this->in.rows_per_sample, k = this->in.cols, m = this->out.cols;
    const T* saved = act_ == Act::linear ? nullptr : (backward_reads_input(act_) ? z_.data() : y_.data());
    T* dw = kernel_->trainable ? kernel_->grad : nullptr;
    T* db = bias_ != nullptr && bias_->trainable ? bias_->grad : nullptr;
    T* dx = need_dx ? dx_.data() : nullptr;
    dense_backward<T>(rows, k, m, dy, MatrixRef<const T>{x_, k, 1}, MatrixRef<const T>{kernel_->value, m, 1},
                      saved, act_, dx, dw, db);
    return dx;
}

template <typename T>
bool DenseNode<T>::has_trainable() const {
    return kernel_->trainable || (bias_ != nullptr && bias_->trainable);
}

template <typename T>
void DenseNode<T>::forward_columns(const T* x, index_t n, index_t c0, index_t c1) {
    if (c0 == 0) x_ = x;  // one writer: the owner of column 0 (the backward reads it after a barrier)
    if (c1 <= c0) return;
    const index_t rows = n * this->in.rows_per_sample, k = this->in.cols, m = this->out.cols;
    // As dense_forward: the bias always, the activation when it is tile-wise
    // and the backward does not need the pre-activation.
    Epilogue<T> ep;
    ep.bias = bias_ == nullptr ? nullptr : bias_->value + c0;
    const bool fused = !backward_reads_input(act_) && act_ != Act::softmax;
    ep.act = fused ? act_ : Act::linear;
    ep.alpha = T(default_alpha(fused ? act_ : Act::linear));
    T* out = backward_reads_input(act_) ? z_.data() : y_.data();
    gemm<T>(rows, c1 - c0, k, T(1), MatrixRef<const T>{x, k, 1}, MatrixRef<const T>{kernel_->value + c0, m, 1},
            T(0), MatrixRef<T>{out + c0, m, 1}, ep);
}

template <typename T>
bool DenseNode<T>::forward_has_rows_pass() const {
    return act_ == Act::softmax || backward_reads_input(act_);
}

template <typename T>
void DenseNode<T>::forward_rows_pass(index_t n) {
    const index_t rows = n * this->in.rows_per_sample, m = this->out.cols;
    if (act_ == Act::softmax)
        softmax_forward<T>(y_.data(), y_.data(), rows, m);
    else if (backward_reads_input(act_))
        activation_forward<T>(act_, z_.data(), y_.data(), rows * m, T(default_alpha(act_)));
}

template <typename T>
void DenseNode<T>::backward_dz(const T* dy, index_t n) {
    if (act_ == Act::linear) return;
    const index_t rows = n * this->in.rows_per_sample, m = this->out.cols;
    activation_grad<T>(act_, dy, backward_reads_input(act_) ? z_.data() : y_.data(), rows, m, dz_.data());
}

template <typename T>
void DenseNode<T>::backward_kernel_rows(const T* dy, index_t n, index_t r0, index_t r1) {
    if (r1 <= r0 || !kernel_->trainable) return;
    const index_t rows = n * this->in.rows_per_sample, k = this->in.cols, m = this->out.cols;
    // dW[r0:r1, :] = x[:, r0:r1]^T dz: each element the same sum, in the
    // same order, as in the whole product.
    gemm<T>(r1 - r0, m, rows, T(1), MatrixRef<const T>{x_ + r0, 1, k}, MatrixRef<const T>{dz(dy), m, 1}, T(0),
            MatrixRef<T>{kernel_->grad + r0 * m, m, 1});
}

template <typename T>
void DenseNode<T>::backward_bias_columns(const T* dy, index_t n, index_t c0, index_t c1) {
    if (c1 <= c0 || bias_ == nullptr || !bias_->trainable) return;
    const index_t rows = n * this->in.rows_per_sample, m = this->out.cols;
    bias_grad_columns(dz(dy), bias_->grad, rows, m, c0, c1);
}

template <typename T>
void DenseNode<T>::backward_dx_rows(const T* dy, index_t n, index_t r0, index_t r1) {
    (void)n;
    if (r1 <= r0) return;
    const index_t k = this->in.cols, m = this->out.cols;
    // dx[r0:r1] = dz[r0:r1] W^T
    gemm<T>(r1 - r0, k, m, T(1), MatrixRef<const T>{dz(dy) + r0 * m, m, 1},
            MatrixRef<const T>{kernel_->value, 1, m}, T(0), MatrixRef<T>{dx_.data() + r0 * k, k, 1});
}

// ------------------------------------------------------------------ Activation
template <typename T>
ActivationNode<T>::ActivationNode(Shape shape, Act act, double alpha) : act_(act), alpha_(T(alpha)) {
    this->in = shape;
    this->out = shape;
}

template <typename T>
void ActivationNode<T>::reserve(index_t n) {
    y_.reserve(n * this->out.size());
    dx_.reserve(n * this->in.size());
}

template <typename T>
const T* ActivationNode<T>::forward(const T* x, index_t n, const StepContext&) {
    x_ = x;
    if (act_ == Act::linear) return x;
    const index_t rows = n * this->in.rows_per_sample, cols = this->in.cols;
    if (act_ == Act::softmax)
        softmax_forward<T>(x, y_.data(), rows, cols);
    else
        activation_forward<T>(act_, x, y_.data(), rows * cols, alpha_);
    return y_.data();
}

template <typename T>
const T* ActivationNode<T>::backward(const T* dy, index_t n, bool need_dx) {
    if (!need_dx) return nullptr;
    if (act_ == Act::linear) return dy;
    const index_t rows = n * this->in.rows_per_sample, cols = this->in.cols;
    if (act_ == Act::softmax)
        softmax_backward<T>(dy, y_.data(), dx_.data(), rows, cols);
    else  // some derivatives are taken at the input (gelu, elu, ...), the others' at the output
        activation_backward<T>(act_, dy, backward_reads_input(act_) ? x_ : y_.data(), dx_.data(), rows * cols,
                               alpha_);
    return dx_.data();
}

// ------------------------------------------------------------------ Dropout
template <typename T>
DropoutNode<T>::DropoutNode(Shape shape, double rate, std::uint64_t seed) : rate_(rate), seed_(seed) {
    this->in = shape;
    this->out = shape;
}

template <typename T>
void DropoutNode<T>::reserve(index_t n) {
    y_.reserve(n * this->out.size());
    dx_.reserve(n * this->in.size());
    mask_.reserve(n * this->in.size());
}

template <typename T>
const T* DropoutNode<T>::forward(const T* x, index_t n, const StepContext& ctx) {
    active_ = ctx.training && rate_ > 0.0;
    if (!active_) return x;
    dropout_forward<T>(x, y_.data(), mask_.data(), n, this->in.size(), rate_, seed_, ctx.dropout_counter,
                       ctx.row_offset);
    return y_.data();
}

template <typename T>
const T* DropoutNode<T>::backward(const T* dy, index_t n, bool need_dx) {
    if (!need_dx) return nullptr;
    if (!active_) return dy;
    dropout_backward<T>(dy, mask_.data(), dx_.data(), n * this->in.size(), rate_);
    return dx_.data();
}

template class DenseNode<float>;
template class DenseNode<double>;
template class ActivationNode<float>;
template class ActivationNode<double>;
template class DropoutNode<float>;
template class DropoutNode<double>;

}  // namespace bprop::plan
