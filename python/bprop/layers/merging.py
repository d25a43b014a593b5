"""Keras' merge layers, for functional graphs: ``Concatenate``, ``Add``, ``Subtract``,
``Multiply``, ``Average``, ``Maximum``, ``Minimum`` and their functional forms
(``concatenate([a, b])``, ``add([a, b])``, ...).

Each takes a list of tensors and computes with the autodiff's tensor ops, so
a graph using them trains through the GradientTape.
"""
from __future__ import annotations

import numbers

from .base import Layer

__all__ = ["Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum"]


class _Merge(Layer):
    _takes_list = True
    _build_with_batch_axis = False
    _min_inputs = 2

    def _check_shapes(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) < self._min_inputs or \
                not all(isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError("inputs: layer %r (%s) expects a list of at least %d tensors, got %r"
                             % (self.name, type(self).__name__, self._min_inputs, shapes))
        return [tuple(s) for s in shapes]

    def build(self, input_shape):
        shapes = self._check_shapes(input_shape)
        self.compute_output_shape(shapes)
        self._build_input_shape = tuple(shapes)
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        if any(s != shapes[0] for s in shapes):
            raise ValueError("inputs: layer %r (%s) expects tensors of one shape, got %s"
                             % (self.name, type(self).__name__,
                                [(None,) + s for s in shapes]))
        return shapes[0]

    def _check_input(self, x):
        raise TypeError("x: layer %r (%s) takes a list of tensors" % (self.name,
                                                                     type(self).__name__))

    def _plan_node(self, in_shape, trainable):
        raise TypeError("layer %r (%s) takes several inputs: use it in a functional model"
                        % (self.name, type(self).__name__))

    def call(self, inputs):
        from .. import autodiff

        out = inputs[0]
        for t in inputs[1:]:
            out = self._combine(autodiff, out, t)
        return out


class Add(_Merge):
    """The sum of its inputs."""

    def _combine(self, ad, a, b):
        return ad.add(a, b)


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def _check_shapes(self, shapes):
        shapes = super()._check_shapes(shapes)
        if len(shapes) != 2:
            raise ValueError("inputs: layer %r (Subtract) expects exactly 2 tensors, got %d"
                             % (self.name, len(shapes)))
        return shapes

    def _combine(self, ad, a, b):
        return ad.subtract(a, b)


class Multiply(_Merge):
    """The elementwise product of its inputs."""

    def _combine(self, ad, a, b):
        return ad.multiply(a, b)


class Maximum(_Merge):
    def _combine(self, ad, a, b):
        return ad.maximum(a, b)


class Minimum(_Merge):
    def _combine(self, ad, a, b):
        return ad.minimum(a, b)


class Average(_Merge):
    """The mean of its inputs."""

    def call(self, inputs):
        from .. import autodiff

        total = inputs[0]
        for t in inputs[1:]:
            total = autodiff.add(total, t)
        return autodiff.multiply(total, 1.0 / len(inputs))


class Concatenate(_Merge):
    """``Concatenate(axis=-1)``: joins its inputs along ``axis`` (counting the batch axis)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis == 0:
            raise ValueError("axis: expected a non-zero int (axis 0 is the batch), got %r"
                             % (axis,))
        self.axis = int(axis)

    def _sample_axis(self, rank):
        axis = self.axis - 1 if self.axis > 0 else rank + self.axis
        if not 0 <= axis < rank:
            raise ValueError("axis: layer %r cannot concatenate samples of rank %d along axis %d"
                             % (self.name, rank, self.axis))
        return axis

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        rank = len(shapes[0])
        axis = self._sample_axis(rank)
        for s in shapes:
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0]))
                                     if i != axis):
                raise ValueError("inputs: layer %r (Concatenate, axis=%d) expects tensors equal "
                                 "but along that axis, got %s" % (self.name, self.axis,
                                                                 [(None,) + x for x in shapes]))
        out = list(shapes[0])
        out[axis] = None if any(s[axis] is None for s in shapes) else sum(s[axis] for s in shapes)
        return tuple(out)

    def call(self, inputs):
        from .. import autodiff

        rank = len(inputs[0].shape) - 1
        return autodiff.concat(list(inputs), axis=self._sample_axis(rank) + 1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)
