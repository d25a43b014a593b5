"""Elementwise tensor ops with their backward rules.

Binary ops broadcast as NumPy does; the gradient of a broadcast operand is
summed back to its shape.  These have no dedicated kernel in ``bprop.ops``
(the core has kernels for GEMM, activations and losses), so they run on
NumPy.  Values that are legitimately infinite or NaN (log(0), 1/0) come out
as in NumPy/TensorFlow, without warnings.
"""
from __future__ import annotations

import numpy as np

from .graph import result, unbroadcast
from ..variables import Variable
from .dtypes import as_dtype
from .tensor import Tensor, is_number, natural_array, prepare

__all__ = [
    "add", "subtract", "multiply", "divide", "negative", "pow", "square", "sqrt",
    "exp", "log", "abs", "maximum", "minimum", "clip_by_value", "cast", "floordiv", "floormod",
    "stop_gradient", "identity",
]

_quiet = dict(divide="ignore", invalid="ignore", over="ignore")


def add(x, y):
    """``x + y`` (broadcasting)."""
    _, (a, b), src = prepare("add", ("x", "y"), (x, y), "numeric")

    def backward(dy, needs):
        return (unbroadcast(dy, a.shape) if needs[0] else None,
                unbroadcast(dy, b.shape) if needs[1] else None)

    return result("add", src, a + b, backward)


def subtract(x, y):
    """``x - y`` (broadcasting)."""
    _, (a, b), src = prepare("subtract", ("x", "y"), (x, y), "numeric")

    def backward(dy, needs):
        return (unbroadcast(dy, a.shape) if needs[0] else None,
                unbroadcast(-dy, b.shape) if needs[1] else None)

    return result("subtract", src, a - b, backward)


def multiply(x, y):
    """``x * y`` elementwise (broadcasting)."""
    _, (a, b), src = prepare("multiply", ("x", "y"), (x, y), "numeric")

    def backward(dy, needs):
        return (unbroadcast(dy * b, a.shape) if needs[0] else None,
                unbroadcast(dy * a, b.shape) if needs[1] else None)

    return result("multiply", src, a * b, backward)


def divide(x, y):
    """``x / y`` elementwise (broadcasting).  Integers divide as TensorFlow's
    ``truediv``: int8/int16/uint8/uint16 give float32, wider integers
    float64 (an integer result would lose the fraction)."""
    dtype, (a, b), src = prepare("divide", ("x", "y"), (x, y), "numeric")
    if dtype.kind != "f":
        f = np.float32 if dtype.itemsize <= 2 else np.float64
        with np.errstate(**_quiet):
            return result("divide", (None, None), a.astype(f) / b.astype(f), None)
    with np.errstate(**_quiet):
        out = a / b

    def backward(dy, needs):
        with np.errstate(**_quiet):
            ga = unbroadcast(dy / b, a.shape) if needs[0] else None
            gb = unbroadcast(-dy * out / b, b.shape) if needs[1] else None
        return ga, gb

    return result("divide", src, out, backward)


def _check_int_divisor(dtype, b, opname):
    if dtype.kind in "iu" and np.any(b == 0):
        raise ZeroDivisionError("%s: y: integer division by zero" % opname)


def floordiv(x, y):
    """``x // y``: the quotient rounded towards -inf (as Python and
    ``tf.math.floordiv``).  No gradient (TensorFlow defines none)."""
    dtype, (a, b), _src = prepare("floordiv", ("x", "y"), (x, y), "numeric")
    _check_int_divisor(dtype, b, "floordiv")
    with np.errstate(**_quiet):
        return result("floordiv", (None, None), np.floor_divide(a, b), None)


def floormod(x, y):
    """``x % y`` with the sign of ``y`` (as Python and ``tf.math.floormod``).
    Gradient as TensorFlow's: ``dy`` for x, ``-dy * floor(x / y)`` for y."""
    dtype, (a, b), src = prepare("floormod", ("x", "y"), (x, y), "numeric")
    _check_int_divisor(dtype, b, "floormod")
    with np.errstate(**_quiet):
        out = np.mod(a, b)

    def backward(dy, needs):
        with np.errstate(**_quiet):
            return (unbroadcast(dy, a.shape) if needs[0] else None,
                    unbroadcast(-dy * np.floor_divide(a, b), b.shape) if needs[1] else None)

    return result("floormod", src, out, backward)


def negative(x):
    """``-x``."""
    _, (a,), src = prepare("negative", ("x",), (x,), "numeric")
    return result("negative", src, -a, lambda dy, needs: (-dy,))


def pow(x, y):
    """``x ** y`` elementwise.  With a constant exponent p the gradient is
    ``p x^(p-1)``; with a tensor exponent it also flows to ``y`` as
    ``x^y log(x)`` (taken as 0 where x <= 0, where the log is undefined)."""
    dtype, (a, b), src = prepare("pow", ("x", "y"), (x, y), "numeric")
    if dtype.kind in "iu" and np.any(b < 0):
        raise ValueError("pow: y: integers to negative integer powers are not allowed, got %s"
                         % (b.min(),))
    with np.errstate(**_quiet):
        out = np.power(a, b)

    def backward(dy, needs):
        ga = gb = None
        with np.errstate(**_quiet):
            if needs[0]:
                # p * x^(p-1), with the exact 0 for p == 0 (avoids 0 * inf at x = 0)
                d = np.where(b == 0, 0, b * np.power(a, b - 1)).astype(a.dtype, copy=False)
                ga = unbroadcast(dy * d, a.shape)
            if needs[1]:
                logx = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0).astype(a.dtype, copy=False)
                gb = unbroadcast(dy * out * logx, b.shape)
        return ga, gb

    return result("pow", src, out, backward)


