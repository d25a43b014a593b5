"""Keras' pooling layers (channels_last) on the core's pooling kernels:
MaxPooling2D/1D, AveragePooling2D/1D (``max_pool2d`` keeps the argmax for the
backward; 'same' padding takes no part), GlobalAveragePooling2D/1D and
GlobalMaxPooling2D/1D.  The 1-D layers run as 2-D ones on images of height 1.
"""
from __future__ import annotations

from ._spatial import (check_data_format, check_rank, normalize_padding, normalize_tuple,
                       spatial_output)
from .base import Layer

__all__ = ["MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling1D",
           "GlobalAveragePooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling2D",
           "GlobalMaxPooling1D"]


def _image(shape, rank):
    """A per-sample shape as the (h, w, c) image the kernels see."""
    return tuple(shape) if rank == 2 else (1,) + tuple(shape)


class _Pooling(Layer):
    _rank = 2
    _kind = "max"
    _build_with_batch_axis = False

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, self._rank, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(
            strides, self._rank, "strides")
        self.padding = normalize_padding(padding, type(self).__name__)
        check_data_format(data_format)

    def compute_output_shape(self, input_shape):
        shape = check_rank(self, input_shape, self._rank)
        return spatial_output(self, shape[:-1], self.pool_size, self.strides,
                              (1,) * self._rank, self.padding) + (shape[-1],)

    def _plan_node(self, in_shape, trainable):
        from ..engine.spatial_nodes import Pool2DNode

        shape = check_rank(self, in_shape, self._rank)
        self._maybe_build(shape)
        out_shape = self.compute_output_shape(shape)
        flat = (lambda v: tuple(v)) if self._rank == 2 else (lambda v: (1,) + tuple(v))
        return Pool2DNode(self, shape, out_shape, _image(shape, self._rank),
                          _image(out_shape, self._rank), flat(self.pool_size), flat(self.strides),
                          self.padding, self._kind, trainable)

    def _check_input(self, x):
        self._check_array(x)
        check_rank(self, x.shape[1:], self._rank)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "strides": self.strides,
                       "padding": self.padding, "data_format": "channels_last"})
        return config


class MaxPooling2D(_Pooling):
    """``MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid")``: the max of each window."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """``AveragePooling2D(pool_size=(2, 2), strides=None, padding="valid")``: the mean of each
    window ('same': over the positions inside the image)."""

    _kind = "avg"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling):
    """``MaxPooling1D(pool_size=2, strides=None, padding="valid")`` over (length, channels)."""

    _rank = 1


class AveragePooling1D(_Pooling):
    """``AveragePooling1D(pool_size=2, strides=None, padding="valid")`` over (length, channels)."""

    _rank = 1
    _kind = "avg"


class _GlobalPooling(Layer):
    _rank = 2
    _kind = "avg"
    _build_with_batch_axis = False

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        shape = check_rank(self, input_shape, self._rank)
        return ((1,) * self._rank if self.keepdims else ()) + (shape[-1],)

    def _plan_node(self, in_shape, trainable):
        from ..engine.spatial_nodes import GlobalAvgPoolNode, Pool2DNode

        shape = check_rank(self, in_shape, self._rank)
        self._maybe_build(shape)
        image = _image(shape, self._rank)
        out_shape = self.compute_output_shape(shape)
        if self._kind == "avg":
            return GlobalAvgPoolNode(self, shape, out_shape, image, trainable)
        window = image[:2]  # one window over the whole image
        return Pool2DNode(self, shape, out_shape, image, (1, 1, image[2]), window, window,
                          "valid", "max", trainable)

    def _check_input(self, x):
        self._check_array(x)
        check_rank(self, x.shape[1:], self._rank)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": "channels_last", "keepdims": self.keepdims})
        return config


class GlobalAveragePooling2D(_GlobalPooling):
    """(batch, h, w, c) -> (batch, c): the mean over every position (``keepdims``: (1, 1, c))."""


class GlobalAveragePooling1D(_GlobalPooling):
    """(batch, length, c) -> (batch, c): the mean over the length."""

    _rank = 1


class GlobalMaxPooling2D(_GlobalPooling):
    """(batch, h, w, c) -> (batch, c): the max over every position."""

    _kind = "max"


class GlobalMaxPooling1D(_GlobalPooling):
    """(batch, length, c) -> (batch, c): the max over the length."""

    _rank = 1
    _kind = "max"
