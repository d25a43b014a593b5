"""``bprop.Variable``: a named, mutable float array that training updates in place.

Layers keep their weights as Variables, optimizers update ``Variable.value``
in place through the core's update kernels, and the GradientTape
(:mod:`bprop.autodiff`) differentiates with respect to them.
"""
from __future__ import annotations

import itertools

import numpy as np

from ._aligned import aligned_copy

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ids = itertools.count()


def float_dtype(dtype, argname="dtype"):
    """Normalise ``dtype`` to float32/float64 or raise TypeError naming ``argname``."""
    d = np.dtype(dtype)
    if d not in FLOAT_DTYPES:
        raise TypeError("%s: expected float32 or float64, got %s" % (argname, d))
    return d


def check_real(arr, argname):
    """Raise TypeError naming ``argname`` unless ``arr`` holds real numbers (float/int/bool)."""
    if arr.dtype.kind not in "fiub":
        raise TypeError("%s: expected real numbers, got dtype %s" % (argname, arr.dtype))


class ArrayView:
    """The NumPy face shared by Variable and bprop.Tensor: both keep their
    array in ``self._value`` and expose its dtype/shape/ndim/size, and
    ``np.asarray(obj)`` gives that array without a copy."""

    __slots__ = ()  # Tensor keeps its own __slots__ (no per-instance dict)

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def shape(self):
        return self._value.shape

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def size(self):
        return self._value.size

    def __array__(self, dtype=None, copy=None):
        if dtype is None or np.dtype(dtype) == self._value.dtype:
            return self._value.copy() if copy else self._value
        return self._value.astype(dtype)


class Variable(ArrayView):
    """A trainable array.  ``value`` is a C-contiguous float32/float64 ndarray.

    ``Variable(initial_value, dtype=None, trainable=True, name=None)``: a
    Python or NumPy scalar becomes a 0-d array; without ``dtype`` integers
    and Python floats become float32 (the library default), float64 arrays
    stay float64.
    """

    __array_priority__ = 100  # make ``ndarray op Variable`` defer to us

    def __init__(self, initial_value, dtype=None, trainable=True, name=None):
        if isinstance(initial_value, Variable):
            initial_value = initial_value.value
        # Only arrays (NumPy, bprop.Tensor) carry a dtype to keep; Python
        # floats and lists default to float32, as the docstring (and tf.Variable) say.
        strong = hasattr(initial_value, "dtype")
        arr = np.asarray(initial_value)
        if dtype is None:
            dtype = arr.dtype if (strong and arr.dtype in FLOAT_DTYPES) else np.float32
            check_real(arr, "initial_value")
        dtype = float_dtype(dtype)
        # Cache-line aligned, for the core's vector loops and thread shares (_aligned.py).
        self._value = aligned_copy(arr, dtype)
        self.trainable = bool(trainable)
        self._uid = next(_ids)
        self.name = name if name is not None else "Variable:%d" % self._uid

    # ---------------------------------------------------------------- data
    @property
    def value(self):
        """The live array (updated in place by optimizers)."""
        return self._value

    def numpy(self):
        """A copy of the current value."""
        return self._value.copy()

    def _coerce(self, value, argname):
        arr = np.asarray(value.value if isinstance(value, Variable) else value)
        check_real(arr, argname)
        # Python numbers and lists carry no dtype of their own: they are cast.
        weak = isinstance(value, (int, float, list, tuple))
        if arr.dtype.kind == "f" and arr.dtype != self.dtype and not weak:
            raise TypeError(
                "%s: expected dtype %s (the variable's), got %s" % (argname, self.dtype, arr.dtype)
            )
        if arr.shape != self.shape:
            try:
                arr = np.broadcast_to(arr, self.shape)
            except ValueError:
                raise ValueError(
                    "%s: expected shape %s (the variable's), got %s"
                    % (argname, self.shape, arr.shape)
                ) from None
        return arr

    def assign(self, value):
        """Set the value in place (same shape, or broadcastable to it)."""
        self._value[...] = self._coerce(value, "value")
        return self

    def assign_add(self, delta):
        self._value += self._coerce(delta, "delta")
        return self

    def assign_sub(self, delta):
        self._value -= self._coerce(delta, "delta")
        return self

    def __repr__(self):
        return "<bprop.Variable %r shape=%s dtype=%s numpy=%s>" % (
            self.name, self.shape, self.dtype, np.array2string(self._value, threshold=6)
        )

    def __hash__(self):
        return self._uid

    def __eq__(self, other):
        return self is other
