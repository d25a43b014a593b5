"""``Dense``: ``activation(x @ kernel + bias)`` in one fused kernel call.

Its node (:class:`bprop.engine.nodes.DenseNode`) runs ``dense_forward``
(GEMM + bias + activation in one pass) and ``dense_backward`` (activation
gradient, dW, db and dx in one call).  Inputs of rank > 2 are treated as a
batch of rows over the last axis, as Keras does.
"""
from __future__ import annotations

import numbers

from ._kernel_layer import KernelLayer

__all__ = ["Dense"]


class Dense(KernelLayer):
    """Fully connected layer.

    Arguments: ``units`` (output width), ``activation`` (name, function or
    None), ``use_bias`` (True), ``kernel_initializer`` ("glorot_uniform"),
    ``bias_initializer`` ("zeros"), ``kernel_regularizer``,
    ``bias_regularizer``, ``activity_regularizer`` (``bprop.regularizers``
    L1/L2/L1L2, or None), ``input_dim`` / ``input_shape`` to fix the input
    width ahead of data, plus the common Layer arguments.

    Shapes: x (batch, ..., in) -> y (batch, ..., units); kernel (in, units);
    bias (units,).
    """

    _build_with_batch_axis = False

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 input_dim=None, **kwargs):
        if input_dim is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_dim,)
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError("units: expected a positive integer, got %r" % (units,))
        self.units = int(units)
        self._init_kernel(activation, use_bias, kernel_initializer, bias_initializer,
                          kernel_regularizer, bias_regularizer, activity_regularizer)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape or input_shape[-1] is None:
            raise ValueError(
                "input_shape: Dense %r needs a known last axis, got %s"
                % (self.name, (None,) + input_shape)
            )
        self._add_kernel((int(input_shape[-1]), self.units), self.units)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def _check_input(self, x):
        # Like Keras' InputSpec for Dense: any rank >= 2, only the last axis is fixed.
        self._check_array(x)
        if self.kernel is None:
            return
        in_dim = self.kernel.shape[0]
        if x.ndim < 2:
            raise ValueError("x: layer %r expects a batch of rows (batch, ..., %d), got shape %s"
                             % (self.name, in_dim, x.shape))
        if x.shape[-1] != in_dim:
            raise ValueError("x: layer %r expects input shape (None, ..., %d), got %s"
                             % (self.name, in_dim, x.shape))

    def _plan_node(self, in_shape, trainable):
        from ..engine.nodes import DenseNode

        if len(in_shape) < 1:
            raise ValueError("x: layer %r expects a batch of rows (batch, ..., features), got "
                             "samples of shape %s" % (self.name, tuple(in_shape)))
        self._maybe_build(tuple(in_shape))
        if in_shape[-1] != self.kernel.shape[0]:
            raise ValueError("x: layer %r expects input shape (None, ..., %d), got %s"
                             % (self.name, self.kernel.shape[0], (None,) + tuple(in_shape)))
        return DenseNode(self, in_shape, self.activation_name, trainable)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        config.update(self._kernel_config())
        return config
