"""``Activation``: applies an activation function as a layer of its own."""
from __future__ import annotations

from .. import activations as _activations
from .base import Layer

__all__ = ["Activation"]


class Activation(Layer):
    """``Activation(activation)``: y = activation(x), any shape (softmax over the last axis).

    The kernels work on 2-D arrays, so inputs are viewed as (rows, last axis).
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations.get(activation)
        self._cache = None

    @property
    def activation_name(self):
        return self.activation.kernel_name

    def forward(self, x, training=False):
        self._check_input(x)
        act = "linear" if self._emit_logits else self.activation_name
        if act == "linear":
            self._cache = (None, act, x.shape)
            return x
        x2 = x.reshape(1, -1) if x.ndim < 2 else x.reshape(-1, x.shape[-1])
        y = self._buffer("y", x2.shape)
        be = self._backend
        if act == "leaky_relu":
            be.leaky_relu(x2, _activations.LEAKY_RELU_ALPHA, out=y)
        else:
            getattr(be, act)(x2, out=y)
        saved = x2 if _activations.BACKWARD_FROM[act] == "input" else y
        self._cache = (saved, act, x.shape)
        return y.reshape(x.shape)

    def backward(self, dy, need_dx=True):
        if self._cache is None:
            raise RuntimeError("Activation %r: backward() called before forward()" % self.name)
        saved, act, x_shape = self._cache
        self.grads = []
        if not need_dx:
            return None
        if act == "linear":
            return dy
        dy2 = dy.reshape(saved.shape)
        dx = self._buffer("dx", saved.shape)
        be = self._backend
        if act == "leaky_relu":
            be.leaky_relu_backward(dy2, saved, _activations.LEAKY_RELU_ALPHA, out=dx)
        else:
            getattr(be, act + "_backward")(dy2, saved, out=dx)
        return dx.reshape(x_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation_name
        return config
