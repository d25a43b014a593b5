"""``Flatten``: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...), a view, no copy."""
from __future__ import annotations

import numpy as np

from .base import Layer

__all__ = ["Flatten"]


class Flatten(Layer):
    """Flattens every sample to one axis, so 28x28 images can feed a Dense layer."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(
                "data_format: bprop supports only 'channels_last' (or None), got %r"
                % (data_format,))
        self._x_shape = None

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape):
            return (None,)
        return (int(np.prod(input_shape, dtype=np.int64)),)

    def forward(self, x, training=False):
        self._check_input(x)
        self._x_shape = x.shape
        # reshape of a C-contiguous array is a view: nothing is copied.
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, need_dx=True):
        if self._x_shape is None:
            raise RuntimeError("Flatten %r: backward() called before forward()" % self.name)
        self.grads = []
        return dy.reshape(self._x_shape) if need_dx else None
