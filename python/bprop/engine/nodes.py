"""The nodes of a step plan: one per layer that computes, in the op-by-op form.

Each built-in node makes the kernel calls of its C++ twin (csrc/core/plan/
nodes.cpp) in the same order, through a backend (``bprop.ops`` or
``bprop.reference``), and can describe itself for the core plan
(:meth:`Node.core_spec`).  A node works on 2-D batches: (n, values per
sample), viewed as (n * rows_per_sample, cols) for the kernels (a Dense on
(batch, time, features) sees rows of features).

Nodes belong to one plan, and a plan to one call (or one fit): the buffers a
node writes are its own, so two threads running two plans of one model never
share memory.  :class:`TapeNode` runs a layer that has no kernels (a user's
``call``) through a GradientTape; :class:`LegacyNode` one written against
bprop's older ``forward``/``backward`` layer API.
"""
from __future__ import annotations

import numpy as np

from ..layers.base import _call_with_training, kept_buffer
from ..opdefs import ACTIVATIONS, activation_backward, activation_forward, default_alpha

__all__ = ["StepContext", "Node", "DenseNode", "ActivationNode", "DropoutNode", "TapeNode",
           "LegacyNode"]

_MAX_BUFFERS = 16


class StepContext:
    """What a step tells its nodes (the core's StepContext)."""

    __slots__ = ("training", "dropout_counter", "row_offset")

    def __init__(self, training=False, dropout_counter=0, row_offset=0):
        self.training = training
        self.dropout_counter = dropout_counter
        self.row_offset = row_offset


class Node:
    """A layer's computation in a plan.

    ``rows_per_sample`` x ``cols`` values per sample come in, ``out_size``
    go out.  ``params``: the Variables the node reads; ``grads``: a dict
    Variable -> gradient array, written by :meth:`backward` for the
    trainable ones.  ``regularizers``: Variable -> (l1, l2);
    ``activity``: (l1, l2) on the output.
    """

    core_kind = None

    def __init__(self, layer, in_shape, out_shape, trainable=()):
        self.layer = layer
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(out_shape)
        self.in_size = int(np.prod(self.in_shape, dtype=np.int64))
        self.out_size = int(np.prod(self.out_shape, dtype=np.int64))
        self.rows_per_sample = int(np.prod(self.in_shape[:-1], dtype=np.int64)) if self.in_shape else 1
        self.cols = self.in_shape[-1] if self.in_shape else 1
        self.params = []
        self.regularizers = {}
        self.activity = (0.0, 0.0)
        self.grads = {}
        self._trainable = set(trainable)
        self._buffers = {}
        self.dtype = np.dtype(getattr(layer, "_dtype", np.float32))

    def is_trainable(self, var):
        return var in self._trainable

    def _add_param(self, var, regularizer=None):
        self.params.append(var)
        if var in self._trainable:
            self.grads[var] = np.empty(var.shape, dtype=var.dtype)
        if regularizer is not None and (regularizer.l1 or regularizer.l2):
            self.regularizers[var] = (regularizer.l1, regularizer.l2)

    def _add_kernel_params(self, layer):
        """The kernel and bias of a KernelLayer (Dense, Conv*) as this node's
        parameters, with their regularizers and the layer's activity one."""
        self.kernel = layer.kernel
        self.bias = layer.bias if layer.use_bias else None
        self._add_param(self.kernel, layer.kernel_regularizer)
        if self.bias is not None:
            self._add_param(self.bias, layer.bias_regularizer)
        reg = layer.activity_regularizer
        if reg is not None:
            self.activity = (reg.l1, reg.l2)

    def _buf(self, tag, shape, dtype=None):
        return kept_buffer(self._buffers, _MAX_BUFFERS, tag, shape,
                           self.dtype if dtype is None else dtype)

    def has_trainable(self):
        return bool(self.grads)

    def forward(self, be, x, n, ctx):
        raise NotImplementedError

    def backward(self, be, dy, n, need_dx):
        raise NotImplementedError

    def core_spec(self, index_of):
        """The node as the core plan's spec dict (None: it has no core kernels)."""
        return None

    def _spec(self, kind, **extra):
        spec = {"kind": kind, "rows_per_sample": self.rows_per_sample, "cols": self.cols,
                "activity_l1": self.activity[0], "activity_l2": self.activity[1]}
        spec.update(extra)
        return spec


