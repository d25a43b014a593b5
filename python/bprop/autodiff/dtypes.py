"""TensorFlow-style dtype names (``bprop.float32``, ``bprop.int32``...) and the
dtype rules tensors follow.

The names are NumPy's scalar types, accepted wherever a ``dtype=`` argument
is (Variable, constant, cast, ones...).  Tensors hold one of
:data:`TENSOR_DTYPES`; gradients flow only through the float ones.

How a value that carries no dtype of its own becomes a tensor follows
``tf.constant``: Python bools -> bool, Python ints -> int32 (int64 when a
value does not fit), Python floats -> float32, NumPy arrays and scalars
keep their dtype.  In an op, Python numbers and integer/bool NumPy values
adopt the tensor operands' dtype where TensorFlow allows it (a float never
becomes an integer); tensors of different dtypes never mix (TypeError).

Where bprop differs from TensorFlow, on purpose:

- a float NumPy array keeps its dtype in ops: float64 array + float32
  tensor is a TypeError (TensorFlow silently casts the array, even a float
  array onto an int32 tensor);
- with no tensor operand at all, Python/NumPy operands are promoted
  (``add(1, 2.5)`` is float32; TensorFlow refuses or not depending on the
  argument order), and float-only ops (sqrt, exp, softmax...) take Python
  or NumPy integers as float32 (TensorFlow refuses; integer *tensors* are
  refused here too);
- ``t[[0, 1]]`` indexes rows as NumPy does (TensorFlow reads the list as
  ``t[0, 1]``);
- float16, bfloat16, complex and string tensors are not supported.
"""
from __future__ import annotations

import builtins

import numpy as np

float32 = np.float32
float64 = np.float64
int8 = np.int8
int16 = np.int16
int32 = np.int32
int64 = np.int64
uint8 = np.uint8
uint16 = np.uint16
uint32 = np.uint32
uint64 = np.uint64
bool = np.bool_  # noqa: A001 - the TF name (``tf.bool``)

__all__ = ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
           "uint32", "uint64", "bool", "as_dtype", "TENSOR_DTYPES", "FLOAT_DTYPES",
           "is_float", "is_integer", "is_bool"]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
TENSOR_DTYPES = FLOAT_DTYPES + tuple(np.dtype(t) for t in (
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_))

# As ``tf.as_dtype``: Python's float means float32 and bool means bool;
# Python's int is refused (no fixed width: NumPy would say int64, TF says no).
_PYTHON_TYPES = {builtins.float: np.dtype(np.float32), builtins.bool: np.dtype(np.bool_)}

_NAMES = ", ".join(str(d) for d in TENSOR_DTYPES)


def as_dtype(dtype, argname="dtype"):
    """``dtype`` (a NumPy type, a name such as ``"int32"``, a NumPy dtype, Python's
    ``float``/``bool``) as a NumPy dtype a tensor can hold; TypeError naming
    ``argname`` otherwise."""
    if isinstance(dtype, type) and dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    if dtype is builtins.int:
        raise TypeError("%s: expected a dtype, got Python's int (no fixed width: use int32 or "
                        "int64)" % argname)
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError("%s: expected a dtype (one of %s), got %r" % (argname, _NAMES, dtype)) from None
    if d not in TENSOR_DTYPES:
        raise TypeError("%s: expected one of %s, got %s" % (argname, _NAMES, d))
    return d


def is_float(dtype):
    return np.dtype(dtype).kind == "f"


def is_integer(dtype):
    return np.dtype(dtype).kind in "iu"


def is_bool(dtype):
    return np.dtype(dtype).kind == "b"
