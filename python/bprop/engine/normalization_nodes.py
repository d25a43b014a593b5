"""Normalization nodes, computed with NumPy in Python (Keras 3's formulas).

In a core plan each is a "python" node: the core calls its forward and
backward back and runs the rest of the step itself; op by op it is called
directly.  Inputs are the plan's rows (n, values per sample), viewed here as
(n,) + the sample shape.

BatchNormalization in training (``training`` and the layer trainable)
normalizes with the batch's mean and (biased) variance and moves its moving
statistics towards them, once per forward:
``moving = moving * momentum + batch * (1 - momentum)``.  A step calls
forward once; the plan snapshots these statistics with the weights
(``StepPlan.state``), so a step the plan undoes and replays does not move
them twice.  Otherwise (inference, or a frozen layer) it normalizes with the
moving statistics.
"""
from __future__ import annotations

import numpy as np

from .nodes import _PythonSegment

__all__ = ["BatchNormNode", "LayerNormNode", "FeatureNormNode"]


class BatchNormNode(_PythonSegment):
    """BatchNormalization over every axis but the layer's ``axis`` (a per-channel
    normalization after Dense (2-D) or Conv2D (4-D)).

    The batch is viewed as (before, channels, after) (after = 1 for the last
    axis).  The per-channel sums are the backend's column sums (``bias_grad``)
    for the last axis, NumPy's in float64 otherwise.  With xhat = (x - mean)
    inv and m values per channel, the training-mode input gradient is
    ``(dy - sum(dy) / m - xhat sum(dy xhat) / m) * gamma * inv``.
    """

    def __init__(self, layer, in_shape, axis, trainable=()):
        # axis: the normalized axis of (n,) + in_shape (>= 1)
        super().__init__(layer, in_shape, in_shape, trainable)
        self.before = int(np.prod(in_shape[:axis - 1], dtype=np.int64))
        self.channels = int(in_shape[axis - 1])
        self.after = int(np.prod(in_shape[axis:], dtype=np.int64))
        self.gamma, self.beta = layer.gamma, layer.beta
        if self.gamma is not None:
            self._add_param(self.gamma, layer.gamma_regularizer)
        if self.beta is not None:
            self._add_param(self.beta, layer.beta_regularizer)
        self.moving_mean = layer.moving_mean
        self.moving_variance = layer.moving_variance
        self._add_param(self.moving_mean)
        self._add_param(self.moving_variance)
        self._saved = None

    def _view(self, a, n):
        return np.asarray(a).reshape(n * self.before, self.channels, self.after)

    def _channel(self, v):
        return v.reshape(1, self.channels, 1)

    def _sum(self, be, a):
        """Per-channel sums of the (before, channels, after) array ``a``."""
        if self.after == 1:  # (rows, channels): the core's column sums
            return be.bias_grad(np.ascontiguousarray(a.reshape(-1, self.channels)))
        return a.sum(axis=(0, 2), dtype=np.float64).astype(self.dtype)

    def forward(self, be, x, n, ctx):
        layer = self.layer
        t = self.dtype.type
        x3 = self._view(np.asarray(x, dtype=self.dtype), n)
        count = x3.shape[0] * self.after
        batch_stats = bool(ctx.training) and layer.trainable and count > 0
        if batch_stats:
            mean = self._sum(be, x3) / t(count)
            xc = x3 - self._channel(mean)
            var = self._sum(be, np.square(xc)) / t(count)
            # Keras 3: moving = moving * momentum + batch * (1 - momentum), in place
            # (the core plan holds these arrays).
            m = layer.momentum
            for moving, batch in ((self.moving_mean, mean), (self.moving_variance, var)):
                moving.value[...] = moving.value * m + batch * (1.0 - m)
        else:
            var = self.moving_variance.value
            xc = x3 - self._channel(self.moving_mean.value)
        inv = t(1) / np.sqrt(var + t(layer.epsilon))
        xhat = xc
        xhat *= self._channel(inv)  # in place: xc is this call's own array
        self._saved = (xhat, inv, batch_stats, count)
        y = xhat if self.gamma is None else xhat * self._channel(self.gamma.value)
        if self.beta is not None:
            y = y + self._channel(self.beta.value)
        elif y is xhat:
            y = xhat.copy()
        return y.reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        xhat, inv, batch_stats, count = self._saved
        dy3 = self._view(dy, n)
        sum_dy = self._sum(be, dy3)
        sum_dy_xhat = self._sum(be, dy3 * xhat)
        for var, value in ((self.gamma, sum_dy_xhat), (self.beta, sum_dy)):
            grad = None if var is None else self.grads.get(var)
            if grad is not None:
                grad[...] = value
        if not need_dx:
            return None
        scale = inv if self.gamma is None else inv * self.gamma.value
        if batch_stats:  # the mean and variance are the batch's: differentiate through them
            t = self.dtype.type
            dx = (dy3 - self._channel(sum_dy / t(count))
                  - xhat * self._channel(sum_dy_xhat / t(count)))
            dx *= self._channel(scale)
        else:
            dx = dy3 * self._channel(scale)
        return np.ascontiguousarray(dx, dtype=self.dtype).reshape(n, self.in_size)


