"""Activation twins (forward and backward)."""
from __future__ import annotations

import math

import numpy as np

from ._common import put as _put

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715

# SELU's constants (Klambauer et al. 2017), as TensorFlow and Keras use them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "elu", "selu",
               "softplus", "softsign", "silu", "exponential", "hard_sigmoid")


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


def elu(x, alpha=1.0, out=None):
    """x for x > 0, alpha * (exp(x) - 1) otherwise (expm1: exact digits near 0)."""
    x = np.asarray(x)
    t = x.dtype.type
    return _put(np.where(x > 0, x, t(alpha) * np.expm1(np.minimum(x, t(0)))), out)


def elu_backward(dy, x, alpha=1.0, out=None):
    """Gradient of elu from its *input* ``x``: dy for x > 0, dy * alpha * exp(x) otherwise."""
    dy = np.asarray(dy)
    x = np.asarray(x)
    t = x.dtype.type
    return _put(np.where(x > 0, dy, dy * (t(alpha) * np.exp(np.minimum(x, t(0))))), out)


def selu(x, out=None):
    """scale * elu(x, alpha) with SELU's fixed alpha and scale."""
    x = np.asarray(x)
    t = x.dtype.type
    return _put(t(_SELU_SCALE) * elu(x, _SELU_ALPHA), out)


def selu_backward(dy, x, out=None):
    """Gradient of selu from its *input* ``x``."""
    dy = np.asarray(dy)
    x = np.asarray(x)
    t = x.dtype.type
    slope = np.where(x > 0, t(1), t(_SELU_ALPHA) * np.exp(np.minimum(x, t(0))))
    return _put(dy * (t(_SELU_SCALE) * slope), out)


def softplus(x, out=None):
    """log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|."""
    x = np.asarray(x)
    return _put(np.maximum(x, x.dtype.type(0)) + np.log1p(np.exp(-np.abs(x))), out)


def softplus_backward(dy, x, out=None):
    """Gradient of softplus from its *input* ``x``: dy * sigmoid(x)."""
    dy = np.asarray(dy)
    return _put(dy * sigmoid(np.asarray(x)), out)


def softsign(x, out=None):
    """x / (1 + |x|)."""
    x = np.asarray(x)
    return _put(x / (x.dtype.type(1) + np.abs(x)), out)


def softsign_backward(dy, x, out=None):
    """Gradient of softsign from its *input* ``x``: dy / (1 + |x|)^2."""
    dy = np.asarray(dy)
    x = np.asarray(x)
    d = x.dtype.type(1) + np.abs(x)
    return _put(dy / (d * d), out)


def silu(x, out=None):
    """x * sigmoid(x) (Keras' silu, alias swish)."""
    x = np.asarray(x)
    return _put(x * sigmoid(x), out)


def silu_backward(dy, x, out=None):
    """Gradient of silu from its *input* ``x``: dy * s * (1 + x * (1 - s)), s = sigmoid(x)."""
    dy = np.asarray(dy)
    x = np.asarray(x)
    one = x.dtype.type(1)
    s = sigmoid(x)
    return _put(dy * (s * (one + x * (one - s))), out)


def exponential(x, out=None):
    """exp(x); inf where it overflows (that is the value)."""
    x = np.asarray(x)
    with np.errstate(over="ignore"):
        return _put(np.exp(x), out)


def exponential_backward(dy, y, out=None):
    """Gradient of exponential from its *output* ``y``: dy * y."""
    dy = np.asarray(dy)
    return _put(dy * np.asarray(y), out)


def hard_sigmoid(x, out=None):
    """relu6(x + 3) / 6, Keras 3's definition (0 for x <= -3, 1 for x >= 3)."""
    x = np.asarray(x)
    t = x.dtype.type
    return _put(np.clip(x + t(3), t(0), t(6)) / t(6), out)


def hard_sigmoid_backward(dy, y, out=None):
    """Gradient of hard_sigmoid from its *output* ``y``: dy / 6 where 0 < y < 1, else 0."""
    dy = np.asarray(dy)
    y = np.asarray(y)
    t = dy.dtype.type
    return _put(np.where((y > 0) & (y < 1), dy / t(6), t(0)), out)


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
    "elu": elu,
    "selu": selu,
    "softplus": softplus,
    "softsign": softsign,
    "silu": silu,
    "exponential": exponential,
    "hard_sigmoid": hard_sigmoid,
}
ACT_BACKWARD = {
    "relu": relu_backward,
    "leaky_relu": leaky_relu_backward,
    "sigmoid": sigmoid_backward,
    "tanh": tanh_backward,
    "gelu": gelu_backward,
    "softmax": softmax_backward,
    "elu": elu_backward,
    "selu": selu_backward,
    "softplus": softplus_backward,
    "softsign": softsign_backward,
    "silu": silu_backward,
    "exponential": exponential_backward,
    "hard_sigmoid": hard_sigmoid_backward,
}


def activation_name(activation):
    name = "linear" if activation is None else activation
    if name not in ACTIVATIONS:
        raise ValueError(
            "activation: expected one of %s or None, got %r" % (", ".join(ACTIVATIONS), activation)
        )
    return name

