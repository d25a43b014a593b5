"""``Dense``: ``activation(x @ kernel + bias)`` in one fused kernel call.

Its node (:class:`bprop.engine.nodes.DenseNode`) runs ``dense_forward``
(GEMM + bias + activation in one pass) and ``dense_backward`` (activation
gradient, dW, db and dx in one call).  Inputs of rank > 2 are treated as a
batch of rows over the last axis, as Keras does.
"""
from __future__ import annotations

import numbers

from .. import activations as _activations
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .base import Layer

__all__ = ["Dense"]


class Dense(Layer):
    """Fully connected layer.

    Arguments: ``units`` (output width), ``activation`` (name, function or
    None), ``use_bias`` (True), ``kernel_initializer`` ("glorot_uniform"),
    ``bias_initializer`` ("zeros"), ``kernel_regularizer``,
    ``bias_regularizer``, ``activity_regularizer`` (``bprop.regularizers``
    L1/L2/L1L2, or None), ``input_dim`` / ``input_shape`` to fix the input
    width ahead of data, plus the common Layer arguments.

    Shapes: x (batch, ..., in) -> y (batch, ..., units); kernel (in, units);
    bias (units,).
    """

    _build_with_batch_axis = False

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 input_dim=None, **kwargs):
        if input_dim is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_dim,)
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError("units: expected a positive integer, got %r" % (units,))
        self.units = int(units)
        self.activation = _activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self.activity_regularizer = _regularizers.get(activity_regularizer)
        self.kernel = None
        self.bias = None

    @property
    def activation_name(self):
        return self.activation.kernel_name

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape or input_shape[-1] is None:
            raise ValueError(
                "input_shape: Dense %r needs a known last axis, got %s"
                % (self.name, (None,) + input_shape)
            )
        in_dim = int(input_shape[-1])
        self.kernel = self.add_weight((in_dim, self.units), self.kernel_initializer, "kernel")
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, "bias")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def _check_input(self, x):
        # Like Keras' InputSpec for Dense: any rank >= 2, only the last axis is fixed.
        self._check_array(x)
        if self.kernel is None:
            return
        in_dim = self.kernel.shape[0]
        if x.ndim < 2:
            raise ValueError("x: layer %r expects a batch of rows (batch, ..., %d), got shape %s"
                             % (self.name, in_dim, x.shape))
        if x.shape[-1] != in_dim:
            raise ValueError("x: layer %r expects input shape (None, ..., %d), got %s"
                             % (self.name, in_dim, x.shape))

    def _plan_node(self, in_shape, trainable):
        from ..engine.nodes import DenseNode

        if len(in_shape) < 1:
            raise ValueError("x: layer %r expects a batch of rows (batch, ..., features), got "
                             "samples of shape %s" % (self.name, tuple(in_shape)))
        self._maybe_build(tuple(in_shape))
        if in_shape[-1] != self.kernel.shape[0]:
            raise ValueError("x: layer %r expects input shape (None, ..., %d), got %s"
                             % (self.name, self.kernel.shape[0], (None,) + tuple(in_shape)))
        return DenseNode(self, in_shape, self.activation_name, trainable)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "kernel_initializer": _initializers.serialize(self.kernel_initializer),
            "bias_initializer": _initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
        })
        return config
