"""Losses, Keras-style: ``loss(y_true, y_pred, sample_weight=None) -> float``.

Classes ``MeanSquaredError``, ``MeanAbsoluteError``, ``BinaryCrossentropy``,
``CategoricalCrossentropy``, ``SparseCategoricalCrossentropy`` (each
cross-entropy with ``from_logits``) and ``losses.get`` for the Keras names
("mse", "mean_squared_error", "binary_crossentropy", ...).  The reduction is
Keras' "sum_over_batch_size": ``sum(per-sample loss * weight) / n``.

Inside ``Model.fit`` a loss is driven through :meth:`Loss.value_and_grad`,
which runs the backend's fused kernels (``softmax_cross_entropy`` and its
backward, ``binary_cross_entropy``, ``mse``) and writes the gradient into a
kept buffer.  When the model's last layer is softmax (sigmoid) and the loss
the matching cross-entropy on probabilities, the model feeds the loss the
*logits* instead (``is_logits=True``): the stable fused path Keras takes.

Given an autodiff ``Tensor`` as ``y_pred``, a loss object returns the
matching ``bprop.autodiff`` function's scalar Tensor, so custom training
loops under a GradientTape work.
"""
from __future__ import annotations

import sys

import numpy as np

from . import _registry

__all__ = [
    "Loss", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "mean_squared_error", "mean_absolute_error", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy",
    "mse", "mae", "get", "serialize", "deserialize",
]

# Keras' backend.epsilon(): probabilities are clipped to [EPS, 1 - EPS].
EPS = 1e-7


def _backend():
    from . import ops

    return ops


def _as_tensor_input(y_pred):
    autodiff = sys.modules.get("bprop.autodiff")
    if autodiff is None:
        from .variables import Variable

        if not isinstance(y_pred, Variable):
            return None
        from . import autodiff
    from .variables import Variable

    if isinstance(y_pred, (autodiff.Tensor, Variable)) or autodiff.tape_is_recording():
        return autodiff
    return None


def _rows(a):
    """View an output (batch, ..., k) as 2-D rows (rows, k)."""
    return a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])


