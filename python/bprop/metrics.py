"""Stateful Keras-style metrics: ``update_state``, ``result``, ``reset_state``.

Each metric accumulates a weighted running mean, in float64, of a
per-sample value (per element for :class:`Accuracy`):

    result = sum(w_i * value_i) / sum(w_i)

``sample_weight`` (optional) has one weight per sample, shape (batch,) or
(batch, 1) (or any shape broadcastable to the per-sample values).  With no
updates, or zero total weight, ``result()`` is 0.0 (Keras' divide_no_nan).

Metrics run on a batch's outputs once per step: small reductions next to
the layers' GEMMs, written in NumPy (no kernel in ``bprop.ops`` does them).

``get("accuracy", loss=...)`` resolves accuracy as Keras does: from the loss
name when it is a cross-entropy, otherwise from the label and prediction
shapes at the first update.
"""
from __future__ import annotations

import numpy as np

from . import _registry

__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
    "CategoricalAccuracy", "SparseCategoricalAccuracy", "MeanSquaredError",
    "MeanAbsoluteError", "AutoAccuracy", "get", "serialize", "deserialize",
]


def _as_float_array(x, argname):
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError("%s: expected real numbers, got dtype %s" % (argname, arr.dtype))
    return arr


def _weights_for(values, sample_weight):
    """``sample_weight`` broadcast to ``values`` (per-sample or per-element), float64."""
    if sample_weight is None:
        return None
    w = np.asarray(_as_float_array(sample_weight, "sample_weight"), dtype=np.float64)
    # (batch,) weights against (batch, k) values: add trailing axes, as Keras does.
    while w.ndim < values.ndim:
        w = w[..., None]
    while w.ndim > values.ndim and w.shape[-1] == 1:
        w = w[..., 0]
    try:
        return np.broadcast_to(w, values.shape)
    except ValueError:
        raise ValueError(
            "sample_weight: expected shape broadcastable to %s, got %s"
            % (values.shape, np.shape(sample_weight))
        ) from None


