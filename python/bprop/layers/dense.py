"""``Dense``: ``activation(x @ kernel + bias)`` in one fused kernel call.

Forward runs ``backend.dense_forward`` (GEMM + bias + activation in one
pass) and backward ``backend.dense_backward`` (activation gradient, dW, db
and dx in one call), both writing into buffers kept per batch shape.
Inputs of rank > 2 are treated as a batch of rows over the last axis, as
Keras does.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import activations as _activations
from .. import initializers as _initializers
from .base import Layer

__all__ = ["Dense"]


class Dense(Layer):
    """Fully connected layer.

    Arguments: ``units`` (output width), ``activation`` (name, function or
    None), ``use_bias`` (True), ``kernel_initializer`` ("glorot_uniform"),
    ``bias_initializer`` ("zeros"), ``input_dim`` / ``input_shape`` to fix the
    input width ahead of data, plus the common Layer arguments.

    Shapes: x (batch, ..., in) -> y (batch, ..., units); kernel (in, units);
    bias (units,).
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
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
        self.kernel = None
        self.bias = None
        self._cache = None

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
        # Gradients live in persistent buffers: the optimizer reads them, the
        # next backward overwrites them.
        self._dw = np.empty((in_dim, self.units), dtype=self._dtype)
        self._db = np.empty((self.units,), dtype=self._dtype)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def _check_input(self, x):
        # Like Keras' InputSpec for Dense: any rank >= 2, only the last axis is fixed.
        self._check_array(x)
        if self.kernel is None:
            raise RuntimeError("Dense %r: forward() before build(); call the layer (layer(x)) "
                               "or build(input_shape) first" % self.name)
        in_dim = self.kernel.shape[0]
        if x.ndim < 2:
            raise ValueError("x: layer %r expects a batch of rows (batch, ..., %d), got shape %s"
                             % (self.name, in_dim, x.shape))
        if x.shape[-1] != in_dim:
            raise ValueError("x: layer %r expects input shape (None, ..., %d), got %s"
                             % (self.name, in_dim, x.shape))

    def forward(self, x, training=False):
        """x (batch, ..., in) -> y (batch, ..., units); caches x and the activation."""
        self._check_input(x)
        in_dim = self.kernel.shape[0]
        x2 = x if x.ndim == 2 else x.reshape(-1, in_dim)
        n = x2.shape[0]
        act = "linear" if self._emit_logits else self.activation_name
        b = self.bias.value if self.use_bias else None
        be = self._backend
        if act == "gelu":
            # gelu's backward needs the pre-activation, which the fused call
            # does not return: run the linear part, then the activation.
            z = self._buffer("z", (n, self.units))
            be.dense_forward(x2, self.kernel.value, b, None, out=z)
            y = self._buffer("y", (n, self.units))
            be.gelu(z, out=y)
            saved = z
        else:
            y = self._buffer("y", (n, self.units))
            be.dense_forward(x2, self.kernel.value, b, act, out=y)
            saved = y
        self._cache = (x2, saved, act, x.shape)
        return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (self.units,))

    def backward(self, dy, need_dx=True):
        """dy like forward's output -> dx like its input; grads = [dW, db]."""
        if self._cache is None:
            raise RuntimeError("Dense %r: backward() called before forward()" % self.name)
        x2, saved, act, x_shape = self._cache
        dy2 = dy if dy.ndim == 2 else dy.reshape(-1, self.units)
        dx = self._buffer("dx", x2.shape) if need_dx else None
        self._backend.dense_backward(
            dy2, x2, self.kernel.value, None if act == "linear" else saved, act,
            dx=dx, dw=self._dw, db=self._db, need_dx=need_dx)
        if self.trainable:
            self.grads = [self._dw, self._db] if self.use_bias else [self._dw]
        else:
            self.grads = []
        if not need_dx:
            return None
        return dx if len(x_shape) == 2 else dx.reshape(x_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "kernel_initializer": _initializers.serialize(self.kernel_initializer),
            "bias_initializer": _initializers.serialize(self.bias_initializer),
        })
        return config
