"""Reductions over tensors: reduce_sum, reduce_mean, reduce_max, reduce_min,
reduce_prod, reduce_any, reduce_all, argmax, argmin.

``axis`` is None (all axes), an int or a list/tuple of ints (negative
counts from the end); ``keepdims`` keeps reduced axes with length 1.
Reductions have no kernel in ``bprop.ops``; they run on NumPy.
"""
from __future__ import annotations

import numbers

import numpy as np

from .graph import result
from .tensor import prepare

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any",
           "reduce_all", "argmax", "argmin", "normalize_axes"]


def normalize_axes(axis, ndim, opname):
    """``axis`` as a sorted tuple of non-negative ints; ValueError when out of range."""
    if axis is None:
        return tuple(range(ndim))
    if hasattr(axis, "__array__") and not isinstance(axis, (list, tuple)):
        axis = np.asarray(axis).tolist()  # an int tensor or array of axes
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
    _, (a,), src = prepare("reduce_sum", ("input_tensor",), (input_tensor,), "numeric")
    axes = normalize_axes(axis, a.ndim, "reduce_sum")
    out = np.sum(a, axis=axes, keepdims=keepdims, dtype=a.dtype)  # int32 stays int32
    kept = _kept_shape(a.shape, axes)

    def backward(dy, needs):
        return (np.broadcast_to(np.reshape(dy, kept), a.shape),)

    return result("reduce_sum", src, out, backward)


def reduce_mean(input_tensor, axis=None, keepdims=False):
    """Mean over ``axis`` (NaN for an empty reduction, without a warning).
    Integer tensors give the integer mean, truncated towards zero, as
    TensorFlow does (cast to float first for the exact mean)."""
    _, (a,), src = prepare("reduce_mean", ("input_tensor",), (input_tensor,), "numeric")
    axes = normalize_axes(axis, a.ndim, "reduce_mean")
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    if a.dtype.kind in "iu":
        if count == 0:
            raise ValueError("reduce_mean: input_tensor: the integer mean of an empty reduction "
                             "is undefined (shape %s, axis %r)" % (a.shape, axis))
        total = np.sum(a, axis=axes, keepdims=keepdims, dtype=np.int64 if a.dtype.kind == "i"
                       else np.uint64)
        out = np.sign(total) * (np.abs(total) // count)
        return result("reduce_mean", src, np.asarray(out, dtype=a.dtype), None)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sum(a, axis=axes, keepdims=keepdims) / a.dtype.type(count if count else np.nan)
    kept = _kept_shape(a.shape, axes)
    scale = a.dtype.type(1.0 / count) if count else a.dtype.type(0)

    def backward(dy, needs):
        return (np.broadcast_to(np.reshape(dy, kept) * scale, a.shape),)

    return result("reduce_mean", src, np.asarray(out, dtype=a.dtype), backward)


def _extreme(opname, fn, input_tensor, axis, keepdims):
    _, (a,), src = prepare(opname, ("input_tensor",), (input_tensor,), "numeric")
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


def reduce_prod(input_tensor, axis=None, keepdims=False):
    """Product over ``axis``.  The gradient of each entry is the product of
    the others in its reduction (exact where entries are 0, no division)."""
    _, (a,), src = prepare("reduce_prod", ("input_tensor",), (input_tensor,), "numeric")
    axes = normalize_axes(axis, a.ndim, "reduce_prod")
    out = np.prod(a, axis=axes, keepdims=keepdims, dtype=a.dtype)
    kept = _kept_shape(a.shape, axes)

    def backward(dy, needs):
        if a.size == 0:
            return (np.zeros(a.shape, dtype=a.dtype),)
        # Move the reduced axes last and flatten them: (rest..., n).
        rest = tuple(i for i in range(a.ndim) if i not in axes)
        moved = np.transpose(a, rest + axes)
        flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
        ones = np.ones(flat.shape[:-1] + (1,), dtype=a.dtype)
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (before * after).reshape(moved.shape)
        others = np.transpose(others, np.argsort(rest + axes))
        return (others * np.reshape(dy, kept),)

    return result("reduce_prod", src, np.asarray(out, dtype=a.dtype), backward)


def _logical_reduce(opname, fn, input_tensor, axis, keepdims):
    _, (a,), _src = prepare(opname, ("input_tensor",), (input_tensor,), "bool")
    axes = normalize_axes(axis, a.ndim, opname)
    return result(opname, (None,), np.asarray(fn(a, axis=axes, keepdims=keepdims)), None)


def reduce_any(input_tensor, axis=None, keepdims=False):
    """Logical or over ``axis`` of a bool tensor."""
    return _logical_reduce("reduce_any", np.any, input_tensor, axis, keepdims)


def reduce_all(input_tensor, axis=None, keepdims=False):
    """Logical and over ``axis`` of a bool tensor."""
    return _logical_reduce("reduce_all", np.all, input_tensor, axis, keepdims)


def _arg_extreme(opname, fn, input, axis, output_type):  # noqa: A002 - the TF name
    from .dtypes import as_dtype

    out_dtype = as_dtype(output_type, "output_type")
    if out_dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
        raise TypeError("%s: output_type: expected int32 or int64, got %s" % (opname, out_dtype))
    _, (a,), _src = prepare(opname, ("input",), (input,), "all")
    if a.ndim == 0:
        raise ValueError("%s: input: expected a tensor of rank >= 1, got a scalar" % opname)
    if axis is None:
        axis = 0  # TensorFlow's default: the first axis, not the flattened tensor
    (ax,) = normalize_axes(int(axis) if isinstance(axis, (numbers.Integral, np.integer))
                           else axis, a.ndim, opname)
    if a.shape[ax] == 0:
        raise ValueError("%s: input: cannot reduce an empty axis %d of shape %s"
                         % (opname, ax, a.shape))
    return result(opname, (None,), fn(a, axis=ax).astype(out_dtype), None)


def argmax(input, axis=None, output_type=np.int64):  # noqa: A002 - the TF name
    """Index of the largest value along ``axis`` (default 0, as TensorFlow),
    the first one on ties; an int64 tensor unless ``output_type=int32``."""
    return _arg_extreme("argmax", np.argmax, input, axis, output_type)


def argmin(input, axis=None, output_type=np.int64):  # noqa: A002 - the TF name
    """Index of the smallest value along ``axis`` (default 0), the first on ties."""
    return _arg_extreme("argmin", np.argmin, input, axis, output_type)
