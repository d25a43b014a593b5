"""Keras 3's activation layers: ``ReLU``, ``LeakyReLU``, ``ELU``, ``PReLU``, ``Softmax``.

Where the core has the kernel (ReLU with its defaults, or with only a
``negative_slope``; LeakyReLU; ELU; Softmax over the last axis) the layer is
an :class:`~bprop.engine.nodes.ActivationNode` of the plan.  ReLU with
``max_value`` or ``threshold``, PReLU and Softmax over another axis are
computed with NumPy (``bprop/engine/activation_nodes.py``), a Python node of
the core plan.
"""
from __future__ import annotations

import numbers

from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ._checks import none_only, real_arg
from .base import Layer

__all__ = ["ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax"]


def _sample_shape(in_shape):
    """Kernels see at least one value per sample."""
    return tuple(in_shape) if len(in_shape) else (1,)


class ReLU(Layer):
    """``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``:
    ``min(x, max_value)`` for x > threshold, ``negative_slope * (x - threshold)``
    otherwise (Keras 3).  All three must be >= 0."""

    _build_with_batch_axis = False

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else real_arg(max_value, "max_value", 0.0)
        self.negative_slope = real_arg(negative_slope, "negative_slope", 0.0)
        self.threshold = real_arg(threshold, "threshold", 0.0)

    def _plan_node(self, in_shape, trainable):
        from ..engine.activation_nodes import ThresholdedReluNode
        from ..engine.nodes import ActivationNode

        shape = _sample_shape(in_shape)
        if self.max_value is None and self.threshold == 0.0:
            if self.negative_slope == 0.0:
                return ActivationNode(self, shape, "relu", None, trainable)
            return ActivationNode(self, shape, "leaky_relu", self.negative_slope, trainable)
        return ThresholdedReluNode(self, shape, self.negative_slope, self.max_value,
                                   self.threshold, trainable)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(Layer):
    """``LeakyReLU(negative_slope=0.3)``: x for x > 0, negative_slope * x otherwise.

    Keras 3's default slope is 0.3 (the ``"leaky_relu"`` activation's is 0.2);
    Keras 2's argument name ``alpha`` is accepted too.
    """

    _build_with_batch_axis = False

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2's name for the slope
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = real_arg(negative_slope, "negative_slope", 0.0)

    def _plan_node(self, in_shape, trainable):
        from ..engine.nodes import ActivationNode

        return ActivationNode(self, _sample_shape(in_shape), "leaky_relu", self.negative_slope,
                              trainable)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(Layer):
    """``ELU(alpha=1.0)``: x for x > 0, alpha * (exp(x) - 1) otherwise."""

    _build_with_batch_axis = False

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = real_arg(alpha, "alpha")

    def _plan_node(self, in_shape, trainable):
        from ..engine.nodes import ActivationNode

        return ActivationNode(self, _sample_shape(in_shape), "elu", self.alpha, trainable)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class PReLU(Layer):
    """``PReLU(alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
    shared_axes=None)``: x for x > 0, alpha * x otherwise, with a trainable
    ``alpha`` per input position; ``shared_axes`` (axes of the input, 1 = the
    first after the batch) share one alpha, as Keras."""

    _build_with_batch_axis = False

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        none_only(alpha_constraint, "alpha_constraint")
        self.alpha_initializer = _initializers.get(alpha_initializer)
        self.alpha_regularizer = _regularizers.get(alpha_regularizer)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = [shared_axes] if isinstance(shared_axes, numbers.Integral) else shared_axes
            try:
                axes = list(axes)
            except TypeError:
                raise TypeError("shared_axes: expected an int, a list of ints or None, got %r"
                                % (shared_axes,)) from None
            if any(isinstance(a, bool) or not isinstance(a, numbers.Integral) or a < 1
                   for a in axes):
                raise ValueError("shared_axes: expected axes of the input >= 1 (0 is the batch), "
                                 "got %r" % (shared_axes,))
            self.shared_axes = [int(a) for a in axes]
        self.alpha = None

    def build(self, input_shape):
        shape = list(input_shape)
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError("shared_axes: axis %d is not an axis of input shape %s"
                                 % (axis, (None,) + tuple(input_shape)))
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError("input_shape: PReLU %r needs every unshared axis known, got %s"
                             % (self.name, (None,) + tuple(input_shape)))
        self.alpha = self.add_weight(tuple(shape), self.alpha_initializer, "alpha")
        super().build(input_shape)

    def _plan_node(self, in_shape, trainable):
        from ..engine.activation_nodes import PReLUNode

        self._maybe_build(tuple(in_shape))
        return PReLUNode(self, tuple(in_shape), trainable)

    def get_config(self):
        config = super().get_config()
        config.update({
            "alpha_initializer": _initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": _regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": None,
            "shared_axes": self.shared_axes,
        })
        return config


class Softmax(Layer):
    """``Softmax(axis=-1)``: softmax over ``axis`` (an int or a list of ints, axes
    of the input with the batch as 0, negative from the end)."""

    _build_with_batch_axis = False

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axes = list(axis)
        else:
            axes = [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral)
                           for a in axes):
            raise TypeError("axis: expected an int or a list of ints, got %r" % (axis,))
        self.axis = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else int(axis)

    def _axes(self, rank):
        """The softmax axes of an input of ``rank`` (batch included), each in [0, rank)."""
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        out = []
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError("axis: %d is not an axis of an input of rank %d" % (a, rank))
            out.append(a % rank)
        return tuple(sorted(set(out)))

    def _plan_node(self, in_shape, trainable):
        from ..engine.activation_nodes import AxisSoftmaxNode
        from ..engine.nodes import ActivationNode

        rank = len(in_shape) + 1
        axes = self._axes(rank)
        if rank > 1 and axes == (rank - 1,):  # the last axis: the core's row-wise kernel
            return ActivationNode(self, tuple(in_shape), "softmax", None, trainable)
        return AxisSoftmaxNode(self, tuple(in_shape), axes, trainable)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
