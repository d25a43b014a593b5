"""``call_layer``: run a bprop Layer (or a whole Sequential) as one tape op.

The layer's own ``forward``/``backward`` (the fused kernels of the fit
loop) compute the values; the tape records one node whose backward calls
``layer.backward(dy)`` and routes ``layer.grads`` to
``layer.trainable_variables``.

A layer caches its forward state in buffers it reuses, so a later forward
of the same layer (called twice under one tape, or run inside a container
such as Sequential) overwrites what an earlier node's backward needs.  Each
node therefore remembers which forward last filled the caches of the layer
and of every layer nested in it; when another forward ran since, the node
re-runs its own forward on the saved input first, with the random
generator rewound to the state it had, so Dropout draws the same mask.
"""
from __future__ import annotations

import weakref

import numpy as np

from .. import utils as _utils
from ..variables import Variable
from .graph import result
from .tensor import Tensor

__all__ = ["call_layer"]

# layer -> token of the call_layer forward whose state its caches hold
_last_forward = weakref.WeakKeyDictionary()


def _nested(layer):
    """The layer and every layer inside it (Sequential/Model keep ``.layers``)."""
    out, stack, seen = [], [layer], set()
    while stack:
        lyr = stack.pop()
        if id(lyr) in seen:
            continue
        seen.add(id(lyr))
        out.append(lyr)
        subs = getattr(lyr, "layers", None)
        if isinstance(subs, (list, tuple)):
            stack.extend(subs)
    return out


def _mark(layers, token):
    for lyr in layers:
        try:
            _last_forward[lyr] = token
        except TypeError:  # a layer that cannot be weakly referenced: never trusted
            pass


def _input_array(layer, x):
    """``x`` as a C-contiguous array in the layer's dtype; the source to
    differentiate (a Tensor/Variable) or None for plain data."""
    dtype = np.dtype(getattr(layer, "dtype", np.float32))
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
    """States of the generators a forward may draw from (the global one and
    any layer-owned ``_rng``, e.g. a seeded Dropout), to replay its draws."""

    def __init__(self, layers):
        gens = [_utils.get_rng()] + [getattr(lyr, "_rng", None) for lyr in layers]
        seen = set()
        self.saved = []
        for g in gens:
            if isinstance(g, np.random.Generator) and id(g) not in seen:
                seen.add(id(g))
                self.saved.append((g, g.bit_generator.state))

    def replay(self, fn):
        now = [(g, g.bit_generator.state) for g, _ in self.saved]
        for g, state in self.saved:
            g.bit_generator.state = state
        try:
            return fn()
        finally:
            for g, state in now:
                g.bit_generator.state = state


def call_layer(layer, x, training=None):
    """Apply ``layer`` to ``x`` and record it on the recording tapes.

    x: (batch, ...) Tensor, Variable or array; returns a Tensor of the
    layer's output shape.  ``training`` None means False (inference
    behaviour, as Keras when a model is called directly).
    """
    training = bool(training) if training is not None else False
    x_arr, x_src = _input_array(layer, x)
    if hasattr(layer, "_maybe_build"):
        layer._maybe_build(x_arr.shape[1:])
    family = _nested(layer)
    rng = _RngSnapshot(family) if training else None
    # A copy: the layer reuses its output buffer on its next forward.
    y = np.array(layer.forward(x_arr, training=training), copy=True)
    variables = list(layer.trainable_variables)
    token = object()
    _mark(family, token)

    def rerun_forward():
        layer.forward(x_arr, training=training)

    def backward(dy, needs):
        if any(_last_forward.get(lyr) is not token for lyr in family):
            if rng is not None:
                rng.replay(rerun_forward)
            else:
                rerun_forward()
            _mark(family, token)
        dx = layer.backward(np.asarray(dy, dtype=y.dtype, order="C"), need_dx=bool(needs[0]))
        grads = list(layer.grads)
        if len(grads) != len(variables):
            raise RuntimeError(
                "call_layer: layer %r returned %d gradients for %d trainable variables"
                % (getattr(layer, "name", layer), len(grads), len(variables))
            )
        # Copies: dx and the grads live in buffers the layer reuses.
        out = [np.array(dx, copy=True).reshape(x_arr.shape) if needs[0] else None]
        for need, g, var in zip(needs[1:], grads, variables):
            out.append(np.array(g, copy=True).reshape(var.shape) if need else None)
        return out

    return result("call_layer:%s" % getattr(layer, "name", type(layer).__name__),
                  [x_src] + variables, y, backward)
