"""More of TensorFlow's array ops, as its guides use them: ``add_n``, ``reduce_variance``
/ ``reduce_std``, ``norm``, ``gather``, ``boolean_mask``, ``split``, ``tile``, ``sort``,
``argsort``, ``math.top_k``, ``nn.l2_normalize``, ``shape`` / ``size`` / ``rank``.

Most are compositions of the recorded ops (so their gradients come for free);
``gather``, ``tile`` and ``split`` record their own backward (a scatter-add, a
fold, a concatenation).
"""
from __future__ import annotations

import numpy as np

from . import elementwise as ew
from . import reductions as red
from .graph import result
from .tensor import Tensor, prepare

__all__ = ["add_n", "reduce_variance", "reduce_std", "norm", "gather", "boolean_mask", "split",
           "tile", "sort", "argsort", "top_k", "l2_normalize", "shape", "size", "rank"]


def add_n(inputs):
    """The sum of a list of tensors of one shape (``tf.add_n``)."""
    inputs = list(inputs)
    if not inputs:
        raise ValueError("add_n: inputs: expected at least one tensor, got an empty list")
    total = inputs[0]
    for t in inputs[1:]:
        total = ew.add(total, t)
    return total if isinstance(total, Tensor) else Tensor(total)


def reduce_variance(input_tensor, axis=None, keepdims=False):
    """The population variance over ``axis`` (float tensors)."""
    mean = red.reduce_mean(input_tensor, axis=axis, keepdims=True)
    return red.reduce_mean(ew.square(ew.subtract(input_tensor, mean)), axis=axis,
                           keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False):
    """The population standard deviation over ``axis``."""
    return ew.sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


def norm(tensor, ord="euclidean", axis=None, keepdims=False):  # noqa: A002 - the TF name
    """The Euclidean (``ord="euclidean"`` or 2) or L1 (``ord=1``) norm over ``axis``."""
    if ord in ("euclidean", "fro", 2):
        return ew.sqrt(red.reduce_sum(ew.square(tensor), axis=axis, keepdims=keepdims))
    if ord == 1:
        return red.reduce_sum(ew.abs(tensor), axis=axis, keepdims=keepdims)
    raise ValueError("norm: ord: expected 'euclidean', 2 or 1, got %r" % (ord,))


def l2_normalize(x, axis=None, epsilon=1e-12):
    """``x / sqrt(max(sum(x^2), epsilon))`` over ``axis`` (``tf.nn.l2_normalize``)."""
    squares = red.reduce_sum(ew.square(x), axis=axis, keepdims=True)
    return ew.divide(x, ew.sqrt(ew.maximum(squares, epsilon)))


def _axis(axis, ndim, opname):
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError("%s: axis: expected a value in [%d, %d), got %d"
                         % (opname, -ndim, ndim, axis))
    return axis % ndim


