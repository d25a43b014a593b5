"""``bprop.Tensor``: an immutable float array, the result type of tensor ops.

A Tensor wraps a float32/float64 ndarray.  It interoperates with NumPy
(``np.asarray(t)`` gives the array without a copy) and with Python scalars,
and broadcasts as NumPy does.  Arithmetic operators come from
:mod:`bprop.autodiff.operators`; gradients are recorded by
:class:`bprop.GradientTape`, never stored on the tensor itself.

This module also holds the operand conversion shared by every op:
:func:`prepare` resolves one dtype for an op's operands and refuses to mix
float32 with float64 (a TypeError, never a silent cast).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..variables import FLOAT_DTYPES, ArrayView, Variable, check_real, float_dtype

__all__ = ["Tensor", "constant", "convert_to_tensor", "zeros", "ones", "zeros_like", "ones_like",
           "prepare", "is_number"]

_DEFAULT = np.dtype(np.float32)


def _float_dtype(dtype, argname):
    """:func:`bprop.variables.float_dtype`, and a TypeError naming ``argname``
    (not NumPy's) for things that are no dtype at all."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError("%s: expected float32 or float64, got %r" % (argname, dtype)) from None
    return float_dtype(d, argname)


class Tensor(ArrayView):
    """An immutable float32/float64 array produced by tensor ops.

    ``Tensor(value, dtype=None)``: ``value`` is anything ``np.asarray``
    accepts.  Without ``dtype``, float ndarrays and NumPy float scalars keep
    their dtype, everything else (Python numbers, lists, integer arrays)
    becomes float32, the library default (as ``tf.constant`` does).
    """

    __array_priority__ = 100  # ``ndarray op Tensor`` defers to Tensor's operators
    __slots__ = ("_value", "__weakref__")

    def __init__(self, value, dtype=None):
        if isinstance(value, Tensor):
            value = value._value
        elif isinstance(value, Variable):
            value = value.value
        strong = isinstance(value, (np.ndarray, np.generic))
        arr = np.asarray(value)
        check_real(arr, "value")
        if dtype is None:
            dtype = arr.dtype if (strong and arr.dtype in FLOAT_DTYPES) else _DEFAULT
        dtype = _float_dtype(dtype, "dtype")
        # A private copy: mutating the caller's array must not change the tensor.
        self._value = np.array(arr, dtype=dtype, copy=True)

    @classmethod
    def _wrap(cls, arr):
        """Internal: wrap an array the op owns (no copy, no checks)."""
        t = object.__new__(cls)
        t._value = arr if isinstance(arr, np.ndarray) else np.asarray(arr)
        return t

    # ------------------------------------------------------------ array view
    # dtype, shape, ndim, size and __array__ come from ArrayView.
    def numpy(self):
        """A copy of the value: a NumPy scalar for 0-d tensors, else an ndarray."""
        if self._value.ndim == 0:
            return self._value[()]
        return self._value.copy()

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return self._value.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self):
        if self._value.size != 1:
            raise ValueError(
                "The truth value of a Tensor of shape %s is ambiguous" % (self._value.shape,)
            )
        return bool(self._value.reshape(()))

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __format__(self, spec):
        if spec and self._value.ndim == 0:  # "{:.3f}".format(loss) formats the number
            return format(self._value[()], spec)
        return format(str(self), spec)

    def __repr__(self):
        return "<bprop.Tensor shape=%s dtype=%s numpy=%s>" % (
            self.shape, self.dtype, np.array2string(self._value, threshold=6)
        )

    def __str__(self):
        return "bprop.Tensor(%s, shape=%s, dtype=%s)" % (
            np.array2string(self._value, threshold=6), self.shape, self.dtype
        )


def constant(value, dtype=None):
    """A constant Tensor (a copy of ``value``); see :class:`Tensor` for dtypes."""
    return Tensor(value, dtype=dtype)


def convert_to_tensor(value, dtype=None):
    """``value`` as a Tensor: Tensors pass through (dtype must match), Variables
    are read, anything else is converted like :func:`constant`."""
    if isinstance(value, Tensor):
        if dtype is not None and _float_dtype(dtype, "dtype") != value.dtype:
            raise TypeError(
                "value: expected dtype %s, got a Tensor of dtype %s (use bprop.cast)"
                % (np.dtype(dtype), value.dtype)
            )
        return value
    if isinstance(value, Variable):
        from .elementwise import identity  # the read is differentiable

        if dtype is not None and _float_dtype(dtype, "dtype") != value.dtype:
            raise TypeError(
                "value: expected dtype %s, got a Variable of dtype %s (use bprop.cast)"
                % (np.dtype(dtype), value.dtype)
            )
        return identity(value)
    return Tensor(value, dtype=dtype)


