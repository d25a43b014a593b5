"""Comparisons, logical ops and ``where``.

Comparisons give bool tensors (they have no gradient); their operands
follow the dtype rules of every op (:func:`.tensor.prepare`), so comparing
an int32 tensor with a float32 tensor is a TypeError, as in TensorFlow,
while Python numbers adopt the tensor's dtype.  Logical ops take bool
tensors only.  ``where(condition, x, y)`` picks elementwise and passes the
gradient to the side that was picked.
"""
from __future__ import annotations

import numpy as np

from .graph import result, unbroadcast
from .tensor import natural_array, prepare

__all__ = ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not", "where"]


def _compare(opname, fn, x, y, accept):
    _, (a, b), _src = prepare(opname, ("x", "y"), (x, y), accept)
    try:
        out = fn(a, b)
    except ValueError:
        raise ValueError("%s: x of shape %s and y of shape %s do not broadcast"
                         % (opname, a.shape, b.shape)) from None
    return result(opname, (None, None), np.asarray(out), None)


def equal(x, y):
    """``x == y`` elementwise (bool tensor)."""
    return _compare("equal", np.equal, x, y, "all")


def not_equal(x, y):
    """``x != y`` elementwise (bool tensor)."""
    return _compare("not_equal", np.not_equal, x, y, "all")


def greater(x, y):
    """``x > y`` elementwise (bool tensor)."""
    return _compare("greater", np.greater, x, y, "numeric")


def greater_equal(x, y):
    """``x >= y`` elementwise (bool tensor)."""
    return _compare("greater_equal", np.greater_equal, x, y, "numeric")


def less(x, y):
    """``x < y`` elementwise (bool tensor)."""
    return _compare("less", np.less, x, y, "numeric")


def less_equal(x, y):
    """``x <= y`` elementwise (bool tensor)."""
    return _compare("less_equal", np.less_equal, x, y, "numeric")


def logical_and(x, y):
    """Elementwise and of two bool tensors."""
    return _compare("logical_and", np.logical_and, x, y, "bool")


def logical_or(x, y):
    """Elementwise or of two bool tensors."""
    return _compare("logical_or", np.logical_or, x, y, "bool")


def logical_xor(x, y):
    """Elementwise exclusive or of two bool tensors."""
    return _compare("logical_xor", np.logical_xor, x, y, "bool")


def logical_not(x):
    """Elementwise not of a bool tensor."""
    _, (a,), _src = prepare("logical_not", ("x",), (x,), "bool")
    return result("logical_not", (None,), np.logical_not(a), None)


def _condition(condition):
    arr, _ = natural_array(condition, "where: condition")
    if arr.dtype.kind != "b":
        raise TypeError("where: condition: expected a bool tensor, got dtype %s "
                        "(compare first, e.g. x > 0)" % arr.dtype)
    return arr


def where(condition, x=None, y=None):
    """``where(condition)``: the coordinates of the True entries, an int64
    tensor of shape (count, rank) in row-major order.

    ``where(condition, x, y)``: ``x`` where ``condition`` holds, else ``y``;
    the three broadcast together (``tf.where`` of TensorFlow 2).  The
    gradient goes to ``x`` where the condition held and to ``y`` elsewhere.
    """
    cond = _condition(condition)
    if x is None and y is None:
        return result("where", (None,), np.argwhere(cond).astype(np.int64), None)
    if x is None or y is None:
        raise ValueError("where: x and y: expected both or neither, got %s"
                         % ("only x" if y is None else "only y"))
    _, (a, b), src = prepare("where", ("x", "y"), (x, y), "all")
    try:
        shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError("where: condition of shape %s, x of shape %s and y of shape %s do not "
                         "broadcast" % (cond.shape, a.shape, b.shape)) from None
    pick = np.broadcast_to(cond, shape)
    out = np.where(pick, a, b)

    def backward(dy, needs):
        zero = dy.dtype.type(0)
        return (unbroadcast(np.where(pick, dy, zero), a.shape) if needs[0] else None,
                unbroadcast(np.where(pick, zero, dy), b.shape) if needs[1] else None)

    return result("where", src, out, backward)
