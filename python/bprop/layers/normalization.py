"""``BatchNormalization`` and ``LayerNormalization``, as Keras 3 defines them.

Both compute with NumPy (``bprop/engine/normalization_nodes.py``): in a core
plan they are Python nodes, called back by the core once per step.
BatchNormalization's ``moving_mean`` and ``moving_variance`` are
non-trainable weights that training moves towards each batch's statistics
(``moving = moving * momentum + batch * (1 - momentum)``, exactly once per
training step); inference (``predict``, ``evaluate``, ``training=False``)
normalizes with them.  A frozen layer (``trainable=False``) runs in
inference mode even while training, as in Keras.
"""
from __future__ import annotations

import numbers

from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ._checks import bool_arg, int_arg, none_only, real_arg
from .base import Layer

__all__ = ["BatchNormalization", "LayerNormalization", "mark_updated_in_training"]


def mark_updated_in_training(var):
    """Mark a non-trainable weight that a layer's training forward writes (a moving
    statistic): step plans snapshot it with the trainable weights, so that a step
    they undo and replay, or ``compute_gradients``, leaves it as it was."""
    var._updated_in_training = True
    return var


def _full_axis(axis, rank, argname):
    """``axis`` of an input of ``rank`` (batch included) as an index in [1, rank)."""
    if not -rank <= axis < rank:
        raise ValueError("%s: %d is not an axis of an input of rank %d" % (argname, axis, rank))
    axis %= rank
    if axis == 0:
        raise ValueError("%s: expected a feature axis, got the batch axis (%d)" % (argname, axis))
    return axis


class BatchNormalization(Layer):
    """``BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
    beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
    moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
    beta_constraint=None, gamma_constraint=None, synchronized=False)``.

    Weights, in order: ``gamma`` (scale), ``beta`` (center), ``moving_mean``,
    ``moving_variance``, each of shape (input_shape[axis],).  Training:
    ``gamma * (x - mean) / sqrt(var + epsilon) + beta`` with the batch's mean
    and biased variance over every axis but ``axis``; inference: the same with
    the moving statistics.
    """

    _build_with_batch_axis = False

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = int_arg(axis, "axis")
        self.momentum = real_arg(momentum, "momentum", 0.0, 1.0)
        self.epsilon = real_arg(epsilon, "epsilon", 0.0)
        self.center = bool_arg(center, "center")
        self.scale = bool_arg(scale, "scale")
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.moving_mean_initializer = _initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = _initializers.get(moving_variance_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)
        none_only(beta_constraint, "beta_constraint")
        none_only(gamma_constraint, "gamma_constraint")
        if synchronized:
            raise ValueError("synchronized: not supported (each process of a data-parallel job "
                             "normalizes with its own batch statistics), got %r" % (synchronized,))
        self.synchronized = False
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        shape = tuple(input_shape)
        axis = _full_axis(self.axis, len(shape) + 1, "axis")
        channels = shape[axis - 1]
        if channels is None:
            raise ValueError("input_shape: BatchNormalization %r needs axis %d known, got %s"
                             % (self.name, self.axis, (None,) + shape))
        size = (int(channels),)
        if self.scale:
            self.gamma = self.add_weight(size, self.gamma_initializer, "gamma")
        if self.center:
            self.beta = self.add_weight(size, self.beta_initializer, "beta")
        self.moving_mean = mark_updated_in_training(
            self.add_weight(size, self.moving_mean_initializer, "moving_mean", trainable=False))
        self.moving_variance = mark_updated_in_training(
            self.add_weight(size, self.moving_variance_initializer, "moving_variance",
                            trainable=False))
        super().build(input_shape)

    def _plan_node(self, in_shape, trainable):
        from ..engine.normalization_nodes import BatchNormNode

        self._maybe_build(tuple(in_shape))
        axis = _full_axis(self.axis, len(in_shape) + 1, "axis")
        if in_shape[axis - 1] != self.moving_mean.shape[0]:
            raise ValueError("x: layer %r expects %d features on axis %d, got input shape %s"
                             % (self.name, self.moving_mean.shape[0], self.axis,
                                (None,) + tuple(in_shape)))
        return BatchNormNode(self, tuple(in_shape), axis, trainable)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _initializers.serialize(self.beta_initializer),
            "gamma_initializer": _initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": _initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": _initializers.serialize(
                self.moving_variance_initializer),
            "beta_regularizer": _regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": _regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
            "synchronized": self.synchronized,
        })
        return config


class LayerNormalization(Layer):
    """``LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True,
    rms_scaling=False, beta_initializer="zeros", gamma_initializer="ones",
    beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
    gamma_constraint=None)``: each sample normalized over ``axis`` (an int or a
    list of ints, batch = 0), ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Weights: ``gamma``, ``beta``, of the input's sizes on ``axis`` (in the
    order given).  ``rms_scaling=True`` is not supported.
    """

    _build_with_batch_axis = False

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [int_arg(a, "axis") for a in axis]
            if not self.axis:
                raise ValueError("axis: expected at least one axis, got %r" % (axis,))
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError("axis: expected an int or a list/tuple of ints, got %r" % (axis,))
        self.epsilon = real_arg(epsilon, "epsilon", 0.0)
        self.center = bool_arg(center, "center")
        self.scale = bool_arg(scale, "scale")
        if rms_scaling:
            raise ValueError("rms_scaling: not supported (False only), got %r" % (rms_scaling,))
        self.rms_scaling = False
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)
        none_only(beta_constraint, "beta_constraint")
        none_only(gamma_constraint, "gamma_constraint")
        self.gamma = self.beta = None

    def _axes(self, rank):
        """The normalized axes of an input of ``rank``, as given and in [1, rank)."""
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        full = [_full_axis(a, rank, "axis") for a in axes]
        if len(set(full)) != len(full):
            raise ValueError("axis: expected distinct axes, got %r" % (self.axis,))
        return full

    def build(self, input_shape):
        shape = (None,) + tuple(input_shape)
        axes = self._axes(len(shape))
        if any(shape[a] is None for a in axes):
            raise ValueError("input_shape: LayerNormalization %r needs axes %r known, got %s"
                             % (self.name, self.axis, shape))
        size = tuple(int(shape[a]) for a in axes)  # Keras' order: as the axes are given
        if self.scale:
            self.gamma = self.add_weight(size, self.gamma_initializer, "gamma")
        if self.center:
            self.beta = self.add_weight(size, self.beta_initializer, "beta")
        super().build(input_shape)

    def _plan_node(self, in_shape, trainable):
        from ..engine.normalization_nodes import LayerNormNode

        self._maybe_build(tuple(in_shape))
        shape = (None,) + tuple(in_shape)
        axes = self._axes(len(shape))
        # gamma and beta broadcast as Keras reshapes them: the sizes at the axes, 1 elsewhere
        param_shape = tuple(shape[d] if d in axes else 1 for d in range(len(shape)))
        weight = self.gamma if self.gamma is not None else self.beta
        expected = tuple(shape[a] for a in axes)
        if weight is not None and weight.shape != expected:
            raise ValueError("x: layer %r expects sizes %s on axes %r, got input shape %s"
                             % (self.name, weight.shape, self.axis, shape))
        return LayerNormNode(self, tuple(in_shape), sorted(axes), param_shape, trainable)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": _initializers.serialize(self.beta_initializer),
            "gamma_initializer": _initializers.serialize(self.gamma_initializer),
            "beta_regularizer": _regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": _regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
        })
        return config
