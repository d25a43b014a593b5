"""``Conv2D`` and ``Conv1D``: Keras' convolutions (channels_last), on the core's
``conv2d`` (im2col tiles into the GEMM, bias and activation fused).

Weights as Keras stores them: the kernel (kh, kw, in, filters) for Conv2D,
(k, in, filters) for Conv1D; the bias (filters,).  A Conv1D runs as a
Conv2D over images of height 1.
"""
from __future__ import annotations

import numbers

from ._kernel_layer import KernelLayer
from ._spatial import (check_data_format, check_rank, normalize_padding, normalize_tuple,
                       spatial_output)

__all__ = ["Conv2D", "Conv1D"]


class _Conv(KernelLayer):
    """The shared body of Conv1D and Conv2D (``_rank`` spatial axes)."""

    _rank = 2
    _build_with_batch_axis = False

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        rank = self._rank
        if isinstance(filters, bool) or not isinstance(filters, numbers.Integral) or filters < 1:
            raise ValueError("filters: expected a positive integer, got %r" % (filters,))
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding, type(self).__name__)
        check_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        if groups != 1:
            raise ValueError("groups: bprop supports only groups=1, got %r" % (groups,))
        if kernel_constraint is not None or bias_constraint is not None:
            raise ValueError("kernel_constraint, bias_constraint: not supported (None only)")
        self._init_kernel(activation, use_bias, kernel_initializer, bias_initializer,
                          kernel_regularizer, bias_regularizer, activity_regularizer)

    def build(self, input_shape):
        shape = check_rank(self, input_shape, self._rank)
        self._add_kernel(self.kernel_size + (int(shape[-1]), self.filters), self.filters)
        super().build(shape)

    def compute_output_shape(self, input_shape):
        shape = check_rank(self, input_shape, self._rank)
        return spatial_output(self, shape[:-1], self.kernel_size, self.strides,
                              self.dilation_rate, self.padding) + (self.filters,)

    def _as_2d(self, values, fill):
        return tuple(values) if self._rank == 2 else (fill,) + tuple(values)

    def _plan_node(self, in_shape, trainable):
        from ..engine.spatial_nodes import Conv2DNode

        shape = check_rank(self, in_shape, self._rank)
        self._maybe_build(shape)
        if shape[-1] != self.kernel.shape[-2]:
            raise ValueError("x: layer %r expects %d input channels, got samples of shape %s"
                             % (self.name, self.kernel.shape[-2], (None,) + shape))
        out_shape = self.compute_output_shape(shape)
        return Conv2DNode(self, shape, out_shape, self._as_2d(shape, 1),
                          self._as_2d(out_shape, 1), self._as_2d(self.kernel_size, 1),
                          self._as_2d(self.strides, 1), self._as_2d(self.dilation_rate, 1),
                          self.padding, self.activation_name, trainable)

    def _check_input(self, x):
        self._check_array(x)
        check_rank(self, x.shape[1:], self._rank)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
            "padding": self.padding, "data_format": "channels_last",
            "dilation_rate": self.dilation_rate, "groups": 1,
        })
        config.update(self._kernel_config())
        return config


class Conv2D(_Conv):
    """``Conv2D(filters, kernel_size, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
    activation=None, use_bias=True, kernel_initializer="glorot_uniform", ...)``.

    x (batch, h, w, in) -> (batch, oh, ow, filters): 'valid' keeps whole windows,
    'same' gives oh = ceil(h / stride).
    """

    _rank = 2


class Conv1D(_Conv):
    """``Conv1D(filters, kernel_size, strides=1, padding="valid", dilation_rate=1, ...)``:
    x (batch, length, in) -> (batch, out_length, filters)."""

    _rank = 1
