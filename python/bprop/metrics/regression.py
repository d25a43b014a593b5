"""Regression metrics: per-sample errors averaged over the last axis, then
weighted over the samples (Keras' MeanSquaredError, RootMeanSquaredError,
MeanAbsoluteError).  All three run in the core (its MSE/MAE kernels)."""
from __future__ import annotations

import math

import numpy as np

from .base import Metric, check_pair, per_sample

__all__ = ["MeanSquaredError", "RootMeanSquaredError", "MeanAbsoluteError"]


def _squared_errors(y_true, y_pred):
    y_true, y_pred = check_pair(y_true, y_pred)
    d = np.asarray(y_pred, dtype=np.float64) - y_true
    return per_sample(d * d)


class MeanSquaredError(Metric):
    """Weighted mean over samples of ``mean((y_true - y_pred)^2)`` over the last axis."""

    def _values(self, y_true, y_pred):
        return _squared_errors(y_true, y_pred)

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("mean_squared_error", 0.5)


class RootMeanSquaredError(Metric):
    """``sqrt`` of :class:`MeanSquaredError`'s running result (Keras: the root of
    the weighted mean of the per-sample mean squared errors, not a mean of roots)."""

    def _values(self, y_true, y_pred):
        return _squared_errors(y_true, y_pred)

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("mean_squared_error", 0.5)

    def _result_from(self, total, count):
        mean = super()._result_from(total, count)
        return math.sqrt(mean) if mean >= 0 else math.nan  # negative weights: NaN, as Keras


class MeanAbsoluteError(Metric):
    """Weighted mean over samples of ``mean(|y_true - y_pred|)`` over the last axis."""

    def _values(self, y_true, y_pred):
        y_true, y_pred = check_pair(y_true, y_pred)
        d = np.asarray(y_pred, dtype=np.float64) - y_true
        return per_sample(np.abs(d))

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("mean_absolute_error", 0.5)
