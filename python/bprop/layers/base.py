"""``Layer``: the base class of every bprop layer (and of ``Sequential``).

A layer owns its weights as :class:`bprop.Variable` objects.  What it
computes it states once, as a node of a step plan (:meth:`Layer._plan_node`,
see ``bprop/engine/nodes.py``): the kernels of its forward and backward pass,
run by the core plan or op by op through a *backend* (``bprop.ops`` by
default, ``bprop.reference`` for ``backend="numpy"``).  A layer keeps no
buffers of its own for training or prediction: those belong to the plan of
each call, so one model serves many threads.

A Keras-style custom layer overrides ``call(inputs, training=None)`` with
tensor ops; the plan runs it through the GradientTape.  ``layer(x)``
(``__call__``) is the call for users: a new array for array input, a tape op
for Tensor input or under a GradientTape.

``forward(x, training)`` / ``backward(dy)`` / ``grads`` run the layer's own
node on arrays, for tests and notebooks; they keep the last call's state on
the layer, so they are not for concurrent use.
"""
from __future__ import annotations

import collections
import contextlib
import functools
import numbers
import re
import sys
import threading

import numpy as np

from .. import initializers as _initializers
from .. import utils as _utils
from ..variables import Variable, float_dtype

__all__ = ["Layer", "normalize_shape", "clear_name_counters"]

# Per-base-name counters that give "dense", "dense_1", ... as Keras does.
_name_counts = collections.defaultdict(int)


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


class _StoredWeights(threading.local):
    """While loading a file: the stored arrays add_weight takes in turn."""

    source = None


_stored = _StoredWeights()


@contextlib.contextmanager
def weights_from(arrays, source):
    """Layers built inside take their weights from ``arrays`` in order, checked
    against the shape each asks for, instead of running an initializer: a
    file whose architecture asks for a huge layer fails on the shapes before
    anything is allocated.  ``source`` (a file name) goes into the errors."""
    previous = _stored.source
    _stored.source = (list(arrays), [0], source)
    try:
        yield
        arrays_, used, _ = _stored.source
        if used[0] != len(arrays_):
            raise ValueError("%s: holds %d weights but the architecture has %d"
                             % (source, len(arrays_), used[0]))
    finally:
        _stored.source = previous


def _take_stored(shape, dtype, name):
    arrays, used, source = _stored.source
    if used[0] >= len(arrays):
        raise ValueError("%s: the architecture asks for more weights than the %d stored "
                         "(weight %r)" % (source, len(arrays), name))
    value = np.asarray(arrays[used[0]])
    if value.shape != tuple(shape) or value.dtype.kind != "f":
        raise ValueError("%s: weight %d (%r) is stored as %s %s, the architecture asks for "
                         "shape %s" % (source, used[0], name, value.dtype, value.shape,
                                       tuple(shape)))
    used[0] += 1
    return value.astype(dtype, copy=False)


@functools.lru_cache(maxsize=512)
def _takes_training(fn):
    """Whether a call function declares ``training`` (or takes ``**kwargs``);
    cached, as a custom layer's call runs on every step."""
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "training" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _call_with_training(layer, inputs, training):
    """``layer.call(inputs, training=...)``, or without ``training`` when the
    layer's call does not take it (Keras passes it only where declared)."""
    call = layer.call
    fn = getattr(call, "__func__", None)  # a method: its function (bound methods are new each time)
    takes = _takes_training(fn) if fn is not None else _takes_training.__wrapped__(call)
    if takes:
        return call(inputs, training=training)
    return call(inputs)


def _unique(variables):
    out, seen = [], set()
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def clear_name_counters():
    """Restart automatic layer names ("dense", "dense_1", ...) from scratch."""
    _name_counts.clear()


