"""Confusion-matrix metrics: Precision, Recall and the four counts
(TruePositives, FalsePositives, TrueNegatives, FalseNegatives), by Keras'
``update_confusion_matrix_variables``.

Each element of ``y_pred`` is a prediction, positive at threshold t when
``y_pred > t`` (strictly), compared in the metric's dtype (float32 by
default, as Keras' variables); ``y_true`` is positive when nonzero.  Every
element counts with its sample's weight.  ``top_k`` keeps the k highest
predictions of each sample (the others are never positive); ``class_id``
keeps one class of (batch, classes) data.  Evenly spaced thresholds
(0, 1/(T-1), ..., 1: AUC's) take Keras' bucket path, which clips the
predictions to [0, 1] first.

The state is the weighted counts per threshold, summed batch by batch
(:class:`~bprop.metrics.base.StatsMetric`): ``fit`` sums them over the
steps, its threads and processes.
"""
from __future__ import annotations

import numbers

import numpy as np

from .base import StatsMetric, as_float_array, as_result, broadcast_weights, check_int, \
    divide_no_nan, squeeze_or_expand

__all__ = ["Precision", "Recall", "TruePositives", "FalsePositives", "TrueNegatives",
           "FalseNegatives", "confusion_counts", "parse_thresholds", "NEG_INF"]

# Keras' metrics_utils.NEG_INF: the threshold of top_k without thresholds, and
# the value predictions outside the top k take.
NEG_INF = -1e10
EPSILON = 1e-7  # Keras' backend.epsilon()


def parse_thresholds(thresholds, default, argname="thresholds"):
    """``thresholds`` (a number or a sequence of numbers in [0, 1]) as a list of
    floats, ``[default]`` when None; ValueError/TypeError naming ``argname``."""
    if thresholds is None:
        return [float(default)]
    values = list(np.ravel(thresholds)) if isinstance(thresholds, (list, tuple, np.ndarray)) \
        else [thresholds]
    if not values:
        raise ValueError("%s: expected at least one threshold, got %r" % (argname, thresholds))
    for t in values:
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Real):
            raise TypeError("%s: expected numbers in [0, 1], got %r" % (argname, thresholds))
    bad = [float(t) for t in values if not 0.0 <= float(t) <= 1.0]
    if bad:
        raise ValueError("%s: expected values in [0, 1], got %s" % (argname, bad))
    return [float(t) for t in values]


