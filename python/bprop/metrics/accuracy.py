"""Accuracy metrics: the fraction of samples predicted right, by Keras' rules.

Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy and
the top-k accuracies have kernels in the core (``_core_kind``); top-k on
``from_sorted_ids`` runs op by op.
"""
from __future__ import annotations

import numpy as np

from .base import Metric, as_float_array, check_int, check_pair, class_scores, per_sample, \
    sparse_labels

__all__ = ["Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
           "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "AutoAccuracy",
           "in_top_k"]


class Accuracy(Metric):
    """Fraction of elements where ``y_pred == y_true`` exactly."""

    def _values(self, y_true, y_pred):
        y_true, y_pred = check_pair(y_true, y_pred)
        return y_true == y_pred


class BinaryAccuracy(Metric):
    """Fraction where ``(y_pred > threshold) == y_true`` (mean over the last axis per sample)."""

    def __init__(self, name=None, dtype=None, threshold=0.5):
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError("threshold: expected a value in [0, 1], got %r" % (threshold,))
        self.threshold = float(threshold)
        super().__init__(name=name, dtype=dtype)

    def _values(self, y_true, y_pred):
        y_true, y_pred = check_pair(y_true, y_pred)
        hits = (y_pred > self.threshold) == (y_true > 0.5)
        return per_sample(hits.astype(np.float64))

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("binary_accuracy", self.threshold)

    def get_config(self):
        config = super().get_config()
        config["threshold"] = self.threshold
        return config


class CategoricalAccuracy(Metric):
    """Fraction where ``argmax(y_pred) == argmax(y_true)``; one-hot ``y_true`` (batch, classes)."""

    def _values(self, y_true, y_pred):
        y_true, y_pred = check_pair(y_true, y_pred)
        if y_pred.ndim < 2:
            raise ValueError("y_pred: expected (batch, classes), got shape %s" % (y_pred.shape,))
        return np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("categorical_accuracy", 0.5)


class SparseCategoricalAccuracy(Metric):
    """Fraction where ``argmax(y_pred) == y_true``; integer labels (batch,) or (batch, 1)."""

    def _values(self, y_true, y_pred):
        y_pred = class_scores(y_pred)
        return np.argmax(y_pred, axis=-1) == sparse_labels(y_true, y_pred)

    def _core_kind(self, sparse, output_shape):
        return ("sparse_categorical_accuracy", 0.5) if sparse else None


def in_top_k(scores, targets, k):
    """Whether each row's target class is among its ``k`` highest ``scores``
    (TensorFlow's ``in_top_k``, Keras' rule): classes tied with the target
    count for it (fewer than ``k`` classes score strictly higher), and a row
    with a NaN or infinite score is never a hit.  ``scores`` (rows, classes),
    ``targets`` (rows,) int."""
    rows = np.arange(scores.shape[0])
    target_score = scores[rows, targets]
    higher = (scores > target_score[:, None]).sum(axis=1)
    return (higher < k) & np.isfinite(scores).all(axis=1)


def _check_k(k):
    return check_int(k, "k", 1)


class TopKCategoricalAccuracy(Metric):
    """Fraction where the class of one-hot ``y_true`` is among the ``k`` highest
    scores of ``y_pred`` (both (batch, ..., classes)); ties count as hits."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = _check_k(k)
        super().__init__(name=name, dtype=dtype)

    def _values(self, y_true, y_pred):
        y_true = as_float_array(y_true, "y_true")
        y_pred = class_scores(y_pred)
        if y_true.shape != y_pred.shape:
            raise ValueError("y_true, y_pred: expected equal shapes (one-hot labels), got %s "
                             "and %s" % (y_true.shape, y_pred.shape))
        classes = y_pred.shape[-1]
        hits = in_top_k(y_pred.reshape(-1, classes),
                        np.argmax(y_true.reshape(-1, classes), axis=-1), self.k)
        return hits.reshape(y_pred.shape[:-1])

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("top_k_categorical_accuracy", self.k)

    def get_config(self):
        config = super().get_config()
        config["k"] = self.k
        return config


class SparseTopKCategoricalAccuracy(Metric):
    """Fraction where the integer label ``y_true`` is among the ``k`` highest scores
    of ``y_pred``; ties count as hits.

    ``from_sorted_ids=True``: ``y_pred`` holds each sample's class ids sorted
    by score, highest first (batch, N >= k): a hit is the label among the
    first ``k`` ids (Keras 3).
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        self.k = _check_k(k)
        self.from_sorted_ids = bool(from_sorted_ids)
        super().__init__(name=name, dtype=dtype)

    def _values(self, y_true, y_pred):
        y_pred = class_scores(y_pred)
        if self.from_sorted_ids:
            labels = as_float_array(y_true, "y_true")
            if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
                labels = labels[..., 0]
            if labels.shape != y_pred.shape[:-1]:
                raise ValueError("y_true: expected shape %s (labels for the ids %s), got %s"
                                 % (y_pred.shape[:-1], y_pred.shape, labels.shape))
            return (labels[..., None] == y_pred[..., :self.k]).any(axis=-1)
        labels = sparse_labels(y_true, y_pred)
        classes = y_pred.shape[-1]
        hits = in_top_k(y_pred.reshape(-1, classes), labels.reshape(-1), self.k)
        return hits.reshape(labels.shape)

    def _core_kind(self, sparse, output_shape):
        if self.from_sorted_ids or not sparse:
            return None
        return ("sparse_top_k_categorical_accuracy", self.k)

    def get_config(self):
        config = super().get_config()
        config["k"] = self.k
        config["from_sorted_ids"] = self.from_sorted_ids
        return config


class AutoAccuracy(Metric):
    """"accuracy" whose kind is decided at the first update from the shapes (Keras' rule).

    y_pred's last dim 1 -> binary; y_true of lower rank than y_pred, or last
    dim 1 against several classes -> sparse categorical; else categorical.
    """

    def __init__(self, name="accuracy", dtype=None):
        self.resolved = None
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        super().reset_state()
        if getattr(self, "resolved", None) is not None:
            self.resolved.reset_state()

    def _resolve(self, t_shape, p_shape):
        if self.resolved is None:
            if len(p_shape) == 0 or p_shape[-1] == 1:
                cls = BinaryAccuracy
            elif len(t_shape) < len(p_shape) or (len(t_shape) and t_shape[-1] == 1):
                cls = SparseCategoricalAccuracy
            else:
                cls = CategoricalAccuracy
            self.resolved = cls(name=self.name, dtype=self.dtype)
        return self.resolved

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._resolve(np.shape(y_true), np.shape(y_pred)).update_state(
            y_true, y_pred, sample_weight=sample_weight)

    def _values(self, y_true, y_pred):
        return self._resolve(np.shape(y_true), np.shape(y_pred))._values(y_true, y_pred)

    def _core_kind(self, sparse, output_shape):
        p_shape = (None,) + tuple(output_shape)
        t_shape = p_shape[:-1] if sparse else p_shape
        return self._resolve(t_shape, p_shape)._core_kind(sparse, output_shape)

    def _set_batch_state(self, total, count):
        self.resolved._set_batch_state(total, count)

    def result(self):
        return self.resolved.result() if self.resolved is not None else 0.0
