#include "pool.hpp"

#include <algorithm>

#include "parallel.hpp"

namespace bprop {
namespace {

// The window of output pixel (oy, ox), clipped to the image: [y0, y1) x [x0, x1).
struct Window {
    index_t y0, y1, x0, x1;
    index_t count() const { return (y1 - y0) * (x1 - x0); }
};

Window window_of(const ConvGeometry& g, index_t oy, index_t ox) {
    const index_t top = oy * g.sh - g.pad_top, left = ox * g.sw - g.pad_left;
    Window win{std::max<index_t>(top, 0), std::min(g.h, top + g.kh), std::max<index_t>(left, 0),
               std::min(g.w, left + g.kw)};
    if (win.y1 < win.y0) win.y1 = win.y0;
    if (win.x1 < win.x0) win.x1 = win.x0;
    return win;
}

// body(img, oy) for every output row, rows shared among the threads.
template <typename F>
void for_output_rows(const ConvGeometry& g, F&& body) {
    const index_t rows = g.n * g.oh;
    const index_t per_row = std::max<index_t>(1, g.ow * g.kh * g.kw * g.c);
    const int nt = threads_for(rows * per_row, kElementwiseChunk * kMinChunksPerThread);
    parallel_for(rows, nt, [&](index_t r) { body(r / std::max<index_t>(g.oh, 1), r % std::max<index_t>(g.oh, 1)); });
}

// body(img) for every image, images shared among the threads (a backward
// pass scatters within its image only, so no two threads write one element).
template <typename F>
void for_images(const ConvGeometry& g, F&& body) {
    const index_t per_image = std::max<index_t>(1, g.h * g.w * g.c + g.oh * g.ow * g.kh * g.kw * g.c);
    const int nt = threads_for(g.n * per_image, kElementwiseChunk * kMinChunksPerThread);
    parallel_for(g.n, std::min<int>(nt, static_cast<int>(std::max<index_t>(g.n, 1))), body);
}

// best = max(best, v) per channel, remembering where (base + channel) the max
// came from: greater, or the first NaN (a NaN input makes a NaN max, as
// NumPy's).  Branch-free, so the channel loop vectorizes.
template <typename T>
inline void max_update(const T* __restrict v, T* __restrict best, std::int32_t* __restrict where,
                       std::int32_t base, index_t c) {
    for (index_t ch = 0; ch < c; ++ch) {
        const T b = best[ch], x = v[ch];
        const bool take = (x > b) | ((x != x) & (b == b));
        best[ch] = take ? x : b;
        where[ch] = take ? base + static_cast<std::int32_t>(ch) : where[ch];
    }
}

template <typename T>
inline void max_update(const T* __restrict v, T* __restrict best, index_t c) {
    for (index_t ch = 0; ch < c; ++ch) {
        const T b = best[ch], x = v[ch];
        const bool take = (x > b) | ((x != x) & (b == b));
        best[ch] = take ? x : b;
    }
}

}  // namespace

template <typename T>
void max_pool2d_forward(const ConvGeometry& g, const T* x, T* y, std::int32_t* indices) {
    const index_t c = g.c, image_size = g.h * g.w * c;
    for_output_rows(g, [&](index_t img, index_t oy) {
        const T* xi = x + img * image_size;
        for (index_t ox = 0; ox < g.ow; ++ox) {
            const index_t out = ((img * g.oh + oy) * g.ow + ox) * c;
            T* best = y + out;
            std::int32_t* where = indices == nullptr ? nullptr : indices + out;
            const Window win = window_of(g, oy, ox);
            if (win.count() == 0) {  // a window wholly in the padding: no input took part
                std::fill(best, best + c, T(0));
                if (where != nullptr) std::fill(where, where + c, std::int32_t(-1));
                continue;
            }
            // Start from the window's first position, then fold in the others in order.
            const index_t first = (win.y0 * g.w + win.x0) * c;
            std::copy(xi + first, xi + first + c, best);
            if (where != nullptr)
                for (index_t ch = 0; ch < c; ++ch) where[ch] = static_cast<std::int32_t>(first + ch);
            for (index_t iy = win.y0; iy < win.y1; ++iy) {
                for (index_t ix = (iy == win.y0 ? win.x0 + 1 : win.x0); ix < win.x1; ++ix) {
                    const index_t base = (iy * g.w + ix) * c;
                    if (where != nullptr)
                        max_update(xi + base, best, where, static_cast<std::int32_t>(base), c);
                    else
                        max_update(xi + base, best, c);
                }
            }
        }
    });
}

template <typename T>
void max_pool2d_backward(const ConvGeometry& g, const T* dy, const std::int32_t* indices, T* dx) {
    const index_t image_size = g.h * g.w * g.c, out_size = g.oh * g.ow * g.c;
    for_images(g, [&](index_t img) {
        T* dxi = dx + img * image_size;
        std::fill(dxi, dxi + image_size, T(0));
        const T* g_out = dy + img * out_size;
        const std::int32_t* where = indices + img * out_size;
        for (index_t i = 0; i < out_size; ++i)
            if (where[i] >= 0) dxi[where[i]] += g_out[i];
    });
}

template <typename T>
void avg_pool2d_forward(const ConvGeometry& g, const T* x, T* y) {
    const index_t c = g.c, image_size = g.h * g.w * c;
    for_output_rows(g, [&](index_t img, index_t oy) {
        const T* xi = x + img * image_size;
        for (index_t ox = 0; ox < g.ow; ++ox) {
            T* out = y + ((img * g.oh + oy) * g.ow + ox) * c;
            std::fill(out, out + c, T(0));
            const Window win = window_of(g, oy, ox);
            for (index_t iy = win.y0; iy < win.y1; ++iy)
                for (index_t ix = win.x0; ix < win.x1; ++ix) {
                    const T* v = xi + (iy * g.w + ix) * c;
                    for (index_t ch = 0; ch < c; ++ch) out[ch] += v[ch];
                }
            const T count = static_cast<T>(std::max<index_t>(win.count(), 1));
            for (index_t ch = 0; ch < c; ++ch) out[ch] /= count;
        }
    });
}

template <typename T>
void avg_pool2d_backward(const ConvGeometry& g, const T* dy, T* dx) {
    const index_t c = g.c, image_size = g.h * g.w * c;
    for_images(g, [&](index_t img) {
        T* dxi = dx + img * image_size;
        std::fill(dxi, dxi + image_size, T(0));
        for (index_t oy = 0; oy < g.oh; ++oy)
            for (index_t ox = 0; ox < g.ow; ++ox) {
                const T* gy = dy + ((img * g.oh + oy) * g.ow + ox) * c;
                const Window win = window_of(g, oy, ox);
                const T count = static_cast<T>(std::max<index_t>(win.count(), 1));
                for (index_t iy = win.y0; iy < win.y1; ++iy)
                    for (index_t ix = win.x0; ix < win.x1; ++ix) {
                        T* d = dxi + (iy * g.w + ix) * c;
                        for (index_t ch = 0; ch < c; ++ch) d[ch] += gy[ch] / count;
                    }
            }
    });
}

template <typename T>
void global_avg_pool_forward(index_t n, index_t positions, index_t c, const T* x, T* y) {
    const int nt = threads_for(n * positions * c, kElementwiseChunk * kMinChunksPerThread);
    parallel_for(n, std::min<int>(nt, static_cast<int>(std::max<index_t>(n, 1))), [&](index_t img) {
        T* out = y + img * c;
        std::fill(out, out + c, T(0));
        const T* xi = x + img * positions * c;
        for (index_t p = 0; p < positions; ++p)
            for (index_t ch = 0; ch < c; ++ch) out[ch] += xi[p * c + ch];
        const T count = static_cast<T>(std::max<index_t>(positions, 1));
        for (index_t ch = 0; ch < c; ++ch) out[ch] /= count;
    });
}

template <typename T>
void global_avg_pool_backward(index_t n, index_t positions, index_t c, const T* dy, T* dx) {
    const T count = static_cast<T>(std::max<index_t>(positions, 1));
    parallel_rows(n * positions, c, [&](index_t r) {
        const T* gy = dy + (r / std::max<index_t>(positions, 1)) * c;
        T* d = dx + r * c;
        for (index_t ch = 0; ch < c; ++ch) d[ch] = gy[ch] / count;
    });
}

#define BPROP_POOL_INSTANTIATE(T)                                                                         \
    template void max_pool2d_forward<T>(const ConvGeometry&, const T*, T*, std::int32_t*);               \
    template void max_pool2d_backward<T>(const ConvGeometry&, const T*, const std::int32_t*, T*);        \
    template void avg_pool2d_forward<T>(const ConvGeometry&, const T*, T*);                              \
    template void avg_pool2d_backward<T>(const ConvGeometry&, const T*, T*);                             \
    template void global_avg_pool_forward<T>(index_t, index_t, index_t, const T*, T*);                   \
    template void global_avg_pool_backward<T>(index_t, index_t, index_t, const T*, T*);
BPROP_POOL_INSTANTIATE(float)
BPROP_POOL_INSTANTIATE(double)
#undef BPROP_POOL_INSTANTIATE

}  // namespace bprop
