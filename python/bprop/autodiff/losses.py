"""Keras losses on tensors: each returns a scalar Tensor, the mean over the batch.

``y_true`` is data: a plain array is cast to ``y_pred``'s dtype, as Keras
does (a Tensor/Variable of another dtype is still a TypeError).  The
from-logits forms run on the fused kernels (``mse``,
``softmax_cross_entropy``, ``binary_cross_entropy`` and their backward);
the probability forms clip to [eps, 1 - eps] (eps = 1e-7, Keras' epsilon)
and are built from differentiable tensor ops.
"""
from __future__ import annotations

import numpy as np

from ..variables import Variable
from . import elementwise as ew
from .graph import backend, result
from .nn import check_sparse_labels
from .reductions import reduce_mean, reduce_sum
from .tensor import Tensor, prepare

__all__ = [
    "mean_squared_error", "mean_absolute_error", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy", "EPSILON",
]

EPSILON = 1e-7


def _pred_dtype(y_pred, opname):
    if isinstance(y_pred, (Tensor, Variable)):
        return y_pred.dtype
    arr = np.asarray(y_pred)
    if arr.dtype.kind == "f":
        return arr.dtype
    if arr.dtype.kind in "iub":
        return np.dtype(np.float32)
    raise TypeError("%s: y_pred: expected real numbers, got dtype %s" % (opname, arr.dtype))


def _data(y_true, dtype, opname):
    """Plain label arrays adopt the prediction's dtype (Keras casts y_true)."""
    if isinstance(y_true, (Tensor, Variable)):
        return y_true
    arr = np.asarray(y_true)
    if arr.dtype.kind not in "fiub":
        raise TypeError("%s: y_true: expected real numbers, got dtype %s" % (opname, arr.dtype))
    return arr.astype(dtype, copy=False)


def _same_shape(t, p, opname):
    """Keras squeezes or expands a trailing axis of 1 when ranks differ by one;
    otherwise the shapes must match (silent broadcasting would be wrong)."""
    if t.shape == p.shape:
        return t
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1 and t.shape[:-1] == p.shape:
        return t.reshape(p.shape)
    if p.ndim == t.ndim + 1 and p.shape[-1] == 1 and p.shape[:-1] == t.shape:
        return t.reshape(p.shape)
    raise ValueError("%s: y_true: expected shape %s (y_pred's), got %s"
                     % (opname, p.shape, t.shape))


def _pair(opname, y_true, y_pred):
    """(y_true array shaped like y_pred, y_pred array, sources)."""
    dtype = _pred_dtype(y_pred, opname)
    _, (t, p), src = prepare(opname, ("y_true", "y_pred"), (_data(y_true, dtype, opname), y_pred))
    return _same_shape(t, p, opname), p, src


def _true_operand(t, p, src):
    """y_true for the composite forms: the tracked tensor (reshaped like
    y_pred when Keras' rank rule applied) or the plain array."""
    if src[0] is None:
        return t
    if src[0].shape != p.shape:
        from .shape_ops import reshape

        return reshape(src[0], p.shape)
    return src[0]


def mean_squared_error(y_true, y_pred):
    """Mean over all elements of ``(y_true - y_pred)^2`` (Keras: mean over the
    last axis, then over the batch; the same number)."""
    t, p, src = _pair("mean_squared_error", y_true, y_pred)
    k = backend()
    tc, pc = np.asarray(t, order="C"), np.asarray(p, order="C")
    value = np.asarray(k.mse(pc, tc), dtype=p.dtype)

    def backward(dy, needs):
        g = k.mse_backward(pc, tc) * dy
        return (-g.reshape(src[0].shape) if needs[0] else None, g if needs[1] else None)

    return result("mean_squared_error", src, value, backward)


