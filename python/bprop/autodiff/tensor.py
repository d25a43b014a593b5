"""``bprop.Tensor``: an immutable array, the result type of tensor ops.

A Tensor wraps an ndarray of one of TensorFlow's common dtypes
(float32/float64, the integer types, bool; see :mod:`.dtypes`).  It
interoperates with NumPy (``np.asarray(t)`` gives the array without a copy)
and with Python scalars, and broadcasts as NumPy does.  Operators come from
:mod:`bprop.autodiff.operators`; gradients are recorded by
:class:`bprop.GradientTape`, never stored on the tensor itself, and flow
only through float tensors (an integer or bool tensor is a constant).

This module also holds the operand conversion shared by every op:
:func:`prepare` resolves one dtype for an op's operands as TensorFlow does
and refuses to mix dtypes of tensors (a TypeError, never a silent cast).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..variables import ArrayView, Variable
from .dtypes import FLOAT_DTYPES, as_dtype

__all__ = ["Tensor", "constant", "convert_to_tensor", "zeros", "ones", "zeros_like", "ones_like",
           "prepare", "is_number", "natural_array", "convert_array"]

_DEFAULT = np.dtype(np.float32)
_INT32 = np.dtype(np.int32)
_INT32_RANGE = (np.iinfo(np.int32).min, np.iinfo(np.int32).max)


def _float_dtype(dtype, argname):
    """``dtype`` as float32/float64, or a TypeError naming ``argname``."""
    d = as_dtype(dtype, argname)
    if d not in FLOAT_DTYPES:
        raise TypeError("%s: expected float32 or float64, got %s" % (argname, d))
    return d


# --------------------------------------------------------------------------- conversion
def _has_typed_leaf(value):
    """True when a nested list holds arrays/tensors (they bring their dtype)."""
    if isinstance(value, (list, tuple)):
        return any(_has_typed_leaf(v) for v in value)
    return isinstance(value, (np.ndarray, np.generic, ArrayView))


def natural_array(value, argname="value"):
    """``value`` as an array of the dtype ``tf.constant`` would give it, and
    whether that dtype is the value's own (arrays, NumPy scalars, tensors:
    *typed*) or inferred from Python numbers.

    Python bools -> bool, ints -> int32 (int64 when a value does not fit),
    floats -> float32; NumPy arrays and scalars keep their dtype.
    """
    if isinstance(value, Tensor):
        return value._value, True
    if isinstance(value, Variable):
        return value.value, True
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError("%s: expected a number or an array, got %r" % (argname, value))
    typed = isinstance(value, (np.ndarray, np.generic)) or _has_typed_leaf(value)
    try:
        arr = np.asarray(value)
    except (ValueError, OverflowError) as e:
        raise ValueError("%s: cannot make a tensor of %r: %s" % (argname, value, e)) from None
    if arr.dtype.kind not in "fiub":
        raise TypeError("%s: expected real numbers, got dtype %s" % (argname, arr.dtype))
    if not typed:
        if arr.dtype.kind == "f":
            arr = arr.astype(_DEFAULT)
        elif arr.dtype.kind in "iu" and arr.dtype != _INT32:
            if arr.size == 0 or (arr.min() >= _INT32_RANGE[0] and arr.max() <= _INT32_RANGE[1]):
                arr = arr.astype(_INT32)
            else:
                arr = arr.astype(np.int64)
    elif arr.dtype not in FLOAT_DTYPES and arr.dtype.kind == "f":
        raise TypeError("%s: expected float32 or float64, got %s" % (argname, arr.dtype))
    return arr, typed


def convert_array(arr, typed, dtype, argname, opname=None, value=None):
    """``arr`` (from :func:`natural_array`) converted to ``dtype`` where
    TensorFlow allows it implicitly: anything numeric to a float dtype,
    integers and bools to an integer dtype, bools to bool.  Floats never become
    integers and numbers never become bools (TypeError: use bprop.cast).
    (Float *arrays* never get here: they insist on their dtype, see
    :func:`prepare`.)  ``value``: the Python value ``arr`` came from, read
    again for a float dtype so that ``0.1`` becomes float64 without passing
    through float32."""
    dtype = np.dtype(dtype)
    if arr.dtype == dtype:
        return arr
    src, dst = arr.dtype.kind, dtype.kind
    ok = (dst == "f" and src in "fiub") or (dst in "iu" and src in "iub")
    if not ok:
        where = "%s: %s" % (opname, argname) if opname else argname
        raise TypeError("%s: cannot convert a value of dtype %s to %s implicitly "
                        "(use bprop.cast)" % (where, arr.dtype if typed else _python_kind(arr),
                                              dtype))
    if dst == "f" and not typed and value is not None:
        return np.asarray(value, dtype=dtype)
    return arr.astype(dtype)


def _python_kind(arr):
    return {"f": "float", "b": "bool"}.get(arr.dtype.kind, "int")


# --------------------------------------------------------------------------- Tensor
class Tensor(ArrayView):
    """An immutable array produced by tensor ops.

    ``Tensor(value, dtype=None)``: ``value`` is anything ``np.asarray``
    accepts.  Without ``dtype`` the dtype follows ``tf.constant``: NumPy
    arrays and scalars and tensors keep theirs, Python floats become float32,
    ints int32, bools bool.  With ``dtype``, the value is converted where
    TensorFlow converts implicitly (see :func:`convert_array`).
    """

    __array_priority__ = 100  # ``ndarray op Tensor`` defers to Tensor's operators
    __slots__ = ("_value", "__weakref__")
    __hash__ = None  # ``==`` is elementwise, as in TensorFlow: a Tensor is no dict key

    def __init__(self, value, dtype=None):
        arr, typed = natural_array(value)
        if dtype is not None:
            d = as_dtype(dtype, "dtype")
            if isinstance(value, ArrayView) and value.dtype != d:
                raise TypeError("value: expected dtype %s, got a %s of dtype %s (use bprop.cast)"
                                % (d, type(value).__name__, value.dtype))
            # A NumPy array given with an explicit dtype is converted as
            # tf.constant does; Python values only where that is lossless.
            arr = arr.astype(d) if typed else convert_array(arr, typed, d, "value", None, value)
        # A private copy: mutating the caller's array must not change the tensor.
        self._value = np.array(arr, copy=True)

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
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d Tensor")
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

    def __index__(self):
        """Integer scalar tensors index lists and ranges, as in TensorFlow."""
        if self._value.ndim != 0 or self._value.dtype.kind not in "iu":
            raise TypeError("only integer scalar tensors can be used as an index, got shape %s "
                            "dtype %s" % (self.shape, self.dtype))
        return int(self._value)

    def __format__(self, spec):
        # As TensorFlow: the NumPy value's format ("{:.3f}".format(loss) formats the number).
        return format(self._value[()] if self._value.ndim == 0 else self._value, spec)

    def __repr__(self):
        return "<tf.Tensor: shape=%s, dtype=%s, numpy=%s>" % (
            self.shape, self.dtype.name, _numpy_text(self._value, True))

    def __str__(self):
        return "tf.Tensor(%s, shape=%s, dtype=%s)" % (
            _numpy_text(self._value, False), self.shape, self.dtype.name)


def _numpy_text(arr, is_repr):
    """TensorFlow's layout: NumPy's str/repr (a scalar's repr as a Python
    number), on a new line when it spans several."""
    if is_repr:
        text = repr(arr.item()) if arr.ndim == 0 else repr(arr)
    else:
        text = str(arr)
    return "\n" + text if "\n" in text else text


def constant(value, dtype=None, shape=None):
    """A constant Tensor (a copy of ``value``); see :class:`Tensor` for dtypes.
    ``shape``: reshape to it, or broadcast a scalar to it (as ``tf.constant``)."""
    t = Tensor(value, dtype=dtype)
    if shape is None:
        return t
    dims = _shape_arg(shape)
    if t.size == 1 and t._value.shape != dims:
        return Tensor._wrap(np.full(dims, t._value.reshape(()), dtype=t.dtype))
    if int(np.prod(dims)) != t.size:
        raise TypeError("shape: expected %d elements (the value's) or a scalar value, got shape %s "
                        "for a value of shape %s" % (t.size, dims, t.shape))
    return Tensor._wrap(t._value.reshape(dims))


def convert_to_tensor(value, dtype=None, dtype_hint=None):
    """``value`` as a Tensor: Tensors pass through (dtype must match), Variables
    are read, anything else is converted like :func:`constant` (``dtype_hint``:
    the dtype to prefer for Python values, when they convert to it)."""
    if isinstance(value, (Tensor, Variable)):
        if dtype is not None and as_dtype(dtype, "dtype") != value.dtype:
            raise TypeError(
                "value: expected dtype %s, got a %s of dtype %s (use bprop.cast)"
                % (np.dtype(dtype), type(value).__name__, value.dtype)
            )
        if isinstance(value, Variable):
            from .elementwise import identity  # the read is differentiable

            return identity(value)
        return value
    if dtype is None and dtype_hint is not None:
        arr, typed = natural_array(value)
        try:
            hint = as_dtype(dtype_hint, "dtype_hint")
            return Tensor._wrap(np.array(convert_array(arr, typed, hint, "value", None, value),
                                         copy=True))
        except TypeError:
            return Tensor(value)
    return Tensor(value, dtype=dtype)


def _shape_arg(shape, argname="shape"):
    if isinstance(shape, ArrayView):
        shape = np.asarray(shape)
    try:
        dims = tuple(int(n) for n in np.asarray(shape, dtype=np.int64).reshape(-1))
    except (TypeError, ValueError):
        raise TypeError("%s: expected a list of non-negative ints, got %r" % (argname, shape)) from None
    if any(n < 0 for n in dims):
        raise ValueError("%s: expected non-negative ints, got %r" % (argname, shape))
    return dims


def zeros(shape, dtype=np.float32):
    """A constant Tensor of zeros of ``shape`` (float32 unless ``dtype``)."""
    return Tensor._wrap(np.zeros(_shape_arg(shape), dtype=as_dtype(dtype, "dtype")))


def ones(shape, dtype=np.float32):
    """A constant Tensor of ones of ``shape`` (float32 unless ``dtype``)."""
    return Tensor._wrap(np.ones(_shape_arg(shape), dtype=as_dtype(dtype, "dtype")))


def _like_dtype(input, dtype):  # noqa: A002 - the TF name
    if dtype is not None:
        return input.shape if isinstance(input, ArrayView) else np.shape(input), dtype
    arr, _ = natural_array(input, "input")
    return arr.shape, arr.dtype


def zeros_like(input, dtype=None):  # noqa: A002 - the TF name
    """Zeros with the shape (and dtype, unless given) of ``input``."""
    return zeros(*_like_dtype(input, dtype))


def ones_like(input, dtype=None):  # noqa: A002 - the TF name
    """Ones with the shape (and dtype, unless given) of ``input``."""
    return ones(*_like_dtype(input, dtype))


# --------------------------------------------------------------------------- operands
def _strong_dtype(obj):
    """The dtype an operand insists on, or None for weak operands (Python numbers,
    lists, NumPy scalars, integer/bool arrays) that adopt the other operands' dtype.
    A float ndarray is strong: its precision is never silently changed."""
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


# What each kind of op accepts: "float" (exp, sqrt, softmax...: float32/float64),
# "numeric" (add, matmul, reductions...: ints and floats), "all" (shape ops,
# equality, where: bools too), "bool" (logical ops).
_ACCEPT = {
    "float": ("f", "a float tensor (float32 or float64)"),
    "numeric": ("fiu", "a numeric tensor (float or integer)"),
    "all": ("fiub", "a tensor"),
    "bool": ("b", "a bool tensor"),
}


def _promote_weak(naturals):
    """One dtype for operands none of which insists on its own: the widest
    float if any is a float, else the widest integer, else bool."""
    kinds = [a.dtype for a, _ in naturals]
    floats = [d for d in kinds if d.kind == "f"]
    if floats:
        return np.dtype(np.result_type(*floats))
    ints = [d for d in kinds if d.kind in "iu"]
    if ints:
        return np.dtype(np.result_type(*ints))
    return np.dtype(np.bool_)


def prepare(opname, argnames, values, accept="float"):
    """Convert an op's operands to arrays of one dtype.

    Returns ``(dtype, arrays, sources)``: ``sources[i]`` is the Tensor or
    Variable passed as operand ``i`` (what the tape differentiates) when it
    is a float tensor, or None for plain data and integer/bool tensors
    (constants to the tape, as in TensorFlow).

    The dtype is that of the tensor operands (all must agree: TypeError
    naming both otherwise); Python numbers, NumPy scalars and integer arrays
    adopt it (a float never becomes an integer).  Without tensor operands it
    is inferred as ``tf.constant`` does (Python ints -> int32, floats ->
    float32); ops that only compute on floats (``accept="float"``) take such
    integers as float32.  ``accept`` names what the op computes on (see
    ``_ACCEPT``); a tensor outside it is a TypeError naming the argument.
    """
    from .tape import tape_is_recording

    kinds, wanted = _ACCEPT[accept]
    dtype = None
    first = None
    for name, value in zip(argnames, values):
        d = _strong_dtype(value)
        if d is None:
            continue
        if dtype is None:
            dtype, first = d, name
        elif d != dtype:
            raise TypeError(
                "%s: %s has dtype %s but %s has dtype %s; mixing dtypes is an error "
                "(convert one with bprop.cast)" % (opname, first, dtype, name, d)
            )
    naturals = {}
    for i, (name, value) in enumerate(zip(argnames, values)):
        if _read(value, False) is None:
            naturals[i] = natural_array(value, "%s: %s" % (opname, name))
    if dtype is None:
        dtype = _promote_weak(list(naturals.values())) if naturals else _DEFAULT
        if accept == "float" and dtype.kind != "f":
            dtype = _DEFAULT
        elif accept in ("numeric",) and dtype.kind == "b":
            first = next(n for i, n in enumerate(argnames) if i in naturals)
        if first is None:
            first = argnames[0]
    if dtype.kind not in kinds:
        raise TypeError("%s: %s: expected %s, got dtype %s%s"
                        % (opname, first, wanted, dtype,
                           " (use bprop.cast)" if accept != "bool" else ""))
    snapshot = tape_is_recording() and dtype.kind == "f"
    arrays, sources = [], []
    for i, (name, value) in enumerate(zip(argnames, values)):
        if i in naturals:
            arr, typed = naturals[i]
            arrays.append(convert_array(arr, typed, dtype, name, opname, value))
            sources.append(None)
        else:
            arrays.append(_read(value, snapshot))
            sources.append(value if dtype.kind == "f" else None)
    return dtype, arrays, sources


def is_number(value):
    """A real Python/NumPy number (not a bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
