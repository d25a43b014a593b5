"""Keras-style layers: ``Dense``, ``Activation``, ``Dropout``, ``Flatten``, ``InputLayer``.

``bprop.layers.get(config)`` rebuilds a layer from ``{"class_name", "config"}``
(what ``Sequential.get_config`` stores).
"""
from __future__ import annotations

from .activation import Activation
from .base import Layer
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .input_layer import Input, InputLayer

__all__ = ["Layer", "Dense", "Activation", "Dropout", "Flatten", "InputLayer", "Input",
           "serialize", "deserialize"]

_BY_CLASS_NAME = {c.__name__: c for c in (Dense, Activation, Dropout, Flatten, InputLayer)}


def serialize(layer):
    """``{"class_name": ..., "config": ...}`` of a layer."""
    if not isinstance(layer, Layer):
        raise TypeError("layer: expected a bprop Layer, got %r" % (layer,))
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    """Inverse of :func:`serialize`; ``custom_objects`` maps extra class names."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("config: expected a dict with 'class_name' and 'config', got %r"
                         % (config,))
    known = dict(_BY_CLASS_NAME)
    from .. import models  # Sequential nests as a layer

    known["Sequential"] = models.Sequential
    known.update(custom_objects or {})
    cls = known.get(config["class_name"])
    if cls is None:
        raise ValueError("class_name: unknown layer %r; known: %s"
                         % (config["class_name"], ", ".join(sorted(known))))
    return cls.from_config(dict(config.get("config") or {}))