class DenseNode(Node):
    """``act(x @ kernel + bias)`` with ``dense_forward`` / ``dense_backward``."""

    core_kind = "dense"

    def __init__(self, layer, in_shape, activation, trainable=()):
        super().__init__(layer, in_shape, tuple(in_shape[:-1]) + (layer.units,), trainable)
        self.units = layer.units
        self.activation = activation
        self._add_kernel_params(layer)
        self._x2 = self._saved = None

    def forward(self, be, x, n, ctx):
        rows = n * self.rows_per_sample
        x2 = x.reshape(rows, self.cols)
        b = None if self.bias is None else self.bias.value
        y = self._buf("y", (rows, self.units))
        if ACTIVATIONS[self.activation].backward_from == "input":
            # The backward needs the pre-activation: the linear part, then the activation.
            z = self._buf("z", (rows, self.units))
            be.dense_forward(x2, self.kernel.value, b, None, out=z)
            activation_forward(be, self.activation, z, out=y)
            self._saved = z
        else:
            be.dense_forward(x2, self.kernel.value, b, self.activation, out=y)
            self._saved = y
        self._x2 = x2
        return y.reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        rows = n * self.rows_per_sample
        kernel_grad = self.grads.get(self.kernel)
        bias_grad = None if self.bias is None else self.grads.get(self.bias)
        dx = self._buf("dx", (rows, self.cols)) if need_dx else None
        be.dense_backward(dy.reshape(rows, self.units), self._x2, self.kernel.value,
                          None if self.activation == "linear" else self._saved, self.activation,
                          dx=dx, dw=kernel_grad, db=bias_grad, need_dx=need_dx,
                          need_dw=kernel_grad is not None, need_db=bias_grad is not None)
        return None if dx is None else dx.reshape(n, self.in_size)

    def has_trainable(self):
        return bool(self.grads)

    def core_spec(self, index_of):
        return self._spec("dense", units=self.units, activation=self.activation,
                          kernel=index_of[self.kernel],
                          bias=None if self.bias is None else index_of[self.bias])


class ActivationNode(Node):
    """An activation over the last axis (softmax row-wise)."""

    core_kind = "activation"

    def __init__(self, layer, in_shape, activation, alpha=None, trainable=()):
        super().__init__(layer, in_shape, in_shape, trainable)
        self.activation = activation
        # leaky_relu's slope or elu's alpha (None: the activation's default)
        self.alpha = float(default_alpha(activation) if alpha is None else alpha)
        self._x2 = self._y = None

    def forward(self, be, x, n, ctx):
        if self.activation == "linear":
            return x
        rows = n * self.rows_per_sample
        x2 = x.reshape(rows, self.cols)
        y = self._buf("y", (rows, self.cols))
        activation_forward(be, self.activation, x2, out=y, alpha=self.alpha)
        self._x2, self._y = x2, y
        return y.reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        if not need_dx:
            return None
        if self.activation == "linear":
            return dy
        rows = n * self.rows_per_sample
        dx = self._buf("dx", (rows, self.cols))
        activation_backward(be, self.activation, dy.reshape(rows, self.cols), self._x2, self._y,
                            out=dx, alpha=self.alpha)
        return dx.reshape(n, self.in_size)

    def core_spec(self, index_of):
        return self._spec("activation", activation=self.activation, alpha=self.alpha)


