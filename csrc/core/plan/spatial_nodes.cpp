#include "spatial_nodes.hpp"

#include <algorithm>
#include <cstring>

#include "../elementwise.hpp"
#include "../parallel.hpp"
#include "../pool.hpp"

namespace bprop::plan {

// ------------------------------------------------------------------ Conv2D
template <typename T>
Conv2DNode<T>::Conv2DNode(const ConvGeometry& image, Act act, Param<T>* kernel, Param<T>* bias)
    : g_(image), act_(act), kernel_(kernel), bias_(bias) {
    this->in = Shape{g_.h * g_.w, g_.c};
    this->out = Shape{g_.oh * g_.ow, g_.f};
}

template <typename T>
void Conv2DNode<T>::reserve(index_t n) {
    y_.reserve(n * this->out.size());
    dx_.reserve(n * this->in.size());
    if (backward_reads_input(act_)) z_.reserve(n * this->out.size());
}

template <typename T>
const T* Conv2DNode<T>::forward(const T* x, index_t n, const StepContext&) {
    ConvGeometry g = g_;
    g.n = n;
    const T* b = bias_ == nullptr ? nullptr : bias_->value;
    if (backward_reads_input(act_)) {
        // The backward needs the pre-activation: the linear part, then the activation.
        conv2d_forward<T>(g, x, kernel_->value, b, Act::linear, z_.data());
        activation_forward<T>(act_, z_.data(), y_.data(), n * this->out.size(), T(default_alpha(act_)));
    } else {
        conv2d_forward<T>(g, x, kernel_->value, b, act_, y_.data());
    }
    x_ = x;
    return y_.data();
}

template <typename T>
const T* Conv2DNode<T>::backward(const T* dy, index_t n, bool need_dx) {
    ConvGeometry g = g_;
    g.n = n;
    const T* saved = act_ == Act::linear ? nullptr : (backward_reads_input(act_) ? z_.data() : y_.data());
    T* dk = kernel_->trainable ? kernel_->grad : nullptr;
    T* db = bias_ != nullptr && bias_->trainable ? bias_->grad : nullptr;
    T* dx = need_dx ? dx_.data() : nullptr;
    conv2d_backward<T>(g, dy, x_, kernel_->value, saved, act_, dx, dk, db);
    return dx;
}

template <typename T>
bool Conv2DNode<T>::has_trainable() const {
    return kernel_->trainable || (bias_ != nullptr && bias_->trainable);
}

// ------------------------------------------------------------------ pooling
template <typename T>
Pool2DNode<T>::Pool2DNode(const ConvGeometry& image, PoolKind kind) : g_(image), kind_(kind) {
    this->in = Shape{g_.h * g_.w, g_.c};
    this->out = Shape{g_.oh * g_.ow, g_.c};
}

template <typename T>
void Pool2DNode<T>::reserve(index_t n) {
    y_.reserve(n * this->out.size());
    dx_.reserve(n * this->in.size());
    if (kind_ == PoolKind::max) argmax_.reserve(n * this->out.size());
}

template <typename T>
const T* Pool2DNode<T>::forward(const T* x, index_t n, const StepContext&) {
    ConvGeometry g = g_;
    g.n = n;
    if (kind_ == PoolKind::max)
        max_pool2d_forward<T>(g, x, y_.data(), argmax_.data());
    else
        avg_pool2d_forward<T>(g, x, y_.data());
    return y_.data();
}

template <typename T>
const T* Pool2DNode<T>::backward(const T* dy, index_t n, bool need_dx) {
    if (!need_dx) return nullptr;
    ConvGeometry g = g_;
    g.n = n;
    if (kind_ == PoolKind::max)
        max_pool2d_backward<T>(g, dy, argmax_.data(), dx_.data());
    else
        avg_pool2d_backward<T>(g, dy, dx_.data());
    return dx_.data();
}

// ------------------------------------------------------------------ global average
template <typename T>
GlobalAvgPoolNode<T>::GlobalAvgPoolNode(index_t positions, index_t channels) {
    this->in = Shape{positions, channels};
    this->out = Shape{1, channels};
}

template <typename T>
void GlobalAvgPoolNode<T>::reserve(index_t n) {
    y_.reserve(n * this->out.size());
    dx_.reserve(n * this->in.size());
}

template <typename T>
const T* GlobalAvgPoolNode<T>::forward(const T* x, index_t n, const StepContext&) {
    global_avg_pool_forward<T>(n, this->in.rows_per_sample, this->in.cols, x, y_.data());
    return y_.data();
}

template <typename T>
const T* GlobalAvgPoolNode<T>::backward(const T* dy, index_t n, bool need_dx) {
    if (!need_dx) return nullptr;
    global_avg_pool_backward<T>(n, this->in.rows_per_sample, this->in.cols, dy, dx_.data());
    return dx_.data();
}

// ------------------------------------------------------------------ zero padding
template <typename T>
ZeroPad2DNode<T>::ZeroPad2DNode(index_t h, index_t w, index_t c, index_t top, index_t bottom, index_t left,
                                index_t right)
    : h_(h), w_(w), c_(c), top_(top), left_(left), oh_(h + top + bottom), ow_(w + left + right) {
    this->in = Shape{h * w, c};
    this->out = Shape{oh_ * ow_, c};
}

template <typename T>
void ZeroPad2DNode<T>::reserve(index_t n) {
    y_.reserve(n * this->out.size());
    dx_.reserve(n * this->in.size());
}

template <typename T>
const T* ZeroPad2DNode<T>::forward(const T* x, index_t n, const StepContext&) {
    T* y = y_.data();
    const index_t row = w_ * c_;
    parallel_rows(n * oh_, ow_ * c_, [&](index_t r) {
        const index_t img = r / oh_, oy = r % oh_, iy = oy - top_;
        T* out = y + r * ow_ * c_;
        std::fill(out, out + ow_ * c_, T(0));
        if (iy >= 0 && iy < h_) std::memcpy(out + left_ * c_, x + (img * h_ + iy) * row, sizeof(T) * row);
    });
    return y;
}

template <typename T>
const T* ZeroPad2DNode<T>::backward(const T* dy, index_t n, bool need_dx) {
    if (!need_dx) return nullptr;
    T* dx = dx_.data();
    const index_t row = w_ * c_;
    parallel_rows(n * h_, row, [&](index_t r) {
        const index_t img = r / h_, iy = r % h_;
        std::memcpy(dx + r * row, dy + ((img * oh_ + iy + top_) * ow_ + left_) * c_, sizeof(T) * row);
    });
    return dx;
}

template class Conv2DNode<float>;
template class Conv2DNode<double>;
template class Pool2DNode<float>;
template class Pool2DNode<double>;
template class GlobalAvgPoolNode<float>;
template class GlobalAvgPoolNode<double>;
template class ZeroPad2DNode<float>;
template class ZeroPad2DNode<double>;

}  // namespace bprop::plan
