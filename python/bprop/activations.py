"""Activation functions by name and as callables, Keras-style.

``bprop.activations.get(identifier)`` resolves ``"relu"``, ``"sigmoid"``,
``"tanh"``, ``"softmax"``, ``"leaky_relu"``, ``"gelu"``, ``"linear"`` (or
``None``), one of the functions below, or a ``{"class_name": ...}`` config,
to one of the functions of this module.  Each function carries the name the
fused kernels know (``fn.kernel_name``), which is how ``Dense`` hands its
activation to ``backend.dense_forward`` in one call.

The functions themselves apply the activation with the core kernels
(``bprop.ops``) to an ndarray ``x`` of any shape (softmax works over the last
axis).  Given a ``bprop.Variable`` or an autodiff ``Tensor`` they go through
an :class:`~bprop.layers.Activation` layer so that a GradientTape records
them.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "gelu", "linear",
    "get", "serialize", "deserialize", "ALL_NAMES",
]

from .opdefs import ACTIVATIONS as _DECLARED
from .opdefs import LEAKY_RELU_ALPHA, activation_forward

# The activations, as bprop.opdefs declares them (kernels, what backward reads).
BACKWARD_FROM = {name: act.backward_from for name, act in _DECLARED.items()}
ALL_NAMES = tuple(_DECLARED)

# Aliases users write for the canonical names.
_ALIASES = {"identity": "linear", "none": "linear", "leakyrelu": "leaky_relu"}


def _is_symbolic(x):
    """True for inputs a GradientTape must see (Variable, autodiff Tensor)."""
    from .variables import Variable
    import sys

    if isinstance(x, Variable):
        return True
    autodiff = sys.modules.get("bprop.autodiff")
    return autodiff is not None and isinstance(x, getattr(autodiff, "Tensor", ()))


def _apply(name, x):
    if _is_symbolic(x):
        from .layers import Activation

        return Activation(name, dtype=x.dtype, name="activations.%s" % name)(x)
    from . import ops

    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float32)
    x = np.ascontiguousarray(x)
    if name == "linear":
        return x.copy()
    shape = x.shape
    # Kernels work on 2-D (rows, features); softmax needs the last axis whole.
    x2 = x.reshape(1, -1) if x.ndim < 2 else x.reshape(-1, shape[-1])
    return np.asarray(activation_forward(ops, name, x2)).reshape(shape)


def linear(x):
    """Identity: returns ``x`` (a copy for ndarrays)."""
    if _is_symbolic(x):
        return x
    return _apply("linear", x)


def relu(x):
    """max(x, 0)."""
    return _apply("relu", x)


def leaky_relu(x):
    """x for x > 0, 0.2 x otherwise (Keras' default negative slope)."""
    return _apply("leaky_relu", x)


def sigmoid(x):
    """1 / (1 + exp(-x)), stable for large |x|."""
    return _apply("sigmoid", x)


def tanh(x):
    """Hyperbolic tangent."""
    return _apply("tanh", x)


def gelu(x):
    """GELU, tanh approximation (Keras' ``approximate=True``)."""
    return _apply("gelu", x)


def softmax(x):
    """Softmax over the last axis, stable for huge inputs."""
    return _apply("softmax", x)


_FUNCTIONS = {
    "linear": linear, "relu": relu, "leaky_relu": leaky_relu, "sigmoid": sigmoid,
    "tanh": tanh, "gelu": gelu, "softmax": softmax,
}
for _name, _fn in _FUNCTIONS.items():
    _fn.kernel_name = _name


def _canonical(name):
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _FUNCTIONS:
        raise ValueError(
            "activation: expected one of %s (or None, or one of the functions of "
            "bprop.activations), got %r" % (", ".join(sorted(_FUNCTIONS)), name)
        )
    return key


def get(identifier):
    """Resolve ``identifier`` to one of this module's functions.

    Accepts None (linear), a name, one of the functions above, any callable
    whose ``__name__`` is a known activation (``tf.nn.relu``-style), or a
    Keras config dict ``{"class_name": "relu"}``.  Anything else raises
    ValueError: backpropagation needs the activation's derivative, which an
    arbitrary callable does not provide.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return _FUNCTIONS[_canonical(identifier)]
    if isinstance(identifier, dict):
        name = identifier.get("class_name", identifier.get("config", {}).get("name"))
        if not isinstance(name, str):
            raise ValueError("activation: config dict has no 'class_name', got %r" % (identifier,))
        return _FUNCTIONS[_canonical(name)]
    if callable(identifier):
        name = getattr(identifier, "kernel_name", None) or getattr(identifier, "__name__", None)
        if isinstance(name, str):
            key = _ALIASES.get(name.lower(), name.lower())
            if key in _FUNCTIONS:
                return _FUNCTIONS[key]
        raise ValueError(
            "activation: callable %r is not a known activation; expected one of %s "
            "(bprop needs the derivative of the activation for backpropagation)"
            % (identifier, ", ".join(sorted(_FUNCTIONS)))
        )
    raise TypeError(
        "activation: expected a name, a function or None, got %s" % type(identifier).__name__
    )


def serialize(activation):
    """The name of an activation (what ``get_config`` stores)."""
    return get(activation).kernel_name


def deserialize(name):
    """Inverse of :func:`serialize`."""
    return get(name)
