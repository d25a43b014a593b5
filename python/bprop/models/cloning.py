"""``clone_model``, ``model.to_json()`` and ``model_from_json``: a model's architecture
without its weights, as Keras does it (through ``get_config``)."""
from __future__ import annotations

import json

__all__ = ["clone_model", "to_json", "model_from_json"]


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model of the same architecture with freshly initialised weights (not
    compiled), as ``keras.models.clone_model``.  ``clone_function(layer)`` may map
    each layer's clone (it receives the original layer and returns a new one)."""
    from .. import layers as _layers
    from .functional import Functional
    from .sequential import Sequential

    if input_tensors is not None:
        raise ValueError("input_tensors: not supported, got %r (clone on the model's own inputs)"
                         % (input_tensors,))
    if isinstance(model, Sequential):
        clone = Sequential(name=model.name, backend=model._backend, dtype=model.dtype)
        if model._sample_shape is not None:
            clone.add(_layers.InputLayer(shape=model._sample_shape, dtype=model.dtype))
        for layer in model.layers:
            clone.add(clone_function(layer) if clone_function is not None
                      else type(layer).from_config(layer.get_config()))
        return clone
    if isinstance(model, Functional):
        if clone_function is not None:
            raise ValueError("clone_function: supported for Sequential models only")
        return Functional.from_config(model.get_config())
    raise ValueError("model: clone_model takes a Sequential or functional model, got %s (a "
                     "subclassed model: construct a new instance)" % type(model).__name__)


def to_json(model, **kwargs):
    """The architecture as a JSON string (``json.dumps`` keywords pass through)."""
    return json.dumps({"class_name": type(model).__name__, "config": model.get_config(),
                       "backend": "bprop"}, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """The model :func:`to_json` describes, with fresh weights."""
    from .. import layers as _layers

    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as exc:
        raise ValueError("json_string: expected a model's JSON (from model.to_json()), got "
                         "%r... (%s)" % (str(json_string)[:40], exc)) from None
    return _layers.deserialize(config, custom_objects)
