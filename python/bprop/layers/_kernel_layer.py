"""What Dense and the convolutions share: an activation, a kernel and an
optional bias, their initializers and regularizers, as Keras names them."""
from __future__ import annotations

from .. import activations as _activations
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .base import Layer


class KernelLayer(Layer):
    """A layer ``activation(x (*) kernel + bias)``; subclasses call
    :meth:`_init_kernel` from ``__init__`` and :meth:`_add_kernel` from ``build``."""

    def _init_kernel(self, activation, use_bias, kernel_initializer, bias_initializer,
                     kernel_regularizer, bias_regularizer, activity_regularizer):
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

    def _add_kernel(self, kernel_shape, units):
        """The kernel of ``kernel_shape`` and, with ``use_bias``, a bias of ``units``."""
        self.kernel = self.add_weight(tuple(kernel_shape), self.kernel_initializer, "kernel")
        if self.use_bias:
            self.bias = self.add_weight((units,), self.bias_initializer, "bias")

    def _kernel_config(self):
        """The config entries of the activation, kernel and bias (Keras' names and order)."""
        return {
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "kernel_initializer": _initializers.serialize(self.kernel_initializer),
            "bias_initializer": _initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
        }
