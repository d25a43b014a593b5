"""``bprop.math``: TensorFlow's ``tf.math`` names for the tensor ops."""
from __future__ import annotations

from .elementwise import (  # noqa: F401 - re-exported
    abs, add, cast, clip_by_value, divide, exp, floordiv, floormod, log, maximum, minimum,
    multiply, negative, pow, sqrt, square, subtract,
)
from .logic import (  # noqa: F401
    equal, greater, greater_equal, less, less_equal, logical_and, logical_not, logical_or,
    logical_xor, not_equal,
)
from .nn import sigmoid, softplus, tanh  # noqa: F401
from .reductions import (  # noqa: F401
    argmax, argmin, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod,
    reduce_sum,
)

from .array_ops import add_n, reduce_std, reduce_variance, top_k  # noqa: E402,F401

mod = floormod  # ``tf.math.mod`` is floormod
truediv = divide

__all__ = [
    "abs", "add", "cast", "clip_by_value", "divide", "exp", "floordiv", "floormod", "mod",
    "truediv", "log", "maximum", "minimum", "multiply", "negative", "pow", "sqrt", "square",
    "subtract", "sigmoid", "softplus", "tanh",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "argmax", "argmin", "reduce_all", "reduce_any", "reduce_max", "reduce_mean", "reduce_min",
    "reduce_prod", "reduce_sum", "add_n", "reduce_std", "reduce_variance", "top_k",
]
