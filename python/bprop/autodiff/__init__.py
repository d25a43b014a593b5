"""``bprop.autodiff``: reverse-mode automatic differentiation over the core ops.

A user computes with ordinary expressions on :class:`bprop.Variable` and
:class:`Tensor` objects inside a :class:`GradientTape` and asks the tape for
gradients, as in TensorFlow::

    with bprop.GradientTape() as tape:
        loss = bprop.reduce_mean(bprop.square(y_true - (w * x + b)))
    dw, db = tape.gradient(loss, [w, b])

Modules: ``tensor`` (the Tensor type, operand conversion), ``tape``
(GradientTape), ``elementwise`` / ``reductions`` / ``shape_ops`` / ``nn`` /
``losses`` (ops with their backward rules), ``operators`` (Python operators
on Tensor and Variable), ``layer_bridge`` (layers called on tensors).
"""
from __future__ import annotations

import sys

from . import losses, math_ops, nn, operators
from .elementwise import (
    abs, add, cast, clip_by_value, divide, exp, identity, log, maximum, minimum, multiply,
    negative, pow, sqrt, square, stop_gradient, subtract,
)
from .graph import set_backend
from .layer_bridge import call_layer
from .losses import (
    binary_crossentropy, categorical_crossentropy, mean_absolute_error, mean_squared_error,
    sparse_categorical_crossentropy,
)
from .reductions import reduce_max, reduce_mean, reduce_min, reduce_sum
from .shape_ops import concat, expand_dims, matmul, reshape, squeeze, transpose
from .tape import GradientTape, tape_is_recording
from .tensor import Tensor, constant, convert_to_tensor, ones, ones_like, zeros, zeros_like

math = math_ops

operators.install()

# ``import bprop.nn`` / ``from bprop.math import ...`` work as in TensorFlow:
# the namespaces live here, registered under their public names.
_root = __name__.rsplit(".", 1)[0]
sys.modules.setdefault(_root + ".nn", nn)
sys.modules.setdefault(_root + ".math", math_ops)

__all__ = [
    "Tensor", "GradientTape", "tape_is_recording", "call_layer", "constant",
    "convert_to_tensor", "set_backend", "zeros", "ones", "zeros_like", "ones_like",
    "add", "subtract", "multiply", "divide", "negative", "pow", "square", "sqrt", "exp",
    "log", "abs", "maximum", "minimum", "clip_by_value", "cast", "identity", "stop_gradient",
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min",
    "matmul", "reshape", "transpose", "expand_dims", "squeeze", "concat",
    "mean_squared_error", "mean_absolute_error", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy",
    "nn", "math", "losses",
]
