"""Shared helpers of the reference twins."""
from __future__ import annotations

import numpy as np


def put(result, out):
    """``result`` itself, or copied into ``out`` (then ``out``) when given."""
    if out is None:
        return result
    out[...] = result
    return out


def row_weights(sample_weight, rows):
    """Per-row weights as float64 (rows,), or None; finite, one per row."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "fiub":
        raise TypeError("sample_weight: expected real numbers, got %s" % w.dtype)
    w = w.astype(np.float64)
    if w.shape != (rows,):
        raise ValueError("sample_weight: expected shape (%d,) (one weight per row), got %s"
                         % (rows, w.shape))
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise ValueError("sample_weight: expected finite weights, got %r at index %d"
                         % (float(w[bad[0]]), bad[0]))
    return w
