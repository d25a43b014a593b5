"""Activation twins (forward and backward)."""
from __future__ import annotations

import math

import numpy as np

from ._common import put as _put

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715

ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax")


def relu(x, out=None):
    x = np.asarray(x)
    return _put(np.maximum(x, x.dtype.type(0)), out)


def relu_backward(dy, x, out=None):
    """Gradient of relu; ``x`` may be the input or the output (same sign)."""
    dy = np.asarray(dy)
    x = np.asarray(x)
    return _put(np.where(x > 0, dy, dy.dtype.type(0)), out)


def leaky_relu(x, alpha=0.2, out=None):
    x = np.asarray(x)
    return _put(np.where(x > 0, x, x * x.dtype.type(alpha)), out)


def leaky_relu_backward(dy, x, alpha=0.2, out=None):
    """Gradient of leaky_relu; ``x`` may be the input or the output (alpha >= 0)."""
    dy = np.asarray(dy)
    x = np.asarray(x)
    return _put(np.where(x > 0, dy, dy * dy.dtype.type(alpha)), out)


def sigmoid(x, out=None):
    """Logistic function, stable for large |x| (no overflow warnings)."""
    x = np.asarray(x)
    one = x.dtype.type(1)
    e = np.exp(-np.abs(x))
    return _put(np.where(x >= 0, one / (one + e), e / (one + e)), out)


def sigmoid_backward(dy, y, out=None):
    """Gradient of sigmoid from its *output* ``y``."""
    dy = np.asarray(dy)
    y = np.asarray(y)
    return _put(dy * y * (y.dtype.type(1) - y), out)


def tanh(x, out=None):
    return _put(np.tanh(np.asarray(x)), out)


def tanh_backward(dy, y, out=None):
    """Gradient of tanh from its *output* ``y``."""
    dy = np.asarray(dy)
    y = np.asarray(y)
    return _put(dy * (y.dtype.type(1) - y * y), out)


def gelu(x, out=None):
    """GELU, tanh approximation: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).

    Evaluated as x * sigmoid(2u) (the same function), which has no
    cancellation for large negative x.
    """
    x = np.asarray(x)
    t = x.dtype.type
    u = t(_SQRT_2_OVER_PI) * (x + t(_GELU_C) * x * x * x)
    return _put(x * sigmoid(t(2) * u), out)


def gelu_backward(dy, x, out=None):
    """Gradient of gelu (tanh approximation) from its *input* ``x``.

    With s = sigmoid(2u): d/dx [x s] = s + 2 x s (1 - s) du/dx.
    """
    dy = np.asarray(dy)
    x = np.asarray(x)
    t = x.dtype.type
    u = t(_SQRT_2_OVER_PI) * (x + t(_GELU_C) * x * x * x)
    s = sigmoid(t(2) * u)
    du = t(_SQRT_2_OVER_PI) * (t(1) + t(3 * _GELU_C) * x * x)
    return _put(dy * (s + t(2) * x * s * (t(1) - s) * du), out)


def softmax(x, out=None):
    """Softmax over the last axis of a 2-D array, stable for huge logits."""
    x = np.asarray(x)
    if x.shape[-1] == 0:
        return _put(np.empty_like(x), out)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return _put(e / e.sum(axis=-1, keepdims=True), out)


def softmax_backward(dy, y, out=None):
    """Gradient of softmax from its *output* ``y``: y * (dy - sum(dy * y))."""
    dy = np.asarray(dy)
    y = np.asarray(y)
    return _put(y * (dy - (dy * y).sum(axis=-1, keepdims=True)), out)


def log_softmax(x, out=None):
    """Log-softmax over the last axis of a 2-D array, stable for huge logits."""
    x = np.asarray(x)
    if x.shape[-1] == 0:
        return _put(np.empty_like(x), out)
    s = x - x.max(axis=-1, keepdims=True)
    # The sum holds exp(0) = 1 for the max: log(sum) = log1p(sum of the other
    # terms) keeps its relative accuracy where that is tiny (log_softmax at the
    # max is then near 0, and log(sum) would be off by most of its digits).
    # (A row with a NaN keeps it: its argmax is the NaN, whose exp is not 1.)
    e = np.exp(s)
    if e.size:
        first_max = np.argmax(s, axis=-1)[..., None]
        at_max = np.take_along_axis(e, first_max, axis=-1)
        np.put_along_axis(e, first_max, np.where(at_max == 1, 0, at_max), axis=-1)
    return _put(s - np.log1p(e.sum(axis=-1, keepdims=True)), out)


def log_softmax_backward(dy, y, out=None):
    """Gradient of log_softmax from its *output* ``y``: dy - exp(y) * sum(dy)."""
    dy = np.asarray(dy)
    y = np.asarray(y)
    return _put(dy - np.exp(y) * dy.sum(axis=-1, keepdims=True), out)


ACT_FORWARD = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "gelu": gelu,
    "softmax": softmax,
}
ACT_BACKWARD = {
    "relu": relu_backward,
    "leaky_relu": leaky_relu_backward,
    "sigmoid": sigmoid_backward,
    "tanh": tanh_backward,
    "gelu": gelu_backward,
    "softmax": softmax_backward,
}


def activation_name(activation):
    name = "linear" if activation is None else activation
    if name not in ACTIVATIONS:
        raise ValueError(
            "activation: expected one of %s or None, got %r" % (", ".join(ACTIVATIONS), activation)
        )
    return name

