"""AUC: the area under the ROC or precision-recall curve, from weighted
confusion counts at a fixed set of thresholds (Keras' ``keras.metrics.AUC``).

The thresholds are Keras': ``num_thresholds`` evenly spaced in [0, 1],
the ends moved out by epsilon (-1e-7 and 1 + 1e-7) so that a prediction
of exactly 0 or 1 falls inside; or the given ``thresholds`` between those
two ends.  The area sums one trapezoid per pair of neighbouring thresholds
(``summation_method="interpolation"``, the default; "minoring" and
"majoring" take the lower or higher side).  The PR curve with
interpolation uses Keras' closed form (Davis & Goadrich 2006): precision
interpolated along true and false positives, not linearly.
"""
from __future__ import annotations

import numpy as np

from .base import StatsMetric, as_float_array, divide_no_nan
from .confusion import EPSILON, confusion_counts, evenly_distributed, parse_thresholds

__all__ = ["AUC"]

_CURVES = {"roc": "ROC", "pr": "PR"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


def _check_curve(curve):
    key = curve.lower() if isinstance(curve, str) else None
    if key not in _CURVES or curve not in (key, key.upper()):
        raise ValueError("curve: expected 'ROC' or 'PR', got %r" % (curve,))
    return _CURVES[key]


def _check_summation(method):
    key = method.lower() if isinstance(method, str) else None
    if key not in _SUMMATIONS or method not in (key, key.capitalize()):
        raise ValueError("summation_method: expected 'interpolation', 'minoring' or 'majoring', "
                         "got %r" % (method,))
    return key


class AUC(StatsMetric):
    """Area under the ROC (default) or PR curve of binary predictions in [0, 1].

    ``multi_label=True``: ``y_pred`` (batch, labels), one curve per label,
    the result their mean (weighted by ``label_weights`` when given);
    otherwise every element is one prediction and ``label_weights`` weighs
    the classes (the last axis).  ``from_logits``: sigmoid first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_distributed([0.0] + inner + [1.0])
        else:
            if isinstance(num_thresholds, (bool, np.bool_)) \
                    or not isinstance(num_thresholds, (int, np.integer)) or num_thresholds < 2:
                raise ValueError("num_thresholds: expected an int >= 2, got %r"
                                 % (num_thresholds,))
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1)
                     for i in range(self.num_thresholds - 2)]
            self._evenly = True
        self._thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.curve = _check_curve(curve)
        self.summation_method = _check_summation(summation_method)
        self.multi_label = bool(multi_label)
        if num_labels is not None:
            if not self.multi_label:
                raise ValueError("num_labels: needed only with multi_label=True, got %r"
                                 % (num_labels,))
            if isinstance(num_labels, (bool, np.bool_)) \
                    or not isinstance(num_labels, (int, np.integer)) or num_labels < 1:
                raise ValueError("num_labels: expected an int >= 1 or None, got %r"
                                 % (num_labels,))
            num_labels = int(num_labels)
        self.num_labels = num_labels
        self.label_weights = None
        if label_weights is not None:
            lw = np.asarray(as_float_array(label_weights, "label_weights"), dtype=np.float64)
            if lw.ndim != 1 or not np.all(np.isfinite(lw)) or np.any(lw < 0):
                raise ValueError("label_weights: expected a 1-D sequence of finite weights >= 0, "
                                 "got %r" % (label_weights,))
            if num_labels is not None and lw.size != num_labels:
                raise ValueError("label_weights: expected %d weights (num_labels), got %d"
                                 % (num_labels, lw.size))
            self.label_weights = lw
        self.from_logits = bool(from_logits)
        super().__init__(name=name, dtype=dtype)

    @property
    def thresholds(self):
        """The thresholds, the two epsilon-padded ends included (Keras' ``thresholds``)."""
        return list(self._thresholds)

    # ------------------------------------------------------------ statistics
    def _batch_stats(self, y_true, y_pred, sample_weight=None):
        y_pred = as_float_array(y_pred, "y_pred")
        if self.from_logits:
            with np.errstate(over="ignore"):  # exp(-z) = inf: sigmoid 0
                y_pred = 1.0 / (1.0 + np.exp(-y_pred.astype(np.float64)))
        if self.multi_label and self.num_labels is not None \
                and (y_pred.ndim != 2 or y_pred.shape[1] != self.num_labels):
            raise ValueError("y_pred: expected shape (batch, %d) (num_labels), got %s"
                             % (self.num_labels, y_pred.shape))
        counts = confusion_counts(
            y_true, y_pred, self._thresholds, self.dtype, sample_weight,
            evenly=self._evenly, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights)
        if self.multi_label and self.label_weights is not None \
                and self.label_weights.size != counts[0].shape[1]:
            raise ValueError("label_weights: expected one weight per label of y_pred (%d), "
                             "got %d" % (counts[0].shape[1], self.label_weights.size))
        return np.concatenate([c.ravel() for c in counts])

    def update_state(self, y_true, y_pred, sample_weight=None):
        stats = self._batch_stats(y_true, y_pred, sample_weight)
        if self._stats is not None and stats.shape != self._stats.shape:
            raise ValueError("y_pred: expected %d labels as in the earlier updates, got %d"
                             % (self._labels(self._stats), self._labels(stats)))
        self._stats = stats if self._stats is None else self._stats + stats

    def _labels(self, stats):
        return stats.size // (4 * self.num_thresholds)

    def _counts(self, stats):
        """(tp, fp, tn, fn), each (T,) or (T, labels)."""
        shape = (4, self.num_thresholds) + ((-1,) if self.multi_label else ())
        return tuple(stats.reshape(shape))

    # ------------------------------------------------------------ result
    def _interpolated_pr(self, tp, fp, fn):
        """Keras' ``interpolate_pr_auc``: per interval, precision follows
        ``tp / p`` with tp and p = tp + fp linear in between."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        return divide_no_nan(slope * (dtp + intercept * log_ratio),
                             np.maximum(tp[1:] + fn[1:], 0))

    def _riemann_terms(self, tp, fp, tn, fn):
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return (x[:-1] - x[1:]) * heights

    def _result_of(self, stats):
        if stats is None:
            return 0.0
        tp, fp, tn, fn = self._counts(stats)
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._interpolated_pr(tp, fp, fn)
        else:
            terms = self._riemann_terms(tp, fp, tn, fn)
        if not self.multi_label:
            return float(terms.sum())
        by_label = terms.sum(axis=0)
        if self.label_weights is None:
            return float(by_label.mean())
        return float(divide_no_nan((by_label * self.label_weights).sum(),
                                   self.label_weights.sum()))

    def _count(self, index):
        if self._stats is None:
            shape = (self.num_thresholds,) + ((self.num_labels or 0,) if self.multi_label else ())
            return np.zeros(shape)
        return self._counts(self._stats)[index].copy()

    @property
    def true_positives(self):
        return self._count(0)

    @property
    def false_positives(self):
        return self._count(1)

    @property
    def true_negatives(self):
        return self._count(2)

    @property
    def false_negatives(self):
        return self._count(3)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_thresholds=self.num_thresholds, curve=self.curve,
            summation_method=self.summation_method, multi_label=self.multi_label,
            num_labels=self.num_labels,
            label_weights=None if self.label_weights is None else self.label_weights.tolist(),
            from_logits=self.from_logits)
        if self._init_from_thresholds:  # the inner thresholds: from_config gives the same
            config["thresholds"] = self._thresholds[1:-1]
        return config
