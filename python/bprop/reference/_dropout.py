"""Dropout's twin: the same counter-based mask as the core, bit for bit.

Element ``i`` (row-major, counting from the batch's first row in the global
batch) of a step keyed by (seed, counter) is kept when the top 32 bits of
splitmix64(key + golden * (i + 1)) are at or above floor(rate * 2^32), with
key = splitmix64(seed + golden * (counter + 1)).
"""
from __future__ import annotations

import numpy as np

from ._common import put as _put

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix64_int(z):
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _mix64(z):
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic)."""
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _check_rate(rate):
    if not 0.0 <= rate < 1.0:
        raise ValueError("rate: expected a value in [0, 1), got %r" % (rate,))


def dropout_mask(shape, rate, seed, counter, row_offset=0):
    """The uint8 keep-mask of a batch of ``shape`` (rows on the first axis)."""
    _check_rate(rate)
    size = int(np.prod(shape, dtype=np.int64))
    rows = shape[0] if len(shape) else 1
    cols = size // rows if rows else 0
    key = _mix64_int(int(seed) + _GOLDEN * (int(counter) + 1))
    first = (int(row_offset) * cols) & _MASK64
    idx = np.arange(size, dtype=np.uint64) + np.uint64(first + 1)
    h = _mix64(np.uint64(key) + np.uint64(_GOLDEN) * idx)
    threshold = np.uint64(int(np.floor(rate * 4294967296.0)))
    return ((h >> np.uint64(32)) >= threshold).astype(np.uint8).reshape(shape)


def dropout(x, rate, seed, counter, row_offset=0, out=None, mask=None):
    """Inverted dropout; returns ``(y, mask)`` (see :func:`dropout_mask`)."""
    x = np.asarray(x)
    keep = dropout_mask(x.shape, rate, seed, counter, row_offset)
    scale = x.dtype.type(1.0 / (1.0 - rate))
    y = np.where(keep == 1, x * scale, x.dtype.type(0))
    return _put(y, out), _put(keep, mask)


def dropout_backward(dy, mask, rate, out=None):
    """dy / (1 - rate) where ``mask``, 0 elsewhere."""
    _check_rate(rate)
    dy = np.asarray(dy)
    scale = dy.dtype.type(1.0 / (1.0 - rate))
    return _put(np.where(np.asarray(mask) == 1, dy * scale, dy.dtype.type(0)), out)
