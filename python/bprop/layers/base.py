"""``Layer``: the base class of every bprop layer (and of ``Sequential``).

A layer owns its weights as :class:`bprop.Variable` objects and runs its
math through a *backend* (``bprop.ops`` by default, ``bprop.reference`` for
``backend="numpy"``).  The training loop drives it with two methods:

* ``forward(x, training=False) -> y`` computes the output and caches what
  the backward pass needs;
* ``backward(dy, need_dx=True) -> dx`` uses that cache, stores the gradients
  of ``trainable_variables`` (same order) in ``layer.grads`` and returns the
  gradient with respect to the input (None when ``need_dx`` is False).

Both write into buffers the layer keeps per (purpose, shape, dtype), so a
steady-state training step allocates no new arrays.  The consequence: the
array ``forward`` returns is overwritten by the next ``forward`` of the same
layer.  ``layer(x)`` (``__call__``) returns a fresh copy and is the call for
users; under a GradientTape it hands the layer to
``bprop.autodiff.call_layer``.
"""
from __future__ import annotations

import collections
import numbers
import re
import sys

import numpy as np

from .. import initializers as _initializers
from .. import utils as _utils
from ..variables import Variable, float_dtype

__all__ = ["Layer", "normalize_shape", "clear_name_counters"]

# Per-base-name counters that give "dense", "dense_1", ... as Keras does.
_name_counts = collections.defaultdict(int)

# Keep at most this many buffers per layer: predict/evaluate with varying
# batch sizes must not grow memory without bound.
_MAX_BUFFERS = 24


def kept_buffer(buffers, limit, tag, shape, dtype):
    """An uninitialised array for (tag, shape, dtype), kept in the dict ``buffers``
    and returned again on later calls; the dict is emptied once it holds
    ``limit`` arrays, so that ever-changing shapes cannot grow memory without bound."""
    key = (tag, tuple(shape), np.dtype(dtype))
    buf = buffers.get(key)
    if buf is None:
        if len(buffers) >= limit:
            buffers.clear()
        buf = np.empty(shape, dtype=dtype)
        buffers[key] = buf
    return buf


def clear_name_counters():
    """Restart automatic layer names ("dense", "dense_1", ...) from scratch."""
    _name_counts.clear()


