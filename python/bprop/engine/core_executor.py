"""The core form of a step plan: ``_core.TrainPlan`` built from the plan's
spec, every buffer of the step owned by it, many steps per call with the
GIL released (csrc/core/plan/)."""
from __future__ import annotations

from .. import _core
from .plan import RunResult

__all__ = ["CoreExecutor", "core_spec"]


def core_spec(plan):
    """The spec dict ``_core.TrainPlan`` is built from."""
    index_of = {var: i for i, var in enumerate(plan.params)}
    trainable = set(plan.trainable)
    state = set(plan.state)
    params = []
    for var in plan.params:
        l1, l2 = plan.regularizers.get(var, (0.0, 0.0))
        params.append({"value": var.value, "trainable": var in trainable, "l1": l1, "l2": l2,
                       "slots": list(plan.slots.get(var, ())), "state": var in state})
    return {
        "dtype": plan.dtype.name,
        "input_size": plan.in_size,
        "params": params,
        "nodes": [node.core_spec(index_of) for node in plan.nodes],
        "loss": plan.loss_kind,
        "sparse": plan.sparse,
        "predictions": plan.predictions,
        "metrics": [tuple(kind) for kind in plan.metric_kinds],
        "optimizer": None if plan.optimizer is None else plan.optimizer._core_spec(),
    }

class CoreExecutor:
    def __init__(self, plan):
        self.plan = plan
        self.core = _core.TrainPlan(core_spec(plan))

    def run(self, data, rows, batch, train, lrs, iterations, dropout_counter, row_offset,
            parallel=None):
        step_rows, step_offsets, step_global, allreduce = parallel or (None, None, None, None)
        losses, sums, counts, status, done = self.core.run(
            data.x, data.labels, data.targets, data.sample_weight, rows, batch, lrs=lrs,
            iterations=int(iterations), dropout_counter=int(dropout_counter),
            row_offset=int(row_offset), train=train, step_rows=step_rows,
            step_offsets=step_offsets, step_global_rows=step_global, allreduce=allreduce)
        return RunResult(losses, sums, counts, status, done)

    def predict(self, x2, batch, out=None):
        return self.core.predict(x2, batch, out)

    def gradients(self, data, training, dropout_counter):
        loss, grads = self.core.gradients(data.x, data.labels, data.targets, data.sample_weight,
                                          training=training, dropout_counter=int(dropout_counter))
        trainable = set(self.plan.trainable)
        return loss, [g for g, v in zip(grads, self.plan.params) if v in trainable]

