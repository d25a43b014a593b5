"""``InputLayer`` and ``Input``: declare the per-sample input shape of a model.

bprop has no functional API: ``Input(shape=...)`` returns an ``InputLayer``,
which a ``Sequential`` accepts as its first layer (``Sequential([Input((784,)),
Dense(10)])``), the way Keras code usually uses it.
"""
from __future__ import annotations

from .base import Layer, normalize_shape

__all__ = ["InputLayer", "Input"]


class InputLayer(Layer):
    """Identity layer that only carries the input shape (no batch axis)."""

    _build_with_batch_axis = False

    def __init__(self, shape=None, batch_size=None, input_shape=None, **kwargs):
        if shape is None:
            shape = input_shape
        if shape is None and kwargs.get("batch_input_shape") is not None:
            shape = tuple(kwargs["batch_input_shape"])[1:]
        kwargs.pop("batch_input_shape", None)
        if shape is None:
            raise ValueError("shape: InputLayer needs the per-sample shape, got None")
        shape = normalize_shape(shape, "shape")
        super().__init__(input_shape=shape, **kwargs)
        self.batch_size = batch_size
        self.build(shape)

    def _plan_node(self, in_shape, trainable):
        return None  # only carries the shape

    def get_config(self):
        config = super().get_config()
        config["shape"] = list(config.pop("input_shape"))
        if self.batch_size is not None:
            config["batch_size"] = self.batch_size
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["shape"] = tuple(config["shape"])
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, name=None):
    """Keras' ``Input``: here an :class:`InputLayer` to put first in a Sequential."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name)
