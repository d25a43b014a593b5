"""``InputLayer`` and ``Input``: declare the per-sample input shape of a model.

``Input(shape=...)`` returns a symbolic :class:`KerasTensor`, as in Keras:
the start of a functional graph (``Dense(64)(Input((784,)))``), or the first
entry of a ``Sequential`` list (``Sequential([Input((784,)), Dense(10)])``).
The tensor remembers its ``InputLayer``.
"""
from __future__ import annotations

from .base import Layer, normalize_shape
from .keras_tensor import GraphNode, KerasTensor

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

    @property
    def output(self):
        """The layer's symbolic tensor (what ``Input`` returns)."""
        nodes = self.__dict__.get("_graph_nodes")
        if not nodes:
            node = GraphNode(self, [], True)
            node.outputs.append(KerasTensor((self.batch_size,) + tuple(self._input_shape_arg),
                                            self._dtype, node, 0, name=self.name))
            self.__dict__["_graph_nodes"] = [node]
            nodes = self.__dict__["_graph_nodes"]
        return nodes[0].outputs[0]

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


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):
    """Keras' ``Input``: a symbolic tensor of per-sample ``shape`` (its InputLayer
    is ``tensor.node.layer``)."""
    if shape is None and batch_shape is not None:
        batch_size, shape = batch_shape[0], tuple(batch_shape)[1:]
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name).output
