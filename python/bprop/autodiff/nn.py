"""``bprop.nn``: activations and per-example cross-entropies on tensors.

Forward and backward run on the backend's kernels (``relu`` /
``relu_backward``, ``softmax`` / ``softmax_backward``, ...).  Row-wise ops
(softmax, log_softmax, the cross-entropies) work over ``axis`` (default
the last): the tensor is viewed as a 2-D (rows, classes) array for the
kernel, as the kernels are row-wise over 2-D arrays.
"""
from __future__ import annotations

import math

import numpy as np

from ..opdefs import LEAKY_RELU_ALPHA, activation_backward, activation_forward
from .graph import backend, result
from .tensor import prepare

__all__ = [
    "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu", "softmax", "log_softmax",
    "softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits",
    "sigmoid_cross_entropy_with_logits",
]


def _c(a):
    return np.asarray(a, order="C")


def _activation(name, x, alpha=LEAKY_RELU_ALPHA):
    """An elementwise activation as bprop.opdefs declares it: its forward and
    backward kernels on the backend, the backward fed what it reads."""
    _, (a,), src = prepare(name, ("features",), (x,))
    a = _c(a)
    be = backend()
    out = activation_forward(be, name, a, alpha=alpha)
    return result(name, src, out, lambda dy, needs: (
        activation_backward(be, name, _c(dy), a, out, alpha=alpha),))


def relu(features):
    """``max(x, 0)``; integer tensors too (as TensorFlow), without gradient."""
    if not isinstance(features, np.ndarray) or features.dtype.kind != "f":
        dtype, (a,), _src = prepare("relu", ("features",), (features,), "numeric")
        if dtype.kind != "f":
            return result("relu", (None,), np.maximum(a, a.dtype.type(0)), None)
    return _activation("relu", features)


def softplus(features):
    """``log(1 + exp(x))``, stable for large |x|; the gradient is sigmoid(x)."""
    _, (a,), src = prepare("softplus", ("features",), (features,))
    with np.errstate(over="ignore"):
        out = np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))
    sig = backend().sigmoid(_c(a))
    return result("softplus", src, out.astype(a.dtype), lambda dy, needs: (dy * sig,))


def sigmoid(x):
    """``1 / (1 + exp(-x))``, stable for large |x|."""
    return _activation("sigmoid", x)


def tanh(x):
    """Hyperbolic tangent."""
    return _activation("tanh", x)


def leaky_relu(features, alpha=0.2):
    """``x`` for x > 0, ``alpha * x`` otherwise (TensorFlow's default alpha 0.2)."""
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not math.isfinite(alpha) \
            or alpha < 0:
        raise ValueError("leaky_relu: alpha: expected a finite number >= 0, got %r" % (alpha,))
    return _activation("leaky_relu", features, float(alpha))


_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(features, approximate=True):
    """Gaussian error linear unit.

    ``approximate=True`` (default here, unlike TensorFlow): the tanh
    approximation, which is what the core's ``gelu`` kernel and the "gelu"
    activation of bprop's layers compute.  ``approximate=False``: the exact
    ``x * Phi(x)`` with the normal CDF Phi (NumPy, slower).
    """
    if approximate:
        return _activation("gelu", features)
    _, (a,), src = prepare("gelu", ("features",), (features,))
    t = a.dtype.type
    cdf = (t(0.5) * (t(1) + _erf(a / t(math.sqrt(2.0))).astype(a.dtype))).astype(a.dtype)
    pdf = (np.exp(-t(0.5) * a * a) / t(math.sqrt(2.0 * math.pi))).astype(a.dtype)
    return result("gelu", src, a * cdf, lambda dy, needs: (dy * (cdf + a * pdf),))


def _rows(a, axis, opname):
    """View ``a`` as (rows, classes) with ``axis`` last; returns (2-D array, restore fn)."""
    if a.ndim == 0:
        raise ValueError("%s: expected a tensor of rank >= 1, got a scalar" % opname)
    if not -a.ndim <= axis < a.ndim:
        raise ValueError("%s: axis: expected a value in [%d, %d), got %d"
                         % (opname, -a.ndim, a.ndim, axis))
    moved = np.moveaxis(a, axis, -1)
    shape = moved.shape
    flat = _c(moved.reshape(-1, shape[-1]))

    def restore(b):
        return np.moveaxis(np.reshape(b, shape), -1, axis)

    return flat, restore


def _rowwise(name, logits, axis, fwd, bwd):
    _, (a,), src = prepare(name, ("logits",), (logits,))
    flat, restore = _rows(a, axis, name)
    y = fwd(flat)

    def backward(dy, needs):
        dy2 = _c(np.moveaxis(dy, axis, -1).reshape(flat.shape))
        return (restore(bwd(dy2, y)),)

    return result(name, src, restore(y), backward)