def square(x):
    """``x * x``."""
    _, (a,), src = prepare("square", ("x",), (x,), "numeric")
    two = a.dtype.type(2)
    return result("square", src, a * a, lambda dy, needs: (dy * (two * a),))


def sqrt(x):
    """Square root; the gradient ``0.5 / sqrt(x)`` is inf at 0."""
    _, (a,), src = prepare("sqrt", ("x",), (x,))
    with np.errstate(**_quiet):
        out = np.sqrt(a)
    half = a.dtype.type(0.5)

    def backward(dy, needs):
        with np.errstate(**_quiet):
            return (dy * half / out,)

    return result("sqrt", src, out, backward)


def exp(x):
    """``e ** x``."""
    _, (a,), src = prepare("exp", ("x",), (x,))
    with np.errstate(over="ignore"):
        out = np.exp(a)
    return result("exp", src, out, lambda dy, needs: (dy * out,))


def log(x):
    """Natural logarithm (-inf at 0, NaN below)."""
    _, (a,), src = prepare("log", ("x",), (x,))
    with np.errstate(**_quiet):
        out = np.log(a)

    def backward(dy, needs):
        with np.errstate(**_quiet):
            return (dy / a,)

    return result("log", src, out, backward)


def abs(x):  # noqa: A001 - the TF name
    """``|x|``; the gradient is ``sign(x)`` (0 at 0)."""
    _, (a,), src = prepare("abs", ("x",), (x,), "numeric")
    return result("abs", src, np.abs(a), lambda dy, needs: (dy * np.sign(a),))


def maximum(x, y):
    """Elementwise max; ties send the gradient to ``x`` (as TensorFlow)."""
    _, (a, b), src = prepare("maximum", ("x", "y"), (x, y), "numeric")
    pick_a = a >= b

    def backward(dy, needs):
        zero = dy.dtype.type(0)
        return (unbroadcast(np.where(pick_a, dy, zero), a.shape) if needs[0] else None,
                unbroadcast(np.where(pick_a, zero, dy), b.shape) if needs[1] else None)

    return result("maximum", src, np.maximum(a, b), backward)


def minimum(x, y):
    """Elementwise min; ties send the gradient to ``x`` (as TensorFlow)."""
    _, (a, b), src = prepare("minimum", ("x", "y"), (x, y), "numeric")
    pick_a = a <= b

    def backward(dy, needs):
        zero = dy.dtype.type(0)
        return (unbroadcast(np.where(pick_a, dy, zero), a.shape) if needs[0] else None,
                unbroadcast(np.where(pick_a, zero, dy), b.shape) if needs[1] else None)

    return result("minimum", src, np.minimum(a, b), backward)


def clip_by_value(t, clip_value_min, clip_value_max):
    """``t`` clipped to [min, max]; the gradient passes where ``t`` was inside."""
    if is_number(clip_value_min) and is_number(clip_value_max) and clip_value_min > clip_value_max:
        raise ValueError("clip_by_value: expected clip_value_min <= clip_value_max, got %r > %r"
                         % (clip_value_min, clip_value_max))
    _, (a, lo, hi), src = prepare("clip_by_value", ("t", "clip_value_min", "clip_value_max"),
                                  (t, clip_value_min, clip_value_max), "numeric")
    out = np.minimum(np.maximum(a, lo), hi)
    inside = (a >= lo) & (a <= hi)

    def backward(dy, needs):
        zero = dy.dtype.type(0)
        return (unbroadcast(np.where(inside, dy, zero), a.shape) if needs[0] else None,
                unbroadcast(np.where(a < lo, dy, zero), lo.shape) if needs[1] else None,
                unbroadcast(np.where(a > hi, dy, zero), hi.shape) if needs[2] else None)

    return result("clip_by_value", src, out, backward)


def cast(x, dtype):
    """``x`` converted to ``dtype``: the one explicit way to change a dtype.

    Floats become integers by truncation towards zero, numbers become bools
    by ``!= 0`` (as ``tf.cast``).  The gradient flows only from float to
    float (cast back to the source's dtype); a cast to or from an integer
    or bool is a constant to the tape, as in TensorFlow.
    """
    dtype = as_dtype(dtype, "dtype")
    if isinstance(x, (Tensor, Variable)):
        _, (a,), src = prepare("cast", ("x",), (x,), "all")
    else:
        a, _ = natural_array(x, "cast: x")
        src = [None]
    src_dtype = a.dtype
    if dtype.kind in "iu" and src_dtype.kind == "f":
        with np.errstate(invalid="ignore", over="ignore"):
            out = np.trunc(a).astype(dtype)
    else:
        out = a.astype(dtype)
    if src_dtype.kind != "f" or dtype.kind != "f":
        return result("cast", (None,), out, None)
    return result("cast", src, out, lambda dy, needs: (dy.astype(src_dtype),))


def identity(x):
    """A Tensor with the value of ``x`` (reads a Variable, differentiably)."""
    _, (a,), src = prepare("identity", ("x",), (x,), "all")
    return result("identity", src, a.copy(), lambda dy, needs: (dy,))


def stop_gradient(x):
    """The value of ``x`` as a constant: no gradient flows through it."""
    _, (a,), _src = prepare("stop_gradient", ("x",), (x,), "all")
    return Tensor._wrap(a.copy())
