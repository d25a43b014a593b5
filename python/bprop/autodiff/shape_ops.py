"""matmul and the shape ops: reshape, transpose, expand_dims, squeeze,
concat, stack, indexing.

``matmul`` of two 2-D tensors runs on the backend's GEMM kernel, forward
and backward (transposes reach it as flags, never as copies); batched
matmul (rank > 2, broadcasting batch axes) runs on NumPy.
"""
from __future__ import annotations

import numbers

import numpy as np

from .graph import backend, result, unbroadcast
from ..variables import Variable
from .tensor import Tensor, prepare

__all__ = ["matmul", "reshape", "transpose", "expand_dims", "squeeze", "concat", "stack",
           "getitem"]


def _check_matmul(a, b, transpose_a, transpose_b):
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError("matmul: expected tensors of rank >= 2, got a of shape %s and b of shape %s"
                         % (a.shape, b.shape))
    k_a = a.shape[-2] if transpose_a else a.shape[-1]
    k_b = b.shape[-1] if transpose_b else b.shape[-2]
    if k_a != k_b:
        raise ValueError(
            "matmul: inner dimensions differ: a of shape %s%s and b of shape %s%s (%d != %d)"
            % (a.shape, " (transposed)" if transpose_a else "",
               b.shape, " (transposed)" if transpose_b else "", k_a, k_b))


def matmul(a, b, transpose_a=False, transpose_b=False):
    """``op(a) @ op(b)`` with op = transpose of the last two axes when asked.

    a: (..., m, k), b: (..., k, n) -> (..., m, n).
    """
    _, (x, y), src = prepare("matmul", ("a", "b"), (a, b), "numeric")
    transpose_a, transpose_b = bool(transpose_a), bool(transpose_b)
    _check_matmul(x, y, transpose_a, transpose_b)
    if x.dtype.kind != "f":
        # Integer matmul (no gradient): NumPy, as the core's GEMM is float-only.
        opx = np.swapaxes(x, -1, -2) if transpose_a else x
        opy = np.swapaxes(y, -1, -2) if transpose_b else y
        return result("matmul", (None, None), np.matmul(opx, opy), None)
    if x.ndim == 2 and y.ndim == 2:
        return _matmul_2d(x, y, src, transpose_a, transpose_b)
    return _matmul_batched(x, y, src, transpose_a, transpose_b)


def _matmul_2d(x, y, src, ta, tb):
    k = backend()
    out = k.gemm(x, y, trans_a=ta, trans_b=tb) if (ta or tb) else k.matmul(x, y)

    def backward(dy, needs):
        dy = np.asarray(dy, order="C")
        dx = dw = None
        # Y = op(X) op(W): d op(X) = dY op(W)^T, d op(W) = op(X)^T dY.
        if needs[0]:
            dx = (k.gemm(y, dy, trans_a=tb, trans_b=True) if ta
                  else k.gemm(dy, y, trans_b=not tb))
        if needs[1]:
            dw = (k.gemm(dy, x, trans_a=True, trans_b=ta) if tb
                  else k.gemm(x, dy, trans_a=not ta))
        return dx, dw

    return result("matmul", src, out, backward)


def _matmul_batched(x, y, src, ta, tb):
    opx = np.swapaxes(x, -1, -2) if ta else x
    opy = np.swapaxes(y, -1, -2) if tb else y
    out = np.matmul(opx, opy)

    def backward(dy, needs):
        dx = dw = None
        if needs[0]:
            d_opx = np.matmul(dy, np.swapaxes(opy, -1, -2))
            d_opx = unbroadcast(d_opx, opx.shape)
            dx = np.swapaxes(d_opx, -1, -2) if ta else d_opx
        if needs[1]:
            d_opy = np.matmul(np.swapaxes(opx, -1, -2), dy)
            d_opy = unbroadcast(d_opy, opy.shape)
            dw = np.swapaxes(d_opy, -1, -2) if tb else d_opy
        return dx, dw

    return result("matmul", src, out, backward)


def _own(view, sources):
    """A view of a Variable's live array would follow later assignments: copy."""
    return np.array(view, copy=True) if isinstance(sources[0], Variable) else view


def reshape(tensor, shape):
    """``tensor`` with a new shape of the same size (one entry may be -1)."""
    _, (a,), src = prepare("reshape", ("tensor",), (tensor,), "all")
    shape = tuple(int(n) for n in np.asarray(shape, dtype=np.int64).reshape(-1))
    try:
        out = a.reshape(shape)
    except ValueError:
        raise ValueError("reshape: cannot reshape a tensor of shape %s (%d elements) to %s"
                         % (a.shape, a.size, shape)) from None
    return result("reshape", src, _own(out, src), lambda dy, needs: (np.reshape(dy, a.shape),))


