"""``bprop.math``: TensorFlow's ``tf.math`` names for the tensor ops."""
from __future__ import annotations

from .elementwise import (  # noqa: F401 - re-exported
    abs, add, divide, exp, log, maximum, minimum, multiply, negative, pow, sqrt, square,
    subtract,
)
from .nn import sigmoid, tanh  # noqa: F401
from .reductions import reduce_max, reduce_mean, reduce_min, reduce_sum  # noqa: F401

__all__ = [
    "abs", "add", "divide", "exp", "log", "maximum", "minimum", "multiply", "negative",
    "pow", "sqrt", "square", "subtract", "sigmoid", "tanh",
    "reduce_max", "reduce_mean", "reduce_min", "reduce_sum",
]
