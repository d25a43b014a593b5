"""Keras-style layers: ``Dense``, ``Activation``, ``Dropout``, ``Flatten``, ``InputLayer``.

``bprop.layers.get(config)`` rebuilds a layer from ``{"class_name", "config"}``
(what ``Sequential.get_config`` stores).
"""
from __future__ import annotations

from .. import _registry
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
    return _registry.serialize(layer, Layer, "layer", "a bprop Layer")


def deserialize(config, custom_objects=None):
    """Inverse of :func:`serialize`; ``custom_objects`` maps extra class names."""
    return _registry.deserialize(config, lambda name: _known_layers(custom_objects).get(name),
                                 "layer", lambda: sorted(_known_layers(custom_objects)))


def _known_layers(custom_objects):
    """Class name -> layer class: the built-in layers, Sequential, ``custom_objects``."""
    known = dict(_BY_CLASS_NAME)
    from .. import models  # Sequential nests as a layer

    known["Sequential"] = models.Sequential
    known.update(custom_objects or {})
    return known
