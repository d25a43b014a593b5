"""``StepPlan``: a model's compiled step, and the one place that decides what
runs in the core.

A plan is built for one purpose:

* ``"train"``: forward, loss, metrics, backward and the optimizer update
  (fit, train_on_batch, compute_gradients), and evaluation with the same
  buffers (fit's validation);
* ``"evaluate"``: forward, loss and metrics (evaluate, test_on_batch);
* ``"predict"``: forward only, the model's real outputs.

It owns every buffer a step writes (never the layers), so two plans of one
model can run in two threads at once.  When the last layer is a softmax
(sigmoid) and the loss the matching cross-entropy of probabilities, a train
or evaluate plan feeds the loss the logits instead (the stable fused path);
the metrics then see the probabilities, computed from the logits.

The decision: a plan runs in the core when the model's backend is
``bprop.ops`` and the loss, every metric and the optimizer declare core
kernels (``Loss._plan_kind``, ``Metric._core_kind``,
``Optimizer._core_spec``).  A node with kernels runs in the core; a user's
layer is a "python" node of the core plan (the core calls it back, and it
runs through the GradientTape), so the rest of the step stays in the core.
Otherwise the same plan runs op by op
(:class:`~bprop.engine.op_executor.OpExecutor`): through
``bprop.reference`` on the NumPy backend (the oracle), through
``bprop.ops`` kernel by kernel for a user's metric or optimizer, or a
metric without a core kernel (Precision, AUC, the cross-entropy metrics, ...).
"""
from __future__ import annotations

import collections

import numpy as np

from .. import utils as _utils
from .nodes import ActivationNode, DenseNode

__all__ = ["StepPlan", "PlanData", "RunResult", "build_nodes"]

RunResult = collections.namedtuple(
    "RunResult", "losses metric_sums metric_counts status done metric_stats",
    defaults=(None,))
RunResult.__doc__ = """Per-step results of a run: losses (float64), metric sums and counts
(steps x metrics), status (0 applied, 1 loss not finite, 2 update not finite: undone)
and ``done``, the steps applied (a training run stops at the first bad step).
``metric_stats``: None, or per metric None or the (steps x length) statistics
vectors of a metric that keeps them (``StatsMetric``: Precision, AUC, ...;
those run op by op)."""

STATUS_APPLIED, STATUS_LOSS_NOT_FINITE, STATUS_UPDATE_NOT_FINITE = 0, 1, 2


class PlanData:
    """The arrays a run reads by row: x as (n, values per sample), the targets as
    int64 labels (n, rows per sample) or dense (n, output size), weights (n,)."""

    __slots__ = ("x", "labels", "targets", "sample_weight", "n")

    def __init__(self, x, labels=None, targets=None, sample_weight=None):
        self.x = x
        self.labels = labels
        self.targets = targets
        self.sample_weight = sample_weight
        self.n = x.shape[0]


def _flat_layers(model):
    """The layers a plan runs (nested models expanded in order)."""
    return model._plan_layers()


def build_nodes(model, sample_shape, trainable):
    """The nodes of ``model`` for inputs of ``sample_shape``; returns (nodes, output shape).

    Layers that only change the shape (Flatten, Input, Reshape) make no node.
    """
    nodes = []
    shape = tuple(sample_shape)
    for layer in _flat_layers(model):
        node = layer._plan_node(shape, trainable)
        out = tuple(layer.compute_output_shape(shape))
        if node is not None:
            nodes.append(node)
        shape = out
    return nodes, shape


