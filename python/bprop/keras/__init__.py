"""``bprop.keras``: the Keras-shaped namespace, so ``tf.keras`` code runs after
``import bprop as tf``.

    import bprop as tf
    model = tf.keras.Sequential([tf.keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])

It re-exports bprop's own modules; nothing here is a second implementation.
"""
from __future__ import annotations

import importlib.util

from .. import activations, callbacks, initializers, layers, losses, metrics, models, optimizers
from .. import regularizers, utils
from ..layers import Input
from ..models import Model, Sequential

__all__ = ["Sequential", "Model", "Input", "activations", "callbacks", "initializers", "layers",
           "losses", "metrics", "models", "optimizers", "regularizers", "utils"]

# The data sets arrive in their own area; expose them once that package exists.
if importlib.util.find_spec("bprop.datasets") is not None:
    from .. import datasets  # noqa: F401

    __all__.append("datasets")
