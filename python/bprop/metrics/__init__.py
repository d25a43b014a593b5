"""Stateful Keras-style metrics: ``update_state``, ``result``, ``reset_state``.

* Mean metrics (accuracies, top-k accuracies, MSE, RMSE, MAE, the
  cross-entropies, :class:`Mean`): a weighted running mean, in float64, of
  per-sample values (see :mod:`bprop.metrics.base`).
* Confusion metrics (:class:`Precision`, :class:`Recall`, :class:`AUC`, the
  four counts): weighted counts per threshold, summed batch by batch.

``sample_weight`` (optional) has one weight per sample, shape (batch,) or
(batch, 1) (or any shape broadcastable to the values).  With no updates, or
zero total weight, ``result()`` is 0.0 (Keras' divide_no_nan).  ``result()``
is a Python float (an array for Precision/Recall/counts with several
thresholds).

In ``model.compile(metrics=[...])`` a metric is an instance, a class name,
or one of Keras 3's names ("accuracy", "precision", "recall", "auc",
"top_k_categorical_accuracy", "mse", "root_mean_squared_error", ...).  The
accuracies (top-k ones too), MSE, RMSE and MAE run in the core; the others run op by
op.

``get("accuracy", loss=...)`` resolves accuracy as Keras does: from the loss
name when it is a cross-entropy, otherwise from the label and prediction
shapes at the first update.
"""
from __future__ import annotations

from .. import _registry
from .accuracy import (Accuracy, AutoAccuracy, BinaryAccuracy, CategoricalAccuracy,
                       SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                       TopKCategoricalAccuracy)
from .auc import AUC
from .base import Mean, MeanMetricWrapper, Metric, StatsMetric, Sum, snake
from .confusion import (FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives,
                        TruePositives)
from .probabilistic import (BinaryCrossentropy, CategoricalCrossentropy,
                            SparseCategoricalCrossentropy)
from .regression import MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError

__all__ = [
    "Metric", "StatsMetric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
    "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy", "MeanSquaredError", "RootMeanSquaredError",
    "MeanAbsoluteError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "Precision", "Recall", "AUC", "TruePositives",
    "FalsePositives", "TrueNegatives", "FalseNegatives", "AutoAccuracy", "get", "serialize",
    "deserialize",
]

_CLASSES = (Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
            RootMeanSquaredError, MeanAbsoluteError, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy, Precision, Recall, AUC,
            TruePositives, FalsePositives, TrueNegatives, FalseNegatives)

# Keras 3's names (keras.metrics.ALL_OBJECTS_DICT): each class's snake_case name
# and the short aliases; "accuracy"/"acc" are resolved by get().
_BY_NAME = {snake(cls.__name__): cls for cls in _CLASSES}
_BY_NAME.update({"mse": MeanSquaredError, "mae": MeanAbsoluteError, "bce": BinaryCrossentropy})
_BY_CLASS_NAME = {cls.__name__: cls for cls in _CLASSES + (AutoAccuracy,)}

_ACCURACY_FOR_LOSS = {
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
    "categorical_crossentropy": CategoricalAccuracy,
    "binary_crossentropy": BinaryAccuracy,
}


def _loss_name(loss):
    """Keras-style snake_case name of a loss given as a string, object or function."""
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss.lower()
    fn = getattr(loss, "fn", None)  # loss objects wrapping a function
    for candidate in (getattr(loss, "name", None), getattr(fn, "__name__", None),
                      getattr(loss, "__name__", None), type(loss).__name__):
        if isinstance(candidate, str):
            name = snake(candidate) if candidate[:1].isupper() else candidate.lower()
            if name in _ACCURACY_FOR_LOSS:
                return name
    return None


def get(identifier, loss=None):
    """A metric from a name, an instance, a callable or a config dict.

    "accuracy"/"acc" -> the accuracy matching ``loss`` (a cross-entropy name,
    object or function) or, failing that, an :class:`AutoAccuracy`.  Other
    names are Keras 3's: a class name ("Precision") or its snake_case
    ("precision", "auc", "top_k_categorical_accuracy",
    "root_mean_squared_error", ...) and "mse", "mae", "bce"; a metric made
    from a name keeps that name.  Unknown names raise ValueError listing the
    known ones.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()  # a class, as Keras: its default instance
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            cls = _ACCURACY_FOR_LOSS.get(_loss_name(loss))
            return cls(name=identifier) if cls is not None else AutoAccuracy(name=identifier)
        cls = _registry.class_for_name(
            identifier, lambda name: _BY_NAME.get(key) or _BY_CLASS_NAME.get(name),
            "metric", lambda: sorted(set(_BY_NAME) | {"acc", "accuracy"}))
        return cls(name=identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError("metric: expected a name, a Metric, a callable or a config dict, got %r"
                    % (identifier,))


def serialize(metric):
    return _registry.serialize(metric, Metric, "metric", "a built-in bprop metric",
                               exclude=MeanMetricWrapper)


def deserialize(config):
    return _registry.deserialize(config, _BY_CLASS_NAME.get, "metric",
                                 lambda: sorted(_BY_CLASS_NAME))