def gather(params, indices, axis=0):
    """The slices of ``params`` at ``indices`` along ``axis``; the gradient adds each
    slice's gradient back where it came from (repeated indices add up)."""
    _, (a,), src = prepare("gather", ("params",), (params,), "all")
    idx = np.asarray(indices.numpy() if hasattr(indices, "numpy") else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError("gather: indices: expected integers, got dtype %s" % idx.dtype)
    ax = _axis(axis, a.ndim, "gather")
    n = a.shape[ax]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError("gather: indices: expected values in [0, %d) along axis %d, got %s"
                         % (n, ax, idx.min() if idx.min() < 0 else idx.max()))
    out = np.take(a, idx, axis=ax)

    def backward(dy, needs):
        g = np.zeros(a.shape, dtype=np.asarray(dy).dtype)
        moved = np.moveaxis(g, ax, 0)
        dy_moved = np.reshape(np.moveaxis(np.asarray(dy), list(range(ax, ax + idx.ndim)),
                                          list(range(idx.ndim))),
                              (idx.size,) + moved.shape[1:])
        np.add.at(moved, idx.reshape(-1) % n, dy_moved)
        return (g,)

    return result("gather", src, out, backward)


def boolean_mask(tensor, mask, axis=0):
    """The entries of ``tensor`` where ``mask`` (bool, the leading axes from ``axis``) is
    true, flattened over the masked axes (``tf.boolean_mask``)."""
    m = np.asarray(mask.numpy() if hasattr(mask, "numpy") else mask)
    if m.dtype != np.bool_:
        raise TypeError("boolean_mask: mask: expected bools, got dtype %s" % m.dtype)
    _, (a,), _ = prepare("boolean_mask", ("tensor",), (tensor,), "all")
    ax = _axis(axis, a.ndim, "boolean_mask")
    if a.shape[ax:ax + m.ndim] != m.shape:
        raise ValueError("boolean_mask: mask: expected shape %s (the tensor's axes from %d), "
                         "got %s" % (a.shape[ax:ax + m.ndim], ax, m.shape))
    from .shape_ops import reshape

    flat_shape = a.shape[:ax] + (int(np.prod(m.shape)),) + a.shape[ax + m.ndim:]
    return gather(reshape(tensor, flat_shape), np.flatnonzero(m.reshape(-1)), axis=ax)


def split(value, num_or_size_splits, axis=0):
    """Pieces of ``value`` along ``axis``: ``num_or_size_splits`` equal ones, or of the
    given sizes (one may be -1)."""
    _, (a,), src = prepare("split", ("value",), (value,), "all")
    ax = _axis(axis, a.ndim, "split")
    n = a.shape[ax]
    if np.ndim(num_or_size_splits) == 0:
        k = int(num_or_size_splits)
        if k < 1 or n % k:
            raise ValueError("split: num_or_size_splits: %d does not divide the axis of length "
                             "%d" % (k, n))
        sizes = [n // k] * k
    else:
        sizes = [int(s) for s in num_or_size_splits]
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = n - (sum(sizes) + 1)
        if sum(sizes) != n or min(sizes) < 0:
            raise ValueError("split: num_or_size_splits: sizes %s do not add up to the axis "
                             "length %d" % (list(num_or_size_splits), n))
    bounds = np.cumsum([0] + sizes)
    outs = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        piece = np.take(a, np.arange(lo, hi), axis=ax)

        def backward(dy, needs, lo=lo, hi=hi):
            g = np.zeros(a.shape, dtype=np.asarray(dy).dtype)
            index = [slice(None)] * a.ndim
            index[ax] = slice(lo, hi)
            g[tuple(index)] = dy
            return (g,)

        outs.append(result("split", src, piece, backward))
    return outs


def tile(input, multiples):  # noqa: A002 - the TF name
    """``input`` repeated ``multiples[i]`` times along each axis."""
    _, (a,), src = prepare("tile", ("input",), (input,), "all")
    reps = [int(m) for m in np.asarray(multiples).reshape(-1)]
    if len(reps) != a.ndim or min(reps, default=1) < 0:
        raise ValueError("tile: multiples: expected %d non-negative ints, got %s"
                         % (a.ndim, list(np.asarray(multiples).reshape(-1))))
    out = np.tile(a, reps)

    def backward(dy, needs):
        shape = []
        for r, d in zip(reps, a.shape):
            shape += [r, d]
        return (np.reshape(dy, shape).sum(axis=tuple(range(0, 2 * a.ndim, 2))),)

    return result("tile", src, out, backward)


def sort(values, axis=-1, direction="ASCENDING"):
    """Sorted along ``axis`` (the gradient goes back to where each value came from)."""
    order = argsort(values, axis=axis, direction=direction)
    _, (a,), _ = prepare("sort", ("values",), (values,), "all")
    ax = _axis(axis, a.ndim, "sort")
    return _take_along(values, a, order.numpy(), ax)


def argsort(values, axis=-1, direction="ASCENDING", stable=False):
    """The indices that sort ``values`` along ``axis`` (int32, as TF)."""
    _, (a,), _ = prepare("argsort", ("values",), (values,), "all")
    ax = _axis(axis, a.ndim, "argsort")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError("argsort: direction: expected 'ASCENDING' or 'DESCENDING', got %r"
                         % (direction,))
    order = np.argsort(-a if direction == "DESCENDING" else a, axis=ax, kind="stable")
    return Tensor._wrap(order.astype(np.int32))


def _take_along(values, a, order, ax):
    _, _, src = prepare("take_along", ("values",), (values,), "all")
    out = np.take_along_axis(a, order, axis=ax)

    def backward(dy, needs):
        g = np.zeros(a.shape, dtype=np.asarray(dy).dtype)
        np.put_along_axis(g, order, dy, axis=ax)
        return (g,)

    return result("sort", src, out, backward)


def top_k(input, k=1, sorted=True):  # noqa: A002 - the TF names
    """``(values, indices)`` of the ``k`` largest entries of the last axis."""
    _, (a,), _ = prepare("top_k", ("input",), (input,), "all")
    if not 0 <= int(k) <= (a.shape[-1] if a.ndim else 0):
        raise ValueError("top_k: k: expected a value in [0, %d], got %r"
                         % (a.shape[-1] if a.ndim else 0, k))
    order = np.argsort(-a, axis=-1, kind="stable")[..., :int(k)]
    return _take_along(input, a, order, a.ndim - 1), Tensor._wrap(order.astype(np.int32))


def shape(input, out_type=np.int32):  # noqa: A002 - the TF name
    """The shape as a 1-D integer tensor."""
    return Tensor._wrap(np.asarray(np.shape(np.asarray(input)), dtype=out_type))


def size(input, out_type=np.int32):  # noqa: A002
    return Tensor._wrap(np.asarray(np.size(np.asarray(input)), dtype=out_type))


def rank(input):  # noqa: A002
    return Tensor._wrap(np.asarray(np.ndim(np.asarray(input)), dtype=np.int32))
