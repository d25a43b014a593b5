"""Input checks for ``fit``/``evaluate``/``predict``: clear errors before any math.

Each function takes what the user passed and returns the array the loops
use: ``x`` in the model's dtype (converted once, up front, never per
epoch), targets in the form the loss kernels take, sample weights as
float64 (n,).
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["prepare_x", "prepare_y", "prepare_sample_weight", "class_weight_to_sample_weight",
           "check_positive_int", "split_validation"]

# Rows checked per chunk when looking for the first NaN (bounds the temporary).
_NAN_CHUNK = 1 << 16


def check_positive_int(value, argname, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < (
            0 if allow_zero else 1):
        raise ValueError("%s: expected a %s integer, got %r"
                         % (argname, "non-negative" if allow_zero else "positive", value))
    return int(value)


def _first_non_finite(arr):
    for start in range(0, arr.shape[0], _NAN_CHUNK):
        bad = ~np.isfinite(arr[start:start + _NAN_CHUNK].reshape(
            min(_NAN_CHUNK, arr.shape[0] - start), -1)).all(axis=1)
        if bad.any():
            return start + int(np.argmax(bad))
    return None


def prepare_x(model, x, argname="x"):
    """``x`` as a C-contiguous array of the model dtype; builds the model from it if needed."""
    if x is None:
        raise ValueError("%s: expected an array of samples, got None" % argname)
    pack = getattr(model, "_pack_inputs", None)
    if pack is not None:  # a functional model: several inputs become one row per sample
        x = pack(x, argname)
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError("%s: expected numbers, got dtype %s" % (argname, arr.dtype))
    if arr.ndim < 2:
        raise ValueError("%s: expected a batch of samples with shape (n, features...), got "
                         "shape %s" % (argname, arr.shape))
    arr = np.ascontiguousarray(arr, dtype=model._dtype)
    # A whole-array sum is one cheap pass (in the array's own dtype: NumPy's
    # SIMD pairwise sum, 6x faster than summing float32 in float64); only when
    # it is not finite do we look for the culprit (an overflowing sum of
    # finite values is re-checked exactly and accepted).
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum()
    if not np.isfinite(total):
        bad = _first_non_finite(arr)
        if bad is not None:
            raise ValueError("%s: contains NaN or infinity (first at sample %d); the model "
                             "cannot be trained or evaluated on it" % (argname, bad))
    if model._sample_shape is None:
        model._build_layers(arr.shape[1:])
    elif tuple(arr.shape[1:]) != tuple(model._sample_shape):
        raise ValueError("%s: model %r expects input of shape %s, got an array of shape %s"
                         % (argname, model.name, (None,) + tuple(model._sample_shape),
                            arr.shape))
    return arr


def prepare_y(model, y, n, argname="y"):
    """Targets validated by the loss against the model's output shape and ``n`` samples."""
    if y is None:
        raise ValueError("%s: expected targets for the loss %r, got None"
                         % (argname, model.compiled_loss.name))
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError("x and %s: expected the same number of samples, got x with %d and %s "
                         "with %s" % (argname, n, argname, y.shape[0] if y.ndim else "a scalar"))
    out_shape = model.compute_output_shape(model._sample_shape)
    try:
        return model.compiled_loss.prepare_targets(y, out_shape, model._dtype)
    except ValueError as exc:
        if argname != "y":
            raise ValueError(str(exc).replace("y:", argname + ":", 1)) from None
        raise


def prepare_sample_weight(sample_weight, n, argname="sample_weight"):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w.reshape(-1)
    if w.shape != (n,):
        raise ValueError("%s: expected shape (%d,), got %s" % (argname, n, w.shape))
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("%s: expected finite non-negative weights" % argname)
    return np.ascontiguousarray(w)


def class_weight_to_sample_weight(class_weight, targets, loss, sample_weight):
    """Per-sample weights from ``{class: weight}`` (classes absent from the dict weigh 1)."""
    if class_weight is None:
        return sample_weight
    if not isinstance(class_weight, dict):
        raise TypeError("class_weight: expected a dict {class index: weight}, got %s"
                        % type(class_weight).__name__)
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
            raise ValueError("class_weight: keys must be class indices >= 0, got %r" % (key,))
        if not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
            raise ValueError("class_weight: weight of class %r must be a finite number >= 0, "
                             "got %r" % (key, value))
    if loss.sparse:  # integer labels (a loss function's: in the model's float dtype)
        labels = np.rint(targets.reshape(targets.shape[0], -1)[:, 0]).astype(np.int64)
    elif targets.ndim >= 2 and targets.shape[-1] > 1:
        labels = np.argmax(targets.reshape(targets.shape[0], -1), axis=1)
    else:
        labels = np.rint(targets.reshape(targets.shape[0], -1)[:, 0]).astype(np.int64)
    table = np.ones(int(max(max(class_weight, default=0), labels.max(initial=0))) + 1)
    for key, value in class_weight.items():
        table[int(key)] = float(value)
    weights = table[labels]
    return weights if sample_weight is None else weights * sample_weight


def split_validation(arrays, validation_split):
    """Keras' ``validation_split``: the *last* fraction of the samples (views, no copies)."""
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
            or not 0.0 <= validation_split < 1.0:
        raise ValueError("validation_split: expected a number in [0, 1), got %r"
                         % (validation_split,))
    n = arrays[0].shape[0]
    split_at = int(np.floor(n * (1.0 - validation_split)))
    if validation_split > 0 and (split_at == 0 or split_at == n):
        raise ValueError("validation_split: %g of %d samples leaves an empty training or "
                         "validation set" % (validation_split, n))
    train = [None if a is None else a[:split_at] for a in arrays]
    val = [None if a is None else a[split_at:] for a in arrays]
    return train, val
