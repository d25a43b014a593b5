"""The end of a forward pass in the op-by-op plan: the loss kernel of each
loss kind (the names the core plan knows), and the metrics' per-batch sums
(and statistics vectors).
"""
from __future__ import annotations

import numpy as np

__all__ = ["LOSS_KERNELS", "loss_value_and_grad", "python_loss_value_and_grad", "metric_sums",
           "empty_stats", "predictions"]

from ..opdefs import LOSS_KERNELS


def loss_value_and_grad(be, kind, y2, targets, row_weights, grad_out):
    """Value of the loss of ``y2`` (rows, cols) and, when ``grad_out`` is given, its
    gradient written there; ``targets``: labels (rows,) or dense (rows, cols)."""
    value_name, grad_name = LOSS_KERNELS[kind]
    if grad_out is not None:
        getattr(be, grad_name)(y2, targets, out=grad_out, sample_weight=row_weights)
    return getattr(be, value_name)(y2, targets, sample_weight=row_weights)


def python_loss_value_and_grad(loss, y, targets, row_weights, grad_out):
    """A loss function's value on outputs ``y`` (n, ...) and ``targets`` (n, ...) of
    the user's shape, as Keras reduces it (the weighted
    sum of the values it returns over their number: "sum_over_batch_size") and, when
    ``grad_out`` is given, its gradient with respect to ``y`` from the GradientTape."""
    from .. import autodiff

    yt = autodiff.Tensor(np.ascontiguousarray(y))
    with autodiff.GradientTape() as tape:
        tape.watch(yt)
        total = loss._reduced(autodiff.Tensor(np.asarray(targets, dtype=y.dtype)), yt,
                              row_weights)
    if grad_out is not None:
        g = tape.gradient(total, yt)
        grad_out[...] = 0 if g is None else np.asarray(g).reshape(grad_out.shape)
    return float(total)


def predictions(be, kind, y2):
    """What the metrics see: the output as is, or softmax/sigmoid of fused logits."""
    if kind == "linear":
        return y2
    return getattr(be, kind)(y2)


def metric_sums(metrics, y_true, preds):
    """Each metric's (sum of per-row values, row count) for one batch, without
    touching its state, and ``stats``: for a metric that keeps a vector of
    additive statistics (``StatsMetric``: Precision, AUC, ...) the batch's
    vector (None for the others).  A metric that only has ``update_state`` (a
    user's) is updated directly and gets a NaN count."""
    from ..metrics import Metric, StatsMetric

    sums = np.zeros(len(metrics))
    counts = np.zeros(len(metrics))
    stats = [None] * len(metrics)
    for i, m in enumerate(metrics):
        if isinstance(m, StatsMetric):
            stats[i] = np.asarray(m._batch_stats(y_true, preds), dtype=np.float64)
            continue
        if type(m)._values is Metric._values:
            m.update_state(y_true, preds)
            counts[i] = np.nan
            continue
        values = np.asarray(m._values(y_true, preds), dtype=np.float64)
        sums[i] = values.sum()
        counts[i] = values.size
    return sums, counts, stats


def empty_stats(metrics, sparse, cols, dtype):
    """The statistics of a batch of no rows (zeros of each vector's length), for a
    data-parallel process whose slice of a step is empty."""
    from ..metrics import StatsMetric

    y_true = np.zeros((0,), np.int64) if sparse else np.zeros((0, cols), dtype)
    preds = np.zeros((0, cols), dtype)
    return [np.asarray(m._batch_stats(y_true, preds), dtype=np.float64)
            if isinstance(m, StatsMetric) else None for m in metrics]
