"""Keras losses on tensors: each returns a scalar Tensor, the mean over the batch
(what a loss object returns), or with ``per_sample=True`` each sample's loss,
shaped like ``y_pred`` without its last axis (what Keras' loss functions
``keras.losses.sparse_categorical_crossentropy``, ... return).

Every loss runs the same loss kernel as the compiled step of ``fit`` and a
loss object called on arrays (``bprop.engine.objective.LOSS_KERNELS``: the
value kernel forward, its ``_backward`` kernel for the prediction's
gradient), so the three agree to the bit; probabilities are renormalised
and clipped to [eps, 1 - eps] (eps = 1e-7, Keras' epsilon) by the kernels,
as Keras does.  The tape rules below add the gradient with respect to
``y_true`` when it is a tracked tensor (dense targets only).

``y_true`` is data: a plain array is cast to ``y_pred``'s dtype, as Keras
does (a Tensor/Variable of another dtype is still a TypeError).
"""
from __future__ import annotations

import numpy as np

from ..engine.objective import LOSS_KERNELS
from ..variables import Variable
from .graph import backend, result
from .nn import check_sparse_labels
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
    """Plain label arrays and integer/bool label tensors (constants to the
    tape) adopt the prediction's dtype (Keras casts y_true)."""
    if isinstance(y_true, Tensor) and y_true.dtype.kind != "f":
        y_true = y_true._value
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


def _rows(a):
    """The 2-D (rows, last axis) view the kernels take."""
    return np.ascontiguousarray(a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1]))


def _target_grad(kind, p2, t2, g_pred):
    """d loss / d y_true of the kernel ``kind`` (the loss is linear in y_true, so
    this is minus the per-element log term, or minus the prediction's gradient)."""
    rows, n = p2.shape[0], max(p2.size, 1)
    if kind in ("mse", "mae"):
        return -g_pred
    with np.errstate(divide="ignore"):
        if kind == "softmax_xent":
            return -backend().log_softmax(p2) / p2.dtype.type(max(rows, 1))
        if kind == "prob_xent":
            q = np.clip(p2.astype(np.float64) / p2.sum(axis=1, keepdims=True), EPSILON, 1 - EPSILON)
            return (-np.log(q) / max(rows, 1)).astype(p2.dtype)
        if kind == "binary_xent":
            return -p2 / p2.dtype.type(n)
        pc = np.clip(p2.astype(np.float64), EPSILON, 1 - EPSILON)
        return (-(np.log(pc) - np.log1p(-pc)) / n).astype(p2.dtype)


def _kernel_loss(opname, kind, targets, t_src, p, p_src, per_sample=False):
    """A loss op: the kernel's value, its gradient kernel for y_pred, and the
    target gradient for a tracked y_true.  ``targets``: labels (rows,) or an
    array shaped like ``p``.  ``per_sample``: each row's loss, shaped like
    ``p`` without its last axis (Keras' loss functions), not their mean."""
    value_kernel, grad_kernel = (getattr(backend(), name) for name in LOSS_KERNELS[kind])
    p2 = _rows(np.asarray(p))
    t2 = targets if targets.dtype.kind in "iu" else _rows(targets)
    if per_sample:
        from ..reference import per_row_losses

        value = per_row_losses(kind, p2, t2).astype(p.dtype).reshape(p.shape[:-1])
    else:
        value = np.asarray(value_kernel(p2, t2), dtype=p.dtype)

    def backward(dy, needs):
        if per_sample:
            # Row r's loss weighted by dy[r]: the kernels' row weights (they
            # divide by the row count, so it is put back).
            weights = np.asarray(dy, dtype=np.float64).reshape(-1) * p2.shape[0]
            g_pred = grad_kernel(p2, t2, sample_weight=weights)
            scale = p.dtype.type(1)
        else:
            weights = None
            scale = p.dtype.type(dy)
            g_pred = grad_kernel(p2, t2)
        g_true = None
        if needs[0]:
            g_true = _target_grad(kind, p2, t2, g_pred)
            if weights is not None and kind not in ("mse", "mae"):  # those follow g_pred
                g_true = g_true * weights.astype(p.dtype)[:, None]
            g_true = (g_true * scale).reshape(t_src.shape)
        return g_true, (g_pred * scale).reshape(p.shape) if needs[1] else None

    return result(opname, [t_src, p_src], value, backward)


def _dense_loss(opname, kind, y_true, y_pred, per_sample=False):
    dtype = _pred_dtype(y_pred, opname)
    _, (t, p), src = prepare(opname, ("y_true", "y_pred"), (_data(y_true, dtype, opname), y_pred))
    t = _same_shape(t, p, opname)
    return _kernel_loss(opname, kind, np.asarray(t), src[0], p, src[1], per_sample)


def mean_squared_error(y_true, y_pred, per_sample=False):
    """Mean over all elements of ``(y_true - y_pred)^2`` (Keras: mean over the
    last axis, then over the batch; the same number)."""
    return _dense_loss("mean_squared_error", "mse", y_true, y_pred, per_sample)


def mean_absolute_error(y_true, y_pred, per_sample=False):
    """Mean over all elements of ``|y_true - y_pred|``."""
    return _dense_loss("mean_absolute_error", "mae", y_true, y_pred, per_sample)


def categorical_crossentropy(y_true, y_pred, from_logits=False, per_sample=False):
    """Mean over the batch of ``-sum(y_true * log(p))``; y_true one-hot or
    probabilities of y_pred's shape (batch, classes).  Without logits, y_pred
    rows are renormalised to sum to 1 and clipped, as Keras does."""
    name = "categorical_crossentropy"
    dtype = _pred_dtype(y_pred, name)
    _, (p,), _ = prepare(name, ("y_pred",), (y_pred,))
    if p.ndim != 2:
        raise ValueError("%s: y_pred: expected shape (batch, classes), got %s" % (name, p.shape))
    return _dense_loss(name, "softmax_xent" if from_logits else "prob_xent",
                       _data(y_true, dtype, name), y_pred, per_sample)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, per_sample=False):
    """Mean over the batch of ``-log p[label]``; y_true integer class indices of
    shape (batch,) or (batch, 1), y_pred (batch, classes).  Without logits,
    y_pred rows are renormalised to sum to 1 and clipped, as Keras does."""
    name = "sparse_categorical_crossentropy"
    _, (p,), src = prepare(name, ("y_pred",), (y_pred,))
    if p.ndim != 2:
        raise ValueError("%s: y_pred: expected shape (batch, classes), got %s" % (name, p.shape))
    labels = check_sparse_labels(np.asarray(y_true), p.shape[0], p.shape[1], name)
    return _kernel_loss(name, "softmax_xent" if from_logits else "prob_xent", labels, None, p,
                        src[0], per_sample)


def binary_crossentropy(y_true, y_pred, from_logits=False, per_sample=False):
    """Mean over all elements of ``-(t log p + (1 - t) log(1 - p))`` (Keras: mean
    over the last axis, then over the batch; the same number)."""
    return _dense_loss("binary_crossentropy", "binary_xent" if from_logits else "binary_xent_probs",
                       y_true, y_pred, per_sample)
