"""The metric base classes and the reductions every metric shares.

Two kinds of state, chosen by what the training loop can sum per step:

* :class:`Metric` (the mean metrics): a weighted running mean, in float64,
  of per-sample values (``_values``): ``total / count``.  ``fit`` gets a
  step's sum and count from the core's metric kernel or from ``_values``.
* :class:`StatsMetric` (Precision, Recall, AUC, ...): a vector of additive
  statistics (weighted confusion counts).  ``fit`` sums the vectors of the
  steps (``_batch_stats``) and the metric turns the sum into its result
  (``_result_of``).

Sample weights follow Keras 3 (``reduce_to_samplewise_values``): values of
rank > 1 are reduced to one value per sample (the mean over the other
axes), each weighted by its sample's weight; the count is the sum of the
weights (the number of samples without weights).  One difference on
purpose: 1-D ``y_true``/``y_pred`` are n samples of one value each (Keras
reduces a 1-D batch to a single value), so a stream of batches of
different sizes gives the mean over all samples.
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["Metric", "StatsMetric", "Mean", "Sum", "MeanMetricWrapper"]


def as_float_array(x, argname):
    """``x`` as a NumPy array of real numbers (bool and int allowed), or TypeError."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError("%s: expected real numbers, got dtype %s" % (argname, arr.dtype))
    return arr