class Metric:
    """Base class: a named accumulator with ``update_state``/``result``/``reset_state``."""

    def __init__(self, name=None, dtype=None):
        self.name = name if name is not None else _snake(type(self).__name__)
        self.dtype = np.dtype(np.float32 if dtype is None else dtype).name
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def reset_states(self):
        """Keras 2 / tf.keras spelling of :meth:`reset_state`."""
        self.reset_state()

    def _accumulate(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        w = _weights_for(values, sample_weight)
        if w is None:
            self.total += float(values.sum())
            self.count += float(values.size)
        else:
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch: each sample's value (see :meth:`_values`), weighted."""
        self._accumulate(self._values(y_true, y_pred), sample_weight)

    def _values(self, y_true, y_pred):
        """The per-sample values of one batch, without touching the state."""
        raise NotImplementedError("%s must implement update_state or _values"
                                  % type(self).__name__)

    def _core_kind(self, sparse, output_shape):
        """``(kind, threshold)`` of the core's metric kernel (csrc/core/metrics.hpp)
        computing this metric for a model with that output and targets (integer
        labels when ``sparse``), or None: then the step plan runs op by op."""
        return None

    def _set_batch_state(self, total, count):
        """Take a loop's sum of per-sample values and their count as the state."""
        self.total = float(total)
        self.count = float(count)

    def result(self):
        """The weighted mean so far, a Python float (0.0 before any update)."""
        return self.total / self.count if self.count != 0 else 0.0

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Update with one batch and return the running result (Keras' ``metric(...)``)."""
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return "<bprop.metrics.%s name=%r result=%.6g>" % (type(self).__name__, self.name,
                                                            self.result())


class Mean(Metric):
    """Running (weighted) mean of the values given: ``update_state(values, sample_weight=None)``.

    ``fit`` uses it for the loss, one value per batch weighted by batch size.
    """

    def update_state(self, values, sample_weight=None):
        self._accumulate(_as_float_array(values, "values"), sample_weight)

    def __call__(self, values, sample_weight=None):
        """``train_loss(loss_value)`` in a custom loop: update, return the running mean."""
        self.update_state(values, sample_weight=sample_weight)
        return self.result()


def _check_pair(y_true, y_pred):
    y_true = _as_float_array(y_true, "y_true")
    y_pred = _as_float_array(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        # (n,) against (n, 1) is the one mismatch Keras squeezes away.
        if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
            y_pred = y_pred[..., 0]
        elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        if y_true.shape != y_pred.shape:
            raise ValueError("y_true, y_pred: expected equal shapes, got %s and %s"
                             % (y_true.shape, y_pred.shape))
    return y_true, y_pred


def _per_sample(values):
    """Mean over the last axis for rank >= 2 (Keras' per-sample reduction)."""
    return values.mean(axis=-1) if values.ndim >= 2 else values


class MeanMetricWrapper(Metric):
    """Weighted mean of ``fn(y_true, y_pred)`` (per-sample values)."""

    def __init__(self, fn, name=None, dtype=None):
        if not callable(fn):
            raise TypeError("fn: expected a callable (y_true, y_pred) -> values, got %r" % (fn,))
        self._fn = fn
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def _values(self, y_true, y_pred):
        return self._fn(y_true, y_pred)


class Accuracy(Metric):
    """Fraction of elements where ``y_pred == y_true`` exactly."""

    def _values(self, y_true, y_pred):
        y_true, y_pred = _check_pair(y_true, y_pred)
        return y_true == y_pred


class BinaryAccuracy(Metric):
    """Fraction where ``(y_pred > threshold) == y_true`` (mean over the last axis per sample)."""

    def __init__(self, name=None, dtype=None, threshold=0.5):
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError("threshold: expected a value in [0, 1], got %r" % (threshold,))
        self.threshold = float(threshold)
        super().__init__(name=name, dtype=dtype)

    def _values(self, y_true, y_pred):
        y_true, y_pred = _check_pair(y_true, y_pred)
        hits = (y_pred > self.threshold) == (y_true > 0.5)
        return _per_sample(hits.astype(np.float64))

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("binary_accuracy", self.threshold)

    def get_config(self):
        config = super().get_config()
        config["threshold"] = self.threshold
        return config


class CategoricalAccuracy(Metric):
    """Fraction where ``argmax(y_pred) == argmax(y_true)``; one-hot ``y_true`` (batch, classes)."""

    def _values(self, y_true, y_pred):
        y_true, y_pred = _check_pair(y_true, y_pred)
        if y_pred.ndim < 2:
            raise ValueError("y_pred: expected (batch, classes), got shape %s" % (y_pred.shape,))
        return np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("categorical_accuracy", 0.5)


class SparseCategoricalAccuracy(Metric):
    """Fraction where ``argmax(y_pred) == y_true``; integer labels (batch,) or (batch, 1)."""

    def _values(self, y_true, y_pred):
        y_true = _as_float_array(y_true, "y_true")
        y_pred = _as_float_array(y_pred, "y_pred")
        if y_pred.ndim < 2:
            raise ValueError("y_pred: expected (batch, classes), got shape %s" % (y_pred.shape,))
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        if y_true.shape != y_pred.shape[:-1]:
            raise ValueError("y_true: expected shape %s (labels for y_pred %s), got %s"
                             % (y_pred.shape[:-1], y_pred.shape, y_true.shape))
        classes = y_pred.shape[-1]
        if y_true.size and (y_true.min() < 0 or y_true.max() >= classes
                            or np.any(y_true != np.floor(y_true))):
            raise ValueError("y_true: expected integer labels in [0, %d), got values in [%s, %s]"
                             % (classes, y_true.min(), y_true.max()))
        return np.argmax(y_pred, axis=-1) == y_true.astype(np.int64)

    def _core_kind(self, sparse, output_shape):
        return ("sparse_categorical_accuracy", 0.5) if sparse else None


class MeanSquaredError(Metric):
    """Weighted mean over samples of ``mean((y_true - y_pred)^2)`` over the last axis."""

    def _values(self, y_true, y_pred):
        y_true, y_pred = _check_pair(y_true, y_pred)
        d = np.asarray(y_pred, dtype=np.float64) - y_true
        return _per_sample(d * d)

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("mean_squared_error", 0.5)


class MeanAbsoluteError(Metric):
    """Weighted mean over samples of ``mean(|y_true - y_pred|)`` over the last axis."""

    def _values(self, y_true, y_pred):
        y_true, y_pred = _check_pair(y_true, y_pred)
        d = np.asarray(y_pred, dtype=np.float64) - y_true
        return _per_sample(np.abs(d))

    def _core_kind(self, sparse, output_shape):
        return None if sparse else ("mean_absolute_error", 0.5)


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


_BY_NAME = {
    "accuracy": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean": Mean,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in (
    Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    MeanSquaredError, MeanAbsoluteError, AutoAccuracy)}

_ACCURACY_FOR_LOSS = {
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
    "categorical_crossentropy": CategoricalAccuracy,
    "binary_crossentropy": BinaryAccuracy,
}


def _snake(name):
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


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
            snake = _snake(candidate) if candidate[:1].isupper() else candidate.lower()
            if snake in _ACCURACY_FOR_LOSS:
                return snake
    return None


def get(identifier, loss=None):
    """A metric from a name, an instance, a callable or a config dict.

    "accuracy"/"acc" -> the accuracy matching ``loss`` (a cross-entropy name,
    object or function) or, failing that, an :class:`AutoAccuracy`; the
    metric keeps the name the user gave.  "mse", "mae",
    "mean_squared_error", "mean_absolute_error", "binary_accuracy", ... map
    to their classes.  Unknown names raise ValueError listing the known ones.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            cls = _ACCURACY_FOR_LOSS.get(_loss_name(loss))
            return cls(name=identifier) if cls is not None else AutoAccuracy(name=identifier)
        cls = _registry.class_for_name(
            identifier, lambda name: _BY_NAME.get(key) or _BY_CLASS_NAME.get(name),
            "metric", lambda: sorted(set(_BY_NAME) | {"acc"}))
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
