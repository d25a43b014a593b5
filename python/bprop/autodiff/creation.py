"""Tensors made from a recipe: fill, range, linspace, one_hot.

(``zeros``/``ones``/``*_like`` live in :mod:`.tensor`.)  Dtypes follow
TensorFlow: ``range`` takes the widest of its arguments' dtypes (int32 <
int64 < float32 < float64), ``fill`` its value's, ``one_hot`` float32
unless ``dtype`` or the on/off values say otherwise.
"""
from __future__ import annotations

import numbers

import numpy as np

from .dtypes import as_dtype
from .graph import result, unbroadcast
from .tensor import Tensor, _shape_arg, convert_array, natural_array, prepare

__all__ = ["fill", "range", "linspace", "one_hot"]

_RANGE_ORDER = [np.dtype(t) for t in (np.int32, np.int64, np.float32, np.float64)]


def fill(dims, value):
    """A tensor of shape ``dims`` filled with the scalar ``value`` (its dtype)."""
    arr, _ = natural_array(value, "value")
    if arr.ndim != 0:
        raise ValueError("value: expected a scalar, got shape %s" % (arr.shape,))
    return Tensor._wrap(np.full(_shape_arg(dims, "dims"), arr, dtype=arr.dtype))


def _scalar(value, argname):
    arr, typed = natural_array(value, "range: " + argname)
    if arr.ndim != 0:
        raise ValueError("range: %s: expected a scalar, got shape %s" % (argname, arr.shape))
    if arr.dtype not in _RANGE_ORDER:
        raise TypeError("range: %s: expected an int or float, got dtype %s" % (argname, arr.dtype))
    return arr, typed, value


def range(start, limit=None, delta=1, dtype=None):  # noqa: A001 - the TF name
    """``[start, start + delta, ...)`` up to ``limit`` (exclusive), like Python's
    range; ``range(n)`` counts from 0.  Python ints give int32, floats float32."""
    if limit is None:
        start, limit = 0, start
    args = [_scalar(v, n) for v, n in ((start, "start"), (limit, "limit"), (delta, "delta"))]
    if dtype is None:
        out_dtype = max((a.dtype for a, _, _ in args), key=_RANGE_ORDER.index)
    else:
        out_dtype = as_dtype(dtype, "dtype")
        if out_dtype not in _RANGE_ORDER:
            raise TypeError("range: dtype: expected int32, int64, float32 or float64, got %s"
                            % out_dtype)
    # A given float dtype reads Python floats at that precision (0.1 as float64).
    s, l, d = (convert_array(a, typed, out_dtype, "value", None, v)[()]
               if out_dtype.kind == "f" else a.astype(out_dtype)[()] for a, typed, v in args)
    if d == 0:
        raise ValueError("range: delta: expected a non-zero step, got 0")
    count = max(int(np.ceil((float(l) - float(s)) / float(d))), 0)
    return Tensor._wrap((s + np.arange(count, dtype=out_dtype) * d).astype(out_dtype))


def linspace(start, stop, num, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (both included).

    ``start``/``stop`` may be tensors of one shape (broadcasting): the
    values run along the new axis ``axis``.  Integer inputs give float64, as
    in TensorFlow 2.  Gradients flow to float ``start`` and ``stop``.
    """
    if isinstance(num, bool) or not isinstance(num, (numbers.Integral, np.integer, Tensor)) \
            or int(num) < 0:
        raise ValueError("linspace: num: expected an int >= 0, got %r" % (num,))
    num = int(num)
    dtype, (a, b), src = prepare("linspace", ("start", "stop"), (start, stop), "numeric")
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
        a, b = a.astype(dtype), b.astype(dtype)
    shape = np.broadcast_shapes(a.shape, b.shape)
    ndim = len(shape) + 1
    if not -ndim <= int(axis) < ndim:
        raise ValueError("linspace: axis: expected a value in [%d, %d), got %r"
                         % (-ndim, ndim, axis))
    ax = int(axis) % ndim
    # Fractions t_i = i / (num - 1) along the new axis; the last value is exactly stop.
    t = np.arange(num, dtype=dtype) / dtype.type(max(num - 1, 1))
    tshape = [1] * ndim
    tshape[ax] = num
    t = t.reshape(tshape)
    a_e = np.expand_dims(np.broadcast_to(a, shape), ax)
    b_e = np.expand_dims(np.broadcast_to(b, shape), ax)
    out = (a_e + (b_e - a_e) * t).astype(dtype)
    if num > 1:
        idx = [slice(None)] * ndim
        idx[ax] = -1
        out[tuple(idx)] = np.broadcast_to(b, shape)

    def backward(dy, needs):
        ga = gb = None
        if needs[0]:
            ga = unbroadcast(np.sum(dy * (1 - t), axis=ax), a.shape)
        if needs[1]:
            gb = unbroadcast(np.sum(dy * t, axis=ax), b.shape)
        return ga, gb

    return result("linspace", src, out, backward)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None):
    """One-hot encoding: a new axis of length ``depth`` (last unless ``axis``)
    holds ``on_value`` (1) at the index and ``off_value`` (0) elsewhere.

    Indices outside [0, depth) give rows of ``off_value``, as in TensorFlow.
    The dtype is ``dtype``, else that of ``on_value``/``off_value``, else
    float32.
    """
    idx, _ = natural_array(indices, "one_hot: indices")
    if idx.dtype.kind not in "iu":
        raise TypeError("one_hot: indices: expected integer class indices, got dtype %s"
                        % idx.dtype)
    if isinstance(depth, bool) or not isinstance(depth, (numbers.Integral, np.integer, Tensor)) \
            or int(depth) < 0:
        raise ValueError("one_hot: depth: expected an int >= 0, got %r" % (depth,))
    depth = int(depth)
    values = {}
    for name, v in (("on_value", on_value), ("off_value", off_value)):
        if v is not None:
            arr, typed = natural_array(v, "one_hot: " + name)
            if arr.ndim != 0:
                raise ValueError("one_hot: %s: expected a scalar, got shape %s" % (name, arr.shape))
            values[name] = (arr, typed, v)
    if dtype is None and len(values) == 2 and \
            values["on_value"][0].dtype != values["off_value"][0].dtype:
        raise TypeError("one_hot: on_value has dtype %s but off_value has dtype %s"
                        % (values["on_value"][0].dtype, values["off_value"][0].dtype))
    if dtype is not None:
        out_dtype = as_dtype(dtype, "dtype")
    elif values:
        out_dtype = next(iter(values.values()))[0].dtype
    else:
        out_dtype = np.dtype(np.float32)
    on = np.ones((), out_dtype)
    off = np.zeros((), out_dtype)
    if "on_value" in values:
        arr, typed, v = values["on_value"]
        on = convert_array(arr, typed, out_dtype, "on_value", "one_hot", v)
    if "off_value" in values:
        arr, typed, v = values["off_value"]
        off = convert_array(arr, typed, out_dtype, "off_value", "one_hot", v)
    ndim = idx.ndim + 1
    ax = -1 if axis is None else int(axis)
    if not -1 <= ax < ndim:
        raise ValueError("one_hot: axis: expected -1 or a value in [0, %d), got %r" % (ndim, axis))
    hot = idx[..., None] == np.arange(depth)
    out = np.where(hot, on, off).astype(out_dtype)
    if ax != -1:
        out = np.moveaxis(out, -1, ax)
    return Tensor._wrap(np.ascontiguousarray(out))
