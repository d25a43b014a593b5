"""Optimizers, Keras-style: SGD, RMSprop, Adam, AdamW, Adagrad, and schedules.

Every update runs in place on ``Variable.value`` through one call of the
backend's update kernel per variable (``bprop.ops`` by default,
``bprop.reference`` with ``backend="numpy"`` or ``set_backend("numpy")``).

``get(identifier)`` accepts a name ("adam", case-insensitive), an
instance, or a ``{"class_name": ..., "config": ...}`` dict.
"""
from __future__ import annotations

from .. import _registry
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
    return _registry.serialize(optimizer, Optimizer, "optimizer",
                               "a bprop.optimizers.Optimizer")


def deserialize(config):
    """Inverse of :func:`serialize`."""
    return _registry.deserialize(config, lambda name: _BY_NAME.get(str(name).lower()),
                                 "optimizer", lambda: [c.__name__ for c in _BY_NAME.values()])


def get(identifier):
    """An optimizer from a name, an instance or a config dict (Keras defaults for names)."""
    if isinstance(identifier, Optimizer):
        return identifier
    inner = getattr(identifier, "_wrapped_optimizer", None)
    if isinstance(inner, Optimizer):
        # bprop.distributed.DistributedOptimizer: fit's compiled step already
        # averages over the processes, so it trains with the optimizer inside.
        return inner
    if isinstance(identifier, str):
        cls = _registry.class_for_name(identifier, lambda name: _BY_NAME.get(name.lower()),
                                       "optimizer", lambda: sorted(_BY_NAME))
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError("optimizer: expected a name, an Optimizer or a config dict, got %r"
                    % (identifier,))
