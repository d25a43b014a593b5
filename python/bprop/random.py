"""``bprop.random``: TensorFlow's ``tf.random`` ops, drawing from bprop's generator.

``set_seed(n)`` seeds bprop's global generator (:func:`bprop.utils.set_random_seed`),
so weight initialization, shuffling in ``fit``, dropout and these ops all
follow one seed, as ``tf.random.set_seed`` makes a TensorFlow program
repeatable.  Seeds work as TensorFlow documents them:

- no op seed: the op draws from the global generator (different numbers on
  every call, the same sequence after the same ``set_seed``);
- an op seed (``seed=7``): the op draws from its own generator, keyed by the
  global seed and the op seed: again different numbers on every call, and
  the same sequence in every run (even without ``set_seed``); ``set_seed``
  restarts it.

The numbers themselves are NumPy's, not TensorFlow's.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import utils
from .autodiff.dtypes import as_dtype
from .autodiff.tensor import Tensor, _shape_arg, convert_array, natural_array

__all__ = ["set_seed", "normal", "truncated_normal", "uniform", "shuffle"]

_DEFAULT_GLOBAL_SEED = 87654321  # the global part of op-seeded streams before set_seed
_state = {"global_seed": None, "op_generators": {}}


def _check_seed(seed, argname):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError("%s: expected an integer, got %r" % (argname, seed))
    seed = int(seed)
    if seed < 0:
        raise ValueError("%s: expected a non-negative integer, got %d" % (argname, seed))
    return seed


def set_seed(seed):
    """Seed bprop's global generator (``tf.random.set_seed``) and restart the
    streams of op-seeded random ops."""
    seed = _check_seed(seed, "seed")
    utils.set_random_seed(seed)
    _state["global_seed"] = seed
    _state["op_generators"] = {}


def _generator(seed):
    if seed is None:
        return utils.get_rng()
    seed = _check_seed(seed, "seed")
    gens = _state["op_generators"]
    if seed not in gens:
        g = _state["global_seed"]
        gens[seed] = np.random.default_rng([_DEFAULT_GLOBAL_SEED if g is None else g, seed])
    return gens[seed]


def _float_dtype(dtype, opname):
    d = as_dtype(dtype, "dtype")
    if d.kind != "f":
        raise TypeError("%s: dtype: expected float32 or float64, got %s" % (opname, d))
    return d


def _param(value, argname, dtype, opname):
    """A mean/stddev/bound: a scalar or a tensor broadcastable to the shape."""
    arr, typed = natural_array(value, "%s: %s" % (opname, argname))
    if arr.dtype.kind == "b":
        raise TypeError("%s: %s: expected a number, got a bool" % (opname, argname))
    # Python floats are read at the output precision (0.1 as float64), arrays cast.
    return arr.astype(dtype) if typed else convert_array(arr, typed, dtype, argname, opname,
                                                         value)


def _broadcast(arr, shape, argname, opname):
    try:
        np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError("%s: %s: shape %s does not broadcast to the output shape %s"
                         % (opname, argname, arr.shape, shape)) from None


def normal(shape, mean=0.0, stddev=1.0, dtype=np.float32, seed=None, name=None):
    """Samples of N(mean, stddev**2) of ``shape`` (float32 unless ``dtype``)."""
    del name  # TensorFlow's graph name; nothing to name here
    dtype = _float_dtype(dtype, "normal")
    dims = _shape_arg(shape)
    m = _param(mean, "mean", dtype, "normal")
    s = _param(stddev, "stddev", dtype, "normal")
    _broadcast(m, dims, "mean", "normal")
    _broadcast(s, dims, "stddev", "normal")
    z = _generator(seed).standard_normal(dims)
    return Tensor._wrap((z * s + m).astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=np.float32, seed=None, name=None):
    """Normal samples redrawn until within two standard deviations of the mean."""
    del name
    dtype = _float_dtype(dtype, "truncated_normal")
    dims = _shape_arg(shape)
    m = _param(mean, "mean", dtype, "truncated_normal")
    s = _param(stddev, "stddev", dtype, "truncated_normal")
    _broadcast(m, dims, "mean", "truncated_normal")
    _broadcast(s, dims, "stddev", "truncated_normal")
    rng = _generator(seed)
    z = rng.standard_normal(dims)
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2
    return Tensor._wrap((z * s + m).astype(dtype))


def uniform(shape, minval=0, maxval=None, dtype=np.float32, seed=None, name=None):
    """Samples uniform in ``[minval, maxval)`` of ``shape``.

    Floats (float32 unless ``dtype``): ``maxval`` defaults to 1.  Integer
    dtypes (int32/int64): ``maxval`` is required and must exceed ``minval``,
    as in TensorFlow.
    """
    del name
    d = as_dtype(dtype, "dtype")
    dims = _shape_arg(shape)
    rng = _generator(seed)
    if d.kind == "f":
        lo = _param(minval, "minval", d, "uniform")
        hi = _param(1.0 if maxval is None else maxval, "maxval", d, "uniform")
        _broadcast(lo, dims, "minval", "uniform")
        _broadcast(hi, dims, "maxval", "uniform")
        u = rng.random(dims)
        return Tensor._wrap((lo + (hi - lo) * u).astype(d))
    if d not in (np.dtype(np.int32), np.dtype(np.int64)):
        raise TypeError("uniform: dtype: expected float32, float64, int32 or int64, got %s" % d)
    if maxval is None:
        raise ValueError("uniform: maxval: required for the integer dtype %s, got None" % d)
    bounds = []
    for argname, v in (("minval", minval), ("maxval", maxval)):
        arr, _ = natural_array(v, "uniform: " + argname)
        if arr.ndim != 0 or arr.dtype.kind not in "iu":
            raise TypeError("uniform: %s: expected an integer scalar for dtype %s, got %r"
                            % (argname, d, v))
        bounds.append(int(arr))
    lo, hi = bounds
    if not lo < hi:
        raise ValueError("uniform: maxval: expected a value > minval (%d) for an integer "
                         "dtype, got %d" % (lo, hi))
    return Tensor._wrap(rng.integers(lo, hi, size=dims, dtype=d))


def shuffle(value, seed=None, name=None):
    """``value`` with its first axis randomly permuted (a new tensor, same dtype)."""
    del name
    arr, _ = natural_array(value, "shuffle: value")
    if arr.ndim == 0:
        return Tensor._wrap(arr.copy())  # nothing to permute (as TensorFlow)
    order = _generator(seed).permutation(arr.shape[0])
    return Tensor._wrap(arr[order])