def softmax(logits, axis=-1):
    """``exp(x) / sum(exp(x))`` over ``axis``, stable for huge logits."""
    k = backend()
    return _rowwise("softmax", logits, axis, k.softmax, k.softmax_backward)


def log_softmax(logits, axis=-1):
    """``x - log(sum(exp(x)))`` over ``axis``, stable for huge logits."""
    k = backend()
    return _rowwise("log_softmax", logits, axis, k.log_softmax, k.log_softmax_backward)


def softmax_cross_entropy_with_logits(labels, logits, axis=-1):
    """Per-example ``-sum(labels * log_softmax(logits))`` over ``axis``.

    labels: probabilities of the logits' shape (gradients flow to both);
    returns a tensor of the logits' shape without ``axis``.
    """
    _, (t, z), src = prepare("softmax_cross_entropy_with_logits", ("labels", "logits"),
                             (labels, logits))
    if t.shape != z.shape:
        raise ValueError("softmax_cross_entropy_with_logits: labels: expected shape %s (the "
                         "logits'), got %s" % (z.shape, t.shape))
    z2, _ = _rows(z, axis, "softmax_cross_entropy_with_logits")
    t2, _ = _rows(t, axis, "softmax_cross_entropy_with_logits")
    ls = backend().log_softmax(z2)
    loss = -(t2 * ls).sum(axis=-1)
    out_shape = np.moveaxis(z, axis, -1).shape[:-1]

    def backward(dy, needs):
        col = np.reshape(dy, (-1, 1))
        _, restore = _rows(z, axis, "softmax_cross_entropy_with_logits")
        dt = restore(-col * ls) if needs[0] else None
        dz = None
        if needs[1]:
            # d/dz of -sum(t * log_softmax(z)) = softmax(z) * sum(t) - t
            dz = restore(col * (np.exp(ls) * t2.sum(axis=-1, keepdims=True) - t2))
        return dt, dz

    return result("softmax_cross_entropy_with_logits", src, loss.reshape(out_shape), backward)


def check_sparse_labels(labels, n, classes, opname):
    """Integer class indices of shape (n,) (float labels must be integral)."""
    lab = np.asarray(labels)
    if lab.dtype.kind == "f":
        if not np.all(np.isfinite(lab)) or not np.all(lab == np.round(lab)):
            raise ValueError("%s: labels: expected integer class indices, got non-integral values"
                             % opname)
    elif lab.dtype.kind not in "iu":
        raise TypeError("%s: labels: expected integer class indices, got dtype %s"
                        % (opname, lab.dtype))
    lab = lab.reshape(-1) if lab.size == n else lab
    if lab.shape != (n,):
        raise ValueError("%s: labels: expected %d class indices (shape (%d,)), got shape %s"
                         % (opname, n, n, np.shape(labels)))
    lab = lab.astype(np.int64)
    if n and (lab.min() < 0 or lab.max() >= classes):
        raise ValueError("%s: labels: expected integers in [0, %d), got values in [%d, %d]"
                         % (opname, classes, lab.min(), lab.max()))
    return lab


def sparse_softmax_cross_entropy_with_logits(labels, logits):
    """Per-example ``-log_softmax(logits)[label]``.

    labels: integer class indices of shape logits.shape[:-1]; logits
    (..., classes).  Returns a tensor of shape logits.shape[:-1].
    """
    name = "sparse_softmax_cross_entropy_with_logits"
    _, (z,), src = prepare(name, ("logits",), (logits,))
    z2, _ = _rows(z, -1, name)
    lab = check_sparse_labels(labels, z2.shape[0], z2.shape[1], name)
    ls = backend().log_softmax(z2)
    rows = np.arange(z2.shape[0])
    loss = -ls[rows, lab]

    def backward(dy, needs):
        g = np.exp(ls)
        g[rows, lab] -= 1
        return ((g * np.reshape(dy, (-1, 1))).reshape(z.shape),)

    return result(name, src, loss.reshape(z.shape[:-1]), backward)


def sigmoid_cross_entropy_with_logits(labels, logits):
    """Elementwise logistic loss ``max(z, 0) - z t + log(1 + exp(-|z|))``."""
    name = "sigmoid_cross_entropy_with_logits"
    _, (t, z), src = prepare(name, ("labels", "logits"), (labels, logits))
    if t.shape != z.shape:
        raise ValueError("%s: labels: expected shape %s (the logits'), got %s"
                         % (name, z.shape, t.shape))
    loss = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    sig = backend().sigmoid(_c(z))

    def backward(dy, needs):
        return (-dy * z if needs[0] else None, dy * (sig - t) if needs[1] else None)

    return result(name, src, loss, backward)


from .array_ops import l2_normalize  # noqa: E402,F401 - tf.nn.l2_normalize

__all__.append("l2_normalize")