def evenly_distributed(thresholds):
    """Keras' ``is_evenly_distributed_thresholds``: 3 or more thresholds equal to
    i / (T - 1), i = 0..T-1 (within 1e-7); then the bucket path applies."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _top_k_only(y_pred, k):
    """``y_pred`` with all but each sample's ``k`` highest values set to NEG_INF
    (ties: the lower class index first, as ``top_k``)."""
    if k > y_pred.shape[-1]:
        raise ValueError("top_k: expected at most the %d classes of y_pred, got %d"
                         % (y_pred.shape[-1], k))
    order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(y_pred.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return np.where(keep, y_pred, y_pred.dtype.type(NEG_INF))


def _levels(y_pred, thresholds, evenly, with_epsilon, dtype):
    """For each prediction, the index of the highest threshold (in ascending order)
    it is above, -1 for none; and the order that sorts ``thresholds``."""
    p = y_pred.astype(dtype)
    count = len(thresholds)
    if evenly:
        # Keras' bucket path: above threshold i exactly when ceil(p (T-1)) - 1 >= i.
        p = np.clip(p, 0, 1)
        with np.errstate(invalid="ignore"):
            level = np.ceil(p * dtype.type(count - 1)) - 1
        if with_epsilon:  # the first threshold is below 0: every prediction is above it
            level = np.maximum(level, 0)
        order = np.arange(count)
    else:
        t = np.asarray(thresholds, dtype=dtype)
        order = np.argsort(t, kind="stable")
        level = np.searchsorted(t[order], p, side="left") - 1  # thresholds strictly below p
    level = np.where(np.isnan(p), -1, level)  # NaN is above no threshold
    return level.astype(np.int64), order


def _counts_above(level, weights, count):
    """Per column of ``level`` (n, columns): the weights summed over the rows above
    each threshold, (count, columns)."""
    n, columns = level.shape
    slot = (level + 1) + (count + 1) * np.arange(columns)[None, :]
    hist = np.bincount(slot.ravel(), weights=weights.ravel(),
                       minlength=columns * (count + 1)).reshape(columns, count + 1)
    # above threshold i: level >= i, the slots i + 1 .. count
    above = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:]
    return above.T


def confusion_counts(y_true, y_pred, thresholds, dtype="float32", sample_weight=None,
                     top_k=None, class_id=None, evenly=None, multi_label=False,
                     label_weights=None):
    """Weighted ``(tp, fp, tn, fn)`` of one batch at each threshold (Keras'
    ``update_confusion_matrix_variables``), float64 arrays of shape (T,), or
    (T, labels) with ``multi_label`` (y_pred (batch, labels))."""
    dtype = np.dtype(dtype)
    y_true = as_float_array(y_true, "y_true")
    y_pred = as_float_array(y_pred, "y_pred").astype(dtype)
    y_pred, y_true = squeeze_or_expand(y_pred, y_true)
    w = None
    if sample_weight is not None:
        w = np.asarray(as_float_array(sample_weight, "sample_weight"), dtype=np.float64)
        given = w.shape
        _, w = squeeze_or_expand(y_true, w[..., None], expand_rank_1=False)
    if top_k is not None:
        if y_pred.ndim < 1:
            raise ValueError("top_k: y_pred must have a classes axis, got a scalar")
        y_pred = _top_k_only(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError("class_id: expected y_pred of shape (batch, classes), got %s"
                             % (y_pred.shape,))
        if class_id >= y_pred.shape[-1]:
            raise ValueError("class_id: expected a class of y_pred's %d, got %d"
                             % (y_pred.shape[-1], class_id))
        if y_true.shape[-1:] != y_pred.shape[-1:]:
            raise ValueError("y_true, y_pred: expected equal shapes, got %s and %s"
                             % (y_true.shape, y_pred.shape))
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if y_true.shape != y_pred.shape:
        raise ValueError("y_true, y_pred: expected equal shapes, got %s and %s"
                         % (y_true.shape, y_pred.shape))
    if multi_label and y_pred.ndim != 2:
        raise ValueError("y_pred: expected rank 2 (batch, labels) with multi_label=True, got "
                         "shape %s" % (y_pred.shape,))
    weights = np.ones(y_pred.shape) if w is None else broadcast_weights(w, y_pred.shape, given)
    if label_weights is not None:
        weights = weights * broadcast_weights(label_weights, y_pred.shape, np.shape(label_weights))
    positive = y_true != 0  # Keras casts y_true to bool
    if evenly is None:
        evenly = evenly_distributed(thresholds)
    with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
    level, order = _levels(y_pred, thresholds, evenly, with_epsilon, dtype)
    columns = y_pred.shape[-1] if multi_label else 1
    level = level.reshape(-1, columns)
    pos_w = np.where(positive, weights, 0.0).reshape(-1, columns)
    neg_w = np.where(positive, 0.0, weights).reshape(-1, columns)
    count = len(thresholds)
    tp_sorted = _counts_above(level, pos_w, count)
    fp_sorted = _counts_above(level, neg_w, count)
    tp = np.empty_like(tp_sorted)
    fp = np.empty_like(fp_sorted)
    tp[order], fp[order] = tp_sorted, fp_sorted
    fn = pos_w.sum(axis=0) - tp
    tn = neg_w.sum(axis=0) - fp
    if not multi_label:
        tp, fp, tn, fn = tp[:, 0], fp[:, 0], tn[:, 0], fn[:, 0]
    return tp, fp, tn, fn


class _ThresholdMetric(StatsMetric):
    """Counts at ``thresholds`` (default 0.5, or NEG_INF with ``top_k``): the shared
    arguments and checks of Precision, Recall and the four counts."""

    _counts = ()  # which of "tp", "fp", "tn", "fn" the state keeps, in order

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.top_k = check_int(top_k, "top_k", 1, allow_none=True)
        self.class_id = check_int(class_id, "class_id", 0, allow_none=True)
        self.thresholds = parse_thresholds(thresholds, 0.5 if self.top_k is None else NEG_INF)
        # as given (None, one number or a list: Keras' config), in plain floats for JSON
        self.init_thresholds = (None if thresholds is None else list(self.thresholds)
                                if isinstance(thresholds, (list, tuple, np.ndarray))
                                else self.thresholds[0])
        self._evenly = evenly_distributed(self.thresholds)
        super().__init__(name=name, dtype=dtype)

    def _batch_stats(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = confusion_counts(
            y_true, y_pred, self.thresholds, self.dtype, sample_weight, self.top_k,
            self.class_id, self._evenly)
        found = {"tp": tp, "fp": fp, "tn": tn, "fn": fn}
        return np.concatenate([found[c] for c in self._counts])

    def _state(self, stats):
        """The kept counts, one (T,) array each (zeros before any update)."""
        t = len(self.thresholds)
        stats = np.zeros(t * len(self._counts)) if stats is None else stats
        return dict(zip(self._counts, stats.reshape(len(self._counts), t)))

    def _count(self, which):
        return self._state(self._stats)[which].copy()

    def _check_compilable(self):
        if len(self.thresholds) > 1:
            raise ValueError("thresholds: %s(thresholds=%r) gives one value per threshold, and "
                             "model.compile logs one number per metric: compile one metric per "
                             "threshold" % (type(self).__name__, self.init_thresholds))

    def get_config(self):
        config = super().get_config()
        config.update(thresholds=self.init_thresholds, top_k=self.top_k,
                      class_id=self.class_id)
        return config


class Precision(_ThresholdMetric):
    """``tp / (tp + fp)`` at each threshold (0 when nothing is predicted positive).

    ``top_k``: only each sample's k highest predictions can be positive;
    ``class_id``: only that class's column counts.  One threshold: a float;
    several: an array, one value per threshold.
    """

    _counts = ("tp", "fp")

    def _result_of(self, stats):
        s = self._state(stats)
        return as_result(divide_no_nan(s["tp"], s["tp"] + s["fp"]).reshape(
            () if len(self.thresholds) == 1 else (-1,)))

    @property
    def true_positives(self):
        return self._count("tp")

    @property
    def false_positives(self):
        return self._count("fp")


class Recall(_ThresholdMetric):
    """``tp / (tp + fn)`` at each threshold (0 when there are no positive labels).

    ``top_k`` and ``class_id`` as :class:`Precision`.
    """

    _counts = ("tp", "fn")

    def _result_of(self, stats):
        s = self._state(stats)
        return as_result(divide_no_nan(s["tp"], s["tp"] + s["fn"]).reshape(
            () if len(self.thresholds) == 1 else (-1,)))

    @property
    def true_positives(self):
        return self._count("tp")

    @property
    def false_negatives(self):
        return self._count("fn")


class _ConditionCount(_ThresholdMetric):
    """The weighted count of one cell of the confusion matrix at each threshold."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def _result_of(self, stats):
        counts = self._state(stats)[self._counts[0]]
        return as_result(counts.reshape(() if len(self.thresholds) == 1 else (-1,)))

    def get_config(self):
        config = StatsMetric.get_config(self)
        config["thresholds"] = self.init_thresholds
        return config


class TruePositives(_ConditionCount):
    """Weighted count of positive labels predicted above the threshold."""

    _counts = ("tp",)


class FalsePositives(_ConditionCount):
    """Weighted count of negative labels predicted above the threshold."""

    _counts = ("fp",)


class TrueNegatives(_ConditionCount):
    """Weighted count of negative labels predicted at or below the threshold."""

    _counts = ("tn",)


class FalseNegatives(_ConditionCount):
    """Weighted count of positive labels predicted at or below the threshold."""

    _counts = ("fn",)
