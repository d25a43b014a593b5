"""Python operators for Tensor and Variable: + - * / // % ** @, unary - and
abs, indexing, comparisons (< <= > >=, and == != on Tensors), & | ^ ~.

Installed on both classes at import of :mod:`bprop.autodiff`, so that
``w * x + b`` with Variables builds differentiable Tensors, and
``ndarray - Tensor`` works too (both classes set ``__array_priority__``
so NumPy defers to the reflected operator).  Comparisons give bool Tensors
(no gradient).  ``==`` on a Tensor is elementwise, as in TensorFlow 2 (so
a Tensor is unhashable); Variable keeps its identity ``__eq__``/``__hash__``:
a Variable remains usable as a dict key.  ``& | ^ ~`` are logical on bool
tensors and bitwise on integer ones (as in TensorFlow).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..variables import Variable
from . import elementwise as ew
from . import logic, shape_ops
from .tensor import Tensor, prepare


def _value(obj):
    return obj._value if isinstance(obj, Tensor) else obj.value


def _tensor_eq(fn, if_none):
    def method(self, other):
        # As TensorFlow: ``t == None`` is False (``!=``: True), and shapes
        # that do not broadcast compare unequal instead of raising.
        if other is None:
            return if_none
        if not isinstance(other, (Tensor, Variable, numbers.Number, np.ndarray, np.generic,
                                  list, tuple)):
            # Not a value (pytest.approx, a sentinel): let the other side decide.
            return NotImplemented
        try:
            return fn(self, other)
        except ValueError:
            return Tensor._wrap(np.asarray(if_none))
    return method


def _bitwise(opname, logical, bitwise):
    def op(x, y):
        dtype, (a, b), _src = prepare(opname, ("x", "y"), (x, y), "all")
        if dtype.kind == "f":
            raise TypeError("%s: x: expected a bool or integer tensor, got dtype %s"
                            % (opname, dtype))
        return Tensor._wrap(np.asarray((logical if dtype.kind == "b" else bitwise)(a, b)))
    return op


def _invert(self):
    dtype, (a,), _src = prepare("invert", ("x",), (self,), "all")
    if dtype.kind == "f":
        raise TypeError("invert: x: expected a bool or integer tensor, got dtype %s" % dtype)
    return Tensor._wrap(np.asarray(np.logical_not(a) if dtype.kind == "b" else np.invert(a)))


_and = _bitwise("and", np.logical_and, np.bitwise_and)
_or = _bitwise("or", np.logical_or, np.bitwise_or)
_xor = _bitwise("xor", np.logical_xor, np.bitwise_xor)

OPERATORS = {
    "__add__": lambda self, other: ew.add(self, other),
    "__radd__": lambda self, other: ew.add(other, self),
    "__sub__": lambda self, other: ew.subtract(self, other),
    "__rsub__": lambda self, other: ew.subtract(other, self),
    "__mul__": lambda self, other: ew.multiply(self, other),
    "__rmul__": lambda self, other: ew.multiply(other, self),
    "__truediv__": lambda self, other: ew.divide(self, other),
    "__rtruediv__": lambda self, other: ew.divide(other, self),
    "__floordiv__": lambda self, other: ew.floordiv(self, other),
    "__rfloordiv__": lambda self, other: ew.floordiv(other, self),
    "__mod__": lambda self, other: ew.floormod(self, other),
    "__rmod__": lambda self, other: ew.floormod(other, self),
    "__pow__": lambda self, other: ew.pow(self, other),
    "__rpow__": lambda self, other: ew.pow(other, self),
    "__matmul__": lambda self, other: shape_ops.matmul(self, other),
    "__rmatmul__": lambda self, other: shape_ops.matmul(other, self),
    "__neg__": lambda self: ew.negative(self),
    "__pos__": lambda self: ew.identity(self),
    "__abs__": lambda self: ew.abs(self),
    "__getitem__": lambda self, key: shape_ops.getitem(self, key),
    "__lt__": lambda self, other: logic.less(self, other),
    "__le__": lambda self, other: logic.less_equal(self, other),
    "__gt__": lambda self, other: logic.greater(self, other),
    "__ge__": lambda self, other: logic.greater_equal(self, other),
    "__and__": lambda self, other: _and(self, other),
    "__rand__": lambda self, other: _and(other, self),
    "__or__": lambda self, other: _or(self, other),
    "__ror__": lambda self, other: _or(other, self),
    "__xor__": lambda self, other: _xor(self, other),
    "__rxor__": lambda self, other: _xor(other, self),
    "__invert__": _invert,
}

# Tensor only: Variables stay comparable (and hashable) by identity.
TENSOR_OPERATORS = {
    "__eq__": _tensor_eq(logic.equal, False),
    "__ne__": _tensor_eq(logic.not_equal, True),
}


def install():
    """Attach the operators to Tensor and Variable (idempotent)."""
    for cls in (Tensor, Variable):
        for name, fn in OPERATORS.items():
            setattr(cls, name, fn)
    for name, fn in TENSOR_OPERATORS.items():
        setattr(Tensor, name, fn)
    Tensor.__hash__ = None  # setattr of __eq__ after class creation keeps object's hash
