"""``Reshape``, ``ZeroPadding2D`` and ``ZeroPadding1D`` (channels_last)."""
from __future__ import annotations

import numbers

import numpy as np

from ._spatial import check_data_format, check_rank
from .base import Layer

__all__ = ["Reshape", "ZeroPadding2D", "ZeroPadding1D"]


class Reshape(Layer):
    """``Reshape(target_shape)``: every sample to ``target_shape`` (one axis may be -1).
    A view: no copy, no node in a plan."""

    _build_with_batch_axis = False

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(target_shape)
        except TypeError:
            raise TypeError("target_shape: expected a tuple of ints, got %r"
                            % (target_shape,)) from None
        if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or (d < 1 and d != -1)
               for d in target) or sum(d == -1 for d in target) > 1:
            raise ValueError("target_shape: expected positive ints and at most one -1, got %r"
                             % (target_shape,))
        self.target_shape = tuple(int(d) for d in target)

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = int(np.prod(input_shape, dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        if -1 in self.target_shape:
            if size % known:
                raise ValueError("target_shape: layer %r cannot reshape samples of shape %s "
                                 "(%d values) to %s" % (self.name, tuple(input_shape), size,
                                                        self.target_shape))
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise ValueError("target_shape: layer %r cannot reshape samples of shape %s (%d "
                             "values) to %s (%d values)" % (self.name, tuple(input_shape), size,
                                                            self.target_shape, known))
        return self.target_shape

    def _plan_node(self, in_shape, trainable):
        self.compute_output_shape(tuple(in_shape))  # refuses a size that does not match
        return None

    def _check_input(self, x):
        self._check_array(x)
        self.compute_output_shape(x.shape[1:])

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


def _pad_pairs(padding, rank):
    """Keras' padding forms as ((before, after),) * rank."""
    def amount(v):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError("padding: expected ints >= 0, got %r" % (padding,))
        return int(v)

    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return ((amount(padding),) * 2,) * rank
    try:
        parts = tuple(padding)
    except TypeError:
        raise TypeError("padding: expected an int, %d ints or %d pairs, got %r"
                        % (rank, rank, padding)) from None
    if rank == 1 and len(parts) == 2 and all(isinstance(p, numbers.Integral) for p in parts):
        return ((amount(parts[0]), amount(parts[1])),)
    if len(parts) != rank:
        raise ValueError("padding: expected an int, %d ints or %d pairs, got %r"
                         % (rank, rank, padding))
    out = []
    for p in parts:
        if isinstance(p, numbers.Integral) and not isinstance(p, bool):
            out.append((amount(p), amount(p)))
        else:
            pair = tuple(p)
            if len(pair) != 2:
                raise ValueError("padding: expected pairs (before, after), got %r" % (padding,))
            out.append((amount(pair[0]), amount(pair[1])))
    return tuple(out)


class _ZeroPadding(Layer):
    _rank = 2
    _build_with_batch_axis = False

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format)
        self.padding = _pad_pairs(padding, self._rank)

    def _pairs2d(self):
        return self.padding if self._rank == 2 else ((0, 0),) + self.padding

    def compute_output_shape(self, input_shape):
        shape = check_rank(self, input_shape, self._rank)
        return tuple(None if d is None else d + a + b
                     for d, (a, b) in zip(shape[:-1], self.padding)) + (shape[-1],)

    def _plan_node(self, in_shape, trainable):
        from ..engine.spatial_nodes import ZeroPad2DNode

        shape = check_rank(self, in_shape, self._rank)
        self._maybe_build(shape)
        image = shape if self._rank == 2 else (1,) + shape
        return ZeroPad2DNode(self, shape, self.compute_output_shape(shape), image,
                             self._pairs2d(), trainable)

    def _check_input(self, x):
        self._check_array(x)
        check_rank(self, x.shape[1:], self._rank)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": [list(p) for p in self.padding],
                       "data_format": "channels_last"})
        return config


class ZeroPadding2D(_ZeroPadding):
    """``ZeroPadding2D(padding=(1, 1))``: an int, (rows, cols) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding1D(_ZeroPadding):
    """``ZeroPadding1D(padding=1)``: an int or (left, right) zeros along the length."""

    _rank = 1

    def get_config(self):
        config = super().get_config()
        config["padding"] = list(self.padding[0])
        return config
