"""Optimizers, Keras-style: SGD, RMSprop, Adam, AdamW, Adagrad, and schedules.

Every update runs in place on ``Variable.value`` through one call of the
backend's update kernel per variable (``bprop.ops`` by default,
``bprop.reference`` with ``backend="numpy"`` or ``set_backend("numpy")``).

``get(identifier)`` accepts a name ("adam", case-insensitive), an
instance, or a ``{"class_name": ..., "config": ...}`` dict.
"""
from __future__ import annotations

from . import schedules
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "schedules",
           "get", "serialize", "deserialize"]

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad}


def serialize(optimizer):
    """``{"class_name": ..., "config": ...}`` of an optimizer (hyper-parameters only)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError("optimizer: expected a bprop.optimizers.Optimizer, got %r" % (optimizer,))
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    """Inverse of :func:`serialize`."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("config: expected a dict with 'class_name' and 'config', got %r"
                         % (config,))
    cls = _BY_NAME.get(str(config["class_name"]).lower())
    if cls is None:
        raise ValueError("class_name: unknown optimizer %r; known: %s"
                         % (config["class_name"], ", ".join(c.__name__ for c in _BY_NAME.values())))
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """An optimizer from a name, an instance or a config dict (Keras defaults for names)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError("optimizer: unknown name %r; known: %s"
                             % (identifier, ", ".join(sorted(_BY_NAME))))
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError("optimizer: expected a name, an Optimizer or a config dict, got %r"
                    % (identifier,))
