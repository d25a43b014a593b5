"""fit's fast path: a whole training step of a plain dense classifier in one call.

A batch-32 MLP step is a dozen kernel calls of tens of microseconds each, and
crossing the Python boundary for each of them costs about as much as the
arithmetic.  For the most common model -- Dense layers (after an optional
Flatten) ending in softmax, trained on integer labels with the sparse
categorical cross-entropy and Adam/AdamW or SGD -- ``fit`` hands the whole
step to ``backend.dense_softmax_xent_train_step``, which runs the same kernels
in the same order (the weights come out identical to the bit) without
returning to Python in between.  Any other model, loss, optimizer setting or
metric takes the general path (``TrainingMixin._train_batch``).
"""
from __future__ import annotations

import math

import numpy as np

from ..layers.dense import Dense
from ..layers.flatten import Flatten
from ..losses import SparseCategoricalCrossentropy
from ..metrics import SparseCategoricalAccuracy
from ..optimizers import SGD, Adam

_HIDDEN_ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh")


class FusedDenseStep:
    """One model's fused step; build it with :meth:`for_model` (None when it does not apply)."""

    def __init__(self, model, dense_layers):
        self.model = model
        self.layers = dense_layers
        self.activations = [layer.activation_name for layer in dense_layers]

    @classmethod
    def for_model(cls, model, sample_weight):
        """The fast path for ``model`` if every condition holds, else None."""
        backend = model._backend
        if sample_weight is not None or not hasattr(backend, "dense_softmax_xent_train_step"):
            return None
        if not model._fused or type(model.compiled_loss) is not SparseCategoricalCrossentropy:
            return None
        if any(type(m) is not SparseCategoricalAccuracy for m in model.compiled_metrics):
            return None
        layers = list(model.layers)
        while layers and type(layers[0]) is Flatten:
            layers.pop(0)
        if not layers or any(type(layer) is not Dense or not layer.trainable for layer in layers):
            return None
        if any(layer.activation_name not in _HIDDEN_ACTIVATIONS for layer in layers[:-1]):
            return None
        opt = model.optimizer
        if type(opt).__name__ not in ("Adam", "AdamW", "SGD") or not isinstance(opt, (Adam, SGD)):
            return None
        if opt.clipnorm is not None or opt.clipvalue is not None or opt.global_clipnorm is not None:
            return None
        if opt._pending_state is not None or opt.backend is not backend:
            return None
        return cls(model, layers)

    def bind(self, x, y):
        """The training set of one fit: x (n, ...) and its integer labels, kept as
        the 2-D float array and int64 vector the core reads batches from."""
        self.x = x.reshape(x.shape[0], -1)
        self.labels = np.ascontiguousarray(y.reshape(-1), dtype=np.int64)
        return self

    def _arrays(self, n):
        """The model's weights, batch buffers (n rows), gradients and optimizer slots."""
        model, opt = self.model, self.model.optimizer
        weights, biases, outputs, input_grads, weight_grads, bias_grads, slots = \
            [], [], [], [], [], [], []
        for layer in self.layers:
            kernel = layer.kernel
            weights.append(kernel.value)
            biases.append(layer.bias.value if layer.use_bias else None)
            outputs.append(layer._buffer("y", (n, layer.units)))
            input_grads.append(layer._buffer("dx", (n, kernel.shape[0])))
            weight_grads.append(layer._dw)
            bias_grads.append(layer._db)
            slots.extend(opt._ensure_slots(kernel))
            if layer.use_bias:
                slots.extend(opt._ensure_slots(layer.bias))
        dlogits = model._batch_buffer("dloss", outputs[-1].shape, outputs[-1].dtype)
        return dict(weights=weights, biases=biases, activations=self.activations,
                    outputs=outputs, input_grads=input_grads, weight_grads=weight_grads,
                    bias_grads=bias_grads, dlogits=dlogits, slots=slots)

    def _hyper(self):
        opt = self.model.optimizer
        if isinstance(opt, Adam):
            return dict(optimizer="adam", beta1=opt.beta_1, beta2=opt.beta_2, eps=opt.epsilon,
                        weight_decay=opt._weight_decay())
        return dict(optimizer="sgd", momentum=opt.momentum, nesterov=opt.nesterov)

    def _count(self, correct, n):
        for metric in self.model.compiled_metrics:
            metric.total += float(correct)
            metric.count += float(n)

    def run(self, start, stop, rows=None):
        """One step on the bound rows ``rows`` (gathered in the core), or on the
        slice ``start:stop`` when ``rows`` is None; returns the loss (weights
        unchanged when it is not finite)."""
        opt = self.model.optimizer
        if rows is None:
            x2, labels = self.x[start:stop], self.labels[start:stop]
        else:
            x2, labels = self.x, self.labels
        n = stop - start
        step = opt.iterations + 1
        loss, correct, updated = self.model._backend.dense_softmax_xent_train_step(
            x2, labels, lr=opt.current_learning_rate(), step=step, rows=rows,
            **self._arrays(n), **self._hyper())
        if updated and math.isfinite(loss):
            opt.iterations = step
            self._count(correct, n)
        return loss

    def run_steps(self, rows, batch_size):
        """Consecutive steps over ``rows`` in batches of ``batch_size``, in one core
        call; returns the losses of the steps taken (a non-finite one last: the
        core stops before its update)."""
        opt = self.model.optimizer
        steps = -(-len(rows) // batch_size)
        first = opt.iterations
        lrs = np.array([opt._learning_rate_at(first + s) for s in range(steps)], dtype=np.float64)
        losses, correct, done = self.model._backend.dense_softmax_xent_train_steps(
            self.x, self.labels, rows, batch_size, lrs=lrs, first_step=first + 1,
            **self._arrays(min(batch_size, len(rows))), **self._hyper())
        opt.iterations = first + done
        for s in range(done):
            self._count(correct[s], min(batch_size, len(rows) - s * batch_size))
        return losses[:min(done + 1, steps)]
