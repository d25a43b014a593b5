"""One declaration per op: what each activation and each loss is, stated once.

An op's forward and backward are kernels of :mod:`bprop.ops` (C++) with
twins of the same name in :mod:`bprop.reference` (NumPy, the oracle).  This
module declares, for each activation and loss, which kernels compute it and
what its backward reads; everything that runs them takes it from here: the
step plan's nodes and loss (``bprop.engine``), the activation functions
(``bprop.activations``), the layers, the tape ops (``bprop.nn``,
``bprop.autodiff.losses``) and the losses (``bprop.losses``).  The C++
core's plan makes the same calls (csrc/core/plan/).
"""
from __future__ import annotations

import collections

__all__ = ["Activation", "ACTIVATIONS", "LOSS_KERNELS", "activation_forward",
           "activation_backward", "default_alpha"]

# Keras' default negative slope of the "leaky_relu" activation, and the one the
# fused dense kernel uses.
LEAKY_RELU_ALPHA = 0.2

# The activations that take a parameter (their kernels' ``alpha``) and its value
# when the activation is named without one (Dense's activation="elu"), as the
# core's default_alpha (csrc/core/activation_kind.hpp).
ALPHA_DEFAULTS = {"leaky_relu": LEAKY_RELU_ALPHA, "elu": 1.0}

Activation = collections.namedtuple("Activation", "name forward backward backward_from rowwise")
Activation.__doc__ = """An activation: its forward and backward kernel names, what the
backward kernel reads besides dy ("output" y, "input" x, or "none"), and
whether it works over the last axis as a whole (softmax)."""

ACTIVATIONS = collections.OrderedDict((a.name, a) for a in (
    Activation("linear", None, None, "none", False),
    Activation("relu", "relu", "relu_backward", "output", False),
    Activation("leaky_relu", "leaky_relu", "leaky_relu_backward", "output", False),
    Activation("sigmoid", "sigmoid", "sigmoid_backward", "output", False),
    Activation("tanh", "tanh", "tanh_backward", "output", False),
    Activation("gelu", "gelu", "gelu_backward", "input", False),
    Activation("softmax", "softmax", "softmax_backward", "output", True),
    Activation("elu", "elu", "elu_backward", "input", False),
    Activation("selu", "selu", "selu_backward", "input", False),
    Activation("softplus", "softplus", "softplus_backward", "input", False),
    Activation("softsign", "softsign", "softsign_backward", "input", False),
    Activation("silu", "silu", "silu_backward", "input", False),
    Activation("exponential", "exponential", "exponential_backward", "output", False),
    Activation("hard_sigmoid", "hard_sigmoid", "hard_sigmoid_backward", "output", False),
))

# Loss kind (what a Loss names in Loss._plan_kind, and the core plan's loss)
# -> its value and gradient kernels; each takes (pred, targets,
# sample_weight=None), the gradient also out=.
LOSS_KERNELS = {
    "mse": ("mse", "mse_backward"),
    "mae": ("mae", "mae_backward"),
    "softmax_xent": ("softmax_cross_entropy", "softmax_cross_entropy_backward"),
    "prob_xent": ("cross_entropy_from_probs", "cross_entropy_from_probs_backward"),
    "binary_xent": ("binary_cross_entropy", "binary_cross_entropy_backward"),
    "binary_xent_probs": ("binary_cross_entropy_from_probs",
                          "binary_cross_entropy_from_probs_backward"),
}


def default_alpha(name):
    """The parameter ``name``'s kernels take when none is given (0.0: they take none)."""
    return ALPHA_DEFAULTS.get(name, 0.0)


def activation_forward(be, name, x2, out=None, alpha=None):
    """``name``'s forward kernel of backend ``be`` on the 2-D ``x2`` (rows, last axis);
    ``alpha``: leaky_relu's slope or elu's alpha (None: the default)."""
    act = ACTIVATIONS[name]
    if act.forward is None:
        return x2 if out is None else _copy_into(x2, out)
    if name in ALPHA_DEFAULTS:
        return getattr(be, act.forward)(x2, ALPHA_DEFAULTS[name] if alpha is None else alpha,
                                        out=out)
    return getattr(be, act.forward)(x2, out=out)


def activation_backward(be, name, dy2, x2, y2, out=None, alpha=None):
    """``name``'s backward kernel: dx from dy and the forward's input ``x2`` /
    output ``y2`` (whichever the declaration says it reads)."""
    act = ACTIVATIONS[name]
    if act.backward is None:
        return dy2 if out is None else _copy_into(dy2, out)
    saved = x2 if act.backward_from == "input" else y2
    if name in ALPHA_DEFAULTS:
        return getattr(be, act.backward)(dy2, saved,
                                         ALPHA_DEFAULTS[name] if alpha is None else alpha, out=out)
    return getattr(be, act.backward)(dy2, saved, out=out)


def _copy_into(src, out):
    out[...] = src
    return out
