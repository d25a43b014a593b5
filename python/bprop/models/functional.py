"""``Functional``: a model made of a graph of layers, Keras' functional API.

    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)

``keras.Model(inputs, outputs)`` returns one of these.  The graph is the
chain of :class:`~bprop.layers.keras_tensor.GraphNode` s the layer calls
recorded, walked back from the outputs.  A chain (one input, one output,
each layer feeding the next) trains on its layers' nodes in the C++ core,
exactly as a Sequential; any other graph (several inputs, merge layers,
shared layers) runs its ``call`` as one Python node of the step plan.
Several inputs are packed into one row per sample for the plan (and split
back for ``call``); several outputs are predicted (a list of arrays) but
not trained: a loss per output is not supported yet.
"""
from __future__ import annotations

import numpy as np

from .. import layers as _layers
from ..layers.base import Layer, _unique
from ..layers.keras_tensor import KerasTensor, flatten
from .model import Model, _ModelCall

__all__ = ["Functional"]


def _topological_nodes(inputs, outputs):
    """The graph's nodes from the inputs to the outputs, each after the nodes it reads."""
    order, state = [], {}

    def visit(node):
        mark = state.get(id(node))
        if mark == "done":
            return
        state[id(node)] = "active"
        for t in node.inputs:
            visit(t.node)
        state[id(node)] = "done"
        order.append(node)

    for t in outputs:
        visit(t.node)
    given = {id(t.node) for t in inputs}
    for node in order:
        if not node.inputs and id(node) not in given:
            raise ValueError("outputs: they depend on the input %r, which is not one of the "
                             "model's inputs %s" % (node.layer.name,
                                                     [t.node.layer.name for t in inputs]))
    return [node for node in order if node.inputs]


