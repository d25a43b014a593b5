// GEMM front end: early exits (empty C, k == 0, alpha == 0), then the direct
// driver (small products) or the packed five-loop one, with the micro-kernel
// of the active ISA.
#include "gemm.hpp"

#include <atomic>

#include "../activation_apply.hpp"
#include "../cpu_features.hpp"
#include "kernel_table.hpp"

namespace bprop {
namespace gemm_detail {
template <typename T>
void gemm_packed(const KernelInfo<T>& kr, index_t m, index_t n, index_t k, T alpha,
                 MatrixRef<const T> a, MatrixRef<const T> b, T beta, MatrixRef<T> c,
                 const Epilogue<T>& ep);
template <typename T>
void gemm_direct(const KernelInfo<T>& kr, index_t m, index_t n, index_t k, T alpha,
                 MatrixRef<const T> a, MatrixRef<const T> b, T beta, MatrixRef<T> c,
                 const Epilogue<T>& ep);
}  // namespace gemm_detail

namespace {

// Up to 2M multiply-adds (the GEMMs of a batch-32..128 MLP step), and B no
// wider than 64 micro-panels.
constexpr index_t kDirectMaxMacs = index_t(1) << 21;
constexpr index_t kDirectMaxPanels = 64;

std::atomic<int> g_gemm_path{static_cast<int>(GemmPath::automatic)};

// Packing A pays off once its panels are reused across enough column panels
// of B and the operands outgrow the caches; below that, reading A in place is
// faster (the GEMMs of a batch-32 MLP step).
template <typename T>
bool use_direct(const gemm_detail::KernelInfo<T>& kr, index_t m, index_t n, index_t k) {
    const GemmPath path = static_cast<GemmPath>(g_gemm_path.load(std::memory_order_relaxed));
    if (path != GemmPath::automatic) return path == GemmPath::direct;
    return m * n * k <= kDirectMaxMacs && n <= kDirectMaxPanels * kr.nr;
}

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
    if (use_direct(kr, m, n, k))
        gemm_detail::gemm_direct(kr, m, n, k, alpha, a, b, beta, c, epilogue);
    else
        gemm_detail::gemm_packed(kr, m, n, k, alpha, a, b, beta, c, epilogue);
}

template <typename T>
index_t gemm_panel_width() {
    return gemm_detail::select_kernel<T>(active_isa()).nr;
}

GemmPath gemm_path() { return static_cast<GemmPath>(g_gemm_path.load()); }
void set_gemm_path(GemmPath path) { g_gemm_path.store(static_cast<int>(path)); }

template index_t gemm_panel_width<float>();
template index_t gemm_panel_width<double>();
template void gemm<float>(index_t, index_t, index_t, float, MatrixRef<const float>,
                          MatrixRef<const float>, float, MatrixRef<float>,
                          const Epilogue<float>&);
template void gemm<double>(index_t, index_t, index_t, double, MatrixRef<const double>,
                           MatrixRef<const double>, double, MatrixRef<double>,
                           const Epilogue<double>&);

}  // namespace bprop
