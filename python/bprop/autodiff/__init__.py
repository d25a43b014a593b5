"""``bprop.autodiff``: reverse-mode automatic differentiation over the core ops.

A user computes with ordinary expressions on :class:`bprop.Variable` and
:class:`Tensor` objects inside a :class:`GradientTape` and asks the tape for
gradients, as in TensorFlow::

    with bprop.GradientTape() as tape:
        loss = bprop.reduce_mean(bprop.square(y_true - (w * x + b)))
    dw, db = tape.gradient(loss, [w, b])

Modules: ``dtypes`` (dtype names and rules), ``tensor`` (the Tensor type,
operand conversion), ``tape`` (GradientTape), ``elementwise`` /
``reductions`` / ``shape_ops`` / ``logic`` / ``nn`` / ``losses`` (ops with
their backward rules), ``creation`` (fill, range, linspace, one_hot),
``operators`` (Python operators on Tensor and Variable), ``layer_bridge``
(layers called on tensors).
"""
from __future__ import annotations

import sys

from . import dtypes, losses, math_ops, nn, operators
from .creation import fill, linspace, one_hot, range
from .elementwise import (
    abs, add, cast, clip_by_value, divide, exp, floordiv, floormod, identity, log, maximum,
    minimum, multiply, negative, pow, sqrt, square, stop_gradient, subtract,
)
from .array_ops import (
    add_n, argsort, boolean_mask, gather, norm, rank, reduce_std, reduce_variance, shape, size,
    sort, split, tile,
)
from .graph import set_backend
from .layer_bridge import call_layer
from .logic import (
    equal, greater, greater_equal, less, less_equal, logical_and, logical_not, logical_or,
    logical_xor, not_equal, where,
)
from .nn import sigmoid, tanh
from .losses import (
    binary_crossentropy, categorical_crossentropy, mean_absolute_error, mean_squared_error,
    sparse_categorical_crossentropy,
)
from .reductions import (
    argmax, argmin, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod,
    reduce_sum,
)
from .shape_ops import concat, expand_dims, matmul, reshape, squeeze, stack, transpose
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
    "add_n", "argsort", "boolean_mask", "gather", "norm", "rank", "reduce_std",
    "reduce_variance", "shape", "size", "sort", "split", "tile",
    "Tensor", "GradientTape", "tape_is_recording", "call_layer", "constant",
    "convert_to_tensor", "set_backend", "zeros", "ones", "zeros_like", "ones_like",
    "fill", "range", "linspace", "one_hot",
    "add", "subtract", "multiply", "divide", "floordiv", "floormod", "negative", "pow",
    "square", "sqrt", "exp", "log", "abs", "maximum", "minimum", "clip_by_value", "cast",
    "identity", "stop_gradient", "sigmoid", "tanh",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "where",
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any",
    "reduce_all", "argmax", "argmin",
    "matmul", "reshape", "transpose", "expand_dims", "squeeze", "concat", "stack",
    "mean_squared_error", "mean_absolute_error", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy",
    "nn", "math", "losses", "dtypes",
]