class LayerNormNode(_PythonSegment):
    """LayerNormalization: each sample normalized over ``axes`` of (n,) + the
    sample shape, then ``xhat * gamma + beta`` with gamma and beta broadcast as
    ``param_shape`` (the sizes at the axes, 1 elsewhere).  The input gradient:
    ``(dxhat - mean(dxhat) - xhat mean(dxhat xhat)) inv`` over the axes,
    dxhat = dy * gamma."""

    def __init__(self, layer, in_shape, axes, param_shape, trainable=()):
        super().__init__(layer, in_shape, in_shape, trainable)
        self.axes = tuple(axes)
        self.param_shape = tuple(param_shape)
        # gamma and beta are shared over the axes where param_shape is 1 (the batch's too)
        self.shared_axes = tuple(d for d, size in enumerate(self.param_shape) if size == 1)
        self.gamma, self.beta = layer.gamma, layer.beta
        if self.gamma is not None:
            self._add_param(self.gamma, layer.gamma_regularizer)
        if self.beta is not None:
            self._add_param(self.beta, layer.beta_regularizer)
        self._saved = None

    def _param(self, var):
        return var.value.reshape(self.param_shape)

    def forward(self, be, x, n, ctx):
        x = np.asarray(x, dtype=self.dtype).reshape((n,) + self.in_shape)
        mean = x.mean(axis=self.axes, keepdims=True)
        var = np.square(x - mean).mean(axis=self.axes, keepdims=True)
        inv = 1.0 / np.sqrt(var + self.dtype.type(self.layer.epsilon))
        xhat = (x - mean) * inv
        self._saved = (xhat, inv)
        y = xhat if self.gamma is None else xhat * self._param(self.gamma)
        if self.beta is not None:
            y = y + self._param(self.beta)
        return np.ascontiguousarray(y, dtype=self.dtype).reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        xhat, inv = self._saved
        dy = np.asarray(dy).reshape(xhat.shape)
        for var, part in ((self.gamma, lambda: dy * xhat), (self.beta, lambda: dy)):
            grad = None if var is None else self.grads.get(var)
            if grad is not None:
                grad[...] = part().sum(axis=self.shared_axes, keepdims=True).reshape(grad.shape)
        if not need_dx:
            return None
        dxhat = dy if self.gamma is None else dy * self._param(self.gamma)
        dx = (dxhat - dxhat.mean(axis=self.axes, keepdims=True)
              - xhat * (dxhat * xhat).mean(axis=self.axes, keepdims=True)) * inv
        return np.ascontiguousarray(dx, dtype=self.dtype).reshape(n, self.in_size)


class FeatureNormNode(_PythonSegment):
    """Normalization: (x - mean) / max(sqrt(variance), 1e-7), or its inverse
    mean + x * max(sqrt(variance), 1e-7); mean and variance fixed (adapted
    weights or constants), so the gradient is dy / scale (dy * scale)."""

    EPSILON = 1e-7  # Keras' backend.epsilon()

    def __init__(self, layer, in_shape, trainable=()):
        super().__init__(layer, in_shape, in_shape, trainable)
        for var in layer.weights:
            self._add_param(var)

    def _mean_scale(self):
        mean, variance = self.layer._broadcast_statistics(self.in_shape)
        scale = np.maximum(np.sqrt(variance), self.dtype.type(self.EPSILON))
        return mean, scale

    def forward(self, be, x, n, ctx):
        x = np.asarray(x, dtype=self.dtype).reshape((n,) + self.in_shape)
        mean, scale = self._mean_scale()
        y = mean + x * scale if self.layer.invert else (x - mean) / scale
        return np.ascontiguousarray(y, dtype=self.dtype).reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        if not need_dx:
            return None
        _, scale = self._mean_scale()
        dy = np.asarray(dy).reshape((n,) + self.in_shape)
        dx = dy * scale if self.layer.invert else dy / scale
        return np.ascontiguousarray(dx, dtype=self.dtype).reshape(n, self.in_size)
