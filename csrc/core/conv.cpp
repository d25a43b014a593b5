#include "conv.hpp"

#include <algorithm>
#include <cstring>

#include "bias.hpp"
#include "dense.hpp"
#include "gemm/gemm.hpp"
#include "gemm/workspace.hpp"
#include "parallel.hpp"
#include "softmax.hpp"

namespace bprop {
namespace {

// Image ranges of a batch: the unit of threading and of the kernel
// gradient's partial sums.  A constant, so the bits never depend on the
// thread count; 16 keeps 16 cores busy on a batch of 16 or more.
constexpr index_t kConvRanges = 16;
// A tile's im2col rows fill about half of a 512 KiB-1 MiB L2.
constexpr std::size_t kTileBytes = 256 * 1024;
// Fewer multiply-adds than this per thread: one thread (waking more costs more).
constexpr index_t kMinMacsPerThread = index_t(1) << 18;

template <typename T>
index_t tile_rows(const ConvGeometry& g) {
    const auto per = static_cast<index_t>(kTileBytes / (sizeof(T) * static_cast<std::size_t>(g.patch())));
    return std::clamp<index_t>(per, 32, 4096);
}

index_t range_count(const ConvGeometry& g) { return std::min(g.n, kConvRanges); }

// Output rows [begin, end) of image range r of R (whole images).
void range_rows(const ConvGeometry& g, index_t r, index_t ranges, index_t& begin, index_t& end) {
    const index_t per_image = g.oh * g.ow;
    begin = (r * g.n / ranges) * per_image;
    end = ((r + 1) * g.n / ranges) * per_image;
}

int outer_threads(const ConvGeometry& g, index_t ranges) {
    return static_cast<int>(std::min<index_t>(threads_for(g.out_rows() * g.patch() * g.f, kMinMacsPerThread), ranges));
}

// Short runs (a few channels, or one tap row of them) are copied inline:
// a memcpy call costs more than moving 3 or 32 floats.
template <typename T>
inline void copy_run(T* __restrict dst, const T* __restrict src, index_t count) {
    if (count >= 64) {
        std::memcpy(dst, src, sizeof(T) * static_cast<std::size_t>(count));
        return;
    }
    for (index_t i = 0; i < count; ++i) dst[i] = src[i];
}

template <typename T>
inline void add_run(T* __restrict dst, const T* __restrict src, index_t count) {
    for (index_t i = 0; i < count; ++i) dst[i] += src[i];
}

// The im2col rows of output pixels [r0, r1) into p ((r1 - r0) x patch).
template <typename T>
void gather_patches(const ConvGeometry& g, const T* x, index_t r0, index_t r1, T* p) {
    const index_t per_image = g.oh * g.ow, image_size = g.h * g.w * g.c, run = g.kw * g.c;
    T* dst = p;
    for (index_t r = r0; r < r1; ++r) {
        const index_t img = r / per_image, rem = r % per_image;
        const index_t oy = rem / g.ow, ox = rem % g.ow;
        const T* xi = x + img * image_size;
        const index_t ix0 = ox * g.sw - g.pad_left;
        // With dilation 1 a tap row inside the image is kw * c contiguous values.
        const bool row_run = g.dw == 1 && ix0 >= 0 && ix0 + g.kw <= g.w;
        for (index_t ky = 0; ky < g.kh; ++ky) {
            const index_t iy = oy * g.sh - g.pad_top + ky * g.dh;
            if (iy < 0 || iy >= g.h) {  // the zero padding (all-zero bits are +0.0)
                std::fill(dst, dst + run, T(0));
                dst += run;
                continue;
            }
            const T* src_row = xi + iy * g.w * g.c;
            if (row_run) {
                copy_run(dst, src_row + ix0 * g.c, run);
                dst += run;
                continue;
            }
            for (index_t kx = 0; kx < g.kw; ++kx, dst += g.c) {
                const index_t ix = ix0 + kx * g.dw;
                if (ix >= 0 && ix < g.w)
                    copy_run(dst, src_row + ix * g.c, g.c);
                else
                    std::fill(dst, dst + g.c, T(0));
            }
        }
    }
}

// dx += col2im(dp) for output pixels [r0, r1): the inverse of gather_patches.
template <typename T>
void scatter_patches(const ConvGeometry& g, const T* dp, index_t r0, index_t r1, T* dx) {
    const index_t per_image = g.oh * g.ow, image_size = g.h * g.w * g.c, run = g.kw * g.c;
    const T* src = dp;
    for (index_t r = r0; r < r1; ++r) {
        const index_t img = r / per_image, rem = r % per_image;
        const index_t oy = rem / g.ow, ox = rem % g.ow;
        T* xi = dx + img * image_size;
        const index_t ix0 = ox * g.sw - g.pad_left;
        const bool row_run = g.dw == 1 && ix0 >= 0 && ix0 + g.kw <= g.w;
        for (index_t ky = 0; ky < g.kh; ++ky, src += run) {
            const index_t iy = oy * g.sh - g.pad_top + ky * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            T* dst_row = xi + iy * g.w * g.c;
            if (row_run) {
                add_run(dst_row + ix0 * g.c, src, run);
                continue;
            }
            for (index_t kx = 0; kx < g.kw; ++kx) {
                const index_t ix = ix0 + kx * g.dw;
                if (ix >= 0 && ix < g.w) add_run(dst_row + ix * g.c, src + kx * g.c, g.c);
            }
        }
    }
}

}  // namespace

ConvGeometry conv_geometry(index_t n, index_t h, index_t w, index_t c, index_t kh, index_t kw, index_t f,
                           index_t sh, index_t sw, index_t dh, index_t dw, bool same_padding) {
    ConvGeometry g;
    g.n = n, g.h = h, g.w = w, g.c = c, g.kh = kh, g.kw = kw, g.f = f;
    g.sh = sh, g.sw = sw, g.dh = dh, g.dw = dw;
    const index_t eff_h = (kh - 1) * dh + 1, eff_w = (kw - 1) * dw + 1;
    if (same_padding) {
        g.oh = (h + sh - 1) / sh;
        g.ow = (w + sw - 1) / sw;
        g.pad_top = std::max<index_t>((g.oh - 1) * sh + eff_h - h, 0) / 2;
        g.pad_left = std::max<index_t>((g.ow - 1) * sw + eff_w - w, 0) / 2;
    } else {
        g.oh = h >= eff_h ? (h - eff_h) / sh + 1 : 0;
        g.ow = w >= eff_w ? (w - eff_w) / sw + 1 : 0;
    }
    return g;
}

template <typename T>
void conv2d_forward(const ConvGeometry& g, const T* x, const T* kernel, const T* bias, Act act, T* y) {
    const index_t rows = g.out_rows(), k = g.patch();
    if (rows <= 0 || g.f <= 0) return;
    Epilogue<T> ep;
    ep.bias = bias;
    ep.act = act == Act::softmax ? Act::linear : act;
    ep.alpha = T(default_alpha(act));
    const MatrixRef<const T> wr{kernel, g.f, 1};
    if (g.pointwise()) {
        gemm<T>(rows, g.f, k, T(1), MatrixRef<const T>{x, k, 1}, wr, T(0), MatrixRef<T>{y, g.f, 1}, ep);
    } else {
        const index_t ranges = range_count(g), tile = tile_rows<T>(g);
        parallel_for(ranges, outer_threads(g, ranges), [&](index_t r) {
            index_t begin, end;
            range_rows(g, r, ranges, begin, end);
            thread_local AlignedBuffer patches;
            T* p = static_cast<T*>(patches.reserve(sizeof(T) * static_cast<std::size_t>(tile * k)));
            for (index_t t0 = begin; t0 < end; t0 += tile) {
                const index_t t1 = std::min(end, t0 + tile);
                gather_patches(g, x, t0, t1, p);
                gemm<T>(t1 - t0, g.f, k, T(1), MatrixRef<const T>{p, k, 1}, wr, T(0),
                        MatrixRef<T>{y + t0 * g.f, g.f, 1}, ep);
            }
        });
    }
    if (act == Act::softmax) softmax_forward(y, y, rows, g.f);
}

template <typename T>
void conv2d_backward(const ConvGeometry& g, const T* dy, const T* x, const T* kernel, const T* z_or_y, Act act,
                     T* dx, T* dkernel, T* dbias) {
    const index_t rows = g.out_rows(), k = g.patch(), f = g.f;
    const index_t input_size = g.n * g.h * g.w * g.c;
    if (rows <= 0) {  // nothing reached the output: every gradient is zero
        if (dx != nullptr) std::fill(dx, dx + input_size, T(0));
        if (dkernel != nullptr) std::fill(dkernel, dkernel + k * f, T(0));
        if (dbias != nullptr) std::fill(dbias, dbias + f, T(0));
        return;
    }
    const T* dz = activation_grad_scratch(act, dy, z_or_y, rows, f);  // dy * act'(.)
    if (dbias != nullptr) bias_grad(dz, dbias, rows, f);
    const MatrixRef<const T> dz_all{dz, f, 1};
    const MatrixRef<const T> kernel_t{kernel, 1, f};  // (f x k): the kernel's transpose
    if (g.pointwise()) {
        if (dkernel != nullptr)
            gemm<T>(k, f, rows, T(1), MatrixRef<const T>{x, 1, k}, dz_all, T(0), MatrixRef<T>{dkernel, f, 1});
        if (dx != nullptr) gemm<T>(rows, k, f, T(1), dz_all, kernel_t, T(0), MatrixRef<T>{dx, k, 1});
        return;
    }
    const index_t ranges = range_count(g), tile = tile_rows<T>(g);
    // One partial kernel gradient per range (the range's tiles accumulate
    // into it in order), summed in range order below.
    thread_local AlignedBuffer partial_buf;
    T* partials = nullptr;
    if (dkernel != nullptr && ranges > 1)
        partials = static_cast<T*>(partial_buf.reserve(sizeof(T) * static_cast<std::size_t>(ranges * k * f)));
    const index_t image_size = g.h * g.w * g.c, per_image = g.oh * g.ow;
    parallel_for(ranges, outer_threads(g, ranges), [&](index_t r) {
        index_t begin, end;
        range_rows(g, r, ranges, begin, end);
        thread_local AlignedBuffer patch_buf, dpatch_buf;
        if (dx != nullptr)  // this range's images: zeroed, then only this thread adds to them
            std::fill(dx + (begin / per_image) * image_size, dx + (end / per_image) * image_size, T(0));
        T* part = ranges > 1 ? partials + r * k * f : dkernel;
        T* p = dkernel != nullptr ? static_cast<T*>(patch_buf.reserve(sizeof(T) * static_cast<std::size_t>(tile * k)))
                                  : nullptr;
        T* dp = dx != nullptr ? static_cast<T*>(dpatch_buf.reserve(sizeof(T) * static_cast<std::size_t>(tile * k)))
                              : nullptr;
        for (index_t t0 = begin; t0 < end; t0 += tile) {
            const index_t t1 = std::min(end, t0 + tile), m = t1 - t0;
            const MatrixRef<const T> dz_tile{dz + t0 * f, f, 1};
            if (dkernel != nullptr) {
                gather_patches(g, x, t0, t1, p);
                gemm<T>(k, f, m, T(1), MatrixRef<const T>{p, 1, k}, dz_tile, t0 == begin ? T(0) : T(1),
                        MatrixRef<T>{part, f, 1});
            }
            if (dx != nullptr) {
                gemm<T>(m, k, f, T(1), dz_tile, kernel_t, T(0), MatrixRef<T>{dp, k, 1});
                scatter_patches(g, dp, t0, t1, dx);
            }
        }
    });
    if (partials != nullptr) {
        parallel_chunks(k * f, kElementwiseChunk, [&](index_t, index_t lo, index_t hi) {
            for (index_t i = lo; i < hi; ++i) {
                T sum = partials[i];
                for (index_t r = 1; r < ranges; ++r) sum += partials[r * k * f + i];
                dkernel[i] = sum;
            }
        });
    }
}

template void conv2d_forward<float>(const ConvGeometry&, const float*, const float*, const float*, Act, float*);
template void conv2d_forward<double>(const ConvGeometry&, const double*, const double*, const double*, Act,
                                     double*);
template void conv2d_backward<float>(const ConvGeometry&, const float*, const float*, const float*, const float*,
                                     Act, float*, float*, float*);
template void conv2d_backward<double>(const ConvGeometry&, const double*, const double*, const double*,
                                      const double*, Act, double*, double*, double*);

}  // namespace bprop