class DropoutNode(Node):
    """Inverted dropout with the counter-based mask of ``ops.dropout``."""

    core_kind = "dropout"

    def __init__(self, layer, in_shape, seed, trainable=()):
        super().__init__(layer, in_shape, in_shape, trainable)
        self.rate = layer.rate
        self.seed = int(seed)
        self._mask = None

    def forward(self, be, x, n, ctx):
        if not ctx.training or self.rate == 0.0:
            self._mask = None
            return x
        y = self._buf("y", (n, self.in_size))
        mask = self._buf("mask", (n, self.in_size), np.uint8)
        be.dropout(x, self.rate, self.seed, ctx.dropout_counter, ctx.row_offset, out=y, mask=mask)
        self._mask = mask
        return y

    def backward(self, be, dy, n, need_dx):
        if not need_dx:
            return None
        if self._mask is None:
            return dy
        dx = self._buf("dx", (n, self.in_size))
        return be.dropout_backward(dy, self._mask, self.rate, out=dx)

    def core_spec(self, index_of):
        return self._spec("dropout", rate=self.rate, seed=self.seed)


class _PythonSegment(Node):
    """A node computed in Python.  In a core plan it is a "python" node: the
    core calls :meth:`forward`/:meth:`backward` back (taking the GIL) and runs
    the rest of the step itself."""

    core_kind = "python"

    def core_spec(self, index_of):
        from .. import ops

        def forward(x, n, training, counter):
            return self.forward(ops, np.array(x), n, StepContext(training, counter))

        def backward(dy, n, need_dx):
            dx = self.backward(ops, np.array(dy), n, need_dx)
            return dx, [self.grads.get(v) for v in self.params]

        return {"kind": "python", "rows_per_sample": 1, "cols": self.in_size,
                "out_size": self.out_size, "params": [index_of[v] for v in self.params],
                "forward": forward, "backward": backward,
                "name": "layer %r" % getattr(self.layer, "name", "?")}


class TapeNode(_PythonSegment):
    """A layer without kernels: its ``call`` runs on Tensors under a GradientTape,
    and the tape gives the input and weight gradients (the plan's Python segment)."""

    def __init__(self, layer, in_shape, out_shape, trainable=()):
        super().__init__(layer, in_shape, out_shape, trainable)
        regs = {id(v): r for v, r in layer._weight_regularizers()}
        for var in layer.weights:
            self._add_param(var, regs.get(id(var)))
        self._record = None

    def forward(self, be, x, n, ctx):
        from .. import autodiff

        xt = autodiff.Tensor(x.reshape((n,) + self.in_shape))
        with autodiff.GradientTape(persistent=True) as tape:
            tape.watch(xt)
            yt = _call_with_training(self.layer, xt, ctx.training)
        yt = autodiff.convert_to_tensor(yt, dtype=self.dtype)
        self._record = (tape, xt, yt)
        return np.ascontiguousarray(np.asarray(yt)).reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        tape, xt, yt = self._record
        trainable = [v for v in self.params if v in self.grads]
        # The input's gradient only when asked for: the tape then skips its
        # products (a first layer's dx is a GEMM as large as its dW).
        sources = ([xt] if need_dx else []) + trainable
        grads = tape.gradient(yt, sources, output_gradients=dy.reshape(yt.shape),
                              unconnected_gradients="zero")
        for var, g in zip(trainable, grads[len(sources) - len(trainable):]):
            self.grads[var][...] = np.asarray(g)
        if not need_dx:
            return None
        return np.ascontiguousarray(np.asarray(grads[0]), dtype=self.dtype).reshape(n, self.in_size)


class LegacyNode(_PythonSegment):
    """A layer subclass written against bprop's older API: ``forward(x, training)``
    and ``backward(dy, need_dx)`` with its gradients in ``layer.grads``."""

    def __init__(self, layer, in_shape, out_shape, trainable=()):
        super().__init__(layer, in_shape, out_shape, trainable)
        for var in layer.trainable_variables:
            self._add_param(var)

    def forward(self, be, x, n, ctx):
        y = self.layer.forward(x.reshape((n,) + self.in_shape), training=ctx.training)
        return np.ascontiguousarray(y, dtype=self.dtype).reshape(n, self.out_size)

    def backward(self, be, dy, n, need_dx):
        dx = self.layer.backward(dy.reshape((n,) + self.out_shape), need_dx=need_dx)
        for var, g in zip(self.layer.trainable_variables, self.layer.grads):
            if var in self.grads:
                self.grads[var][...] = g
        if not need_dx:
            return None
        return np.ascontiguousarray(dx, dtype=self.dtype).reshape(n, self.in_size)