def squeeze_or_expand(x1, x2, expand_rank_1=True):
    """Keras' ``squeeze_or_expand_to_same_rank``: when the ranks differ by one and
    the larger has a last axis of 1, squeeze it (or give a 1-D partner a last axis)."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def broadcast_weights(weights, shape, original_shape):
    """``weights`` broadcast to ``shape``, or ValueError naming sample_weight."""
    try:
        return np.broadcast_to(weights, shape)
    except ValueError:
        raise ValueError("sample_weight: expected shape broadcastable to %s, got %s"
                         % (tuple(shape), tuple(original_shape))) from None


def samplewise(values, sample_weight, reduce):
    """Keras' ``reduce_to_samplewise_values``: ``(values, weights)`` with one entry
    per sample (``reduce`` is np.mean or np.sum over the non-sample axes); the
    values already multiplied by the weights; weights None without weights."""
    values = np.asarray(values, dtype=np.float64)
    weights = None
    if sample_weight is not None:
        w = np.asarray(as_float_array(sample_weight, "sample_weight"), dtype=np.float64)
        given = w.shape
        values, w = squeeze_or_expand(values, w)
        if values.ndim > w.ndim:
            values = reduce(values, axis=tuple(range(w.ndim, values.ndim)))
        w_ndim = w.ndim
        w = broadcast_weights(w, values.shape, given)
        values = values * w
        weights = reduce(w, axis=tuple(range(1, w_ndim))) if w_ndim > 1 else w
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, weights


def divide_no_nan(a, b):
    """``a / b`` elementwise, 0 where ``b`` is 0 (Keras' ``divide_no_nan``)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    safe = np.where(b == 0, 1.0, b)
    return np.where(b == 0, 0.0, a / safe)


def as_result(values):
    """A result of one value as a Python float, of several as a float64 array."""
    values = np.asarray(values, dtype=np.float64)
    return float(values) if values.ndim == 0 else values


def check_int(value, argname, minimum, allow_none=False):
    """``value`` as an int >= ``minimum`` (None when allowed), or a clear error."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < minimum:
        raise ValueError("%s: expected an int >= %d%s, got %r"
                         % (argname, minimum, " or None" if allow_none else "", value))
    return int(value)


def snake(name):
    """Keras' ``to_snake_case``: "TopKCategoricalAccuracy" -> "top_k_categorical_accuracy"."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _tensor_result(raw):
    """``result`` returning a Tensor in the metric's dtype, as Keras' (``float(m.result())``
    and ``m.result().numpy()`` give the number); ``fit`` reads ``_result_value``."""
    def result(self):
        from ..autodiff import Tensor

        value = raw(self)
        if isinstance(value, Tensor):
            return value
        return Tensor(np.asarray(value, dtype=self.dtype))

    result.__doc__ = raw.__doc__
    result._raw = raw
    return result


class Metric:
    """Base class: a named accumulator with ``update_state``/``result``/``reset_state``.

    A mean metric implements ``_values(y_true, y_pred)`` (the per-sample
    values of a batch); its state is their weighted sum and count.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("result")
        if own is not None and not hasattr(own, "_raw"):
            cls.result = _tensor_result(own)

    def _result_value(self):
        """The result as a Python float (or a float64 array for several thresholds)."""
        value = type(self).result._raw(self)
        value = np.asarray(value.numpy() if hasattr(value, "numpy") else value, np.float64)
        return float(value) if value.ndim == 0 else value

    def __init__(self, name=None, dtype=None):
        self.name = name if name is not None else snake(type(self).__name__)
        self.dtype = np.dtype(np.float32 if dtype is None else dtype).name
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def reset_states(self):
        """Keras 2 / tf.keras spelling of :meth:`reset_state`."""
        self.reset_state()

    def _accumulate(self, values, sample_weight=None):
        values, weights = samplewise(values, sample_weight, np.mean)
        self.total += float(values.sum())
        if weights is not None:
            self.count += float(weights.sum())
        else:
            self.count += float(values.shape[0] if values.ndim else 1)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch: each sample's value (see :meth:`_values`), weighted."""
        self._accumulate(self._values(y_true, y_pred), sample_weight)

    def _values(self, y_true, y_pred):
        """The per-sample values of one batch, without touching the state."""
        raise NotImplementedError("%s must implement update_state or _values"
                                  % type(self).__name__)

    def _core_kind(self, sparse, output_shape):
        """``(kind, threshold or k)`` of the core's metric kernel (csrc/core/metrics.hpp)
        computing this metric for a model with that output and targets (integer
        labels when ``sparse``), or None: then the step plan runs op by op."""
        return None

    def _set_batch_state(self, total, count):
        """Take a loop's sum of per-sample values and their count as the state."""
        self.total = float(total)
        self.count = float(count)

    def _result_from(self, total, count):
        """The result of a state ``(total, count)``: the weighted mean (0.0 when
        ``count`` is 0, Keras' divide_no_nan).  ``fit`` logs it for its sums."""
        return total / count if count != 0 else 0.0

    def result(self):
        """The result so far, a Python float (0.0 before any update)."""
        return self._result_from(self.total, self.count)

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Update with one batch and return the running result (Keras' ``metric(...)``)."""
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

    def _check_compilable(self):
        """Raise ValueError when ``model.compile`` cannot log this metric (one float)."""

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        result = np.asarray(self._result_value(), dtype=np.float64)
        text = ("%.6g" % result if result.ndim == 0
                else np.array2string(result, precision=6, separator=", "))
        return "<bprop.metrics.%s name=%r result=%s>" % (type(self).__name__, self.name, text)


class StatsMetric(Metric):
    """A metric whose state is a vector of additive statistics (weighted counts).

    Subclasses implement ``_batch_stats(y_true, y_pred, sample_weight=None)``
    (one batch's statistics, a 1-D float64 array; the same length for every
    batch of one model) and ``_result_of(stats)`` (``stats`` None: no update
    yet).  Summing the vectors of batches equals updating with each in turn,
    so ``fit`` can sum them per step, over threads and over processes.
    """

    def reset_state(self):
        self._stats = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        stats = self._batch_stats(y_true, y_pred, sample_weight)
        self._stats = stats if self._stats is None else self._stats + stats

    def _batch_stats(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError("%s must implement _batch_stats" % type(self).__name__)

    def _result_of(self, stats):
        raise NotImplementedError("%s must implement _result_of" % type(self).__name__)

    def _set_stats(self, stats):
        """Take a loop's summed statistics (None: none) as the state."""
        self._stats = None if stats is None else np.array(stats, dtype=np.float64)

    def _set_batch_state(self, total, count):
        raise TypeError("%s keeps a vector of statistics, not a sum and a count"
                        % type(self).__name__)

    def result(self):
        return self._result_of(self._stats)


class Mean(Metric):
    """Running (weighted) mean of the values given: ``update_state(values, sample_weight=None)``.

    Values of rank > 1 count one per sample (their mean over the other
    axes), as Keras' ``Mean``.
    """

    def update_state(self, values, sample_weight=None):
        self._accumulate(as_float_array(values, "values"), sample_weight)

    def __call__(self, values, sample_weight=None):
        """``train_loss(loss_value)`` in a custom loop: update, return the running mean."""
        self.update_state(values, sample_weight=sample_weight)
        return self.result()

    def _check_compilable(self):
        raise ValueError("metrics: %s takes update_state(values), not (y_true, y_pred); "
                         "model.compile cannot feed it" % type(self).__name__)


class Sum(Metric):
    """Running (weighted) sum of the values given: ``update_state(values, sample_weight=None)``.

    Values of rank > 1 are summed over all their elements, each sample's
    sum times its weight (Keras' ``Sum``).
    """

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0  # unused: kept so the state has Metric's attributes

    def update_state(self, values, sample_weight=None):
        values, _ = samplewise(as_float_array(values, "values"), sample_weight, np.sum)
        self.total += float(values.sum())

    def __call__(self, values, sample_weight=None):
        self.update_state(values, sample_weight=sample_weight)
        return self.result()

    def result(self):
        return float(self.total)

    def _check_compilable(self):
        raise ValueError("metrics: %s takes update_state(values), not (y_true, y_pred); "
                         "model.compile cannot feed it" % type(self).__name__)


class MeanMetricWrapper(Metric):
    """Weighted mean of ``fn(y_true, y_pred)`` (per-sample values)."""

    def __init__(self, fn, name=None, dtype=None):
        if not callable(fn):
            raise TypeError("fn: expected a callable (y_true, y_pred) -> values, got %r" % (fn,))
        self._fn = fn
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def _values(self, y_true, y_pred):
        return self._fn(y_true, y_pred)


# ---------------------------------------------------------------- (y_true, y_pred) checks
def check_pair(y_true, y_pred):
    """``y_true``, ``y_pred`` as arrays of one shape ((n,) against (n, 1) is squeezed,
    the one mismatch Keras squeezes away), or ValueError naming both shapes."""
    y_true = as_float_array(y_true, "y_true")
    y_pred = as_float_array(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
            y_pred = y_pred[..., 0]
        elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        if y_true.shape != y_pred.shape:
            raise ValueError("y_true, y_pred: expected equal shapes, got %s and %s"
                             % (y_true.shape, y_pred.shape))
    return y_true, y_pred


def per_sample(values):
    """Mean over the last axis for rank >= 2 (Keras' per-sample reduction)."""
    return values.mean(axis=-1) if values.ndim >= 2 else values


def class_scores(y_pred):
    """``y_pred`` as a (batch, ..., classes) array, or ValueError."""
    y_pred = as_float_array(y_pred, "y_pred")
    if y_pred.ndim < 2:
        raise ValueError("y_pred: expected (batch, classes), got shape %s" % (y_pred.shape,))
    return y_pred


def sparse_labels(y_true, y_pred):
    """Integer labels for ``y_pred`` (batch, ..., classes): shape ``y_pred.shape[:-1]``
    ((batch, 1) is squeezed), values in [0, classes), as int64; or ValueError."""
    y_true = as_float_array(y_true, "y_true")
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError("y_true: expected shape %s (labels for y_pred %s), got %s"
                         % (y_pred.shape[:-1], y_pred.shape, y_true.shape))
    classes = y_pred.shape[-1]
    if y_true.size and (not np.all(np.isfinite(y_true)) or y_true.min() < 0
                        or y_true.max() >= classes or np.any(y_true != np.floor(y_true))):
        raise ValueError("y_true: expected integer labels in [0, %d), got values in [%s, %s]"
                         % (classes, y_true.min(), y_true.max()))
    return y_true.astype(np.int64)


Metric.result = _tensor_result(Metric.result)
