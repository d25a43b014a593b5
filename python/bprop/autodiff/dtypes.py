"""TensorFlow-style dtype names (``bprop.float32``...): NumPy's scalar types,
accepted wherever a ``dtype=`` argument is (Variable, constant, cast)."""
from __future__ import annotations

import numpy as np

float32 = np.float32
float64 = np.float64
int32 = np.int32
int64 = np.int64

__all__ = ["float32", "float64", "int32", "int64"]
