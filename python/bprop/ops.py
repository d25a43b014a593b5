"""Low-level kernels of the C++ core: NumPy arrays in, NumPy arrays out.

Every function here has a pure-NumPy twin of the same name and signature in
:mod:`bprop.reference` (read it for the exact formulas).  Each accepts
array-likes of float32 or float64 (one dtype per call: mixing raises
TypeError), validates shapes (ValueError naming the arguments and both
shapes), takes an optional ``out=`` buffer, and releases the GIL while it
runs.  Transposed or sliced views reach the GEMM without a copy.
"""
from __future__ import annotations

import os

from . import _core
from .opdefs import ACTIVATIONS as _ACTIVATION_DEFS

# GEMM
matmul = _core.matmul
gemm = _core.gemm
# bias
add_bias = _core.add_bias
bias_grad = _core.bias_grad
# activations
relu = _core.relu
relu_backward = _core.relu_backward
leaky_relu = _core.leaky_relu
leaky_relu_backward = _core.leaky_relu_backward
sigmoid = _core.sigmoid
sigmoid_backward = _core.sigmoid_backward
tanh = _core.tanh
tanh_backward = _core.tanh_backward
gelu = _core.gelu
gelu_backward = _core.gelu_backward
elu = _core.elu
elu_backward = _core.elu_backward
selu = _core.selu
selu_backward = _core.selu_backward
softplus = _core.softplus
softplus_backward = _core.softplus_backward
softsign = _core.softsign
softsign_backward = _core.softsign_backward
silu = _core.silu
silu_backward = _core.silu_backward
exponential = _core.exponential
exponential_backward = _core.exponential_backward
hard_sigmoid = _core.hard_sigmoid
hard_sigmoid_backward = _core.hard_sigmoid_backward
softmax = _core.softmax
softmax_backward = _core.softmax_backward
log_softmax = _core.log_softmax
log_softmax_backward = _core.log_softmax_backward
# losses (each with optional per-row sample_weight)
mse = _core.mse
mse_backward = _core.mse_backward
mae = _core.mae
mae_backward = _core.mae_backward
softmax_cross_entropy = _core.softmax_cross_entropy
softmax_cross_entropy_backward = _core.softmax_cross_entropy_backward
cross_entropy_from_probs = _core.cross_entropy_from_probs
cross_entropy_from_probs_backward = _core.cross_entropy_from_probs_backward
binary_cross_entropy = _core.binary_cross_entropy
binary_cross_entropy_backward = _core.binary_cross_entropy_backward
binary_cross_entropy_from_probs = _core.binary_cross_entropy_from_probs
binary_cross_entropy_from_probs_backward = _core.binary_cross_entropy_from_probs_backward
# fused dense layer
dense_forward = _core.dense_forward
dense_backward = _core.dense_backward
# convolution and pooling (NHWC images, HWIO kernels)
conv2d = _core.conv2d
conv2d_backward = _core.conv2d_backward
max_pool2d = _core.max_pool2d
max_pool2d_backward = _core.max_pool2d_backward
avg_pool2d = _core.avg_pool2d
avg_pool2d_backward = _core.avg_pool2d_backward
global_average_pool2d = _core.global_average_pool2d
global_average_pool2d_backward = _core.global_average_pool2d_backward
# dropout (counter-based mask)
dropout = _core.dropout
dropout_backward = _core.dropout_backward
# regularization penalties and the squared norm of gradient clipping
l1_l2_penalty = _core.l1_l2_penalty
l1_l2_grad = _core.l1_l2_grad
sum_squares = _core.sum_squares
# optimizer updates (in place)
sgd_update = _core.sgd_update
rmsprop_update = _core.rmsprop_update
adam_update = _core.adam_update
adagrad_update = _core.adagrad_update
# threads and build
get_num_threads = _core.get_num_threads
set_num_threads = _core.set_num_threads
get_isa = _core.get_isa
set_isa = _core.set_isa


def build_info():
    """Compiler, OpenMP, the SIMD path chosen at run time, GEMM kernels, threads."""
    return dict(_core.build_info())


ACTIVATIONS = tuple(_ACTIVATION_DEFS)


def _single_threaded_after_fork():
    # GNU OpenMP's thread pool does not survive fork(): a child that opens a
    # parallel region after its parent did would wait forever for threads
    # that do not exist.  The child therefore runs the core single-threaded.
    _core.set_num_threads(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_single_threaded_after_fork)
