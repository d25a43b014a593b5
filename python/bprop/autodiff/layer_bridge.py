"""``call_layer``: run a bprop Layer (or a whole Sequential) on tensors, recorded
on the GradientTape.

A built-in layer runs its plan node (the kernels of the compiled step) as one
tape op: a fresh node per call, with its own buffers, so a layer called
twice under one tape keeps each call's state for its backward.  A model
calls its layers one by one, so each is its own tape op (and a user's
layer inside it records its own tensor ops).  A custom layer's ``call``
runs on the tensors directly.  A layer written against bprop's older
``forward``/``backward`` API keeps its state in itself: its op re-runs its
forward on the saved input before the backward, with the random generator
rewound, so another call in between cannot corrupt the gradient.
"""
from __future__ import annotations

import numpy as np

from .. import utils as _utils
from ..variables import Variable
from .graph import result
from .tensor import Tensor

__all__ = ["call_layer"]


def _input_array(layer, x):
    """``x`` as a C-contiguous array in the layer's dtype; the source to
    differentiate (a Tensor/Variable) or None for plain data."""
    dtype = np.dtype(getattr(layer, "dtype", np.float32))
    if isinstance(x, Tensor) and x.dtype.kind != "f":
        # An integer/bool tensor is data (no gradient flows through it):
        # cast like plain data, as Keras layers accept integer inputs.
        x = x._value
    if isinstance(x, (Tensor, Variable)):
        if x.dtype != dtype:
            raise TypeError(
                "x: layer %r expects dtype %s, got a %s of dtype %s (use bprop.cast)"
                % (getattr(layer, "name", layer), dtype, type(x).__name__, x.dtype)
            )
        arr = x._value if isinstance(x, Tensor) else x.value.copy()
        return np.asarray(arr, order="C"), x
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError("x: expected real numbers, got dtype %s" % arr.dtype)
    # Plain data is cast to the layer's dtype, as Layer.__call__ does.
    return np.asarray(arr, dtype=dtype, order="C"), None


class _RngSnapshot:
    """The global generator's state, to replay an older-API layer's draws."""

    def __init__(self):
        self.gen = _utils.get_rng()
        self.state = self.gen.bit_generator.state

    def replay(self, fn):
        now = self.gen.bit_generator.state
        self.gen.bit_generator.state = self.state
        try:
            return fn()
        finally:
            self.gen.bit_generator.state = now


def call_layer(layer, x, training=None):
    """Apply ``layer`` to ``x`` and record it on the recording tapes.

    x: (batch, ...) Tensor, Variable or array; returns a Tensor of the
    layer's output shape.  ``training`` None means False (inference
    behaviour, as Keras when a model is called directly).
    """
    from ..engine.nodes import LegacyNode, StepContext, TapeNode

    training = bool(training) if training is not None else False
    on_tensors = getattr(layer, "_call_on_tensors", None)
    if on_tensors is not None:  # a model: its layers (or its call), each layer its own op
        return on_tensors(x if isinstance(x, (Tensor, Variable)) else Tensor(
            np.asarray(x, dtype=getattr(layer, "dtype", np.float32))), training)
    x_arr, x_src = _input_array(layer, x)
    in_shape = tuple(x_arr.shape[1:])
    layer._maybe_build(in_shape)
    variables = list(layer.trainable_variables)
    node = layer._plan_node(in_shape, set(variables))
    n = x_arr.shape[0]
    if node is None:  # a layer that only reshapes
        from .shape_ops import reshape

        out_shape = (n,) + tuple(layer.compute_output_shape(in_shape))
        return reshape(x if x_src is not None else Tensor(x_arr), out_shape)
    if isinstance(node, TapeNode):  # a user's call(): its ops record themselves
        from ..layers.base import _call_with_training

        out = _call_with_training(layer, x if x_src is not None else Tensor(x_arr), training)
        return out if isinstance(out, Tensor) else Tensor(out, dtype=x_arr.dtype)
    be = layer._backend
    x2 = x_arr.reshape(n, node.in_size)
    ctx = StepContext(training, layer._next_seed_counter() if training else 0)
    rng = _RngSnapshot() if isinstance(node, LegacyNode) else None
    y = np.array(node.forward(be, x2, n, ctx), copy=True)
    out_shape = (n,) + tuple(layer.compute_output_shape(in_shape))

    def backward(dy, needs):
        if rng is not None:  # the layer's own state may be another call's by now
            rng.replay(lambda: node.forward(be, x2, n, ctx))
        dx = node.backward(be, np.ascontiguousarray(dy, dtype=y.dtype).reshape(n, -1), n,
                           bool(needs[0]))
        out = [np.array(dx, copy=True).reshape(x_arr.shape) if needs[0] else None]
        for need, var in zip(needs[1:], variables):
            out.append(np.array(node.grads[var], copy=True) if need else None)
        return out

    return result("call_layer:%s" % getattr(layer, "name", type(layer).__name__),
                  [x_src] + variables, y.reshape(out_shape), backward)
