"""``Dropout``: zeroes a random fraction ``rate`` of inputs while training.

Inverted dropout as in Keras: kept inputs are scaled by 1 / (1 - rate) so
inference needs no change.  The mask comes from the core's counter-based
generator (``ops.dropout``): a hash of the layer's seed, a step counter and
the element's position in the global batch.  So it is the same at any
thread count, in the core plan and in the op-by-op plan, and split across
processes it is the mask one process would draw.  The seed is ``seed`` when
given, otherwise drawn from ``bprop.utils.get_rng()`` when the layer is first
used (``set_random_seed`` makes it repeatable).
"""
from __future__ import annotations

import numbers

from .. import utils as _utils
from .base import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """``Dropout(rate, noise_shape=None, seed=None)``; identity unless ``training``.

    ``noise_shape`` is not supported (None only): every element gets its own draw.
    """

    _build_with_batch_axis = False

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
        self._seed = self.seed       # the mask's seed (drawn at first use without one)
        self._direct_calls = 0       # counter of direct training calls (layer(x, training=True))

    def mask_seed(self):
        """The seed of this layer's masks (drawn from the global generator once)."""
        if self._seed is None:
            self._seed = int(_utils.get_rng().integers(0, 2 ** 63 - 1))
        return self._seed

    def _next_seed_counter(self):
        # Direct calls count on their own; fit counts the model's steps.
        self._direct_calls += 1
        return (1 << 62) + self._direct_calls

    def _plan_node(self, in_shape, trainable):
        from ..engine.nodes import DropoutNode

        return DropoutNode(self, tuple(in_shape) if len(in_shape) else (1,), self.mask_seed(),
                           trainable)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
