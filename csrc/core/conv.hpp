// 2-D convolution, channels last (NHWC input, HWIO kernel: Keras' layouts),
// forward with the bias and activation fused, and its backward.
//
// Built on the GEMM: the output rows (one per output pixel) are computed in
// tiles; a tile's im2col rows (each pixel's receptive field, kh*kw*c values,
// in the kernel's (kh, kw, c) order) are gathered into a per-thread buffer
// the size of L2, never the whole im2col matrix, and multiplied by the kernel
// viewed as a (kh*kw*c) x f matrix, the bias and activation applied by the
// GEMM's epilogue.  A 1x1 kernel of stride 1 without padding reads the input
// in place (it is a dense layer over the pixels).
//
// Determinism: the work is split into a fixed number of image ranges that
// depends on the batch only (kConvRanges), never on the thread count; the
// kernel gradient is a sum of one partial per range, added in range order,
// and the input gradient of an image is written by the one thread that owns
// its range.  So the bits are the same at any thread count.
#pragma once

#include "activation_kind.hpp"
#include "common.hpp"

namespace bprop {

struct ConvGeometry {
    index_t n = 0, h = 0, w = 0, c = 0;  // input (n, h, w, c)
    index_t kh = 1, kw = 1, f = 0;       // kernel (kh, kw, c, f)
    index_t sh = 1, sw = 1;              // strides
    index_t dh = 1, dw = 1;              // dilations
    index_t pad_top = 0, pad_left = 0;   // zeros before row 0 / column 0
    index_t oh = 0, ow = 0;              // output (n, oh, ow, f)

    index_t patch() const { return kh * kw * c; }      // im2col row length
    index_t out_rows() const { return n * oh * ow; }   // output pixels
    bool pointwise() const {
        return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pad_top == 0 && pad_left == 0;
    }
};

// The output size and padding of Keras / TensorFlow: "valid" keeps whole
// windows (oh = floor((h - (kh-1)*dh - 1) / sh) + 1, 0 when the window does
// not fit), "same" gives oh = ceil(h / sh) with the padding split evenly, the
// odd one at the bottom/right.
ConvGeometry conv_geometry(index_t n, index_t h, index_t w, index_t c, index_t kh, index_t kw, index_t f,
                           index_t sh, index_t sw, index_t dh, index_t dw, bool same_padding);

// y (n, oh, ow, f) = act(conv(x, kernel) + bias); bias may be null.
// Act::softmax is applied over the f channels of each pixel.
template <typename T>
void conv2d_forward(const ConvGeometry& g, const T* x, const T* kernel, const T* bias, Act act, T* y);

// From dy (n, oh, ow, f): dx (n, h, w, c), dkernel (kh, kw, c, f), dbias (f);
// each may be null (not wanted).  z_or_y as in dense_backward: the
// activation's output (its input for gelu), unused for linear.
template <typename T>
void conv2d_backward(const ConvGeometry& g, const T* dy, const T* x, const T* kernel, const T* z_or_y, Act act,
                     T* dx, T* dkernel, T* dbias);

}  // namespace bprop
