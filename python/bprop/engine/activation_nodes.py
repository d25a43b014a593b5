"""Activation nodes without core kernels, computed with NumPy in Python.

The activation layers whose arguments the core's kernels cover (ReLU with
its defaults, LeakyReLU, ELU, Softmax over the last axis) run as an
:class:`~bprop.engine.nodes.ActivationNode`.  The rest run here: ReLU with a
``max_value`` or a ``threshold``, PReLU (a trainable slope per position) and
Softmax over other axes.  In a core plan each is a "python" node (the core
calls it back for its forward and backward and runs the rest of the step
itself); op by op it is called directly.  Inputs are the plan's rows
(n, values per sample); the formulas are Keras 3's.
"""
from __future__ import annotations

import numpy as np

from .nodes import _PythonSegment

__all__ = ["ThresholdedReluNode", "PReLUNode", "AxisSoftmaxNode"]


class ThresholdedReluNode(_PythonSegment):
    """Keras' ``relu(x, negative_slope, max_value, threshold)``:
    min(x, max_value) for x > threshold, negative_slope * (x - threshold) otherwise."""

    def __init__(self, layer, in_shape, negative_slope, max_value, threshold, trainable=()):
        super().__init__(layer, in_shape, in_shape, trainable)
        t = self.dtype.type
        self.negative_slope = t(negative_slope)
        self.max_value = None if max_value is None else t(max_value)
        self.threshold = t(threshold)
        self._x = None

    def forward(self, be, x, n, ctx):
        x = np.asarray(x, dtype=self.dtype)
        above = x if self.max_value is None else np.minimum(x, self.max_value)
        y = np.where(x > self.threshold, above, self.negative_slope * (x - self.threshold))
        self._x = x
        return np.ascontiguousarray(y, dtype=self.dtype).reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        if not need_dx:
            return None
        x = self._x
        slope = np.where(x > self.threshold, self.dtype.type(1), self.negative_slope)
        if self.max_value is not None:
            slope = np.where(x < self.max_value, slope, self.dtype.type(0))
        return np.ascontiguousarray(dy * slope, dtype=self.dtype).reshape(n, self.in_size)


class PReLUNode(_PythonSegment):
    """x for x > 0, alpha * x otherwise, alpha a weight shared over ``shared_axes``."""

    def __init__(self, layer, in_shape, trainable=()):
        super().__init__(layer, in_shape, in_shape, trainable)
        self.alpha = layer.alpha
        self._add_param(self.alpha, layer.alpha_regularizer)
        # the axes of (n,) + in_shape that alpha is shared over: the batch, the shared ones
        self.reduce_axes = (0,) + tuple(sorted(layer.shared_axes or ()))
        self._x = None

    def forward(self, be, x, n, ctx):
        x = np.asarray(x, dtype=self.dtype).reshape((n,) + self.in_shape)
        alpha = self.alpha.value
        y = np.where(x > 0, x, alpha * x)
        self._x = x
        return np.ascontiguousarray(y, dtype=self.dtype).reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        x = self._x
        dy = np.asarray(dy).reshape(x.shape)
        grad = self.grads.get(self.alpha)
        if grad is not None:
            # d/dalpha of -alpha * relu(-x) is min(x, 0)
            part = (dy * np.minimum(x, self.dtype.type(0))).sum(axis=self.reduce_axes,
                                                                 keepdims=True)
            grad[...] = part.reshape(grad.shape)
        if not need_dx:
            return None
        dx = np.where(x > 0, dy, self.alpha.value * dy)
        return np.ascontiguousarray(dx, dtype=self.dtype).reshape(n, self.in_size)


class AxisSoftmaxNode(_PythonSegment):
    """Softmax over ``axes`` of (batch,) + the sample shape (Keras' Softmax(axis)
    for an axis other than the last, or several axes)."""

    def __init__(self, layer, in_shape, axes, trainable=()):
        super().__init__(layer, in_shape, in_shape, trainable)
        self.axes = tuple(axes)
        self._y = None

    def forward(self, be, x, n, ctx):
        x = np.asarray(x, dtype=self.dtype).reshape((n,) + self.in_shape)
        # Shift by the max over the axes: exp never overflows.
        e = np.exp(x - x.max(axis=self.axes, keepdims=True))
        y = e / e.sum(axis=self.axes, keepdims=True)
        self._y = y
        return np.ascontiguousarray(y, dtype=self.dtype).reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        if not need_dx:
            return None
        y = self._y
        dy = np.asarray(dy).reshape(y.shape)
        dx = y * (dy - (dy * y).sum(axis=self.axes, keepdims=True))
        return np.ascontiguousarray(dx, dtype=self.dtype).reshape(n, self.in_size)
