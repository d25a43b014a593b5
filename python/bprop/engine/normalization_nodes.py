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


def _normalized_backward(dxhat, xhat, inv, axes):
    """dx of xhat = (x - mean(x)) * inv, inv = 1/sqrt(var(x) + eps), the moments
    over ``axes``, given dxhat: (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) inv."""
    return (dxhat - dxhat.mean(axis=axes, keepdims=True)
            - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)) * inv


class _AffineNormNode(_PythonSegment):
    """xhat * gamma + beta with xhat normalized over ``stat_axes`` of (n,) + sample
    shape; gamma and beta broadcast as ``param_shape`` (LayerNormalization and
    BatchNormalization)."""

    def __init__(self, layer, in_shape, stat_axes, param_shape, trainable=()):
        super().__init__(layer, in_shape, in_shape, trainable)
        self.stat_axes = tuple(stat_axes)
        self.param_shape = tuple(param_shape)  # gamma/beta as broadcast against (n,) + in_shape
        self.gamma = layer.gamma
        self.beta = layer.beta
        if self.gamma is not None:
            self._add_param(self.gamma, layer.gamma_regularizer)
        if self.beta is not None:
            self._add_param(self.beta, layer.beta_regularizer)
        self._saved = None

    def _param(self, var):
        return var.value.reshape(self.param_shape)

    def _affine(self, xhat):
        y = xhat if self.gamma is None else xhat * self._param(self.gamma)
        if self.beta is not None:
            y = y + self._param(self.beta)
        return y

    def _param_grads(self, dy, xhat):
        """gamma and beta gradients: dy (times xhat) summed over every axis they are shared on."""
        shared = tuple(d for d, size in enumerate(self.param_shape) if size == 1)
        for var, part in ((self.gamma, lambda: dy * xhat), (self.beta, lambda: dy)):
            grad = None if var is None else self.grads.get(var)
            if grad is not None:
                grad[...] = part().sum(axis=shared, keepdims=True).reshape(grad.shape)

    def _finish_backward(self, dy, xhat, inv, through_stats, n, need_dx):
        self._param_grads(dy, xhat)
        if not need_dx:
            return None
        dxhat = dy if self.gamma is None else dy * self._param(self.gamma)
        if through_stats:  # the mean and variance are the input's: differentiate through them
            dx = _normalized_backward(dxhat, xhat, inv, self.stat_axes)
        else:
            dx = dxhat * inv
        return np.ascontiguousarray(dx, dtype=self.dtype).reshape(n, self.in_size)


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


class LayerNormNode(_AffineNormNode):
    """LayerNormalization: each sample normalized over the layer's axes."""

    def __init__(self, layer, in_shape, axes, param_shape, trainable=()):
        super().__init__(layer, in_shape, axes, param_shape, trainable)

    def forward(self, be, x, n, ctx):
        x = np.asarray(x, dtype=self.dtype).reshape((n,) + self.in_shape)
        mean = x.mean(axis=self.stat_axes, keepdims=True)
        var = np.square(x - mean).mean(axis=self.stat_axes, keepdims=True)
        inv = 1.0 / np.sqrt(var + self.dtype.type(self.layer.epsilon))
        xhat = (x - mean) * inv
        self._saved = (xhat, inv)
        y = self._affine(xhat)
        return np.ascontiguousarray(y, dtype=self.dtype).reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        xhat, inv = self._saved
        dy = np.asarray(dy).reshape(xhat.shape)
        return self._finish_backward(dy, xhat, inv, True, n, need_dx)


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
