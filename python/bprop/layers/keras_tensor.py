"""Symbolic tensors of Keras' functional API.

``keras.Input(shape=(784,))`` gives a :class:`KerasTensor`: a placeholder
with a shape (batch axis first, None) and a dtype, and no values.  Calling a
layer on KerasTensors builds the layer for their shapes and returns new
KerasTensors, remembering the call as a :class:`GraphNode` (the layer, its
input tensors, its output tensors).  ``keras.Model(inputs, outputs)`` then
walks those nodes back from the outputs to the inputs (``models/functional.py``).
"""
from __future__ import annotations

import itertools

import numpy as np

__all__ = ["KerasTensor", "GraphNode", "is_symbolic", "flatten", "call_symbolic"]

_ids = itertools.count()


class KerasTensor:
    """A placeholder: ``shape`` (with the batch axis, None), ``dtype``, and where it came
    from (``node``: the GraphNode whose output it is, ``index`` among its outputs)."""

    __slots__ = ("shape", "dtype", "node", "index", "name", "_id")

    def __init__(self, shape, dtype, node=None, index=0, name=None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index
        self.name = name
        self._id = next(_ids)

    @property
    def sample_shape(self):
        """The shape of one sample (without the batch axis)."""
        return self.shape[1:]

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return "<KerasTensor shape=%s, dtype=%s, name=%s>" % (self.shape, self.dtype.name,
                                                              self.name)

    def __array__(self, *args, **kwargs):
        raise TypeError("a KerasTensor (from keras.Input or a layer called on one) is symbolic: "
                        "it has no values; build a keras.Model(inputs, outputs) and call that")

    def __hash__(self):
        return self._id

    def __eq__(self, other):
        return self is other


class GraphNode:
    """One call of ``layer`` in a graph: input KerasTensors -> output KerasTensors."""

    __slots__ = ("layer", "inputs", "outputs", "single_input", "kwargs")

    def __init__(self, layer, inputs, single_input, kwargs=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.single_input = single_input  # the layer took one tensor, not a list
        self.outputs = []
        self.kwargs = dict(kwargs or {})


def flatten(x):
    """The tensors of ``x`` (one, or a possibly nested list/tuple of them)."""
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in flatten(item)]
    return [x]


def is_symbolic(x):
    return any(isinstance(t, KerasTensor) for t in flatten(x))


def call_symbolic(layer, inputs, kwargs=None):
    """``layer(inputs)`` on KerasTensors: build the layer for their shapes and return the
    output KerasTensor(s), recording the call as a GraphNode."""
    tensors = flatten(inputs)
    bad = [t for t in tensors if not isinstance(t, KerasTensor)]
    if bad:
        raise TypeError("inputs: layer %r was called on a mix of KerasTensors and %s; in a "
                        "functional model every input must come from keras.Input or a layer"
                        % (layer.name, type(bad[0]).__name__))
    single = not isinstance(inputs, (list, tuple))
    shapes = tensors[0].sample_shape if single else [t.sample_shape for t in tensors]
    layer._maybe_build(shapes)
    out_shape = layer.compute_output_shape(shapes)
    node = GraphNode(layer, tensors, single, kwargs)
    multi_out = isinstance(out_shape, list)
    for i, shape in enumerate(out_shape if multi_out else [out_shape]):
        node.outputs.append(KerasTensor((None,) + tuple(shape), layer._dtype, node, i,
                                        name="%s/out%d" % (layer.name, i) if multi_out
                                        else layer.name))
    layer.__dict__.setdefault("_graph_nodes", []).append(node)
    return node.outputs if multi_out else node.outputs[0]