def transpose(a, perm=None):
    """Permute the axes (reverse them when ``perm`` is None)."""
    _, (x,), src = prepare("transpose", ("a",), (a,), "all")
    if perm is None:
        perm = tuple(reversed(range(x.ndim)))
    perm = tuple(int(p) for p in perm)
    if sorted(p % x.ndim if x.ndim else p for p in perm) != list(range(x.ndim)):
        raise ValueError("transpose: perm: expected a permutation of range(%d), got %s"
                         % (x.ndim, perm))
    perm = tuple(p % x.ndim for p in perm)
    inverse = tuple(np.argsort(perm))
    return result("transpose", src, _own(np.transpose(x, perm), src),
                  lambda dy, needs: (np.transpose(dy, inverse),))


def expand_dims(input, axis):  # noqa: A002 - the TF name
    """Insert an axis of length 1 at ``axis`` (negative counts from the end)."""
    _, (a,), src = prepare("expand_dims", ("input",), (input,), "all")
    if not -a.ndim - 1 <= int(axis) <= a.ndim:
        raise ValueError("expand_dims: axis: expected a value in [%d, %d], got %r"
                         % (-a.ndim - 1, a.ndim, axis))
    out = np.expand_dims(a, int(axis))
    return result("expand_dims", src, _own(out, src), lambda dy, needs: (np.reshape(dy, a.shape),))


def squeeze(input, axis=None):  # noqa: A002 - the TF name
    """Remove axes of length 1 (all of them, or those in ``axis``)."""
    _, (a,), src = prepare("squeeze", ("input",), (input,), "all")
    if axis is not None:
        axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
        for ax in axes:
            if not -a.ndim <= ax < a.ndim or a.shape[ax] != 1:
                raise ValueError("squeeze: axis: expected axes of length 1 of shape %s, got %r"
                                 % (a.shape, axis))
        out = np.squeeze(a, axis=axes)
    else:
        out = np.squeeze(a)
    return result("squeeze", src, _own(out, src), lambda dy, needs: (np.reshape(dy, a.shape),))


def concat(values, axis):
    """Join a list of tensors along ``axis`` (all other dimensions equal)."""
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError("concat: values: expected a non-empty list of tensors, got %r" % (values,))
    names = tuple("values[%d]" % i for i in range(len(values)))
    _, arrays, src = prepare("concat", names, tuple(values), "all")
    try:
        out = np.concatenate(arrays, axis=axis)
    except ValueError as e:  # AxisError is a ValueError too
        raise ValueError("concat: cannot join shapes %s along axis %r: %s"
                         % ([x.shape for x in arrays], axis, e)) from None
    ax = axis % out.ndim
    bounds = np.cumsum([x.shape[ax] for x in arrays])[:-1]

    def backward(dy, needs):
        return tuple(np.split(dy, bounds, axis=ax))

    return result("concat", src, out, backward)


def stack(values, axis=0):
    """Join a list of tensors of one shape along a new axis ``axis``."""
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError("stack: values: expected a non-empty list of tensors, got %r" % (values,))
    names = tuple("values[%d]" % i for i in range(len(values)))
    _, arrays, src = prepare("stack", names, tuple(values), "all")
    shapes = {x.shape for x in arrays}
    if len(shapes) != 1:
        raise ValueError("stack: values: expected tensors of one shape, got shapes %s"
                         % [x.shape for x in arrays])
    ndim = arrays[0].ndim + 1
    if not -ndim <= int(axis) < ndim:
        raise ValueError("stack: axis: expected a value in [%d, %d), got %r" % (-ndim, ndim, axis))
    ax = int(axis) % ndim
    out = np.stack(arrays, axis=ax)

    def backward(dy, needs):
        return tuple(np.take(dy, i, axis=ax) for i in range(len(arrays)))

    return result("stack", src, out, backward)


def _index_key(key):
    """Tensors used as indices become integer/boolean arrays."""
    if isinstance(key, tuple):
        return tuple(_index_key(k) for k in key)
    if isinstance(key, Tensor):
        return np.asarray(key)
    return key


def getitem(tensor, key):
    """``tensor[key]`` with NumPy indexing; the gradient scatters back (adding
    where an index repeats)."""
    _, (a,), src = prepare("getitem", ("tensor",), (tensor,), "all")
    key = _index_key(key)
    out = a[key]
    if isinstance(key, (numbers.Integral, slice)) or (
            isinstance(key, tuple) and all(isinstance(k, (numbers.Integral, slice, type(None),
                                                          type(Ellipsis))) for k in key)):
        out = np.array(out, copy=True)  # a view of a would alias the tensor

    def backward(dy, needs):
        g = np.zeros(a.shape, dtype=a.dtype)
        np.add.at(g, key, dy)
        return (g,)

    return result("getitem", src, out, backward)
