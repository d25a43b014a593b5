"""bprop: neural networks trained by error backpropagation on the CPU.

A C++17/OpenMP kernel core (``bprop.ops``, twin of the pure-NumPy
``bprop.reference``) under a Keras-style Python package.
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import reference
from . import ops
from .ops import build_info, get_num_threads, set_num_threads
from .variables import Variable

# --- the package's areas ----------------------------------------------------
from . import testing  # gradcheck, numeric_gradient
from . import utils, initializers, optimizers, metrics, callbacks  # training support
# Tensor, GradientTape and the TensorFlow-style tensor functions
from . import autodiff
from .autodiff import (  # noqa: E402 - after the areas it builds on
    Tensor, GradientTape, constant, convert_to_tensor, cast, identity, stop_gradient,
    add, subtract, multiply, divide, negative, pow, square, sqrt, exp, log, abs,
    maximum, minimum, clip_by_value, reduce_sum, reduce_mean, reduce_max, reduce_min,
    matmul, reshape, transpose, expand_dims, squeeze, concat, nn, math,
    zeros, ones, zeros_like, ones_like,
    # TensorFlow's top-level ops (``import bprop as tf``)
    fill, range, linspace, one_hot, floordiv, floormod, equal, not_equal, greater,
    greater_equal, less, less_equal, logical_and, logical_or, logical_xor, logical_not, where,
    reduce_prod, reduce_any, reduce_all, argmax, argmin, stack, dtypes, sigmoid, tanh,
    add_n, argsort, boolean_mask, gather, norm, rank, reduce_std, reduce_variance, shape, size,
    sort, split, tile,
)
from .autodiff.dtypes import (  # noqa: E402
    float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, as_dtype,
)
from . import random  # noqa: E402 - tf.random: normal, uniform, shuffle, set_seed
from . import datasets  # noqa: E402 - digits (bundled), mnist, fashion_mnist, IDX reader
from . import data  # noqa: E402 - tf.data: Dataset, AUTOTUNE
from .eager_function import function, autograph  # noqa: E402 - tf.function (runs eagerly)
from .plotting import plot_history  # noqa: E402
from . import activations, layers, losses, models, keras  # noqa: E402 - Keras-style models
from .models import Sequential, load_model  # noqa: E402
