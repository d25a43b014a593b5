// Pooling over the two spatial axes of NHWC images (Keras' channels_last):
// max (with the argmax kept for the backward), average, global average.
//
// A pool is described by a ConvGeometry (conv.hpp) whose kernel is the
// window (kh x kw, dilation 1) and whose f equals c.  With "same" padding
// the padded positions take no part: a max ignores them and an average
// divides by the positions inside the image (TensorFlow's rule).  Work is
// split over images (or output rows), never a sum across threads: the bits
// do not depend on the thread count.
#pragma once

#include <cstdint>

#include "common.hpp"
#include "conv.hpp"

namespace bprop {

// y (n, oh, ow, c): the max of each window.  indices (same shape, may be
// null): where it was, as the flat index (iy * w + ix) * c + ch within its
// image; the first maximum in window order, or the first NaN.
template <typename T>
void max_pool2d_forward(const ConvGeometry& g, const T* x, T* y, std::int32_t* indices);

// dx (n, h, w, c) = dy routed back to the argmax of each window (sums where
// windows overlap).  indices must come from max_pool2d_forward of this g.
template <typename T>
void max_pool2d_backward(const ConvGeometry& g, const T* dy, const std::int32_t* indices, T* dx);

template <typename T>
void avg_pool2d_forward(const ConvGeometry& g, const T* x, T* y);

template <typename T>
void avg_pool2d_backward(const ConvGeometry& g, const T* dy, T* dx);

// y (n, c) = the mean of x (n, positions, c) over its positions, and back.
template <typename T>
void global_avg_pool_forward(index_t n, index_t positions, index_t c, const T* x, T* y);

template <typename T>
void global_avg_pool_backward(index_t n, index_t positions, index_t c, const T* dy, T* dx);

}  // namespace bprop
