"""Keras-style layers: ``Dense``, ``Activation``, ``Dropout``, ``Flatten``, ``InputLayer``,
the convolutions, pooling and reshaping layers, the activation layers (``ReLU``,
``LeakyReLU``, ``ELU``, ``PReLU``, ``Softmax``) and the normalization layers
(``BatchNormalization``, ``LayerNormalization``, ``Normalization``).

``bprop.layers.get(config)`` rebuilds a layer from ``{"class_name", "config"}``
(what ``Sequential.get_config`` stores).
"""
from __future__ import annotations

from .. import _registry
from .activation import Activation
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .base import Layer
from .conv import Conv1D, Conv2D
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .input_layer import Input, InputLayer
from .feature_normalization import Normalization
from .merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add,
                      average, concatenate, maximum, minimum, multiply, subtract)
from .pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                      GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                      MaxPooling1D, MaxPooling2D)
from .normalization import BatchNormalization, LayerNormalization
from .reshaping import Reshape, ZeroPadding1D, ZeroPadding2D

_LAYERS = (Dense, Activation, Dropout, Flatten, InputLayer, Conv2D, Conv1D, MaxPooling2D,
           AveragePooling2D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling2D,
           GlobalAveragePooling1D, GlobalMaxPooling2D, GlobalMaxPooling1D, Reshape, ZeroPadding2D,
           ZeroPadding1D, Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum,
           ReLU, LeakyReLU, ELU, PReLU, Softmax, BatchNormalization, LayerNormalization,
           Normalization)

__all__ = (["Layer", "Input", "serialize", "deserialize", "concatenate", "add", "subtract",
            "multiply", "average", "maximum", "minimum"] + [c.__name__ for c in _LAYERS])

_BY_CLASS_NAME = {c.__name__: c for c in _LAYERS}


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
    from .. import models  # models nest as layers

    known["Sequential"] = models.Sequential
    known["Functional"] = known["Model"] = models.Functional
    known.update(custom_objects or {})
    return known