class Loss:
    """Base loss.  Subclasses define the per-row math on 2-D arrays.

    ``fn_name`` is the Keras function name (what metrics use to resolve
    "accuracy"), ``fuses_with`` the output activation whose logits path the
    model may take for this loss.
    """

    fn_name = None
    fuses_with = None
    sparse = False

    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name=None):
        if reduction not in ("sum_over_batch_size", "auto"):
            raise ValueError(
                "reduction: expected 'sum_over_batch_size' (Keras' default), got %r" % (reduction,))
        self.from_logits = bool(from_logits)
        self.reduction = "sum_over_batch_size"
        self.name = name or self.fn_name

    # -------------------------------------------------------------- targets
    def prepare_targets(self, y, output_shape, dtype):
        """Validate ``y`` against per-sample ``output_shape``; return the array the kernels take.

        Float targets are cast to the model ``dtype`` and reshaped from (n,)
        to (n, 1) for one-unit outputs, as Keras does.
        """
        y = np.asarray(y)
        if y.dtype.kind not in "fiub":
            raise TypeError("y: expected numbers, got dtype %s" % y.dtype)
        n = y.shape[0] if y.ndim else 0
        expected = (n,) + tuple(output_shape)
        if y.shape != expected:
            if y.size == int(np.prod(expected)):
                y = y.reshape(expected)
            else:
                raise ValueError("y: expected shape %s to match the model output, got %s"
                                 % ((None,) + tuple(output_shape), y.shape))
        y = np.ascontiguousarray(y, dtype=dtype)
        if not np.all(np.isfinite(y)):  # after the cast: 1e200 overflows float32
            raise ValueError("y: contains NaN or infinity (in %s)" % np.dtype(dtype))
        return y

    # -------------------------------------------------------------- math on rows
    def _value(self, t, out, is_logits, be):
        raise NotImplementedError

    def _grad(self, t, out, is_logits, be, g):
        raise NotImplementedError

    def _per_row(self, t, out, is_logits, be):
        raise NotImplementedError

    def _flat_targets(self, y_true, rows):
        return _rows(y_true)

    # -------------------------------------------------------------- model API
    def value(self, y_true, output, is_logits, backend, sample_weight=None):
        """Reduced loss (float) of ``output`` (logits when ``is_logits``) against prepared targets."""
        out = _rows(output)
        t = self._flat_targets(y_true, out.shape[0])
        if sample_weight is None:
            return float(self._value(t, out, is_logits, backend))
        per_row = self._per_row(t, out, is_logits, backend)
        w = self._row_weights(sample_weight, out.shape[0])
        return float(np.dot(per_row, w) / max(per_row.size, 1))

    def value_and_grad(self, y_true, output, is_logits, backend, grad_out, sample_weight=None):
        """``(loss, dloss/doutput)``; the gradient is written into ``grad_out`` (output's shape)."""
        out = _rows(output)
        g = grad_out.reshape(out.shape)
        t = self._flat_targets(y_true, out.shape[0])
        self._grad(t, out, is_logits, backend, g)
        if sample_weight is None:
            return float(self._value(t, out, is_logits, backend)), grad_out
        w = self._row_weights(sample_weight, out.shape[0])
        np.multiply(g, w[:, None].astype(g.dtype, copy=False), out=g)
        per_row = self._per_row(t, out, is_logits, backend)
        return float(np.dot(per_row, w) / max(per_row.size, 1)), grad_out

    @staticmethod
    def _row_weights(sample_weight, rows):
        w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if rows != w.size:
            w = np.repeat(w, rows // max(w.size, 1))
        return w

    # -------------------------------------------------------------- user API
    def __call__(self, y_true, y_pred, sample_weight=None):
        autodiff = _as_tensor_input(y_pred)
        if autodiff is not None:
            if sample_weight is not None:
                raise ValueError("sample_weight: not supported with autodiff Tensors, got %r"
                                 % (sample_weight,))
            return self._tensor_loss(autodiff, y_true, y_pred)
        y_pred, targets = self._prepare_arrays(y_true, y_pred)
        if targets.shape[0] != y_pred.shape[0]:
            raise ValueError("y_true: expected %d samples (as y_pred), got %d"
                             % (y_pred.shape[0], targets.shape[0]))
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if sample_weight.size != y_pred.shape[0]:
                raise ValueError("sample_weight: expected %d values, got %d"
                                 % (y_pred.shape[0], sample_weight.size))
        return self.value(targets, y_pred, self.from_logits, _backend(), sample_weight)

    def _prepare_arrays(self, y_true, y_pred):
        """NumPy inputs of the user API: ``y_pred`` as a C-contiguous float array
        of at least 2 dimensions (non-floats become float32, (n,) becomes
        (n, 1)) and ``y_true`` prepared against it.  Returns ``(y_pred, targets)``."""
        y_pred = np.asarray(y_pred)
        if y_pred.dtype not in (np.float32, np.float64):
            y_pred = y_pred.astype(np.float32)
        y_pred = np.ascontiguousarray(y_pred.reshape(-1, 1) if y_pred.ndim < 2 else y_pred)
        return y_pred, self.prepare_targets(y_true, y_pred.shape[1:],
                                            self._target_dtype(y_pred.dtype))

    def _target_dtype(self, dtype):
        return dtype

    def _tensor_loss(self, autodiff, y_true, y_pred):
        return getattr(autodiff, self.fn_name)(y_true, y_pred, from_logits=self.from_logits)

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return "%s(from_logits=%s)" % (type(self).__name__, self.from_logits)


class _RegressionLoss(Loss):
    """A loss of values, not of logits or probabilities: no ``from_logits``."""

    def __init__(self, reduction="sum_over_batch_size", name=None):
        super().__init__(False, reduction, name)

    def _tensor_loss(self, autodiff, y_true, y_pred):
        return getattr(autodiff, self.fn_name)(y_true, y_pred)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


class MeanSquaredError(_RegressionLoss):
    """mean((y_pred - y_true)^2)."""

    fn_name = "mean_squared_error"

    def _value(self, t, out, is_logits, be):
        return be.mse(out, t)

    def _grad(self, t, out, is_logits, be, g):
        be.mse_backward(out, t, out=g)

    def _per_row(self, t, out, is_logits, be):
        d = out - t
        return (d * d).mean(axis=1)


class MeanAbsoluteError(_RegressionLoss):
    """mean(|y_pred - y_true|).  No kernel exists for it: NumPy does the math."""

    fn_name = "mean_absolute_error"

    def _value(self, t, out, is_logits, be):
        return float(np.abs(out - t).mean()) if out.size else 0.0

    def _grad(self, t, out, is_logits, be, g):
        np.subtract(out, t, out=g)
        np.sign(g, out=g)
        g *= g.dtype.type(1.0 / max(out.size, 1))

    def _per_row(self, t, out, is_logits, be):
        return np.abs(out - t).mean(axis=1)


class BinaryCrossentropy(Loss):
    """-(t log p + (1 - t) log(1 - p)), mean over all elements; p = sigmoid(logits) or clipped."""

    fn_name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def _value(self, t, out, is_logits, be):
        if is_logits:
            return be.binary_cross_entropy(out, t)
        return float(self._prob_elementwise(t, out).mean()) if out.size else 0.0

    def _grad(self, t, out, is_logits, be, g):
        if is_logits:
            be.binary_cross_entropy_backward(out, t, out=g)
            return
        # Probabilities (no sigmoid before this loss): d/dp of the clipped
        # loss, zero where the clip is active, as Keras' clip has it.
        p = out.astype(np.float64)
        inside = (p > EPS) & (p < 1 - EPS)
        pc = np.clip(p, EPS, 1 - EPS)
        grad = np.where(inside, (pc - t) / (pc * (1 - pc)), 0.0) / max(out.size, 1)
        g[...] = grad

    def _prob_elementwise(self, t, out):
        p = np.clip(out.astype(np.float64), EPS, 1 - EPS)
        return -(t * np.log(p) + (1 - t) * np.log(1 - p))

    def _per_row(self, t, out, is_logits, be):
        if is_logits:
            z = out.astype(np.float64)
            loss = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
            return loss.mean(axis=1)
        return self._prob_elementwise(t, out).mean(axis=1)

    def prepare_targets(self, y, output_shape, dtype):
        y = super().prepare_targets(y, output_shape, dtype)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError("y: binary cross-entropy expects targets in [0, 1], got values in "
                             "[%g, %g]" % (y.min(), y.max()))
        return y


class CategoricalCrossentropy(Loss):
    """-sum(t log softmax(logits)) per row (or of normalised, clipped probabilities)."""

    fn_name = "categorical_crossentropy"
    fuses_with = "softmax"

    def _value(self, t, out, is_logits, be):
        if is_logits:
            return be.softmax_cross_entropy(out, t)
        return float(self._per_row(t, out, False, be).mean()) if out.shape[0] else 0.0

    def _grad(self, t, out, is_logits, be, g):
        if is_logits:
            be.softmax_cross_entropy_backward(out, t, out=g)
            return
        # Probabilities that did not come from a fused softmax: Keras
        # normalises rows to sum 1, clips to [EPS, 1 - EPS] and takes -t log.
        p = out.astype(np.float64)
        s = p.sum(axis=1, keepdims=True)
        q = p / s
        inside = (q > EPS) & (q < 1 - EPS)
        dq = np.where(inside, -self._dense_targets(t, p) / np.clip(q, EPS, 1 - EPS), 0.0)
        grad = (dq - (dq * q).sum(axis=1, keepdims=True)) / s
        g[...] = grad / max(out.shape[0], 1)

    def _dense_targets(self, t, out):
        return t

    def _per_row(self, t, out, is_logits, be):
        t = self._dense_targets(t, out)
        if is_logits:
            logp = be.log_softmax(out).astype(np.float64)
        else:
            p = out.astype(np.float64)
            logp = np.log(np.clip(p / p.sum(axis=1, keepdims=True), EPS, 1 - EPS))
        return -(t * logp).sum(axis=1)

    def prepare_targets(self, y, output_shape, dtype):
        y = np.asarray(y)
        if y.ndim == 1 and tuple(output_shape)[-1:] != (1,):
            raise ValueError(
                "y: categorical_crossentropy expects one-hot targets of shape %s, got %s "
                "(use sparse_categorical_crossentropy for integer labels)"
                % ((None,) + tuple(output_shape), y.shape))
        return super().prepare_targets(y, output_shape, dtype)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class labels (n,) or (n, 1)."""

    fn_name = "sparse_categorical_crossentropy"
    sparse = True

    def prepare_targets(self, y, output_shape, dtype):
        """Integer labels as int64 (n,), validated to lie in [0, classes)."""
        y = np.asarray(y)
        if y.dtype.kind not in "iuf" or y.dtype.kind == "b":
            raise TypeError("y: expected integer class labels, got dtype %s" % y.dtype)
        classes = int(output_shape[-1])
        rows_per_sample = int(np.prod(output_shape[:-1], dtype=np.int64))
        n = y.shape[0] if y.ndim else 0
        if y.ndim == 0 or y.size != n * rows_per_sample:
            raise ValueError("y: expected %d integer label(s) per sample for output shape %s, "
                             "got shape %s" % (rows_per_sample, (None,) + tuple(output_shape),
                                               y.shape))
        if y.dtype.kind == "f":
            if not np.all(np.isfinite(y)) or np.any(y != np.floor(y)):
                raise ValueError("y: expected integer class labels, got non-integer floats")
        labels = y.reshape(-1).astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError("y: expected class labels in [0, %d) for a %d-unit output, got "
                             "values in [%d, %d]" % (classes, classes, labels.min(),
                                                     labels.max()))
        return labels.reshape((n,) + tuple(output_shape[:-1]))

    def _flat_targets(self, y_true, rows):
        return y_true.reshape(-1)

    def _dense_targets(self, t, out):
        onehot = np.zeros(out.shape, dtype=np.float64)
        onehot[np.arange(out.shape[0]), t] = 1.0
        return onehot

    def _target_dtype(self, dtype):
        return np.int64


# ---------------------------------------------------------------- functions
def _per_sample(loss, y_true, y_pred):
    """Keras loss functions return the per-sample losses (before reduction)."""
    autodiff = _as_tensor_input(y_pred)
    if autodiff is not None:
        return loss._tensor_loss(autodiff, y_true, y_pred)
    y2, t = loss._prepare_arrays(y_true, y_pred)
    out = _rows(y2)
    per_row = loss._per_row(loss._flat_targets(t, out.shape[0]), out, loss.from_logits,
                            _backend())
    return per_row.reshape(y2.shape[:-1]).astype(y2.dtype)


def mean_squared_error(y_true, y_pred):
    """Per-sample mean((y_pred - y_true)^2) over the last axis, shape (n,)."""
    return _per_sample(MeanSquaredError(), y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean(|y_pred - y_true|) over the last axis, shape (n,)."""
    return _per_sample(MeanAbsoluteError(), y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """Per-sample binary cross-entropy (mean over the last axis), shape (n,)."""
    return _per_sample(BinaryCrossentropy(from_logits=from_logits), y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Per-sample categorical cross-entropy with one-hot targets, shape (n,)."""
    return _per_sample(CategoricalCrossentropy(from_logits=from_logits), y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Per-sample categorical cross-entropy with integer labels, shape (n,)."""
    return _per_sample(SparseCategoricalCrossentropy(from_logits=from_logits), y_true, y_pred)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy,
                                    CategoricalCrossentropy, SparseCategoricalCrossentropy)}
_BY_NAME = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_FUNCTION_CLASSES = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}


def get(identifier):
    """A Loss instance from a Keras name, a class name, a Loss, a loss function or a config."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        cls = _registry.class_for_name(
            identifier, lambda name: _BY_NAME.get(name.lower()) or _CLASSES.get(name),
            "loss", lambda: sorted(_BY_NAME))
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier) and identifier in _FUNCTION_CLASSES:
        return _FUNCTION_CLASSES[identifier]()
    raise ValueError(
        "loss: expected one of %s, a bprop.losses.Loss or a config dict, got %r "
        "(custom loss functions cannot be differentiated by the model)"
        % (", ".join(sorted(_BY_NAME)), identifier))


def serialize(loss):
    loss = get(loss)
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    return _registry.deserialize(
        config, lambda name: _CLASSES.get(name) or _BY_NAME.get(str(name).lower()),
        "loss", lambda: sorted(_CLASSES))
