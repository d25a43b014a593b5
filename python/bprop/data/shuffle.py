"""``Dataset.shuffle``: TensorFlow's buffer shuffle.

A buffer holds the next ``buffer_size`` items of the input; each output is
a uniformly chosen item of the buffer, whose place the next input item
takes.  When the input ends, the rest of the buffer comes out in random
order.  So ``buffer_size`` >= the number of items is a uniform
permutation, 1 keeps the order, and in between an item never comes out
more than ``buffer_size - 1`` places before its input position.

Seeds follow ``tf.random``'s rules (see :mod:`bprop.random`): with a
``seed``, the orders depend on it and on the global seed of
``bprop.random.set_seed`` at the time the dataset was made; without one,
on bprop's global generator, so ``set_seed`` makes them repeatable too.
Pass k (k = 0, 1, ...) of a dataset draws from its own stream, or from
pass 0's again when ``reshuffle_each_iteration`` is False.  The numbers
are NumPy's, not TensorFlow's.
"""
from __future__ import annotations

import itertools

import numpy as np

from .. import random as _random
from .. import utils as _utils
from .transforms import Passthrough

__all__ = ["Shuffle", "buffer_shuffle"]

_DRAWS_PER_CALL = 4096  # random picks drawn at once (one NumPy call, not one per item)


def buffer_shuffle(items, buffer_size, rng):
    """The items of the iterable ``items`` in buffer-shuffled order (see the module)."""
    items = iter(items)
    buffer = list(itertools.islice(items, buffer_size))
    picks = iter(())
    for item in items:  # the buffer is full here: len(buffer) == buffer_size
        pick = next(picks, None)
        if pick is None:
            picks = iter(rng.integers(0, buffer_size, size=_DRAWS_PER_CALL).tolist())
            pick = next(picks)
        yield buffer[pick]
        buffer[pick] = item
    for pick in rng.permutation(len(buffer)).tolist():
        yield buffer[pick]


class Shuffle(Passthrough):
    def __init__(self, child, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(child)
        self._buffer_size = buffer_size
        if seed is None:
            self._entropy = [int(_utils.get_rng().integers(0, 2 ** 63 - 1))]
        else:
            seed = _random._check_seed(seed, "seed")
            global_seed = _random._state["global_seed"]
            self._entropy = [_random._DEFAULT_GLOBAL_SEED if global_seed is None
                             else global_seed, seed]
        self._reshuffle = reshuffle_each_iteration
        self._passes = itertools.count()  # next() is atomic: one number per pass

    def _cardinality(self):
        return self._child._cardinality()

    def _stream(self):
        k = next(self._passes) if self._reshuffle else 0
        rng = np.random.default_rng(self._entropy + [k])
        return buffer_shuffle(self._input(), self._buffer_size, rng)
