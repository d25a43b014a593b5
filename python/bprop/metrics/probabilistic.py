"""Cross-entropy metrics: Keras' per-sample cross-entropies, in float64, averaged
(weighted) over the samples.  The formulas are Keras' (TensorFlow backend):
probabilities clipped to [EPS, 1 - EPS], categorical probabilities divided
by their sum first; logits through the stable log-sigmoid / log-softmax."""
from __future__ import annotations

import numpy as np

from .base import Metric, check_pair, class_scores, per_sample, sparse_labels

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy"]

# Keras' backend.epsilon(), as in bprop.losses.
EPS = 1e-7


def _check_smoothing(label_smoothing):
    value = float(label_smoothing)
    if not 0.0 <= value <= 1.0:
        raise ValueError("label_smoothing: expected a value in [0, 1], got %r"
                         % (label_smoothing,))
    return value


def _check_axis(axis):
    if axis != -1:
        raise ValueError("axis: expected -1 (the classes are the last axis), got %r" % (axis,))
    return -1


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class BinaryCrossentropy(Metric):
    """Mean over the last axis of ``-(t log p + (1 - t) log(1 - p))`` per sample;
    ``label_smoothing`` s uses ``t (1 - s) + s / 2``; ``from_logits``: p = sigmoid."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        super().__init__(name=name, dtype=dtype)

    def _values(self, y_true, y_pred):
        y_true, y_pred = check_pair(y_true, y_pred)
        t = y_true.astype(np.float64)
        if self.label_smoothing:
            t = t * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        z = y_pred.astype(np.float64)
        if self.from_logits:
            e = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
        else:
            p = np.clip(z, EPS, 1 - EPS)
            e = -(t * np.log(p) + (1 - t) * np.log(1 - p))
        return per_sample(e)

    def get_config(self):
        config = super().get_config()
        config.update(from_logits=self.from_logits, label_smoothing=self.label_smoothing)
        return config


class CategoricalCrossentropy(Metric):
    """``-sum(t log q)`` per sample over one-hot (or probability) targets ``t``;
    q = y_pred divided by its sum, clipped (or softmax of logits);
    ``label_smoothing`` s uses ``t (1 - s) + s / classes``."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self.axis = _check_axis(axis)
        super().__init__(name=name, dtype=dtype)

    def _values(self, y_true, y_pred):
        y_pred = class_scores(y_pred)
        y_true, y_pred = check_pair(y_true, y_pred)
        t = y_true.astype(np.float64)
        if self.label_smoothing:
            t = t * (1.0 - self.label_smoothing) + self.label_smoothing / t.shape[-1]
        z = y_pred.astype(np.float64)
        if self.from_logits:
            log_q = _log_softmax(z)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                q = z / z.sum(axis=-1, keepdims=True)
            log_q = np.log(np.clip(q, EPS, 1 - EPS))
        return -(t * log_q).sum(axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(from_logits=self.from_logits, label_smoothing=self.label_smoothing,
                      axis=self.axis)
        return config


class SparseCategoricalCrossentropy(Metric):
    """``-log q[label]`` per sample for integer labels (batch,) or (batch, 1);
    q = the clipped probabilities divided by their sum (or softmax of logits)."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 axis=-1):
        self.from_logits = bool(from_logits)
        self.axis = _check_axis(axis)
        super().__init__(name=name, dtype=dtype)

    def _values(self, y_true, y_pred):
        y_pred = class_scores(y_pred)
        labels = sparse_labels(y_true, y_pred)
        z = y_pred.astype(np.float64)
        if not self.from_logits:
            z = np.log(np.clip(z, EPS, 1 - EPS))  # Keras: log of clipped p, then softmax
        log_q = _log_softmax(z)
        return -np.take_along_axis(log_q, labels[..., None], axis=-1)[..., 0]

    def get_config(self):
        config = super().get_config()
        config.update(from_logits=self.from_logits, axis=self.axis)
        return config