class Functional(Model):
    """``Model(inputs, outputs, name=None)``: see the module docstring."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        in_list, out_list = flatten(inputs), flatten(outputs)
        for what, items in (("inputs", in_list), ("outputs", out_list)):
            bad = [t for t in items if not isinstance(t, KerasTensor)]
            if bad or not items:
                raise TypeError("%s: expected keras.Input tensors and the tensors layers return "
                                "on them, got %r" % (what, bad[0] if bad else items))
        for t in in_list:
            if t.node.inputs or not isinstance(t.node.layer, _layers.InputLayer):
                raise ValueError("inputs: expected tensors made by keras.Input, got %r (the "
                                 "output of layer %r)" % (t, t.node.layer.name))
        dtypes = {t.dtype for t in in_list}
        if len(dtypes) != 1:
            raise TypeError("inputs: expected one float dtype, got %s" % sorted(d.name for d in dtypes))
        super().__init__(name=name, trainable=trainable, dtype=in_list[0].dtype.name, **kwargs)
        self._nested_inputs, self._nested_outputs = inputs, outputs
        self.inputs, self.outputs = in_list, out_list
        self._nodes = _topological_nodes(in_list, out_list)
        layers = [t.node.layer for t in in_list]
        for node in self._nodes:
            if not any(node.layer is l for l in layers):
                layers.append(node.layer)
        self._layer_list = layers
        for layer in layers:
            layer.set_backend(self._backend)
        for t in in_list:
            if any(d is None for d in t.sample_shape):
                raise ValueError("inputs: bprop needs every input's sample shape known, got %s"
                                 % (t.shape,))
        sizes = [int(np.prod(t.sample_shape, dtype=np.int64)) for t in in_list]
        self._input_sizes = sizes
        self._sample_shape = (tuple(in_list[0].sample_shape) if len(in_list) == 1
                              else (sum(sizes),))
        Layer.build(self, self._sample_shape)
        self._chain = self._find_chain()

    # ------------------------------------------------------------ structure
    @property
    def _takes_list(self):  # model([a, b]) for a model of several inputs
        return len(self.inputs) > 1

    def _find_chain(self):
        """The layers in order when the graph is a plain chain (else None)."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return None
        current, chain = self.inputs[0], []
        for node in self._nodes:
            if (not node.single_input or len(node.outputs) != 1 or node.inputs[0] is not current
                    or node.kwargs or any(node.layer is l for l in chain)):
                return None
            chain.append(node.layer)
            current = node.outputs[0]
        return chain if current is self.outputs[0] else None

    def _plan_layers(self):
        if self._chain is None:
            return [_ModelCall(self)]
        out = []
        for layer in self._chain:
            inner = getattr(layer, "_plan_layers", None)
            out.extend(inner() if inner is not None else [layer])
        return out

    def _build_layers(self, sample_shape):
        if tuple(sample_shape) != tuple(self._sample_shape):
            raise ValueError("x: model %r expects input of shape %s, got samples of shape %s"
                             % (self.name, (None,) + tuple(self._sample_shape),
                                tuple(sample_shape)))

    def compute_output_shape(self, input_shape):
        if len(self.outputs) == 1:
            return tuple(self.outputs[0].sample_shape)
        return (sum(int(np.prod(t.sample_shape, dtype=np.int64)) for t in self.outputs),)

    @property
    def activation_name(self):
        """The last layer's activation (lets the loss take the fused logits path)."""
        if self._chain:
            return getattr(self._chain[-1], "activation_name", None)
        return None

    # ------------------------------------------------------------ variables
    @property
    def trainable_variables(self):
        if not self.trainable:
            return []
        return _unique(v for layer in self.layers for v in layer.trainable_variables)

    @property
    def non_trainable_variables(self):
        if not self.trainable:
            return self.weights
        return _unique(v for layer in self.layers for v in layer.non_trainable_variables)

    @property
    def weights(self):
        return _unique(v for layer in self.layers for v in layer.weights)

    # ------------------------------------------------------------ running
    def call(self, inputs, training=None):
        """Run the graph on Tensors (each layer call is recorded on a GradientTape)."""
        from .. import autodiff

        given = flatten(inputs) if isinstance(inputs, (list, tuple, dict)) else [inputs]
        if isinstance(inputs, dict):
            given = self._inputs_by_name(inputs)
        if len(given) != len(self.inputs):
            raise ValueError("inputs: model %r takes %d inputs, got %d"
                             % (self.name, len(self.inputs), len(given)))
        values = {}
        for t, v in zip(self.inputs, given):
            values[t] = v if isinstance(v, autodiff.Tensor) else autodiff.convert_to_tensor(
                np.asarray(v, dtype=self._dtype))
        for node in self._nodes:
            args = [values[t] for t in node.inputs]
            out = node.layer(args[0] if node.single_input else args,
                             training=node.kwargs.get("training", training))
            for t, o in zip(node.outputs, out if isinstance(out, (list, tuple)) else [out]):
                values[t] = o
        outs = [values[t] for t in self.outputs]
        return outs[0] if not isinstance(self._nested_outputs, (list, tuple)) else outs

    def _inputs_by_name(self, inputs):
        names = [t.node.layer.name for t in self.inputs]
        missing = [n for n in names if n not in inputs]
        if missing:
            raise ValueError("x: model %r takes inputs named %s, got a dict without %s"
                             % (self.name, names, missing))
        return [inputs[n] for n in names]

    def _pack_inputs(self, x, argname="x"):
        """Several inputs (a list, or a dict by input name) as one (n, total) array."""
        if len(self.inputs) == 1:
            if isinstance(x, dict) and len(x) == 1:
                return next(iter(x.values()))
            if isinstance(x, (list, tuple)) and len(x) == 1 and np.ndim(x[0]) >= 2:
                return x[0]
            return x
        parts = self._inputs_by_name(x) if isinstance(x, dict) else x
        if not isinstance(parts, (list, tuple)) or len(parts) != len(self.inputs):
            raise ValueError("%s: model %r takes %d inputs (a list or a dict by name), got %s"
                             % (argname, self.name, len(self.inputs), type(x).__name__))
        arrays = []
        for i, (t, part) in enumerate(zip(self.inputs, parts)):
            a = np.asarray(part)
            if a.ndim < 1 or tuple(a.shape[1:]) != tuple(t.sample_shape):
                raise ValueError("%s[%d]: input %r expects samples of shape %s, got an array of "
                                 "shape %s" % (argname, i, t.node.layer.name, t.sample_shape,
                                               a.shape))
            arrays.append(a.reshape(len(a), -1))
        n = {len(a) for a in arrays}
        if len(n) != 1:
            raise ValueError("%s: the inputs have different numbers of samples: %s"
                             % (argname, [len(a) for a in arrays]))
        return np.concatenate([a.astype(self._dtype, copy=False) for a in arrays], axis=1)

    def _inputs_from_flat(self, x):
        if len(self.inputs) == 1:
            return x
        from .. import autodiff

        flat = np.asarray(x)
        n, parts, start = flat.shape[0], [], 0
        for t, size in zip(self.inputs, self._input_sizes):
            parts.append(autodiff.Tensor(flat[:, start:start + size].reshape(
                (n,) + tuple(t.sample_shape))))
            start += size
        return parts

    def _flat_outputs(self, y):
        if len(self.outputs) == 1:
            return y
        from .. import autodiff

        n = y[0].shape[0]
        return autodiff.concat([autodiff.reshape(o, (n, -1)) for o in y], axis=1)

    def _outputs_from_flat(self, y):
        if len(self.outputs) == 1:
            return y
        n, parts, start = y.shape[0], [], 0
        for t in self.outputs:
            size = int(np.prod(t.sample_shape, dtype=np.int64))
            parts.append(y[:, start:start + size].reshape((n,) + tuple(t.sample_shape)))
            start += size
        return parts

    # ------------------------------------------------------------ summary / config
    def _summary_rows(self):
        rows = []
        for layer in self.layers:
            node = next((nd for nd in self._nodes if nd.layer is layer), None)
            if node is None:  # an input
                shape = layer.output.shape
            else:
                shapes = [t.shape for t in node.outputs]
                shape = shapes[0] if len(shapes) == 1 else str(shapes)
            rows.append(("%s (%s)" % (layer.name, type(layer).__name__), shape,
                         "{:,}".format(layer.count_params())))
        return rows

    def _node_key(self, node):
        """(layer name, index of the node among this model's calls of that layer)."""
        mine = [nd for nd in self._nodes if nd.layer is node.layer]
        return node.layer.name, next(i for i, nd in enumerate(mine) if nd is node)

    def _tensor_ref(self, t):
        if not t.node.inputs:
            return [t.node.layer.name, 0, 0]
        name, index = self._node_key(t.node)
        return [name, index, t.index]

    def get_config(self):
        layer_configs = []
        for layer in self.layers:
            calls = [nd for nd in self._nodes if nd.layer is layer]
            layer_configs.append({
                **_layers.serialize(layer), "name": layer.name,
                "inbound_nodes": [{"inputs": [self._tensor_ref(t) for t in nd.inputs],
                                   "single": nd.single_input, "kwargs": nd.kwargs}
                                  for nd in calls]})
        return {"name": self.name, "trainable": self.trainable,
                "layers": layer_configs,
                "input_layers": [self._tensor_ref(t) for t in self.inputs],
                "output_layers": [self._tensor_ref(t) for t in self.outputs],
                "single_output": not isinstance(self._nested_outputs, (list, tuple))}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layers, made = {}, {}
        for spec in config["layers"]:
            layer = _layers.deserialize({"class_name": spec["class_name"],
                                         "config": spec["config"]}, custom_objects)
            layers[spec["name"]] = (layer, spec.get("inbound_nodes", []))
            if isinstance(layer, _layers.InputLayer):
                made[(spec["name"], 0)] = [layer.output]
        pending = [(name, i, call) for name, (layer, calls) in layers.items()
                   for i, call in enumerate(calls)]
        while pending:  # each call once its inputs exist (several passes for shared layers)
            left = []
            for name, i, call in pending:
                refs = call["inputs"]
                if all((r[0], r[1]) in made for r in refs):
                    args = [made[(r[0], r[1])][r[2]] for r in refs]
                    out = layers[name][0](args[0] if call.get("single", True) else args,
                                          **call.get("kwargs", {}))
                    made[(name, i)] = out if isinstance(out, list) else [out]
                else:
                    left.append((name, i, call))
            if len(left) == len(pending):
                raise ValueError("layers: the graph's calls cannot be ordered (an input is "
                                 "missing): %s" % [(n, i) for n, i, _ in left])
            pending = left
        inputs = [made[(r[0], r[1])][r[2]] for r in config["input_layers"]]
        outputs = [made[(r[0], r[1])][r[2]] for r in config["output_layers"]]
        return cls(inputs=inputs if len(inputs) > 1 else inputs[0],
                   outputs=outputs[0] if config.get("single_output", len(outputs) == 1)
                   else outputs, name=config.get("name"), trainable=config.get("trainable", True))
