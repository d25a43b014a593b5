// GEMM front end: early exits (empty C, k == 0, alpha == 0), then the packed
// five-loop driver with the micro-kernel of the active ISA.
#include "gemm.hpp"

#include "../activation_apply.hpp"
#include "../cpu_features.hpp"
#include "kernel_table.hpp"

namespace bprop {
namespace gemm_detail {
template <typename T>
void gemm_packed(const KernelInfo<T>& kr, index_t m, index_t n, index_t k, T alpha,
                 MatrixRef<const T> a, MatrixRef<const T> b, T beta, MatrixRef<T> c,
                 const Epilogue<T>& ep);
}  // namespace gemm_detail

namespace {

// C = beta * C (beta == 0 writes zeros without reading), then the epilogue.
template <typename T>
void scale_only(index_t m, index_t n, T beta, MatrixRef<T> c, const Epilogue<T>& ep) {
    for (index_t i = 0; i < m; ++i) {
        T* row = c.data + i * c.rs;
        for (index_t j = 0; j < n; ++j) row[j * c.cs] = beta == T(0) ? T(0) : beta * row[j * c.cs];
        if (ep.active()) {
            if (ep.bias != nullptr)
                for (index_t j = 0; j < n; ++j) row[j] += ep.bias[j];
            activation_forward_inplace(ep.act, row, n, ep.alpha);
        }
    }
}

}  // namespace

template <typename T>
void gemm(index_t m, index_t n, index_t k, T alpha, MatrixRef<const T> a, MatrixRef<const T> b,
          T beta, MatrixRef<T> c, const Epilogue<T>& epilogue) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == T(0)) {
        scale_only(m, n, beta, c, epilogue);
        return;
    }
    const gemm_detail::KernelInfo<T> kr = gemm_detail::select_kernel<T>(active_isa());
    gemm_detail::gemm_packed(kr, m, n, k, alpha, a, b, beta, c, epilogue);
}

template void gemm<float>(index_t, index_t, index_t, float, MatrixRef<const float>,
                          MatrixRef<const float>, float, MatrixRef<float>,
                          const Epilogue<float>&);
template void gemm<double>(index_t, index_t, index_t, double, MatrixRef<const double>,
                           MatrixRef<const double>, double, MatrixRef<double>,
                           const Epilogue<double>&);

}  // namespace bprop
