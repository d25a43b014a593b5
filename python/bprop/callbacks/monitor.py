"""Shared by the callbacks that watch a logged quantity."""
from __future__ import annotations

import numpy as np


def monitor_op(monitor, mode, argname="mode"):
    """``np.less`` for losses/errors, ``np.greater`` for accuracies (mode="auto")."""
    if mode not in ("auto", "min", "max"):
        raise ValueError("%s: expected 'auto', 'min' or 'max', got %r" % (argname, mode))
    if mode == "min":
        return np.less
    if mode == "max":
        return np.greater
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if "acc" in name or "auc" in name or name.startswith("fmeasure") \
            or "precision" in name or "recall" in name:
        return np.greater
    return np.less


def as_scalar(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
