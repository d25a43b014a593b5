"""Reductions over tensors: reduce_sum, reduce_mean, reduce_max, reduce_min.

``axis`` is None (all axes), an int or a list/tuple of ints (negative
counts from the end); ``keepdims`` keeps reduced axes with length 1.
Reductions have no kernel in ``bprop.ops``; they run on NumPy.
"""
from __future__ import annotations

import numbers

import numpy as np

from .graph import result
from .tensor import prepare

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "normalize_axes"]


def normalize_axes(axis, ndim, opname):
    """``axis`` as a sorted tuple of non-negative ints; ValueError when out of range."""
    if axis is None:
        return tuple(range(ndim))
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for ax in items:
        if isinstance(ax, bool) or not isinstance(ax, numbers.Integral):
            raise TypeError("%s: axis: expected None, an int or a list of ints, got %r"
                            % (opname, axis))
        ax = int(ax)
        if not -ndim <= ax < ndim:
            raise ValueError("%s: axis: expected values in [%d, %d) for a tensor of rank %d, got %r"
                             % (opname, -ndim, ndim, ndim, axis))
        ax = ax % ndim
        if ax in out:
            raise ValueError("%s: axis: repeated axis in %r" % (opname, axis))
        out.append(ax)
    return tuple(sorted(out))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduce_sum(input_tensor, axis=None, keepdims=False):
    """Sum over ``axis``; the gradient broadcasts back over the reduced axes."""
    _, (a,), src = prepare("reduce_sum", ("input_tensor",), (input_tensor,))
    axes = normalize_axes(axis, a.ndim, "reduce_sum")
    out = np.sum(a, axis=axes, keepdims=keepdims)
    kept = _kept_shape(a.shape, axes)

    def backward(dy, needs):
        return (np.broadcast_to(np.reshape(dy, kept), a.shape),)

    return result("reduce_sum", src, out, backward)


def reduce_mean(input_tensor, axis=None, keepdims=False):
    """Mean over ``axis`` (NaN for an empty reduction, without a warning)."""
    _, (a,), src = prepare("reduce_mean", ("input_tensor",), (input_tensor,))
    axes = normalize_axes(axis, a.ndim, "reduce_mean")
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sum(a, axis=axes, keepdims=keepdims) / a.dtype.type(count if count else np.nan)
    kept = _kept_shape(a.shape, axes)
    scale = a.dtype.type(1.0 / count) if count else a.dtype.type(0)

    def backward(dy, needs):
        return (np.broadcast_to(np.reshape(dy, kept) * scale, a.shape),)

    return result("reduce_mean", src, np.asarray(out, dtype=a.dtype), backward)


def _extreme(opname, fn, input_tensor, axis, keepdims):
    _, (a,), src = prepare(opname, ("input_tensor",), (input_tensor,))
    axes = normalize_axes(axis, a.ndim, opname)
    if a.size == 0:
        raise ValueError("%s: input_tensor: cannot reduce an empty tensor of shape %s"
                         % (opname, a.shape))
    kept_val = fn(a, axis=axes, keepdims=True)
    out = kept_val if keepdims else np.reshape(kept_val, tuple(n for i, n in enumerate(a.shape)
                                                                 if i not in axes))
    kept = _kept_shape(a.shape, axes)

    def backward(dy, needs):
        # Ties share the gradient equally (as TensorFlow does).
        hit = (a == kept_val).astype(a.dtype)
        hit /= np.sum(hit, axis=axes, keepdims=True)
        return (hit * np.reshape(dy, kept),)

    return result(opname, src, out, backward)


def reduce_max(input_tensor, axis=None, keepdims=False):
    """Maximum over ``axis``; ties share the gradient equally."""
    return _extreme("reduce_max", np.max, input_tensor, axis, keepdims)


def reduce_min(input_tensor, axis=None, keepdims=False):
    """Minimum over ``axis``; ties share the gradient equally."""
    return _extreme("reduce_min", np.min, input_tensor, axis, keepdims)
