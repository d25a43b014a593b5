"""Keras' weight regularizers: ``L1``, ``L2``, ``L1L2`` (and ``l1``, ``l2``, ``l1_l2``).

A regularizer adds ``l1 * sum(|w|) + l2 * sum(w^2)`` to the training loss for
the weight it is attached to (``Dense(kernel_regularizer=..., bias_regularizer=...)``),
or for a layer's output (``activity_regularizer=``), as Keras 3 does: the
penalty is not divided by the batch size.  The penalties run in the core
(``ops.l1_l2_penalty`` / ``ops.l1_l2_grad``) inside the compiled step, and
``model.losses`` lists their current values.

Called on an array or a Tensor, a regularizer returns its penalty (a float,
or a scalar Tensor under a GradientTape).
"""
from __future__ import annotations

import math
import numbers

from . import _registry

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize",
           "deserialize"]


def _factor(value, argname):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value < 0:
        raise ValueError("%s: expected a finite number >= 0, got %r" % (argname, value))
    return float(value)


class Regularizer(_registry.Configurable):
    """Base class; bprop's regularizers are all of the form l1 sum|x| + l2 sum x^2."""

    l1 = 0.0
    l2 = 0.0

    def __call__(self, x):
        import sys

        autodiff = sys.modules.get("bprop.autodiff")
        from .variables import Variable

        if isinstance(x, Variable) or (autodiff is not None and isinstance(x, autodiff.Tensor)):
            from . import autodiff as ad

            penalty = 0.0
            if self.l1:
                penalty = ad.multiply(self.l1, ad.reduce_sum(ad.abs(x)))
            if self.l2:
                penalty = ad.add(penalty, ad.multiply(self.l2, ad.reduce_sum(ad.square(x))))
            return penalty
        from . import ops
        import numpy as np

        arr = np.asarray(x)
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float32)
        return ops.l1_l2_penalty(arr, self.l1, self.l2)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1L2(Regularizer):
    """``L1L2(l1=0.0, l2=0.0)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(l1, "l1")
        self.l2 = _factor(l2, "l2")


class L1(Regularizer):
    """``L1(l1=0.01)``: l1 * sum(|x|)."""

    def __init__(self, l1=0.01):
        self.l1 = _factor(l1, "l1")

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``L2(l2=0.01)``: l2 * sum(x^2)."""

    def __init__(self, l2=0.01):
        self.l2 = _factor(l2, "l2")

    def get_config(self):
        return {"l2": self.l2}


def l1(l1=0.01):  # noqa: D103 - Keras' function spellings
    return L1(l1)


def l2(l2=0.01):  # noqa: D103
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):  # noqa: D103
    return L1L2(l1, l2)


_BY_NAME = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier):
    """None, a Regularizer, a name ("l1", "l2", "l1_l2", with Keras' 0.01 defaults) or a config."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return _registry.class_for_name(identifier, _BY_NAME.get, "regularizer",
                                        lambda: sorted(_BY_NAME))(
            **({"l1": 0.01, "l2": 0.01} if identifier == "l1_l2" else {}))
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError("regularizer: expected None, a bprop.regularizers.Regularizer (L1, L2, "
                    "L1L2), a name or a config dict, got %r (custom penalty functions are not "
                    "supported: the compiled step needs their gradient)" % (identifier,))


def serialize(regularizer):
    if regularizer is None:
        return None
    return _registry.serialize(regularizer, Regularizer, "regularizer",
                               "a bprop.regularizers.Regularizer")


def deserialize(config):
    if config is None:
        return None
    return _registry.deserialize(config, _BY_NAME.get, "regularizer", lambda: sorted(_BY_NAME))