def _shape_arg(shape):
    try:
        dims = tuple(int(n) for n in np.asarray(shape, dtype=np.int64).reshape(-1))
    except (TypeError, ValueError):
        raise TypeError("shape: expected a list of non-negative ints, got %r" % (shape,)) from None
    if any(n < 0 for n in dims):
        raise ValueError("shape: expected non-negative ints, got %r" % (shape,))
    return dims


def zeros(shape, dtype=np.float32):
    """A constant Tensor of zeros of ``shape`` (float32 unless ``dtype``)."""
    return Tensor._wrap(np.zeros(_shape_arg(shape), dtype=_float_dtype(dtype, "dtype")))


def ones(shape, dtype=np.float32):
    """A constant Tensor of ones of ``shape`` (float32 unless ``dtype``)."""
    return Tensor._wrap(np.ones(_shape_arg(shape), dtype=_float_dtype(dtype, "dtype")))


def zeros_like(input, dtype=None):  # noqa: A002 - the TF name
    """Zeros with the shape (and dtype, unless given) of ``input``."""
    arr = np.asarray(input)
    d = dtype if dtype is not None else (arr.dtype if arr.dtype in FLOAT_DTYPES else _DEFAULT)
    return zeros(arr.shape, d)


def ones_like(input, dtype=None):  # noqa: A002 - the TF name
    """Ones with the shape (and dtype, unless given) of ``input``."""
    arr = np.asarray(input)
    d = dtype if dtype is not None else (arr.dtype if arr.dtype in FLOAT_DTYPES else _DEFAULT)
    return ones(arr.shape, d)


# --------------------------------------------------------------------------- operands
def _strong_dtype(obj):
    """The dtype an operand insists on, or None for weak operands (Python numbers,
    lists, NumPy scalars, integer arrays) that adopt the other operands' dtype."""
    if isinstance(obj, (Tensor, Variable)):
        return obj.dtype
    if isinstance(obj, np.ndarray) and obj.dtype.kind == "f":
        return obj.dtype
    return None


def _read(obj, snapshot):
    if isinstance(obj, Tensor):
        return obj._value
    if isinstance(obj, Variable):
        # Under a tape the backward rule must see the value read now, not a
        # later in-place optimizer update of the same array.
        return obj.value.copy() if snapshot else obj.value
    return None


def prepare(opname, argnames, values):
    """Convert an op's operands to arrays of one float dtype.

    Returns ``(dtype, arrays, sources)``: ``sources[i]`` is the Tensor or
    Variable passed as operand ``i`` (what the tape differentiates), or None
    for plain data.  Raises TypeError naming the op and the arguments when two
    operands carry different float dtypes or an operand is not numeric.
    """
    from .tape import tape_is_recording

    dtype = None
    first = None
    for name, value in zip(argnames, values):
        d = _strong_dtype(value)
        if d is None:
            continue
        if d not in FLOAT_DTYPES:
            raise TypeError("%s: %s: expected float32 or float64, got %s" % (opname, name, d))
        if dtype is None:
            dtype, first = d, name
        elif d != dtype:
            raise TypeError(
                "%s: %s has dtype %s but %s has dtype %s; mixing dtypes is an error "
                "(convert one with bprop.cast)" % (opname, first, dtype, name, d)
            )
    if dtype is None:
        dtype = _DEFAULT
    snapshot = tape_is_recording()
    arrays, sources = [], []
    for name, value in zip(argnames, values):
        arr = _read(value, snapshot)
        if arr is None:
            if value is None or isinstance(value, (str, bytes)):
                raise TypeError("%s: %s: expected a number or an array, got %r" % (opname, name, value))
            arr = np.asarray(value)
            if arr.dtype.kind not in "fiub":
                raise TypeError(
                    "%s: %s: expected real numbers, got dtype %s" % (opname, name, arr.dtype)
                )
            arr = arr.astype(dtype, copy=False)
            sources.append(None)
        else:
            sources.append(value)
        arrays.append(arr)
    return dtype, arrays, sources


def is_number(value):
    """A real Python/NumPy number (not a bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
