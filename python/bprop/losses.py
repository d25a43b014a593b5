"""Losses, Keras-style: ``loss(y_true, y_pred, sample_weight=None) -> float``.

Classes ``MeanSquaredError``, ``MeanAbsoluteError``, ``BinaryCrossentropy``,
``CategoricalCrossentropy``, ``SparseCategoricalCrossentropy`` (each
cross-entropy with ``from_logits``) and ``losses.get`` for the Keras names
("mse", "mean_squared_error", "binary_crossentropy", ...).  The reduction is
Keras' "sum_over_batch_size": ``sum(per-sample loss * weight) / n``.

A loss has no formula of its own: it names the loss kernel that computes it
(:meth:`Loss._plan_kind`, one of ``bprop.engine.objective.LOSS_KERNELS``),
which the compiled step of ``fit`` (the core plan or its op-by-op twin), a
loss object called on arrays, and the GradientTape form
(``bprop.autodiff.losses``) all run.  When the model's last layer is softmax
(sigmoid) and the loss the matching cross-entropy of probabilities, the
step feeds the loss the *logits* instead: the stable fused path.

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


def _require_numeric(y):
    if y.dtype.kind not in "fiub":
        raise TypeError("y: expected numbers, got dtype %s" % y.dtype)


def _finite_in(y, dtype):
    """``y`` as a C-contiguous array of ``dtype``, refused unless finite after the cast."""
    y = np.ascontiguousarray(y, dtype=dtype)
    if not np.all(np.isfinite(y)):  # after the cast: 1e200 overflows float32
        raise ValueError("y: contains NaN or infinity (in %s)" % np.dtype(dtype))
    return y


def _rows(a):
    """View an output (batch, ..., k) as 2-D rows (rows, k)."""
    return a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])


class Loss:
    """Base loss: subclasses name their kernel (:meth:`_plan_kind`).

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

    def _plan_kind(self, logits):
        """``(kind, sparse)``: the loss kernel (engine.objective.LOSS_KERNELS) for
        predictions that are logits (``logits``) or not, and whether it takes
        integer labels."""
        raise NotImplementedError("%s must implement _plan_kind" % type(self).__name__)

    # -------------------------------------------------------------- targets
    def prepare_targets(self, y, output_shape, dtype):
        """Validate ``y`` against per-sample ``output_shape``; return the array the kernels take.

        Float targets are cast to the model ``dtype`` and reshaped from (n,)
        to (n, 1) for one-unit outputs, as Keras does.
        """
        y = np.asarray(y)
        _require_numeric(y)
        n = y.shape[0] if y.ndim else 0
        expected = (n,) + tuple(output_shape)
        if y.shape != expected and y.size != int(np.prod(expected)):
            raise ValueError("y: expected shape %s to match the model output, got %s"
                             % ((None,) + tuple(output_shape), y.shape))
        return _finite_in(y.reshape(expected), dtype)

    def _target_dtype(self, dtype):
        return dtype

    def _kernel_operands(self, targets, y_pred):
        """(rows view of y_pred, the targets as the kernel takes them)."""
        y2 = _rows(y_pred)
        if self.sparse:
            return y2, targets.reshape(-1)
        return y2, targets.reshape(y2.shape)

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
        y2, t = self._kernel_operands(targets, y_pred)
        w = None
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if sample_weight.size != y_pred.shape[0]:
                raise ValueError("sample_weight: expected %d values, got %d"
                                 % (y_pred.shape[0], sample_weight.size))
            w = np.repeat(sample_weight, y2.shape[0] // max(y_pred.shape[0], 1))
        from . import ops
        from .engine.objective import LOSS_KERNELS

        from .autodiff import Tensor

        kind, _ = self._plan_kind(self.from_logits)
        value = getattr(ops, LOSS_KERNELS[kind][0])(y2, t, sample_weight=w)
        # A scalar Tensor, as Keras returns (float(loss) and loss.numpy() give the number).
        return Tensor(np.asarray(value, dtype=y_pred.dtype))

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

    def _tensor_loss(self, autodiff, y_true, y_pred, per_sample=False):
        return getattr(autodiff, self.fn_name)(y_true, y_pred, from_logits=self.from_logits,
                                               per_sample=per_sample)

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

    def _tensor_loss(self, autodiff, y_true, y_pred, per_sample=False):
        return getattr(autodiff, self.fn_name)(y_true, y_pred, per_sample=per_sample)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


class MeanSquaredError(_RegressionLoss):
    """mean((y_pred - y_true)^2)."""

    fn_name = "mean_squared_error"

    def _plan_kind(self, logits):
        return "mse", False


class MeanAbsoluteError(_RegressionLoss):
    """mean(|y_pred - y_true|)."""

    fn_name = "mean_absolute_error"

    def _plan_kind(self, logits):
        return "mae", False


class BinaryCrossentropy(Loss):
    """-(t log p + (1 - t) log(1 - p)), mean over all elements; p = sigmoid(logits) or clipped."""

    fn_name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def _plan_kind(self, logits):
        return ("binary_xent" if logits else "binary_xent_probs"), False

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

    def _plan_kind(self, logits):
        return ("softmax_xent" if logits else "prob_xent"), self.sparse

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
        if y.dtype.kind == "u" and y.size and y.max() > np.iinfo(np.int64).max:
            raise ValueError("y: expected class labels in [0, %d) for a %d-unit output, got "
                             "values up to %d" % (classes, classes, y.max()))
        labels = y.reshape(-1).astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError("y: expected class labels in [0, %d) for a %d-unit output, got "
                             "values in [%d, %d]" % (classes, classes, labels.min(),
                                                     labels.max()))
        return labels.reshape((n,) + tuple(output_shape[:-1]))

    def _target_dtype(self, dtype):
        return np.int64


# ---------------------------------------------------------------- functions
def _per_sample(loss, y_true, y_pred):
    """Keras loss functions return the per-sample losses (before reduction):
    each row's value from the loss kernel's NumPy twin."""
    autodiff = _as_tensor_input(y_pred)
    if autodiff is not None:  # each sample's loss, differentiable
        return loss._tensor_loss(autodiff, y_true, y_pred, per_sample=True)
    from .reference import per_row_losses

    y_arr, t = loss._prepare_arrays(y_true, y_pred)
    y2, targets = loss._kernel_operands(t, y_arr)
    kind, _ = loss._plan_kind(loss.from_logits)
    return per_row_losses(kind, y2, targets).reshape(y_arr.shape[:-1]).astype(y_arr.dtype)


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
    if callable(identifier):  # a loss function of the user's: differentiated by the tape
        return LossFunctionWrapper(identifier)
    raise ValueError(
        "loss: expected one of %s, a bprop.losses.Loss, a loss function or a config dict, "
        "got %r" % (", ".join(sorted(_BY_NAME)), identifier))


def _target_form(labels):
    return "class labels" if labels else "targets shaped like the output"


class LossFunctionWrapper(Loss):
    """``fn(y_true, y_pred) -> values`` as a Loss, as Keras wraps a loss function: the
    values (per sample, or per element) are reduced by their weighted sum over their
    number.  The model differentiates it through the GradientTape (its plan then runs
    op by op), so ``fn`` must compute with bprop's tensor ops (``bprop.reduce_mean``,
    ``bprop.square``, ...)."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        if not callable(fn):
            raise TypeError("fn: expected a function (y_true, y_pred) -> losses, got %r" % (fn,))
        super().__init__(reduction=reduction, name=name or getattr(fn, "__name__", "loss"))
        self.fn = fn
        self.fn_kwargs = kwargs
        self.fn_name = self.name
        self._labels_seen = None  # class labels or not: decided by the first targets

    @property
    def sparse(self):
        return bool(self._labels_seen)

    def _plan_kind(self, logits):
        return "python", self.sparse

    # -------------------------------------------------------------- targets
    def prepare_targets(self, y, output_shape, dtype):
        """``y`` as Keras hands it to a loss function: the user's array, one row per
        sample, of any shape (labels, one-hot rows, extra columns the function
        reads), in the model's float ``dtype``.  As Keras decides "accuracy" from
        the shapes, ``sparse`` says whether the first targets were class labels:
        of lower rank than the output, or one column against several classes."""
        y = np.asarray(y)
        _require_numeric(y)
        y = _finite_in(y, dtype)
        out = (None,) + tuple(output_shape)
        labels = bool(len(out) > 1 and out[-1] > 1
                      and (y.ndim < len(out) or (y.ndim == len(out) and y.shape[-1] == 1)))
        # Decided by the first targets (fit's y, before any validation data) and
        # kept, as Keras builds its metrics once: the plans and "accuracy" read
        # the targets that way from then on.
        if self._labels_seen is None:
            self._labels_seen = labels
        elif labels != self._labels_seen:
            raise ValueError(
                "y: the loss function %r was first given %s and now %s of shape %s; the "
                "metrics read the targets one way, so pass them in one form (or compile "
                "again)" % (self.name, _target_form(self._labels_seen),
                            _target_form(labels), y.shape))
        return y

    @staticmethod
    def _same_rank(y_true, y_pred):
        """Keras' squeeze_or_expand_to_same_rank: where the ranks differ by one and
        the longer one ends in 1, (n,) labels against (n, 1) outputs become
        (n, 1), and (n, 1) against (n,) is squeezed."""
        from . import autodiff as ad

        t, p = len(y_true.shape), len(y_pred.shape)
        if t == p + 1 and y_true.shape[-1] == 1:
            y_pred = ad.expand_dims(y_pred, -1) if p == 1 else y_pred
            y_true = y_true if p == 1 else ad.squeeze(y_true, -1)
        elif p == t + 1 and y_pred.shape[-1] == 1:
            y_true = ad.expand_dims(y_true, -1) if t == 1 else y_true
            y_pred = y_pred if t == 1 else ad.squeeze(y_pred, -1)
        return y_true, y_pred

    def _reduced(self, y_true, y_pred, row_weights=None):
        from . import autodiff as ad

        y_true, y_pred = self._same_rank(y_true, y_pred)
        values = ad.convert_to_tensor(self.fn(y_true, y_pred, **self.fn_kwargs))
        if row_weights is not None:
            w = np.asarray(row_weights, dtype=values.dtype)
            if values.ndim == 0:
                raise ValueError("sample_weight: %s returns one value per batch, not per "
                                 "sample; it cannot be weighted per sample" % self.name)
            w = w.reshape((-1,) + (1,) * (values.ndim - 1))
            values = ad.multiply(values, w)
        count = max(int(np.prod(values.shape)), 1)
        return ad.divide(ad.reduce_sum(values), values.dtype.type(count))

    def __call__(self, y_true, y_pred, sample_weight=None):
        from . import autodiff as ad

        y_pred = y_pred if _as_tensor_input(y_pred) is not None else ad.convert_to_tensor(
            np.asarray(y_pred))
        y_true = ad.convert_to_tensor(np.asarray(y_true, dtype=y_pred.dtype)
                                      if not hasattr(y_true, "numpy") else y_true)
        return self._reduced(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"name": self.name, "fn": getattr(self.fn, "__name__", repr(self.fn))}

    @classmethod
    def from_config(cls, config):
        raise ValueError("loss: a model compiled with the loss function %r cannot be rebuilt "
                         "from a file; pass the function again (model.compile(loss=fn)) or load "
                         "with compile=False" % (config.get("fn"),))


def serialize(loss):
    loss = get(loss)
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    return _registry.deserialize(
        config, lambda name: _CLASSES.get(name) or _BY_NAME.get(str(name).lower()),
        "loss", lambda: sorted(_CLASSES))