def mean_absolute_error(y_true, y_pred):
    """Mean over all elements of ``|y_true - y_pred|``."""
    t, p, src = _pair("mean_absolute_error", y_true, y_pred)
    d = p - t
    n = max(p.size, 1)
    value = np.asarray(np.abs(d).sum() / n if p.size else 0.0, dtype=p.dtype)

    def backward(dy, needs):
        g = np.sign(d) * (dy / p.dtype.type(n))
        return (-g.reshape(src[0].shape) if needs[0] else None, g if needs[1] else None)

    return result("mean_absolute_error", src, value, backward)


def _fused(opname, kernel, kernel_backward, targets, p, src):
    k = backend()
    pc = np.asarray(p, order="C")
    value = np.asarray(getattr(k, kernel)(pc, targets), dtype=p.dtype)

    def backward(dy, needs):
        return (None, getattr(k, kernel_backward)(pc, targets) * dy)

    return result(opname, [None, src[1]], value, backward)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Mean over the batch of ``-sum(y_true * log(p))``; y_true one-hot or
    probabilities of y_pred's shape (batch, classes).  Without logits, y_pred
    rows are renormalised to sum to 1 and clipped, as Keras does."""
    name = "categorical_crossentropy"
    t, p, src = _pair(name, y_true, y_pred)
    if p.ndim != 2:
        raise ValueError("%s: y_pred: expected shape (batch, classes), got %s" % (name, p.shape))
    if from_logits:
        if src[0] is not None:
            return _ce_tensor_labels(y_true, y_pred)
        return _fused(name, "softmax_cross_entropy", "softmax_cross_entropy_backward",
                      np.asarray(t, order="C"), p, src)
    y_true = _true_operand(t, p, src)
    probs = ew.divide(y_pred, reduce_sum(y_pred, axis=-1, keepdims=True))
    probs = ew.clip_by_value(probs, EPSILON, 1.0 - EPSILON)
    per_example = ew.negative(reduce_sum(ew.multiply(y_true, ew.log(probs)), axis=-1))
    return reduce_mean(per_example)


def _ce_tensor_labels(y_true, y_pred):
    """Logits with differentiable labels: the per-example op of bprop.nn."""
    from .nn import softmax_cross_entropy_with_logits

    return reduce_mean(softmax_cross_entropy_with_logits(y_true, y_pred))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Mean over the batch of ``-log p[label]``; y_true integer class indices of
    shape (batch,) or (batch, 1), y_pred (batch, classes)."""
    name = "sparse_categorical_crossentropy"
    dtype = _pred_dtype(y_pred, name)
    _, (p,), src = prepare(name, ("y_pred",), (y_pred,))
    if p.ndim != 2:
        raise ValueError("%s: y_pred: expected shape (batch, classes), got %s" % (name, p.shape))
    labels = check_sparse_labels(np.asarray(y_true), p.shape[0], p.shape[1], name)
    if from_logits:
        return _fused(name, "softmax_cross_entropy", "softmax_cross_entropy_backward",
                      labels, p, [None] + src)
    onehot = np.zeros(p.shape, dtype=dtype)
    onehot[np.arange(p.shape[0]), labels] = 1
    probs = ew.clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
    per_example = ew.negative(reduce_sum(ew.multiply(onehot, ew.log(probs)), axis=-1))
    return reduce_mean(per_example)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """Mean over all elements of ``-(t log p + (1 - t) log(1 - p))`` (Keras: mean
    over the last axis, then over the batch; the same number)."""
    name = "binary_crossentropy"
    t, p, src = _pair(name, y_true, y_pred)
    if from_logits:
        if src[0] is not None:
            from .nn import sigmoid_cross_entropy_with_logits

            return reduce_mean(sigmoid_cross_entropy_with_logits(y_true, y_pred))
        return _fused(name, "binary_cross_entropy", "binary_cross_entropy_backward",
                      np.asarray(t, order="C"), p, src)
    y_true = _true_operand(t, p, src)
    probs = ew.clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
    one = p.dtype.type(1)
    bce = ew.add(ew.multiply(y_true, ew.log(probs)),
                 ew.multiply(ew.subtract(one, y_true), ew.log(ew.subtract(one, probs))))
    return ew.negative(reduce_mean(bce))
