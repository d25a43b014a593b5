#include "dense.hpp"

#include "bias.hpp"
#include "elementwise.hpp"
#include "gemm/workspace.hpp"
#include "softmax.hpp"

namespace bprop {

template <typename T>
void dense_forward(index_t n, index_t k, index_t m, MatrixRef<const T> x, MatrixRef<const T> w,
                   const T* b, Act act, T* y) {
    Epilogue<T> ep;
    ep.bias = b;
    ep.act = act == Act::softmax ? Act::linear : act;
    ep.alpha = T(default_alpha(act));
    gemm<T>(n, m, k, T(1), x, w, T(0), MatrixRef<T>{y, m, 1}, ep);
    if (act == Act::softmax) softmax_forward(y, y, n, m);
}

template <typename T>
void dense_backward(index_t n, index_t k, index_t m, const T* dy, MatrixRef<const T> x,
                    MatrixRef<const T> w, const T* z_or_y, Act act, T* dx, T* dw, T* db) {
    const T* dz = activation_grad_scratch(act, dy, z_or_y, n, m);
    const MatrixRef<const T> dz_ref{dz, m, 1};
    // dw = x^T dz: x's transpose is x with its strides swapped (none for a frozen kernel).
    if (dw != nullptr)
        gemm<T>(k, m, n, T(1), MatrixRef<const T>{x.data, x.cs, x.rs}, dz_ref, T(0),
                MatrixRef<T>{dw, m, 1});
    if (db != nullptr) bias_grad(dz, db, n, m);
    // dx = dz w^T.
    if (dx != nullptr)
        gemm<T>(n, k, m, T(1), dz_ref, MatrixRef<const T>{w.data, w.cs, w.rs}, T(0),
                MatrixRef<T>{dx, k, 1});
}

template <typename T>
void activation_grad(Act act, const T* dy, const T* z_or_y, index_t rows, index_t cols, T* dz) {
    if (act == Act::softmax)
        softmax_backward(dy, z_or_y, dz, rows, cols);
    else
        activation_backward(act, dy, z_or_y, dz, rows * cols, T(default_alpha(act)));
}

template <typename T>
const T* activation_grad_scratch(Act act, const T* dy, const T* z_or_y, index_t rows, index_t cols) {
    if (act == Act::linear) return dy;
    // No allocation in steady state: the buffer only grows.
    thread_local AlignedBuffer dz_buf;
    T* scratch = static_cast<T*>(dz_buf.reserve(sizeof(T) * static_cast<std::size_t>(rows * cols)));
    activation_grad(act, dy, z_or_y, rows, cols, scratch);
    return scratch;
}

template void activation_grad<float>(Act, const float*, const float*, index_t, index_t, float*);
template void activation_grad<double>(Act, const double*, const double*, index_t, index_t, double*);
template const float* activation_grad_scratch<float>(Act, const float*, const float*, index_t, index_t);
template const double* activation_grad_scratch<double>(Act, const double*, const double*, index_t, index_t);
template void dense_forward<float>(index_t, index_t, index_t, MatrixRef<const float>,
                                   MatrixRef<const float>, const float*, Act, float*);
template void dense_forward<double>(index_t, index_t, index_t, MatrixRef<const double>,
                                    MatrixRef<const double>, const double*, Act, double*);
template void dense_backward<float>(index_t, index_t, index_t, const float*,
                                    MatrixRef<const float>, MatrixRef<const float>, const float*,
                                    Act, float*, float*, float*);
template void dense_backward<double>(index_t, index_t, index_t, const double*,
                                     MatrixRef<const double>, MatrixRef<const double>,
                                     const double*, Act, double*, double*, double*);

}  // namespace bprop
