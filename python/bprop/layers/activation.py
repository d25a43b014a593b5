"""``Activation``: applies an activation function as a layer of its own."""
from __future__ import annotations

from .. import activations as _activations
from .base import Layer

__all__ = ["Activation"]


class Activation(Layer):
    """``Activation(activation)``: y = activation(x), any shape (softmax over the last axis)."""

    _build_with_batch_axis = False

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations.get(activation)

    @property
    def activation_name(self):
        return self.activation.kernel_name

    def _plan_node(self, in_shape, trainable):
        from ..engine.nodes import ActivationNode

        shape = tuple(in_shape) if len(in_shape) else (1,)
        return ActivationNode(self, shape, self.activation_name, None, trainable)

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation_name
        return config