def _snake_case(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def normalize_shape(shape, argname):
    """A shape without the batch axis as a tuple of positive ints (None allowed)."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError("%s: expected a tuple of ints, got %r" % (argname, shape)) from None
    out = []
    for d in dims:
        if d is None:
            out.append(None)
        elif isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0:
            out.append(int(d))
        else:
            raise ValueError("%s: expected positive ints (or None), got %r" % (argname, shape))
    return tuple(out)


class Layer:
    """Base layer.

    Arguments common to all layers: ``name``, ``trainable``, ``dtype``
    ("float32" default, or "float64") and ``input_shape`` (the shape of one
    sample, without the batch axis; lets a model build before seeing data).
    """

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None,
                 batch_input_shape=None, **kwargs):
        if kwargs:
            raise TypeError(
                "%s: unrecognized keyword arguments %s" % (type(self).__name__, sorted(kwargs))
            )
        if name is None:
            base = _snake_case(type(self).__name__)
            count = _name_counts[base]
            _name_counts[base] += 1
            name = base if count == 0 else "%s_%d" % (base, count)
        elif not isinstance(name, str) or not name:
            raise TypeError("name: expected a non-empty string, got %r" % (name,))
        self.name = name
        self.trainable = bool(trainable)
        self._explicit_dtype = dtype is not None
        self._dtype = float_dtype(np.float32 if dtype is None else dtype)
        if batch_input_shape is not None and input_shape is None:
            input_shape = tuple(batch_input_shape)[1:]
        self._input_shape_arg = (
            None if input_shape is None else normalize_shape(input_shape, "input_shape")
        )
        self.built = False
        self._build_input_shape = None
        self._variables = []
        self.grads = []
        self._backend = _utils.get_backend(None)
        self._buffers = {}
        # Set by a model for its last layer when the loss takes logits.
        self._emit_logits = False

    # ------------------------------------------------------------ properties
    @property
    def dtype(self):
        """The layer's float dtype name ("float32" or "float64")."""
        return self._dtype.name

    @property
    def backend(self):
        return self._backend

    def set_backend(self, backend):
        """Run this layer on ``backend`` ("core", "numpy" or a kernel module)."""
        self._backend = _utils.get_backend(backend)
        self._buffers.clear()

    def _set_dtype(self, dtype):
        """Adopt a model's dtype unless the user chose one (not once weights exist)."""
        if self._explicit_dtype:
            return
        if self._variables and float_dtype(dtype) != self._dtype:
            raise ValueError(
                "dtype: layer %r is already built as %s, cannot change to %s"
                % (self.name, self._dtype, float_dtype(dtype))
            )
        self._dtype = float_dtype(dtype)

    @property
    def weights(self):
        """All weight Variables (trainable first, as Keras lists them)."""
        return self.trainable_variables + self.non_trainable_variables

    @property
    def trainable_variables(self):
        if not self.trainable:
            return []
        return [v for v in self._variables if v.trainable]

    @property
    def non_trainable_variables(self):
        if not self.trainable:
            return list(self._variables)
        return [v for v in self._variables if not v.trainable]

    trainable_weights = trainable_variables
    non_trainable_weights = non_trainable_variables

    @property
    def variables(self):
        return self.weights

    def parameters(self):
        """The trainable Variables (micrograd's name for ``trainable_variables``)."""
        return self.trainable_variables

    def count_params(self):
        """Number of scalars in all weights."""
        return int(sum(v.size for v in self.weights))

    @property
    def input_shape(self):
        """(None,) + per-sample input shape, once known."""
        shape = self._build_input_shape or self._input_shape_arg
        return None if shape is None else (None,) + tuple(shape)

    @property
    def output_shape(self):
        shape = self._build_input_shape or self._input_shape_arg
        if shape is None:
            return None
        return (None,) + tuple(self.compute_output_shape(tuple(shape)))

    # ------------------------------------------------------------ weights
    def add_weight(self, shape, initializer="glorot_uniform", name=None, trainable=True):
        """Create, register and return a Variable of ``shape`` in the layer's dtype."""
        init = _initializers.get(initializer)
        value = init(tuple(shape), dtype=self._dtype)
        var = Variable(value, dtype=self._dtype, trainable=trainable,
                       name="%s/%s" % (self.name, name or "weight%d" % len(self._variables)))
        self._variables.append(var)
        return var

    def get_weights(self):
        """Copies of the weight values, in ``weights`` order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        """Set every weight from a list of arrays (same order, shapes as ``get_weights``)."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                "weights: layer %r expects a list of %d arrays, got %d"
                % (self.name, len(own), len(weights))
            )
        for var, w in zip(own, weights):
            w = np.asarray(w)
            if w.shape != var.shape:
                raise ValueError(
                    "weights: layer %r weight %r expects shape %s, got %s"
                    % (self.name, var.name, var.shape, w.shape)
                )
            var.assign(w.astype(var.dtype, copy=False))

    # ------------------------------------------------------------ build / shapes
    def build(self, input_shape):
        """Create the weights for inputs of per-sample shape ``input_shape``."""
        self._build_input_shape = tuple(input_shape)
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(tuple(input_shape))

    def compute_output_shape(self, input_shape):
        """Per-sample output shape for per-sample ``input_shape`` (default: unchanged)."""
        return tuple(input_shape)

    # ------------------------------------------------------------ running
    def forward(self, x, training=False):
        raise NotImplementedError("%s must implement forward()" % type(self).__name__)

    def backward(self, dy, need_dx=True):
        raise NotImplementedError("%s must implement backward()" % type(self).__name__)

    def _buffer(self, tag, shape, dtype=None):
        """A cached uninitialised array for (tag, shape, dtype), reused across calls."""
        return kept_buffer(self._buffers, _MAX_BUFFERS, tag, shape,
                           self._dtype if dtype is None else dtype)

    def _check_input(self, x):
        """Check dtype and (when built) the per-sample shape of an ndarray input."""
        self._check_array(x)
        expected = self._build_input_shape
        if self.built and expected is not None:
            got = x.shape[1:]
            ok = len(got) == len(expected) and all(
                e is None or e == g for e, g in zip(expected, got))
            if not ok:
                raise ValueError(
                    "x: layer %r expects input shape %s, got %s"
                    % (self.name, (None,) + tuple(expected), x.shape)
                )

    def _check_array(self, x):
        """``x`` must be an ndarray of the layer's dtype with a batch axis."""
        if not isinstance(x, np.ndarray):
            raise TypeError(
                "x: layer %r expects a numpy array, got %s" % (self.name, type(x).__name__)
            )
        if x.dtype != self._dtype:
            raise TypeError(
                "x: layer %r expects dtype %s, got %s" % (self.name, self._dtype, x.dtype)
            )
        if x.ndim < 1:
            raise ValueError("x: layer %r expects a batch of samples, got a scalar" % self.name)

    def __call__(self, x, training=None):
        """Apply the layer: ndarray in, new ndarray out; taped under a GradientTape."""
        autodiff = sys.modules.get("bprop.autodiff")
        if isinstance(x, Variable):
            from .. import autodiff  # noqa: F811 - a Variable input always goes through the tape
        if autodiff is not None and (
            isinstance(x, (autodiff.Tensor, Variable)) or autodiff.tape_is_recording()
        ):
            return autodiff.call_layer(self, x, training)
        x = np.asarray(x)
        if x.dtype != self._dtype:
            # Keras casts inputs to the layer's dtype; so do we, on this user path.
            x = x.astype(self._dtype)
        x = np.ascontiguousarray(x)
        self._maybe_build(x.shape[1:])
        return np.array(self.forward(x, training=bool(training)), copy=True)

    # ------------------------------------------------------------ config
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        shape = self._input_shape_arg
        if shape is not None:
            config["input_shape"] = list(shape)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "input_shape" in config and config["input_shape"] is not None:
            config["input_shape"] = tuple(config["input_shape"])
        return cls(**config)

    def __repr__(self):
        return "<%s name=%s, built=%s>" % (type(self).__name__, self.name, self.built)