class StepPlan:
    """``StepPlan(model, purpose, executor="auto")``: see the module docstring.

    ``executor``: "auto" (the core when it can), "ops" (op by op even when
    the core could run it: the oracle of the tests).
    """

    def __init__(self, model, purpose, executor="auto"):
        if purpose not in ("train", "evaluate", "predict"):
            raise ValueError("purpose: expected 'train', 'evaluate' or 'predict', got %r"
                             % (purpose,))
        self.model = model
        self.purpose = purpose
        self.backend = model._backend
        self.dtype = np.dtype(model._dtype)
        self.sample_shape = tuple(model._sample_shape)
        self.in_size = int(np.prod(self.sample_shape, dtype=np.int64))
        trainable = list(model.trainable_variables) if purpose == "train" else []
        trainable_set = set(trainable)
        self.nodes, self.out_shape = build_nodes(model, self.sample_shape, trainable_set)
        self.out_size = int(np.prod(self.out_shape, dtype=np.int64))
        self.params = []
        seen = set()
        for node in self.nodes:
            for var in node.params:
                if var in seen:
                    raise ValueError("layers: variable %r is used by two layers of model %r; "
                                     "a shared layer cannot appear twice" % (var.name, model.name))
                seen.add(var)
                self.params.append(var)
        self.trainable = [v for v in self.params if v in trainable_set]
        # Non-trainable weights a training forward writes (BatchNormalization's moving
        # statistics, marked by the layer): saved and restored with the trainable ones
        # when a run undoes its steps, and left unchanged by gradients().
        self.state = [v for v in self.params if v not in trainable_set
                      and getattr(v, "_updated_in_training", False)]
        self.regularizers = {}
        for node in self.nodes:
            self.regularizers.update(node.regularizers)
        self._decide_objective()
        self.optimizer = model.optimizer if purpose == "train" else None
        self.slots = {}
        if self.optimizer is not None:
            # Creates the slots (in model order) and applies a loaded optimizer state.
            self.optimizer.build(self.trainable)
            self.slots = {v: self.optimizer._ensure_slots(v) for v in self.trainable}
        self.first_trainable = next((i for i, node in enumerate(self.nodes) if node.grads),
                                    len(self.nodes))
        self.executor = self._choose_executor(executor)

    # ------------------------------------------------------------------ decisions
    def _decide_objective(self):
        """The loss kernel (fused with the last activation when it applies) and the metrics."""
        model = self.model
        self.loss = model.compiled_loss if self.purpose != "predict" else None
        self.predictions = "linear"
        self.loss_kind, self.sparse = "none", False
        self.metrics = []
        self.metric_kinds = []
        if self.loss is None:
            return
        last = self.nodes[-1] if self.nodes else None
        fuse = (not self.loss.from_logits and self.loss.fuses_with is not None
                and isinstance(last, (DenseNode, ActivationNode))
                and last.activation == self.loss.fuses_with and last.activity == (0.0, 0.0))
        if fuse:
            last.activation = "linear"
            self.predictions = self.loss.fuses_with
        self.loss_kind, self.sparse = self.loss._plan_kind(fuse or self.loss.from_logits)
        self.metrics = list(model.compiled_metrics)
        self.metric_kinds = [m._core_kind(self.sparse, self.out_shape) for m in self.metrics]

    def _choose_executor(self, executor):
        from .. import ops
        from .op_executor import OpExecutor

        if executor not in ("auto", "ops"):
            raise ValueError("executor: expected 'auto' or 'ops', got %r" % (executor,))
        core = (executor == "auto" and self.backend is ops and self.loss_kind != "python"
                and all(node.core_kind is not None for node in self.nodes)
                and all(kind is not None for kind in self.metric_kinds)
                and (self.optimizer is None or self.optimizer._core_spec() is not None))
        if core:
            from .core_executor import CoreExecutor

            return CoreExecutor(self)
        return OpExecutor(self)

    @property
    def in_core(self):
        """True when the plan runs in the core (one call for many steps)."""
        from .core_executor import CoreExecutor

        return isinstance(self.executor, CoreExecutor)

    # ------------------------------------------------------------------ data
    def data(self, x, y=None, sample_weight=None):
        """:class:`PlanData` of prepared arrays (x in the model dtype, y as the loss prepared it)."""
        n = x.shape[0]
        x2 = np.ascontiguousarray(x.reshape(n, self.in_size))
        labels = targets = None
        if y is not None and self.loss_kind != "none":
            if self.sparse:
                labels = np.ascontiguousarray(y.reshape(n, -1), dtype=np.int64)
            if self.loss_kind == "python":  # a loss function takes y in the user's shape
                targets = np.ascontiguousarray(y, dtype=self.dtype)
            elif not self.sparse:
                targets = np.ascontiguousarray(y.reshape(n, self.out_size), dtype=self.dtype)
        sw = None if sample_weight is None else np.ascontiguousarray(sample_weight,
                                                                     dtype=np.float64)
        return PlanData(x2, labels, targets, sw)

    def learning_rates(self, steps):
        """The learning rate of each of the next ``steps`` steps (schedules included)."""
        opt = self.optimizer
        first = opt.iterations
        return np.array([opt._learning_rate_at(first + s) for s in range(steps)],
                        dtype=np.float64)

    # ------------------------------------------------------------------ running
    def run(self, data, rows, batch_size, train, dropout_counter=0, row_offset=0, parallel=None):
        """Steps over ``data`` rows ``rows`` in batches; returns a :class:`RunResult`.

        Training reads the optimizer's iterations and schedule and advances
        ``iterations`` by the steps applied.  ``parallel``: a data-parallel
        step's slices ``(step_rows, step_offsets, step_global_rows,
        allreduce)`` (see bprop.models.data_parallel): step s takes the next
        ``step_rows[s]`` of ``rows``, and ``allreduce(buffer)`` sums the step's
        flat buffer of gradients, loss and metric sums over the processes.
        """
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        steps = -(-rows.shape[0] // batch_size) if parallel is None else len(parallel[0])
        if train:
            if self.optimizer is None:
                raise RuntimeError("plan: a %r plan cannot train" % self.purpose)
            lrs = self.learning_rates(steps)
            iterations = self.optimizer.iterations
        else:
            lrs, iterations = None, 0
        result = self.executor.run(data, rows, batch_size, train, lrs, iterations,
                                   dropout_counter, row_offset, parallel)
        if train and self.trainable:
            self.optimizer.iterations = iterations + result.done
        return result

    def predict(self, x2, batch_size, out=None):
        """Outputs (n, output size) of ``x2`` (n, input size), in batches."""
        return self.executor.predict(x2, batch_size, out)

    def forward_training(self, x2, dropout_counter, out=None):
        """Outputs of ``x2`` with training behaviour (Dropout active), op by op
        (``model(x, training=True)`` on arrays)."""
        from .nodes import StepContext
        from .op_executor import OpExecutor

        y, _ = OpExecutor(self)._forward(x2, x2.shape[0], StepContext(True, dropout_counter),
                                         want_penalty=False)
        if out is None:
            return y.copy()
        out[...] = y
        return out

    def gradients(self, data, training=False, dropout_counter=0):
        """``(loss, grads)`` of one batch (all of ``data``); grads in ``self.trainable``
        order, nothing updated (a training forward's moving statistics included)."""
        saved = [v.value.copy() for v in self.state]
        try:
            return self.executor.gradients(data, training, dropout_counter)
        finally:
            for var, value in zip(self.state, saved):
                var.value[...] = value


def new_dropout_seed():
    """A seed for a Dropout layer without one, drawn from bprop's global generator."""
    return int(_utils.get_rng().integers(0, 2 ** 63 - 1))
