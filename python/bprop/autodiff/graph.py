"""Glue shared by the op modules: wrap a result, record it, undo broadcasting."""
from __future__ import annotations

import numpy as np

from ..utils import get_backend
from .tape import record
from .tensor import Tensor

__all__ = ["result", "unbroadcast", "backend", "set_backend"]

_backend = None


def backend():
    """The kernel module tensor ops run on (``bprop.ops`` unless changed)."""
    global _backend
    if _backend is None:
        _backend = get_backend(None)
    return _backend


def set_backend(identifier):
    """Select the kernels of tensor ops: ``"core"`` (bprop.ops) or ``"numpy"``
    (bprop.reference), or a kernel module.  Returns the previous module."""
    global _backend
    previous = backend()
    _backend = get_backend(identifier)
    return previous


def result(name, sources, value, backward):
    """Wrap ``value`` (an ndarray the op owns) in a Tensor and offer the op to
    the recording tapes.  Constants-only ops are not recorded, nor ops with
    an integer or bool output (no gradient flows through those, as in
    TensorFlow; ``backward`` may then be None)."""
    out = Tensor._wrap(np.asarray(value))
    if backward is not None and out.dtype.kind == "f" and any(s is not None for s in sources):
        record(name, sources, out, backward)
    return out


def unbroadcast(g, shape):
    """Sum ``g`` over the axes NumPy broadcasting added or stretched to reach
    ``g.shape`` from ``shape``; returns an array of ``shape``."""
    g = np.asarray(g)
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    if lead > 0:
        g = g.sum(axis=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g.reshape(shape)
