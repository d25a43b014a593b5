"""Pure-NumPy twins of every kernel in :mod:`bprop.ops`.

Same function names, same signatures, same semantics.  This package is the
oracle of the test-suite and the baseline of the benchmarks, and it is the
``backend="numpy"`` of the models.  It favours clarity over speed, but stays
vectorised so that "bprop vs pure NumPy" compares against honest NumPy.

Conventions shared with :mod:`bprop.ops`:

* float32 and float64 only; operands of one call share one dtype.
* ``out=`` (or ``dx=``, ``dw=``, ``db=``) receives the result when given and
  is returned; otherwise a new array is returned.
* Row-wise ops (softmax, log_softmax, the cross-entropies) work over the last
  axis of a 2-D array ``(batch, classes)``.
* Losses return the mean over the batch as a Python float (optionally
  weighted per row); their ``*_backward`` returns the gradient of that mean.
"""
from __future__ import annotations

from ._activations import (
    ACTIVATIONS, elu, elu_backward, exponential, exponential_backward, gelu, gelu_backward,
    hard_sigmoid, hard_sigmoid_backward, leaky_relu, leaky_relu_backward, log_softmax,
    log_softmax_backward, relu, relu_backward, selu, selu_backward, sigmoid, sigmoid_backward,
    silu, silu_backward, softmax, softmax_backward, softplus, softplus_backward, softsign,
    softsign_backward, tanh, tanh_backward,
)
from ._conv import (
    avg_pool2d, avg_pool2d_backward, conv2d, conv2d_backward, global_average_pool2d,
    global_average_pool2d_backward, max_pool2d, max_pool2d_backward,
)
from ._dense import dense_backward, dense_forward
from ._dropout import dropout, dropout_backward, dropout_mask
from ._gemm import add_bias, bias_grad, gemm, matmul
from ._losses import (
    binary_cross_entropy, binary_cross_entropy_backward, binary_cross_entropy_from_probs,
    binary_cross_entropy_from_probs_backward, cross_entropy_from_probs,
    cross_entropy_from_probs_backward, mae, mae_backward, mse, mse_backward, per_row_losses,
    softmax_cross_entropy, softmax_cross_entropy_backward,
)
from ._optimizers import adagrad_update, adam_update, rmsprop_update, sgd_update
from ._regularizers import l1_l2_grad, l1_l2_penalty, sum_squares

# Public functions here that are not ops (no twin in bprop.ops): helpers of the twins.
HELPERS = ("dropout_mask", "per_row_losses")

__all__ = [
    "ACTIVATIONS", "matmul", "gemm", "add_bias", "bias_grad",
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "sigmoid", "sigmoid_backward",
    "tanh", "tanh_backward", "gelu", "gelu_backward", "elu", "elu_backward", "selu",
    "selu_backward", "softplus", "softplus_backward", "softsign", "softsign_backward", "silu",
    "silu_backward", "exponential", "exponential_backward", "hard_sigmoid",
    "hard_sigmoid_backward", "softmax", "softmax_backward",
    "log_softmax", "log_softmax_backward",
    "mse", "mse_backward", "mae", "mae_backward", "softmax_cross_entropy",
    "softmax_cross_entropy_backward", "cross_entropy_from_probs",
    "cross_entropy_from_probs_backward", "binary_cross_entropy", "binary_cross_entropy_backward",
    "binary_cross_entropy_from_probs", "binary_cross_entropy_from_probs_backward", "per_row_losses",
    "dense_forward", "dense_backward", "dropout", "dropout_backward", "dropout_mask",
    "conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward", "avg_pool2d",
    "avg_pool2d_backward", "global_average_pool2d", "global_average_pool2d_backward",
    "sgd_update", "rmsprop_update", "adam_update", "adagrad_update",
    "l1_l2_penalty", "l1_l2_grad", "sum_squares",
]
