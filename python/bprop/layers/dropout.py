"""``Dropout``: zeroes a random fraction ``rate`` of inputs while training.

Inverted dropout as in Keras: kept inputs are scaled by 1 / (1 - rate) so
inference needs no change.  The mask is drawn from ``bprop.utils.get_rng()``
(so ``set_random_seed`` makes it repeatable) or from the layer's own
Generator when ``seed`` is given.  There is no dropout kernel in the core;
the mask arithmetic is a few element-wise NumPy passes into kept buffers.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import utils as _utils
from .base import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """``Dropout(rate, noise_shape=None, seed=None)``; identity unless ``training``.

    ``noise_shape`` is not supported (None only): every element gets its own draw.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
            raise ValueError("rate: expected a number in [0, 1), got %r" % (rate,))
        if noise_shape is not None:
            raise ValueError("noise_shape: only None is supported, got %r" % (noise_shape,))
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ValueError("seed: expected None or a non-negative int, got %r" % (seed,))
        self.rate = float(rate)
        self.seed = None if seed is None else int(seed)
        self._rng = None if seed is None else np.random.default_rng(self.seed)
        self._mask = None

    def forward(self, x, training=False):
        self._check_input(x)
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        rng = self._rng if self._rng is not None else _utils.get_rng()
        mask = self._buffer("mask", x.shape)
        rng.random(dtype=mask.dtype, out=mask)  # uniform [0, 1) in the layer dtype, no new array
        keep = self._buffer("keep", x.shape, np.bool_)
        np.greater_equal(mask, mask.dtype.type(self.rate), out=keep)
        np.multiply(keep, mask.dtype.type(1.0 / (1.0 - self.rate)), out=mask)
        y = self._buffer("y", x.shape)
        np.multiply(x, mask, out=y)
        self._mask = mask
        return y

    def backward(self, dy, need_dx=True):
        self.grads = []
        if not need_dx:
            return None
        if self._mask is None:
            return dy
        dx = self._buffer("dx", dy.shape)
        np.multiply(dy, self._mask, out=dx)
        return dx

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
