"""Loss twins: the value of a batch (a Python float) and its gradient.

The reduction is Keras' "sum_over_batch_size": the sum over rows of
weight * row loss, divided by the number of rows (weights default to 1).
The row loss of the elementwise losses (mse, mae, the binary
cross-entropies) is the mean over the row, so without weights they are the
mean over all elements.  Rows are the first axis for the elementwise losses
and the rows of the 2-D (batch, classes) array for the cross-entropies.
"""
from __future__ import annotations

import numpy as np

from ._activations import log_softmax, sigmoid, softmax
from ._common import put as _put
from ._common import row_weights

# Keras' backend.epsilon(): probabilities are clipped to [EPS, 1 - EPS].
EPS = 1e-7


def _check_labels(labels, n, classes):
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError("labels: expected shape (%d,), got %s" % (n, labels.shape))
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            "labels: expected integers in [0, %d), got values in [%d, %d]"
            % (classes, labels.min(), labels.max())
        )
    return labels.astype(np.intp, copy=False)


def _targets_as_probabilities(pred, labels):
    """Integer labels -> one-hot rows (float64); float targets pass through."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu":
        idx = _check_labels(labels, pred.shape[0], pred.shape[1])
        onehot = np.zeros(pred.shape, dtype=np.float64)
        onehot[np.arange(pred.shape[0]), idx] = 1
        return onehot
    return labels


def _rows(a):
    return a.shape[0] if a.ndim else 1


# --------------------------------------------------------------------------- reductions
def _elementwise_value(e, shape, sample_weight):
    """Mean of the float64 elementwise losses ``e``, weighted per row."""
    n = e.size
    if n == 0:
        return 0.0
    w = row_weights(sample_weight, _rows(e) if len(shape) else 1)
    if w is None:
        return float(e.sum() / n)
    return float((e.reshape(w.size, -1).sum(axis=1) * w).sum() / n)


def _elementwise_grad(g, dtype, factor, sample_weight, out):
    """``g * factor * w_row / size``: ``g`` in ``dtype`` (then the scale is
    rounded to it first) or in float64 (then the product is rounded)."""
    n = max(g.size, 1)
    w = row_weights(sample_weight, _rows(g) if g.ndim else 1)
    if g.dtype == dtype:
        scale = (np.float64(factor) / n) if w is None else (factor * w / n)
        scale = np.asarray(scale).astype(dtype)
        if w is not None:
            scale = scale.reshape((-1,) + (1,) * (g.ndim - 1))
        return _put(g * scale, out)
    scale = factor / n if w is None else (factor * w / n).reshape((-1,) + (1,) * (g.ndim - 1))
    return _put((g * scale).astype(dtype), out)


def _row_value(per_row, sample_weight):
    rows = per_row.shape[0]
    if rows == 0:
        return 0.0
    w = row_weights(sample_weight, rows)
    return float((per_row if w is None else per_row * w).sum() / rows)


def _row_scale(rows, dtype, sample_weight):
    """(rows, 1) factors w / rows in ``dtype`` (1 / rows without weights)."""
    w = row_weights(sample_weight, rows)
    inv = 1.0 / max(rows, 1)
    if w is None:
        return np.asarray(inv).astype(dtype)
    return (w * inv).astype(dtype).reshape(-1, 1)


# --------------------------------------------------------------------------- mse / mae
def _pair(y_pred, y_true):
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    if y_pred.shape != y_true.shape:
        raise ValueError("y_true: expected shape %s (the shape of y_pred), got %s"
                         % (y_pred.shape, y_true.shape))
    return y_pred, y_true


def _squared(y_pred, y_true):
    d = y_pred.astype(np.float64) - y_true.astype(np.float64)
    return d * d


def _absolute(y_pred, y_true):
    return np.abs(y_pred.astype(np.float64) - y_true.astype(np.float64))


def _logistic(logits, targets):
    z = logits.astype(np.float64)
    return np.maximum(z, 0) - z * targets + np.log1p(np.exp(-np.abs(z)))


def _binary_of_probs(probs, targets):
    pc = np.clip(probs.astype(np.float64), EPS, 1 - EPS)
    t = targets.astype(np.float64)
    return -(t * np.log(pc) + (1 - t) * np.log(1 - pc))


def mse(y_pred, y_true, sample_weight=None):
    """Mean squared error (Keras: mean over the last axis, then the batch)."""
    y_pred, y_true = _pair(y_pred, y_true)
    return _elementwise_value(_squared(y_pred, y_true), y_pred.shape, sample_weight)


def mse_backward(y_pred, y_true, out=None, sample_weight=None):
    y_pred, y_true = _pair(y_pred, y_true)
    return _elementwise_grad(y_pred - y_true, y_pred.dtype, 2.0, sample_weight, out)


def mae(y_pred, y_true, sample_weight=None):
    """Mean absolute error, weighted per row as :func:`mse`."""
    y_pred, y_true = _pair(y_pred, y_true)
    return _elementwise_value(_absolute(y_pred, y_true), y_pred.shape, sample_weight)


def mae_backward(y_pred, y_true, out=None, sample_weight=None):
    y_pred, y_true = _pair(y_pred, y_true)
    return _elementwise_grad(np.sign(y_pred - y_true), y_pred.dtype, 1.0, sample_weight, out)


# --------------------------------------------------------------------------- binary cross-entropy
def binary_cross_entropy(logits, targets, sample_weight=None):
    """Mean logistic loss from logits, stable form, weighted per row as :func:`mse`."""
    z, t = _pair(logits, targets)
    return _elementwise_value(_logistic(z, t), z.shape, sample_weight)


def binary_cross_entropy_backward(logits, targets, out=None, sample_weight=None):
    """Gradient wrt the logits: w (sigmoid(z) - t) / size."""
    z, t = _pair(logits, targets)
    return _elementwise_grad(sigmoid(z) - t, z.dtype, 1.0, sample_weight, out)


def binary_cross_entropy_from_probs(probs, targets, sample_weight=None):
    """Keras' binary cross-entropy of probabilities clipped to [EPS, 1 - EPS]."""
    p, t = _pair(probs, targets)
    return _elementwise_value(_binary_of_probs(p, t), p.shape, sample_weight)


