"""Consecutive batches of a Dataset or generator, prepared together for one core call.

A core call runs many steps over one array (``plan.run(data, rows,
batch_size)``: all batches but the last of the same size).  Preparing
and running batches one at a time costs ~0.3 ms of Python per step, more
than a small model's whole step; so the loops read a *chunk*: up to
``k`` batches of one size (a smaller one ends it), concatenated and
prepared once, as array input is.  The steps, their order and their
rows are exactly those of the batches, so the results do not depend on
how batches were grouped (``k`` = 1 whenever batch-level callbacks run).
A chunk holds at most ~8 MiB of input, never a whole large dataset.

Batches whose parts are not plain arrays (a dict or list of inputs of a
functional model) form chunks of one.
"""
from __future__ import annotations

import numpy as np

from ..variables import ArrayView
from . import data as _data
from .batch_source import unpack

__all__ = ["Chunk", "ChunkReader"]

_END = object()
_MAX_CHUNK_BYTES = 8 << 20  # of x; a chunk stops growing past it


class Chunk:
    """Prepared x, y, sample_weight of consecutive batches: ``sizes[i]`` rows of
    batch ``first_step + i``."""

    __slots__ = ("x", "y", "sw", "sizes", "first_step")

    def __init__(self, x, y, sw, sizes, first_step):
        self.x, self.y, self.sw = x, y, sw
        self.sizes = sizes
        self.first_step = first_step

    def offset(self, i):
        """The first row of batch ``i`` of the chunk."""
        return self.sizes[0] * i


def _is_array(value):
    return isinstance(value, (np.ndarray, ArrayView))


def _rows(parts):
    """The batch's row count when every part is None or an array with a first axis
    (so that it can join a chunk), else None."""
    n = None
    for part in parts:
        if part is None:
            continue
        if not _is_array(part) or part.ndim == 0:
            return None
        if n is not None and part.shape[0] != n:
            return None
        n = part.shape[0]
    return n


def _kind(parts):
    """Which parts are present: batches join a chunk only with the same ones."""
    return tuple(p is None for p in parts)


def _concat(column):
    if column[0] is None:
        return None
    if len(column) == 1:
        return column[0]
    return np.concatenate([np.asarray(a) for a in column])


class ChunkReader:
    """Reads chunks from ``batches`` (an iterator of raw elements) for ``model``.

    ``targets``: prepare y and sample_weight (fit/evaluate) or x alone (predict).
    ``class_weight``: fit's, turned into per-sample weights.
    """

    def __init__(self, model, batches, argname, targets=True, class_weight=None):
        self.model = model
        self._batches = batches
        self.argname = argname
        self.targets = targets
        self.class_weight = class_weight
        self._pending = _END  # a batch read but left for the next chunk
        self.steps = 0        # batches handed out so far

    def _next_parts(self):
        if self._pending is not _END:
            parts, self._pending = self._pending, _END
            return parts
        element = next(self._batches, _END)
        if element is _END:
            return _END
        x, y, sw = unpack(element, self.argname)
        return (x, y, sw) if self.targets else (x, None, None)

    def next(self, k):
        """The next chunk of up to ``k`` batches, or None at the end of the input."""
        batches, sizes, nbytes = [], [], 0
        while len(batches) < k and nbytes < _MAX_CHUNK_BYTES:
            parts = self._next_parts()
            if parts is _END:
                break
            n = _rows(parts)
            if batches and (n is None or n > sizes[0] or _kind(parts) != _kind(batches[0])):
                self._pending = parts  # it starts the next chunk
                break
            batches.append(parts)
            sizes.append(n)
            if n is not None:
                nbytes += np.asarray(parts[0]).nbytes
            if n is None or n < sizes[0]:  # a batch of its own, or the smaller last one
                break
        if not batches:
            return None
        first = self.steps
        self.steps += len(batches)
        if len(batches) == 1:
            x, y, sw = self._prepare(batches[0], first)
            return Chunk(x, y, sw, [x.shape[0]], first)
        try:
            x, y, sw = self._prepare(tuple(_concat(col) for col in zip(*batches)), first)
        except (ValueError, TypeError):
            for i, parts in enumerate(batches):  # the batch at fault names itself
                self._prepare(parts, first + i)
            raise
        return Chunk(x, y, sw, sizes, first)

    def _prepare(self, parts, step):
        """One batch (or a chunk's concatenation) as arrays, checked as array input is."""
        model = self.model
        x, y, sw = parts
        of = "" if self.argname == "x" else " of " + self.argname
        where = " (batch %d)" % step
        try:
            x = _data.prepare_x(model, x, self.argname + where)
            if self.targets:
                y = _data.prepare_y(model, y, x.shape[0], "y" + of + where)
                sw = _data.prepare_sample_weight(sw, x.shape[0], "sample_weight" + of + where)
        except ValueError as exc:
            if "expected a batch of samples" in str(exc):
                raise ValueError("%s; a Dataset of single samples needs .batch(batch_size)"
                                 % exc) from None
            raise
        if x.shape[0] == 0:
            raise ValueError("%s%s: expected at least one sample, got an empty batch"
                             % (self.argname, where))
        if self.class_weight is not None:
            sw = _data.class_weight_to_sample_weight(self.class_weight, y,
                                                     model.compiled_loss, sw)
        return x, y, sw
