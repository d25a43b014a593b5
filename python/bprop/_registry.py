"""The name/config registry logic shared by every ``get/serialize/deserialize``
module (initializers, losses, metrics, optimizers, schedules, layers).

A config is Keras' ``{"class_name": ..., "config": {...}}``; each module
keeps its own tables of names and classes and passes a ``lookup`` function
(name -> class or None) and a ``known`` function giving the names to list
when a lookup fails (called only then, so building the list costs nothing
on success and cannot fail there).
"""
from __future__ import annotations

__all__ = ["Configurable", "class_for_name", "serialize", "deserialize"]


class Configurable:
    """``from_config(config) == cls(**config)`` and a repr that lists ``get_config()``."""

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join("%s=%r" % kv for kv in self.get_config().items())
        return "%s(%s)" % (type(self).__name__, args)


def class_for_name(name, lookup, kind, known):
    """``lookup(name)``, or ValueError "<kind>: unknown name ...; known: <known()>"."""
    cls = lookup(name)
    if cls is None:
        raise ValueError("%s: unknown name %r; known: %s" % (kind, name, ", ".join(known())))
    return cls


def serialize(obj, base, argname, expected, exclude=()):
    """``{"class_name": ..., "config": ...}`` of ``obj``, an instance of ``base``
    (not of ``exclude``); TypeError "<argname>: expected <expected>, got ..." otherwise."""
    if not isinstance(obj, base) or isinstance(obj, exclude):
        raise TypeError("%s: expected %s, got %r" % (argname, expected, obj))
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(config, lookup, kind, known):
    """Inverse of :func:`serialize`: ``lookup(config["class_name"]).from_config(...)``.

    ValueError when ``config`` is no such dict or the class name is unknown
    (the message lists ``known()``).
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("config: expected a dict with 'class_name' and 'config', got %r"
                         % (config,))
    cls = lookup(config["class_name"])
    if cls is None:
        raise ValueError("class_name: unknown %s %r; known: %s"
                         % (kind, config["class_name"], ", ".join(known())))
    return cls.from_config(dict(config.get("config") or {}))