def _snake_case(name):
    # Keras' rule: "MaxPooling2D" -> "max_pooling2d", "InputLayer" -> "input_layer".
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


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
        object.__setattr__(self, "_sublayers", {})
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
        self._direct_nodes = {}   # the node forward() runs, per input shape
        self._direct = None       # (node, input shape) of the last forward()

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
        self._direct_nodes = {}

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

    # Layers assigned as attributes (self.dense = Dense(8), or a list of them)
    # are tracked, as Keras does: their weights are this layer's weights too.
    def __setattr__(self, name, value):
        tracked = self.__dict__.get("_sublayers")
        if tracked is not None and not name.startswith("_"):
            tracked.pop(name, None)
            if isinstance(value, Layer) or (isinstance(value, (list, tuple)) and value and
                                            all(isinstance(v, Layer) for v in value)):
                tracked[name] = value
        object.__setattr__(self, name, value)

    @property
    def trainable(self):
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value):
        # As in Keras, the flag is set on every layer inside this one too: the
        # layers of a frozen base model all report trainable=False.
        value = bool(value)
        object.__setattr__(self, "_trainable", value)
        for layer in self._inner_layers():
            layer.trainable = value

    def _inner_layers(self):
        """The layers directly inside this one (a model's: its layers)."""
        return self._tracked_layers()

    def _tracked_layers(self):
        """Sublayers assigned as attributes, in assignment order (each once)."""
        out, seen = [], set()
        for value in self.__dict__.get("_sublayers", {}).values():
            for layer in (value if isinstance(value, (list, tuple)) else [value]):
                if id(layer) not in seen:
                    seen.add(id(layer))
                    out.append(layer)
        return out

    def _all_variables(self):
        """Own variables, then the tracked sublayers' (each variable once)."""
        out, seen = [], set()
        for var in list(self._variables) + [v for l in self._tracked_layers() for v in l.weights]:
            if id(var) not in seen:
                seen.add(id(var))
                out.append(var)
        return out

    @property
    def weights(self):
        """All weight Variables (trainable first, as Keras lists them)."""
        return self.trainable_variables + self.non_trainable_variables

    @property
    def trainable_variables(self):
        if not self.trainable:
            return []
        own = [v for v in self._variables if v.trainable]
        subs = [v for l in self._tracked_layers() for v in l.trainable_variables]
        return _unique(own + subs)

    @property
    def non_trainable_variables(self):
        if not self.trainable:
            return self._all_variables()
        own = [v for v in self._variables if not v.trainable]
        subs = [v for l in self._tracked_layers() for v in l.non_trainable_variables]
        return _unique(own + subs)

    # Keras' other names; properties that look the attribute up on the instance,
    # so a subclass (Sequential) that overrides trainable_variables is followed.
    @property
    def trainable_weights(self):
        return self.trainable_variables

    @property
    def non_trainable_weights(self):
        return self.non_trainable_variables

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
    def add_weight(self, shape=None, initializer="glorot_uniform", name=None, trainable=True,
                   regularizer=None, dtype=None, constraint=None, **kwargs):
        """Create, register and return a Variable of ``shape`` in the layer's dtype.

        ``regularizer`` (a ``bprop.regularizers`` L1/L2/L1L2 or its name) adds its
        penalty of the weight to the training loss and to ``losses``.  Keras' other
        keywords that change nothing here (``autocast``, ``aggregation``,
        ``use_resource``, ``synchronization``) are accepted."""
        from .. import regularizers as _regularizers

        unknown = set(kwargs) - {"autocast", "aggregation", "use_resource", "synchronization",
                                 "experimental_autocast", "caching_device"}
        if unknown:
            raise TypeError("add_weight: unexpected keyword arguments %s" % sorted(unknown))
        if constraint is not None:
            raise ValueError("constraint: weight constraints are not supported (None only)")
        if shape is None:
            shape = ()
        if dtype is not None and float_dtype(dtype) != self._dtype:
            raise ValueError("dtype: layer %r computes in %s; its weights must too, got %s"
                             % (self.name, self._dtype, dtype))
        if initializer is None:
            initializer = "glorot_uniform"
        init = _initializers.get(initializer)
        label = "%s/%s" % (self.name, name or "weight%d" % len(self._variables))
        if _stored.source is not None:
            value = _take_stored(shape, self._dtype, label)
        else:
            value = init(tuple(shape), dtype=self._dtype)
        var = Variable(value, dtype=self._dtype, trainable=trainable, name=label)
        self._variables.append(var)
        reg = _regularizers.get(regularizer)
        if reg is not None:
            self.__dict__.setdefault("_added_regularizers", []).append((var, reg))
        return var

    def _weight_regularizers(self):
        """(Variable, regularizer) for every regularized weight here and in the tracked
        sublayers: kernel_regularizer/bias_regularizer and add_weight(regularizer=...)."""
        out = list(self.__dict__.get("_added_regularizers", []))
        for attr in ("kernel", "bias", "depthwise_kernel"):
            var = self.__dict__.get(attr)
            reg = self.__dict__.get(attr + "_regularizer")
            if var is not None and reg is not None and isinstance(var, Variable):
                out.append((var, reg))
        for sub in self._tracked_layers():
            out.extend(sub._weight_regularizers())
        return out

    @property
    def losses(self):
        """The regularization penalties of the layer's weights now, as scalar Tensors
        (Keras' ``layer.losses``; the compiled step adds them to the loss)."""
        from .. import autodiff

        return [autodiff.convert_to_tensor(reg(var)) for var, reg in self._weight_regularizers()]

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
    # bprop's own layers build from the per-sample shape; a user's subclass
    # gets Keras' convention, the shape with the batch axis (None, ...).
    _build_with_batch_axis = True

    def build(self, input_shape):
        """Create the weights for inputs of per-sample shape ``input_shape``."""
        shape = tuple(input_shape)
        if type(self)._build_with_batch_axis and shape and shape[0] is None:
            shape = shape[1:]
        self._build_input_shape = shape
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            shape = tuple(input_shape)
            self.build(((None,) + shape) if type(self)._build_with_batch_axis else shape)
            # A Keras-style build() need not call super().build(): mark it built here.
            if self._build_input_shape is None:
                self._build_input_shape = shape
            self.built = True

    def compute_output_shape(self, input_shape):
        """Per-sample output shape for per-sample ``input_shape``: unchanged, or for
        a layer with its own ``call``, the shape that call gives a batch of one."""
        if type(self).call is Layer.call:
            return tuple(input_shape)
        cache = self.__dict__.setdefault("_output_shapes", {})
        key = tuple(input_shape)
        if key not in cache:
            from .. import autodiff

            probe = autodiff.Tensor(np.zeros((1,) + key, dtype=self._dtype))
            cache[key] = tuple(np.shape(_call_with_training(self, probe, False)))[1:]
        return cache[key]

    # ------------------------------------------------------------ the plan
    def _plan_node(self, in_shape, trainable):
        """This layer's node in a step plan for inputs of per-sample ``in_shape``
        (``trainable``: the Variables the plan trains), or None when the layer
        only reshapes.  Built-in layers return their kernels' node; a layer with
        its own ``call`` runs through the tape, one written against the older
        ``forward``/``backward`` API through those."""
        from ..engine.nodes import LegacyNode, TapeNode

        self._maybe_build(tuple(in_shape))
        out_shape = tuple(self.compute_output_shape(tuple(in_shape)))
        if type(self).forward is not Layer.forward:
            return LegacyNode(self, in_shape, out_shape, trainable)
        if type(self).call is Layer.call:
            raise NotImplementedError("%s must implement call(inputs, training=None)"
                                      % type(self).__name__)
        return TapeNode(self, in_shape, out_shape, trainable)

    def call(self, inputs, training=None):
        """The layer's computation on Tensors; override it in a custom layer."""
        raise NotImplementedError("%s must implement call(inputs, training=None)"
                                  % type(self).__name__)

    def _next_seed_counter(self):
        """For layers that draw randomness in direct calls (Dropout)."""
        return 0

    # ------------------------------------------------------------ running on arrays
    def forward(self, x, training=False):
        """The layer's node on an array ``x`` (batch, ...) -> the output array (a
        buffer the next call overwrites); state kept for :meth:`backward`."""
        from ..engine.nodes import StepContext

        self._check_input(x)
        in_shape = tuple(x.shape[1:])
        self._maybe_build(in_shape)
        trainable = tuple(self.trainable_variables)
        key = (in_shape, trainable)
        if key not in self._direct_nodes:
            self._direct_nodes = {key: self._plan_node(in_shape, set(trainable))}
        node = self._direct_nodes[key]
        n = x.shape[0]
        ctx = StepContext(bool(training), self._next_seed_counter() if training else 0)
        if node is None:  # a layer that only reshapes
            self._direct = (None, x.shape)
            return x.reshape((n,) + tuple(self.compute_output_shape(in_shape)))
        x2 = np.ascontiguousarray(x).reshape(n, node.in_size)
        y = node.forward(self._backend, x2, n, ctx)
        self._direct = (node, x.shape)
        if y is x2:  # passed through (a dropout outside training)
            return x
        return y.reshape((n,) + tuple(self.compute_output_shape(in_shape)))

    def backward(self, dy, need_dx=True):
        """Gradients of the last :meth:`forward`: returns dx (None unless
        ``need_dx``) and sets ``grads`` (one per trainable variable)."""
        if self._direct is None:
            raise RuntimeError("%s %r: backward() called before forward()"
                               % (type(self).__name__, self.name))
        node, x_shape = self._direct
        n = x_shape[0]
        if node is None:
            self.grads = []
            return np.reshape(dy, x_shape) if need_dx else None
        dy2 = np.ascontiguousarray(dy, dtype=node.dtype).reshape(n, node.out_size)
        dx = node.backward(self._backend, dy2, n, need_dx)
        self.grads = [node.grads[v] for v in self.trainable_variables if v in node.grads]
        return None if dx is None else dx.reshape(x_shape)

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

    # A layer whose call takes a list of inputs (the merge layers, a model
    # with several inputs): layer([a, b]) passes the list on as Tensors.
    _takes_list = False

    def __call__(self, x, training=None, **kwargs):
        """Apply the layer, as in Keras: on arrays or Tensors it returns a Tensor (taped
        under a GradientTape); on KerasTensors (``keras.Input``) it adds the call to a
        functional graph and returns KerasTensors."""
        from .keras_tensor import call_symbolic, is_symbolic

        if kwargs.pop("mask", None) is not None:
            raise ValueError("mask: bprop layers do not support masking, got a mask")
        if kwargs:
            raise TypeError("%s.__call__: unexpected keyword arguments %s"
                            % (type(self).__name__, sorted(kwargs)))
        if is_symbolic(x):
            return call_symbolic(self, x, None if training is None else {"training": training})
        from .. import autodiff

        if self._takes_list and isinstance(x, (list, tuple)):
            tensors = [v if isinstance(v, (autodiff.Tensor, Variable))
                       else autodiff.Tensor(np.asarray(v, dtype=self._dtype)) for v in x]
            shapes = [tuple(t.shape[1:]) for t in tensors]
            self._maybe_build(shapes)
            out = _call_with_training(self, tensors, bool(training))
            return out if isinstance(out, autodiff.Tensor) else autodiff.convert_to_tensor(out)
        if isinstance(x, (autodiff.Tensor, Variable)) or autodiff.tape_is_recording():
            return autodiff.call_layer(self, x, training)
        x = np.asarray(x)
        if x.dtype != self._dtype:
            # Keras casts inputs to the layer's dtype; so do we, on this user path.
            x = x.astype(self._dtype)
        x = np.ascontiguousarray(x)
        self._check_input(x)
        out = self._call_on_array(x, bool(training))
        if isinstance(out, list):  # a model with several outputs
            return [autodiff.Tensor._wrap(o) for o in out]
        return autodiff.Tensor._wrap(out)

    def _call_on_array(self, x, training):
        """A fresh node per call (its own buffers: safe from several threads)."""
        from ..engine.nodes import StepContext

        in_shape = tuple(x.shape[1:])
        self._maybe_build(in_shape)
        node = self._plan_node(in_shape, set())
        n = x.shape[0]
        if node is None:
            return x.reshape((n,) + tuple(self.compute_output_shape(in_shape))).copy()
        ctx = StepContext(training, self._next_seed_counter() if training else 0)
        y = node.forward(self._backend, x.reshape(n, node.in_size), n, ctx)
        return np.array(y, copy=True).reshape((n,) + tuple(self.compute_output_shape(in_shape)))

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
