"""``Flatten``: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...), a view, no copy."""
from __future__ import annotations

import numpy as np

from .base import Layer

__all__ = ["Flatten"]


class Flatten(Layer):
    """Flattens every sample to one axis, so 28x28 images can feed a Dense layer."""

    _build_with_batch_axis = False

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(
                "data_format: bprop supports only 'channels_last' (or None), got %r"
                % (data_format,))

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape):
            return (None,)
        return (int(np.prod(input_shape, dtype=np.int64)),)

    def _plan_node(self, in_shape, trainable):
        return None  # samples are already flat in a plan