def binary_cross_entropy_from_probs_backward(probs, targets, out=None, sample_weight=None):
    """Gradient wrt the probabilities; zero where the clip is active."""
    p, t = _pair(probs, targets)
    p64 = p.astype(np.float64)
    inside = (p64 > EPS) & (p64 < 1 - EPS)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(inside, (p64 - t) / (p64 * (1 - p64)), np.where(np.isnan(p64), p64, 0.0))
    return _elementwise_grad(g, p.dtype, 1.0, sample_weight, out)


# --------------------------------------------------------------------------- softmax cross-entropy
def _softmax_rows(logits, labels):
    target = _targets_as_probabilities(logits, labels)
    return -(target * log_softmax(logits).astype(np.float64)).sum(axis=1)


def softmax_cross_entropy(logits, labels, sample_weight=None):
    """Mean over the batch of -sum(target * log softmax(logits)).

    ``labels`` is either integer class indices of shape (n,) (sparse) or
    float targets (one-hot or probabilities) of the logits' shape.
    """
    logits = np.asarray(logits)
    if logits.shape[0] == 0:
        return 0.0
    return _row_value(_softmax_rows(logits, labels), sample_weight)


def softmax_cross_entropy_backward(logits, labels, out=None, sample_weight=None):
    """Gradient wrt the logits: w (softmax(logits) - target) / n."""
    logits = np.asarray(logits)
    target = _targets_as_probabilities(logits, labels)
    scale = _row_scale(logits.shape[0], logits.dtype, sample_weight)
    return _put((softmax(logits) - target.astype(logits.dtype)) * scale, out)


# --------------------------------------------------------------------------- cross-entropy of probabilities
def _normalised(probs):
    p = probs.astype(np.float64)
    s = p.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return p / s, s


def _prob_rows(probs, labels):
    target = _targets_as_probabilities(probs, labels).astype(np.float64)
    q, _ = _normalised(probs)
    logq = np.log(np.clip(q, EPS, 1 - EPS))
    return -np.where(target != 0, target * logq, 0.0).sum(axis=1)


def cross_entropy_from_probs(probs, labels, sample_weight=None):
    """Keras' categorical cross-entropy of probabilities: each row divided by
    its sum, clipped to [EPS, 1 - EPS], then -sum(target * log q)."""
    probs = np.asarray(probs)
    if probs.shape[0] == 0:
        return 0.0
    return _row_value(_prob_rows(probs, labels), sample_weight)


def cross_entropy_from_probs_backward(probs, labels, out=None, sample_weight=None):
    """Gradient wrt the probabilities (zero where the clip is active)."""
    probs = np.asarray(probs)
    rows = probs.shape[0]
    target = _targets_as_probabilities(probs, labels).astype(np.float64)
    q, s = _normalised(probs)
    inside = (q > EPS) & (q < 1 - EPS) & (target != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        dq = np.where(inside, -target / q, 0.0)
        dot = (dq * q).sum(axis=1, keepdims=True)
        w = row_weights(sample_weight, rows)
        scale = (1.0 if w is None else w.reshape(-1, 1)) / max(rows, 1) / s
        g = (dq - dot) * scale
    return _put(g.astype(probs.dtype), out)


# --------------------------------------------------------------------------- per row
_ELEMENTWISE = {"mse": _squared, "mae": _absolute, "binary_xent": _logistic,
                "binary_xent_probs": _binary_of_probs}
_ROWWISE = {"softmax_xent": _softmax_rows, "prob_xent": _prob_rows}


def per_row_losses(kind, pred, targets):
    """Each row's loss (float64, before any reduction) of a 2-D ``pred`` for the
    loss kernel ``kind`` (the names of bprop.engine.objective.LOSS_KERNELS):
    the mean over the row for the elementwise losses, the row's cross-entropy
    for the others.  What Keras' loss functions return per sample."""
    pred = np.asarray(pred)
    if kind in _ELEMENTWISE:
        terms = _ELEMENTWISE[kind](pred, np.asarray(targets))
        return terms.mean(axis=1) if terms.shape[1] else np.zeros(terms.shape[0])
    if kind in _ROWWISE:
        return _ROWWISE[kind](pred, targets)
    raise ValueError("kind: expected one of %s, got %r"
                     % (", ".join(sorted(set(_ELEMENTWISE) | set(_ROWWISE))), kind))
