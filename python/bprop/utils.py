"""Small shared utilities: the global random generator and backend lookup.

Every random draw of the library (weight initializers, the shuffling in
``Model.fit``, Dropout masks) comes from one module-global
``numpy.random.Generator`` returned by :func:`get_rng`, so that
``set_random_seed(n)`` makes a whole training run repeatable.
"""
from __future__ import annotations

import numbers
import random

import numpy as np

__all__ = ["set_random_seed", "get_rng", "get_backend", "backend_name", "to_categorical",
           "normalize"]

# Unseeded until the user asks: fresh entropy per process, as Keras does.
_rng = np.random.default_rng()


def set_random_seed(seed):
    """Seed bprop's global Generator, NumPy's legacy global state and ``random``.

    ``seed`` is a non-negative Python or NumPy integer.  After the call,
    initialization, shuffling and dropout draw the same numbers in every run.
    """
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError("seed: expected a non-negative integer, got %r" % (seed,))
    seed = int(seed)
    if seed < 0:
        raise ValueError("seed: expected a non-negative integer, got %d" % seed)
    _rng = np.random.default_rng(seed)
    # The legacy global state only takes 32-bit seeds.
    np.random.seed(seed % (2 ** 32))
    random.seed(seed)


def get_rng():
    """The global ``numpy.random.Generator`` every bprop component draws from."""
    return _rng


# Names a user may give for each backend.
_CORE_NAMES = ("core", "ops", "cpp", "c++")
_NUMPY_NAMES = ("numpy", "reference", "np")


def get_backend(backend=None):
    """Resolve a backend identifier to the kernel module.

    ``None``, ``"core"`` or the module ``bprop.ops`` -> ``bprop.ops``;
    ``"numpy"``/``"reference"`` or ``bprop.reference`` -> ``bprop.reference``.
    Any other module-like object passes through when it has the update kernels
    (tests may hand in an instrumented module).
    """
    if backend is None or (isinstance(backend, str) and backend.lower() in _CORE_NAMES):
        from . import ops  # lazy: ops imports the compiled extension

        return ops
    if isinstance(backend, str):
        if backend.lower() in _NUMPY_NAMES:
            from . import reference

            return reference
        raise ValueError(
            "backend: expected 'core' or 'numpy' (or a kernel module), got %r" % (backend,)
        )
    if hasattr(backend, "sgd_update") and hasattr(backend, "adam_update"):
        return backend
    raise TypeError(
        "backend: expected 'core', 'numpy', bprop.ops or bprop.reference, got %r" % (backend,)
    )


def backend_name(module):
    """``"numpy"`` for ``bprop.reference``, ``"core"`` otherwise (for configs)."""
    name = getattr(module, "__name__", "")
    return "numpy" if isinstance(name, str) and name.endswith("reference") else "core"


def to_categorical(x, num_classes=None):
    """One-hot float32 rows of integer class labels (Keras' ``to_categorical``).

    ``x`` of shape S (a trailing axis of 1 is dropped, as Keras does) gives
    shape S + (num_classes,); ``num_classes`` defaults to ``max(x) + 1``.
    """
    labels = np.asarray(x)
    if labels.dtype.kind == "f":
        if labels.size and np.any(labels != np.floor(labels)):
            raise ValueError("x: expected integer class labels, got non-integer floats")
    elif labels.dtype.kind not in "iub":
        raise TypeError("x: expected integer class labels, got dtype %s" % labels.dtype)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    labels = labels.astype(np.int64)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) \
            or num_classes < 0:
        raise ValueError("num_classes: expected a non-negative int, got %r" % (num_classes,))
    num_classes = int(num_classes)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError("x: expected labels in [0, %d), got values in [%d, %d]"
                         % (num_classes, labels.min(), labels.max()))
    out = np.zeros(labels.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero vectors stay zero)."""
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float32)
    norm = np.linalg.norm(arr, ord=order, axis=axis, keepdims=True)
    return np.divide(arr, norm, out=np.zeros_like(arr), where=norm != 0)
