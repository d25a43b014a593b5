"""Python operators (+ - * / ** @, unary -, abs, indexing) for Tensor and Variable.

Installed on both classes at import of :mod:`bprop.autodiff`, so that
``w * x + b`` with Variables builds differentiable Tensors, and
``ndarray - Tensor`` works too (both classes set ``__array_priority__``
so NumPy defers to the reflected operator).  Variable keeps its identity
``__eq__``/``__hash__``: a Variable remains usable as a dict key.
Comparisons give boolean ndarrays (they have no gradient).
"""
from __future__ import annotations

import numpy as np

from ..variables import Variable
from . import elementwise as ew
from . import shape_ops
from .tensor import Tensor


def _value(obj):
    return obj._value if isinstance(obj, Tensor) else obj.value


def _cmp(fn):
    def method(self, other):
        other = _value(other) if isinstance(other, (Tensor, Variable)) else other
        return fn(_value(self), other)
    return method


OPERATORS = {
    "__add__": lambda self, other: ew.add(self, other),
    "__radd__": lambda self, other: ew.add(other, self),
    "__sub__": lambda self, other: ew.subtract(self, other),
    "__rsub__": lambda self, other: ew.subtract(other, self),
    "__mul__": lambda self, other: ew.multiply(self, other),
    "__rmul__": lambda self, other: ew.multiply(other, self),
    "__truediv__": lambda self, other: ew.divide(self, other),
    "__rtruediv__": lambda self, other: ew.divide(other, self),
    "__pow__": lambda self, other: ew.pow(self, other),
    "__rpow__": lambda self, other: ew.pow(other, self),
    "__matmul__": lambda self, other: shape_ops.matmul(self, other),
    "__rmatmul__": lambda self, other: shape_ops.matmul(other, self),
    "__neg__": lambda self: ew.negative(self),
    "__pos__": lambda self: ew.identity(self),
    "__abs__": lambda self: ew.abs(self),
    "__getitem__": lambda self, key: shape_ops.getitem(self, key),
    "__lt__": _cmp(np.less),
    "__le__": _cmp(np.less_equal),
    "__gt__": _cmp(np.greater),
    "__ge__": _cmp(np.greater_equal),
}


def install():
    """Attach the operators to Tensor and Variable (idempotent)."""
    for cls in (Tensor, Variable):
        for name, fn in OPERATORS.items():
            setattr(cls, name, fn)
