"""``Normalization``: Keras 3's preprocessing layer that standardizes features.

``(x - mean) / max(sqrt(variance), 1e-7)`` (or, with ``invert=True``,
``mean + x * max(sqrt(variance), 1e-7)``), with ``mean`` and ``variance``
given, or computed by :meth:`Normalization.adapt` from data: per position of
the kept ``axis`` (the last by default), over every other axis, the
population (biased) variance.  Adapted statistics are the non-trainable
weights ``mean`` and ``variance``; training never changes them.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._checks import bool_arg
from .base import Layer

__all__ = ["Normalization"]


class Normalization(Layer):
    """``Normalization(axis=-1, mean=None, variance=None, invert=False)``.

    ``axis``: an int, a tuple of ints or None (one mean and variance for
    everything); axes of the input with the batch as 0 (which cannot be kept).
    ``mean`` and ``variance``: both or neither; broadcast to the kept axes
    (aligned from the right).  Without them the layer has the weights ``mean``
    and ``variance`` (zeros and ones until :meth:`adapt`).
    """

    _build_with_batch_axis = False

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (list, tuple)) and all(
                isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
            axis = tuple(int(a) for a in axis)
        else:
            raise TypeError("axis: expected an int, a tuple of ints or None, got %r" % (axis,))
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError("mean, variance: expected both or neither, got mean=%r, variance=%r"
                             % (mean, variance))
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("mean, variance: expected the same shape, got %s and %s"
                                 % (np.shape(mean), np.shape(variance)))
            if np.ndim(mean) > len(self.axis):
                raise ValueError("mean: expected at most %d axes (one per kept axis %r), got "
                                 "shape %s" % (len(self.axis), self.axis, np.shape(mean)))
            for name, value in (("mean", mean), ("variance", variance)):
                arr = np.asarray(value)
                if arr.dtype.kind not in "fiu" or not np.all(np.isfinite(arr)):
                    raise ValueError("%s: expected finite real numbers, got %r" % (name, value))
            if np.any(np.asarray(variance) < 0):
                raise ValueError("variance: expected values >= 0, got %r" % (variance,))
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool_arg(invert, "invert")
        self.adapt_mean = self.adapt_variance = None

    # ------------------------------------------------------------------ shapes
    def _geometry(self, sample_shape):
        """(kept axes, broadcast shape) for samples of ``sample_shape`` (batch = axis 0)."""
        rank = len(sample_shape) + 1
        kept = []
        for a in self.axis:
            if not -rank <= a < rank:
                raise ValueError("axis: %d is not an axis of an input of rank %d" % (a, rank))
            kept.append(a % rank)
        kept = tuple(sorted(set(kept)))
        if 0 in kept:
            raise ValueError("axis: the batch axis 0 cannot be kept (use axis=None for one mean "
                             "and variance over everything), got %r" % (self.axis,))
        full = (None,) + tuple(sample_shape)
        if any(full[d] is None for d in kept):
            raise ValueError("input_shape: Normalization %r needs the kept axes %r known, got %s"
                             % (self.name, self.axis, full))
        broadcast = tuple(full[d] if d in kept else 1 for d in range(rank))
        return kept, broadcast

    def build(self, input_shape):
        kept, broadcast = self._geometry(tuple(input_shape))
        full = (None,) + tuple(input_shape)
        size = tuple(full[d] for d in kept)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(size, "zeros", "mean", trainable=False)
            self.adapt_variance = self.add_weight(size, "ones", "variance", trainable=False)
        else:
            for value in (self.input_mean, self.input_variance):
                self._broadcast_given(value, kept, broadcast)  # fails early on a bad shape
        super().build(input_shape)

    def _broadcast_given(self, value, kept, broadcast):
        """A given mean/variance broadcast as Keras does: its axes aligned from the right
        with the kept axes."""
        arr = np.asarray(value, dtype=np.float64)
        expanded = [1] * len(broadcast)
        for i in range(1, arr.ndim + 1):
            expanded[kept[-i]] = arr.shape[-i]
        try:
            out = np.broadcast_to(arr.reshape(expanded), broadcast)
        except ValueError:
            raise ValueError("mean, variance: shape %s does not broadcast to the kept axes %r of "
                             "input shape %s" % (arr.shape, self.axis, (None,) + broadcast[1:])
                             ) from None
        return np.ascontiguousarray(out, dtype=self._dtype)

    def _broadcast_statistics(self, sample_shape):
        """(mean, variance) shaped to broadcast against (batch,) + ``sample_shape``."""
        kept, broadcast = self._geometry(sample_shape)
        if self.input_mean is not None:
            return tuple(self._broadcast_given(v, kept, broadcast)
                         for v in (self.input_mean, self.input_variance))
        return (self.adapt_mean.value.reshape(broadcast),
                self.adapt_variance.value.reshape(broadcast))

    @property
    def mean(self):
        """Keras' ``layer.mean``: the mean, shaped to broadcast against a batch (built layers)."""
        return self._statistic(0)

    @property
    def variance(self):
        return self._statistic(1)

    def _statistic(self, which):
        from .. import autodiff

        if not self.built or self._build_input_shape is None:
            raise ValueError("mean, variance: layer %r is not built yet (adapt it, or call it "
                             "on data)" % self.name)
        return autodiff.Tensor(self._broadcast_statistics(tuple(self._build_input_shape))[which])

    # ------------------------------------------------------------------ adapt
    def adapt(self, data):
        """Set ``mean`` and ``variance`` from ``data``: an array (or Tensor) of
        samples, or an iterable of batches (arrays, or ``(x, y)`` tuples whose x
        is taken), combined exactly (float64) as if concatenated."""
        if self.input_mean is not None:
            raise ValueError("adapt: layer %r was given mean and variance; adapt a layer "
                             "created without them" % self.name)
        if isinstance(data, np.ndarray) or hasattr(data, "numpy") or hasattr(data, "__array__"):
            batches = [np.asarray(data)]
        else:
            try:
                batches = iter(data)
            except TypeError:
                raise TypeError("data: expected an array or an iterable of batches, got %s"
                                % type(data).__name__) from None
        total_mean = total_var = None
        count = 0
        for batch in batches:
            if isinstance(batch, tuple):
                batch = batch[0]
            batch = np.asarray(batch)
            if batch.dtype.kind not in "fiub":
                raise TypeError("data: expected real numbers, got dtype %s" % batch.dtype)
            if batch.ndim < 1:
                raise ValueError("data: expected a batch of samples, got a scalar")
            self._adapt_shape(batch.shape)
            kept, _ = self._geometry(self._build_input_shape)
            reduce = tuple(d for d in range(batch.ndim) if d not in kept)
            n = int(np.prod([batch.shape[d] for d in reduce], dtype=np.int64))
            if n == 0:
                continue
            batch = batch.astype(np.float64)
            mean = batch.mean(axis=reduce)
            var = batch.var(axis=reduce)
            if total_mean is None:
                total_mean, total_var, count = mean, var, n
                continue
            # Pooled mean and variance of the data so far and this batch.
            new_count = count + n
            w = n / new_count
            new_mean = total_mean * (1 - w) + mean * w
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1 - w)
                         + (var + (mean - new_mean) ** 2) * w)
            total_mean, count = new_mean, new_count
        if total_mean is None:
            raise ValueError("data: expected at least one sample, got none")
        self.adapt_mean.assign(total_mean.astype(self._dtype))
        self.adapt_variance.assign(total_var.astype(self._dtype))

    def _adapt_shape(self, batch_shape):
        """Build from the first batch; later batches must match the kept axes."""
        sample = tuple(int(d) for d in batch_shape[1:])
        if not self.built:
            self._maybe_build(sample)
            return
        kept, _ = self._geometry(self._build_input_shape)
        built = (None,) + tuple(self._build_input_shape)
        got = (None,) + sample
        if len(got) != len(built) or any(got[d] != built[d] for d in kept):
            raise ValueError("data: layer %r was built for input shape %s, got batches of shape "
                             "%s" % (self.name, built, tuple(batch_shape)))

    # ------------------------------------------------------------------ plan
    def _plan_node(self, in_shape, trainable):
        from ..engine.normalization_nodes import FeatureNormNode

        self._maybe_build(tuple(in_shape))
        kept, broadcast = self._geometry(tuple(in_shape))
        if self.adapt_mean is not None:
            sizes = tuple(broadcast[d] for d in kept)
            if sizes != self.adapt_mean.shape:
                raise ValueError("x: layer %r expects sizes %s on axes %r, got input shape %s"
                                 % (self.name, self.adapt_mean.shape, self.axis,
                                    (None,) + tuple(in_shape)))
        return FeatureNormNode(self, tuple(in_shape), trainable)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": list(self.axis),
            "invert": self.invert,
            "mean": None if self.input_mean is None else np.asarray(self.input_mean).tolist(),
            "variance": (None if self.input_variance is None
                         else np.asarray(self.input_variance).tolist()),
        })
        return config
