"""Activation functions by name and as callables, Keras-style.

``bprop.activations.get(identifier)`` resolves a name (``"relu"``,
``"sigmoid"``, ``"tanh"``, ``"softmax"``, ``"leaky_relu"``, ``"gelu"``,
``"elu"``, ``"selu"``, ``"softplus"``, ``"softsign"``, ``"silu"`` (alias
``"swish"``), ``"exponential"``, ``"hard_sigmoid"``, ``"linear"``), None, one
of the functions below, or a ``{"class_name": ...}`` config, to one of the
functions of this module.  Each function carries the name the fused kernels
know (``fn.kernel_name``), which is how ``Dense`` hands its activation to
``backend.dense_forward`` in one call.

The functions themselves apply the activation with the core kernels
(``bprop.ops``) to an ndarray ``x`` of any shape (softmax works over the last
axis).  Given a ``bprop.Variable`` or an autodiff ``Tensor`` they go through
a layer (:class:`~bprop.layers.Activation`, or ``ReLU``/``LeakyReLU``/``ELU``/
``Softmax`` for Keras' extra arguments) so that a GradientTape records them.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "gelu", "linear", "elu", "selu",
    "softplus", "softsign", "silu", "swish", "exponential", "hard_sigmoid",
    "get", "serialize", "deserialize", "ALL_NAMES",
]

from .opdefs import ACTIVATIONS as _DECLARED
from .opdefs import LEAKY_RELU_ALPHA, activation_forward

# The activations, as bprop.opdefs declares them (kernels, what backward reads).
BACKWARD_FROM = {name: act.backward_from for name, act in _DECLARED.items()}
ALL_NAMES = tuple(_DECLARED)

# Aliases users write for the canonical names (Keras 3 serializes silu as "silu").
_ALIASES = {"identity": "linear", "none": "linear", "leakyrelu": "leaky_relu",
            "swish": "silu"}


def _is_symbolic(x):
    """True for inputs a GradientTape must see (Variable, autodiff Tensor)."""
    from .variables import Variable
    import sys

    if isinstance(x, Variable):
        return True
    autodiff = sys.modules.get("bprop.autodiff")
    return autodiff is not None and isinstance(x, getattr(autodiff, "Tensor", ()))


def _as_float_array(x):
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float32)
    return np.ascontiguousarray(x)


def _apply(name, x, alpha=None):
    """The kernel activation ``name`` on ``x`` (``alpha``: leaky_relu's slope or
    elu's alpha, None for the default)."""
    if _is_symbolic(x):
        from . import layers

        if alpha is None:
            return layers.Activation(name, dtype=x.dtype, name="activations.%s" % name)(x)
        layer = layers.LeakyReLU if name == "leaky_relu" else layers.ELU
        arg = "negative_slope" if name == "leaky_relu" else "alpha"
        return layer(dtype=x.dtype, name="activations.%s" % name, **{arg: alpha})(x)
    from . import ops

    x = _as_float_array(x)
    if name == "linear":
        return x.copy()
    shape = x.shape
    # Kernels work on 2-D (rows, features); softmax needs the last axis whole.
    x2 = x.reshape(1, -1) if x.ndim < 2 else x.reshape(-1, shape[-1])
    return np.asarray(activation_forward(ops, name, x2, alpha=alpha)).reshape(shape)


def _through_layer(layer_class, x, **arguments):
    """``x`` through a layer built for Keras' extra arguments (an array for an array)."""
    from . import layers

    symbolic = _is_symbolic(x)
    if not symbolic:
        x = _as_float_array(x)
    layer = getattr(layers, layer_class)(dtype=x.dtype, name="activations.%s" % layer_class,
                                         **arguments)
    y = layer(x)
    return y if symbolic else np.asarray(y)


def linear(x):
    """Identity: returns ``x`` (a copy for ndarrays)."""
    if _is_symbolic(x):
        return x
    return _apply("linear", x)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); Keras' ``negative_slope``, ``max_value`` and ``threshold`` as
    :class:`~bprop.layers.ReLU` defines them."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return _apply("relu", x)
    return _through_layer("ReLU", x, negative_slope=negative_slope, max_value=max_value,
                          threshold=threshold)


def leaky_relu(x, negative_slope=LEAKY_RELU_ALPHA):
    """x for x > 0, ``negative_slope`` * x otherwise (Keras' default slope 0.2)."""
    if negative_slope == LEAKY_RELU_ALPHA:
        return _apply("leaky_relu", x)
    _check_slope(negative_slope)
    return _apply("leaky_relu", x, float(negative_slope))


def _check_slope(negative_slope):
    import numbers

    if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real) \
            or not np.isfinite(negative_slope) or negative_slope < 0:
        raise ValueError("negative_slope: expected a finite number >= 0, got %r"
                         % (negative_slope,))


def sigmoid(x):
    """1 / (1 + exp(-x)), stable for large |x|."""
    return _apply("sigmoid", x)


def tanh(x):
    """Hyperbolic tangent."""
    return _apply("tanh", x)


def gelu(x):
    """GELU, tanh approximation (Keras' ``approximate=True``)."""
    return _apply("gelu", x)


def softmax(x, axis=-1):
    """Softmax over ``axis`` (the last by default), stable for huge inputs."""
    ndim = np.ndim(x) if not _is_symbolic(x) else len(x.shape)
    if axis == -1 or (ndim and axis == ndim - 1):
        return _apply("softmax", x)
    return _through_layer("Softmax", x, axis=axis)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    if alpha == 1.0:
        return _apply("elu", x)
    import numbers

    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not np.isfinite(alpha):
        raise ValueError("alpha: expected a finite number, got %r" % (alpha,))
    return _apply("elu", x, float(alpha))


def selu(x):
    """scale * elu(x, alpha) with alpha = 1.67326324, scale = 1.05070098."""
    return _apply("selu", x)


def softplus(x):
    """log(exp(x) + 1), stable for large |x|."""
    return _apply("softplus", x)


def softsign(x):
    """x / (|x| + 1)."""
    return _apply("softsign", x)


def silu(x):
    """x * sigmoid(x) (``swish`` is the same function)."""
    return _apply("silu", x)


swish = silu


def exponential(x):
    """exp(x)."""
    return _apply("exponential", x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 for x <= -3, 1 for x >= 3, x / 6 + 0.5 between (Keras 3)."""
    return _apply("hard_sigmoid", x)


_FUNCTIONS = {
    "linear": linear, "relu": relu, "leaky_relu": leaky_relu, "sigmoid": sigmoid,
    "tanh": tanh, "gelu": gelu, "softmax": softmax, "elu": elu, "selu": selu,
    "softplus": softplus, "softsign": softsign, "silu": silu, "exponential": exponential,
    "hard_sigmoid": hard_sigmoid,
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
