"""The plan's image nodes, op by op: the kernel calls of their C++ twins
(csrc/core/plan/spatial_nodes.cpp), in the same order, through a backend.

Samples are NHWC images flattened to (n, h * w * c).  A 1-D layer (Conv1D,
MaxPooling1D, ...) runs as a 2-D one on images of height 1.
"""
from __future__ import annotations

import numpy as np

from ..opdefs import ACTIVATIONS, activation_forward
from .nodes import Node

__all__ = ["Conv2DNode", "Pool2DNode", "GlobalAvgPoolNode", "ZeroPad2DNode"]


class Conv2DNode(Node):
    """``act(conv2d(x, kernel) + bias)``: ``conv2d`` / ``conv2d_backward``."""

    core_kind = "conv2d"

    def __init__(self, layer, in_shape, out_shape, image, out_image, kernel_size, strides,
                 dilation, padding, activation, trainable=()):
        super().__init__(layer, in_shape, out_shape, trainable)
        self.image = tuple(int(d) for d in image)  # (h, w, c)
        self.out_image = tuple(int(d) for d in out_image)  # (oh, ow, filters)
        self.kernel_size = tuple(kernel_size)       # (kh, kw)
        self.strides = tuple(strides)
        self.dilation = tuple(dilation)
        self.padding = padding
        self.activation = activation
        self.filters = layer.filters
        self.kernel_shape4 = self.kernel_size + (self.image[2], self.filters)
        self._add_kernel_params(layer)
        self._x4 = self._saved = None

    def _geometry(self):
        return dict(strides=self.strides, padding=self.padding, dilation_rate=self.dilation)

    def forward(self, be, x, n, ctx):
        x4 = x.reshape((n,) + self.image)
        k4 = self.kernel.value.reshape(self.kernel_shape4)
        b = None if self.bias is None else self.bias.value
        y4 = self._buf("y", (n,) + self.out_image)
        if ACTIVATIONS[self.activation].backward_from == "input":
            # The backward needs the pre-activation: the linear part, then the activation.
            z = self._buf("z", y4.shape)
            be.conv2d(x4, k4, b, activation=None, out=z, **self._geometry())
            activation_forward(be, self.activation, z.reshape(-1, self.filters),
                               out=y4.reshape(-1, self.filters))
            self._saved = z
        else:
            be.conv2d(x4, k4, b, activation=self.activation, out=y4, **self._geometry())
            self._saved = y4
        self._x4 = x4
        return y4.reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        kernel_grad = self.grads.get(self.kernel)
        bias_grad = None if self.bias is None else self.grads.get(self.bias)
        dx = self._buf("dx", (n,) + self.image) if need_dx else None
        dk4 = None if kernel_grad is None else kernel_grad.reshape(self.kernel_shape4)
        be.conv2d_backward(dy.reshape((n,) + self.out_image), self._x4,
                           self.kernel.value.reshape(self.kernel_shape4),
                           None if self.activation == "linear" else self._saved, self.activation,
                           dx=dx, dw=dk4, db=bias_grad, need_dx=need_dx,
                           need_dw=kernel_grad is not None, need_db=bias_grad is not None,
                           **self._geometry())
        return None if dx is None else dx.reshape(n, self.in_size)

    def core_spec(self, index_of):
        return self._spec("conv2d", image=list(self.image), kernel_size=list(self.kernel_size),
                          filters=self.filters, strides=list(self.strides),
                          dilation=list(self.dilation), padding=self.padding,
                          activation=self.activation, kernel=index_of[self.kernel],
                          bias=None if self.bias is None else index_of[self.bias])


class Pool2DNode(Node):
    """Max or average pooling: ``max_pool2d`` (argmax kept) / ``avg_pool2d``."""

    def __init__(self, layer, in_shape, out_shape, image, out_image, pool_size, strides, padding,
                 kind, trainable=()):
        super().__init__(layer, in_shape, out_shape, trainable)
        self.image = tuple(int(d) for d in image)
        self.out_image = tuple(int(d) for d in out_image)
        self.pool_size = tuple(pool_size)
        self.strides = tuple(strides)
        self.padding = padding
        self.kind = kind  # "max" or "avg"
        self.core_kind = "%s_pool2d" % kind
        self._indices = None

    def forward(self, be, x, n, ctx):
        x4 = x.reshape((n,) + self.image)
        y = self._buf("y", (n,) + self.out_image)
        if self.kind == "max":
            idx = self._buf("indices", y.shape, np.int32)
            be.max_pool2d(x4, self.pool_size, self.strides, self.padding, out=y, indices=idx)
            self._indices = idx
        else:
            be.avg_pool2d(x4, self.pool_size, self.strides, self.padding, out=y)
        return y.reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        if not need_dx:
            return None
        dx = self._buf("dx", (n,) + self.image)
        dy4 = dy.reshape((n,) + self.out_image)
        if self.kind == "max":
            be.max_pool2d_backward(dy4, self._indices, dx.shape, out=dx)
        else:
            be.avg_pool2d_backward(dy4, dx.shape, self.pool_size, self.strides, self.padding,
                                   out=dx)
        return dx.reshape(n, self.in_size)

    def core_spec(self, index_of):
        return self._spec(self.core_kind, image=list(self.image), pool_size=list(self.pool_size),
                          strides=list(self.strides), padding=self.padding)


class GlobalAvgPoolNode(Node):
    """The mean over every position: (positions, c) -> (c,) per sample."""

    core_kind = "global_avg_pool"

    def __init__(self, layer, in_shape, out_shape, image, trainable=()):
        super().__init__(layer, in_shape, out_shape, trainable)
        self.image = tuple(int(d) for d in image)

    def forward(self, be, x, n, ctx):
        y = self._buf("y", (n, self.image[2]))
        be.global_average_pool2d(x.reshape((n,) + self.image), out=y)
        return y.reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        if not need_dx:
            return None
        dx = self._buf("dx", (n,) + self.image)
        be.global_average_pool2d_backward(dy.reshape(n, self.image[2]), dx.shape, out=dx)
        return dx.reshape(n, self.in_size)

    def core_spec(self, index_of):
        spec = self._spec("global_avg_pool")
        spec["rows_per_sample"] = self.image[0] * self.image[1]
        spec["cols"] = self.image[2]
        return spec


class ZeroPad2DNode(Node):
    """Zeros around every image: (h, w, c) -> (h + top + bottom, w + left + right, c)."""

    core_kind = "zero_pad2d"

    def __init__(self, layer, in_shape, out_shape, image, padding, trainable=()):
        super().__init__(layer, in_shape, out_shape, trainable)
        self.image = tuple(int(d) for d in image)
        (self.top, self.bottom), (self.left, self.right) = padding

    def forward(self, be, x, n, ctx):
        h, w, c = self.image
        y = self._buf("y", (n, h + self.top + self.bottom, w + self.left + self.right, c))
        y.fill(0)
        y[:, self.top:self.top + h, self.left:self.left + w, :] = x.reshape((n,) + self.image)
        return y.reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        if not need_dx:
            return None
        h, w, c = self.image
        dx = self._buf("dx", (n,) + self.image)
        dy4 = dy.reshape(n, h + self.top + self.bottom, w + self.left + self.right, c)
        dx[...] = dy4[:, self.top:self.top + h, self.left:self.left + w, :]
        return dx.reshape(n, self.in_size)

    def core_spec(self, index_of):
        return self._spec("zero_pad2d", image=list(self.image),
                          padding=[self.top, self.bottom, self.left, self.right])
