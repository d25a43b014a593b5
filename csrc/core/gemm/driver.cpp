// The five loops of GEMM (after BLIS): JC over NC-wide column blocks of C,
// PC over KC-deep slices of K (+ pack B), IC over MC-tall row blocks (+ pack
// A), then JR / IR over the micro-tiles.  OpenMP shares the packing and the
// micro-tiles of one (JC, PC, IC) block among the threads; K is never split,
// so every element of C is summed in the same order whatever the thread
// count (bitwise-identical results for 1, 2, ... threads).
#include <algorithm>

#include "../activation_apply.hpp"
#include "../parallel.hpp"
#include "../threading.hpp"
#include "gemm.hpp"
#include "kernel_table.hpp"
#include "workspace.hpp"

namespace bprop {
namespace gemm_detail {
namespace {

index_t round_up(index_t x, index_t to) { return (x + to - 1) / to * to; }

// Minimum multiply-adds per thread before another thread is worth waking
// (~40 us of single-core work): below it, the fork/join and the few barriers
// per call cost more than they save, badly so when the cores are shared and
// a team member gets descheduled.  The GEMMs of a batch-32 MLP step stay serial.
constexpr index_t kMinFlopsPerThread = index_t(1) << 20;

template <typename T>
void apply_epilogue(const Epilogue<T>& ep, T* c, index_t rsc, int rows, int cols,
                    index_t col0) {
    for (int i = 0; i < rows; ++i) {
        T* row = c + i * rsc;
        if (ep.bias != nullptr)
            for (int j = 0; j < cols; ++j) row[j] += ep.bias[col0 + j];
        activation_forward_inplace(ep.act, row, cols, ep.alpha);
    }
}

}  // namespace

template <typename T>
void gemm_packed(const KernelInfo<T>& kr, index_t m, index_t n, index_t k, T alpha,
                 MatrixRef<const T> a, MatrixRef<const T> b, T beta, MatrixRef<T> c,
                 const Epilogue<T>& ep) {
    const int MR = kr.mr, NR = kr.nr;
    const index_t KC = kr.kc;
    const index_t MC = std::min(kr.mc, round_up(m, MR));
    const index_t NC = std::min(kr.nc, round_up(n, NR));
    const index_t kc_max = std::min(KC, k);

    thread_local AlignedBuffer a_buf, b_buf;
    T* a_pack = static_cast<T*>(a_buf.reserve(sizeof(T) * MC * kc_max));
    T* b_pack = static_cast<T*>(b_buf.reserve(sizeof(T) * NC * kc_max));

    const int nt = threads_for(m * n * k, kMinFlopsPerThread);

    // Tall A (several row blocks per thread): threads take whole row blocks;
    // otherwise they share the packing and the tiles of each block.
    const index_t m_blocks = (m + MC - 1) / MC;
    const bool split_rows = nt > 1 && m_blocks >= 4 * nt;

    // IC body: pack the MC x KC block of A at row ic into `ap`, then the JR
    // (outer) x IR (inner) tiles, one micro-tile per iteration (a B
    // micro-panel stays in L1 while the IR loop sweeps A); `shared`: the
    // team splits both loops (worksharing), else the calling thread does all.
    auto row_block = [&](index_t ic, index_t kc, index_t pc, index_t jc, index_t n_panels,
                         T beta_eff, bool last_k, T* ap, bool shared) {
        const index_t mc = std::min(MC, m - ic);
        const index_t m_panels = (mc + MR - 1) / MR;
        auto pack = [&](index_t ip) {
            const index_t i0 = ic + ip * MR;
            const int rows = static_cast<int>(std::min<index_t>(MR, m - i0));
            kr.pack_a(kc, rows, a.data + i0 * a.rs + pc * a.cs, a.rs, a.cs, ap + ip * MR * kc);
        };
        const index_t tiles = n_panels * m_panels;
        auto tile = [&](index_t t) {
            const index_t jp = t / m_panels, ip = t % m_panels;
            const index_t i0 = ic + ip * MR, j0 = jc + jp * NR;
            const int rows = static_cast<int>(std::min<index_t>(MR, m - i0));
            const int cols = static_cast<int>(std::min<index_t>(NR, n - j0));
            T* ct = c.data + i0 * c.rs + j0 * c.cs;
            kr.kernel(kc, ap + ip * MR * kc, b_pack + jp * NR * kc, ct, c.rs, c.cs, alpha, beta_eff,
                      rows, cols);
            if (last_k && ep.active()) apply_epilogue(ep, ct, c.rs, rows, cols, j0);
        };
        if (shared) {
#pragma omp for schedule(static)
            for (index_t ip = 0; ip < m_panels; ++ip) pack(ip);
#pragma omp for schedule(static)
            for (index_t t = 0; t < tiles; ++t) tile(t);
        } else {
            for (index_t ip = 0; ip < m_panels; ++ip) pack(ip);
            for (index_t t = 0; t < tiles; ++t) tile(t);
        }
    };

    // The loops below, with their worksharing directives: run by the team, or
    // (one thread) called directly, where they bind to no team at all and no
    // OpenMP region is entered.
    auto five_loops = [&]() {
        for (index_t jc = 0; jc < n; jc += NC) {
            const index_t nc = std::min(NC, n - jc);
            const index_t n_panels = (nc + NR - 1) / NR;
            for (index_t pc = 0; pc < k; pc += KC) {
                const index_t kc = std::min(KC, k - pc);
                const T beta_eff = pc == 0 ? beta : T(1);
                const bool last_k = pc + kc == k;

                // PC: pack the KC x NC slice of B, shared by the whole team.
#pragma omp for schedule(static)
                for (index_t jp = 0; jp < n_panels; ++jp) {
                    const index_t j0 = jc + jp * NR;
                    const int cols = static_cast<int>(std::min<index_t>(NR, n - j0));
                    kr.pack_b(kc, cols, b.data + pc * b.rs + j0 * b.cs, b.rs, b.cs,
                              b_pack + jp * NR * kc);
                }

                if (split_rows) {
                    // IC shared out: each thread packs its own MC x KC blocks of
                    // A into its own buffer and computes their tiles alone (no
                    // barrier per block: a tall A has hundreds of them).
#pragma omp for schedule(static)
                    for (index_t ib = 0; ib < m_blocks; ++ib) {
                        thread_local AlignedBuffer own_a;
                        T* a_mine = static_cast<T*>(own_a.reserve(sizeof(T) * MC * kc_max));
                        row_block(ib * MC, kc, pc, jc, n_panels, beta_eff, last_k, a_mine, false);
                    }
                } else {
                    for (index_t ic = 0; ic < m; ic += MC)
                        row_block(ic, kc, pc, jc, n_panels, beta_eff, last_k, a_pack, true);
                }
            }
        }
    };
    // Called from inside another parallel region (a convolution's tiles, one
    // GEMM per thread), the orphaned worksharing loops above would bind to
    // that enclosing team and split this one GEMM among threads that are each
    // running their own: give the call a team of its own (of one thread).
    if (nt > 1 || in_parallel_region()) {
#pragma omp parallel num_threads(nt)
        five_loops();
    } else {
        five_loops();
    }
}

// Small products: A is read in place (no packing), and so is B when its rows
// are contiguous; only B's last, partial column panel (or all of a
// transposed B) is packed, once, up front.  Each micro-tile of C is then
// computed by one thread, which runs its K blocks in order, exactly as
// gemm_packed does (same blocking, same summation order): the two drivers,
// and any thread count, give the same bits.
template <typename T>
void gemm_direct(const KernelInfo<T>& kr, index_t m, index_t n, index_t k, T alpha,
                 MatrixRef<const T> a, MatrixRef<const T> b, T beta, MatrixRef<T> c,
                 const Epilogue<T>& ep) {
    const int MR = kr.mr, NR = kr.nr;
    const index_t KC = kr.kc;
    const index_t n_panels = (n + NR - 1) / NR, m_panels = (m + MR - 1) / MR;
    const bool b_rows_contiguous = b.cs == 1;
    // Panels packed whole (all k rows): every one, or only the partial last.
    const index_t first_packed = b_rows_contiguous ? n / NR : 0;
    thread_local AlignedBuffer b_buf;
    T* b_pack = static_cast<T*>(b_buf.reserve(sizeof(T) * (n_panels - first_packed) * NR * k + 1));
    for (index_t jp = first_packed; jp < n_panels; ++jp) {
        const index_t j0 = jp * NR;
        kr.pack_b(k, static_cast<int>(std::min<index_t>(NR, n - j0)), b.data + j0 * b.cs, b.rs,
                  b.cs, b_pack + (jp - first_packed) * NR * k);
    }
    const int nt = static_cast<int>(std::min<index_t>(threads_for(m * n * k, kMinFlopsPerThread), n_panels));
    // Threads share out the column panels of C.  Within one, K blocks run
    // outside the row panels, so that the KC x NR slice of B stays in L1
    // while every row panel of A streams past it.
    parallel_for(n_panels, nt, [&](index_t jp) {
        const index_t j0 = jp * NR;
        const int cols = static_cast<int>(std::min<index_t>(NR, n - j0));
        const bool packed = jp >= first_packed;
        const T* b_panel = packed ? b_pack + (jp - first_packed) * NR * k : b.data + j0;
        const index_t rsb = packed ? NR : b.rs;
        for (index_t pc = 0; pc < k; pc += KC) {
            const index_t kc = std::min(KC, k - pc);
            const T beta_eff = pc == 0 ? beta : T(1);
            const bool last_k = pc + kc == k;
            for (index_t ip = 0; ip < m_panels; ++ip) {
                const index_t i0 = ip * MR;
                const int rows = static_cast<int>(std::min<index_t>(MR, m - i0));
                T* ct = c.data + i0 * c.rs + j0 * c.cs;
                kr.direct(kc, a.data + i0 * a.rs + pc * a.cs, a.rs, a.cs, b_panel + pc * rsb, rsb,
                          ct, c.rs, c.cs, alpha, beta_eff, rows, cols);
                if (last_k && ep.active()) apply_epilogue(ep, ct, c.rs, rows, cols, j0);
            }
        }
    });
}

template void gemm_packed<float>(const KernelInfo<float>&, index_t, index_t, index_t, float,
                                 MatrixRef<const float>, MatrixRef<const float>, float,
                                 MatrixRef<float>, const Epilogue<float>&);
template void gemm_packed<double>(const KernelInfo<double>&, index_t, index_t, index_t, double,
                                  MatrixRef<const double>, MatrixRef<const double>, double,
                                  MatrixRef<double>, const Epilogue<double>&);

template void gemm_direct<float>(const KernelInfo<float>&, index_t, index_t, index_t, float,
                                 MatrixRef<const float>, MatrixRef<const float>, float,
                                 MatrixRef<float>, const Epilogue<float>&);
template void gemm_direct<double>(const KernelInfo<double>&, index_t, index_t, index_t, double,
                                  MatrixRef<const double>, MatrixRef<const double>, double,
                                  MatrixRef<double>, const Epilogue<double>&);

}  // namespace gemm_detail
}  // namespace bprop
