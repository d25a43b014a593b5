"""Elements of a :class:`~bprop.data.Dataset`: nested tuples and dicts of arrays.

Inside a dataset every leaf is a NumPy array (0-d for a scalar).  A tuple
(or namedtuple) and a dict are structure; anything else is one leaf, made
an array as ``tf.constant`` makes a tensor: a Python list of numbers is one
array, Python floats become float32 and ints int32 (int64 when a value does
not fit), NumPy arrays keep their dtype.  Strings are kept as NumPy string
arrays (TensorFlow's string tensors).

What a user sees when iterating is :func:`to_user`: each numeric leaf as a
``bprop.Tensor`` (TensorFlow's eager tensors), a string leaf as its array.
"""
from __future__ import annotations

import numpy as np

from ..autodiff.dtypes import TENSOR_DTYPES
from ..autodiff.tensor import Tensor, natural_array
from ..variables import ArrayView

__all__ = ["map_leaves", "leaves", "pack_as", "to_arrays", "to_user", "to_numpy",
           "same_structure", "describe"]


def _rebuild(template, items):
    """A tuple/namedtuple/dict shaped like ``template`` holding ``items``."""
    if isinstance(template, dict):
        return dict(zip(template.keys(), items))
    if hasattr(template, "_fields"):  # a namedtuple takes its fields positionally
        return type(template)(*items)
    return tuple(items)


def map_leaves(fn, value):
    """``value`` with ``fn`` applied to each leaf (structure kept)."""
    if isinstance(value, dict):
        return _rebuild(value, [map_leaves(fn, v) for v in value.values()])
    if isinstance(value, tuple):
        return _rebuild(value, [map_leaves(fn, v) for v in value])
    return fn(value)


def leaves(value):
    """The leaves of ``value`` in order (dicts in their key order)."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, tuple):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


def pack_as(template, flat):
    """The structure of ``template`` holding the leaves ``flat`` (in :func:`leaves` order)."""
    items = iter(flat)
    return map_leaves(lambda _: next(items), template)


def same_structure(a, b):
    """True when ``a`` and ``b`` nest the same way (same tuple lengths, same dict keys)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and list(a) == list(b)
                and all(same_structure(a[k], b[k]) for k in a))
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    return True


def describe(value):
    """A short text of an element's structure, shapes and dtypes (for messages)."""
    return repr(map_leaves(lambda a: _LeafText(a), value))


class _LeafText:
    def __init__(self, arr):
        self.text = "array(shape=%s, dtype=%s)" % (tuple(np.shape(arr)), np.asarray(arr).dtype)

    def __repr__(self):
        return self.text


def _leaf_array(value, argname):
    if isinstance(value, ArrayView):  # Tensor or Variable: its value
        return np.asarray(value)
    if value is None:
        raise TypeError("%s: expected numbers, arrays or tensors, got None" % argname)
    if isinstance(value, (str, bytes)):
        return np.asarray(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "USO":
        if value.dtype.kind == "O":
            raise TypeError("%s: expected numbers or strings, got an array of Python objects"
                            % argname)
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (str, bytes))
                                                          for v in value):
        return np.asarray(value)
    arr, _ = natural_array(value, argname)
    return arr


def to_arrays(value, argname):
    """``value`` as a structure of NumPy arrays (see the module for the rules)."""
    if isinstance(value, list):  # a list is one tensor, as tf.constant reads it
        return _leaf_array(value, argname)
    if isinstance(value, dict):
        if not value:
            raise ValueError("%s: expected a non-empty dict, got {}" % argname)
        return _rebuild(value, [to_arrays(v, "%s[%r]" % (argname, k)) for k, v in value.items()])
    if isinstance(value, tuple):
        if not value:
            raise ValueError("%s: expected a non-empty tuple, got ()" % argname)
        return _rebuild(value, [to_arrays(v, "%s[%d]" % (argname, i))
                                for i, v in enumerate(value)])
    return _leaf_array(value, argname)


def _user_leaf(arr):
    if arr.dtype in TENSOR_DTYPES:
        return Tensor._wrap(arr)
    return arr


def to_user(element):
    """The element as iteration yields it: numeric leaves as ``bprop.Tensor``."""
    return map_leaves(_user_leaf, element)


def _numpy_leaf(arr):
    out = np.array(arr, copy=True)  # the caller's to keep and to change
    return out[()] if out.ndim == 0 else out


def to_numpy(element):
    """The element as ``as_numpy_iterator`` yields it: arrays, NumPy scalars for 0-d."""
    return map_leaves(_numpy_leaf, element)
