"""``Model``: what every bprop model shares, and Keras' three ways to make one.

* ``Sequential([...])`` (``models/sequential.py``): a stack of layers;
* ``Model(inputs, outputs)`` (``models/functional.py``): a graph of layers
  called on ``keras.Input`` tensors;
* ``class MyModel(Model)`` with layers set in ``__init__`` and a
  ``call(inputs, training=None)``: a subclassed model.

All three compile, fit, evaluate, predict, summarize and save the same way
(:class:`~bprop.models.training.TrainingMixin` runs the loops).  A model
trains on the step plan of its layers (``_plan_layers``): a Sequential or a
chain-shaped functional model on its layers' nodes, in the C++ core; any
other graph and a subclassed model as ONE Python node of the plan, its
``call`` run under the GradientTape (each built-in layer inside still runs
its kernels), the loss, metrics and optimizer update staying in the core.
"""
from __future__ import annotations

import numpy as np

from .. import losses as _losses
from .. import utils as _utils
from ..layers.base import Layer, _call_with_training
from . import saving as _saving
from .summary import format_summary
from .training import TrainingMixin

__all__ = ["Model"]


class Model(TrainingMixin, Layer):
    """``Model(inputs, outputs, name=None)`` builds a functional model; subclass it and
    define ``call(inputs, training=None)`` for a model of your own."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, name=None, trainable=True, dtype=None, backend="core", **kwargs):
        if args:
            raise TypeError("Model: unexpected positional arguments %r (a functional model is "
                            "Model(inputs, outputs); a subclass passes only keywords)" % (args,))
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        self._backend = _utils.get_backend(backend)
        self._sample_shape = None
        self.stop_training = False
        self.history = None
        self._reset_compile_state()

    # ------------------------------------------------------------ structure
    @property
    def layers(self):
        """The model's layers (a subclassed model: those assigned as attributes)."""
        own = self.__dict__.get("_layer_list")
        return own if own is not None else self._tracked_layers()

    def _inner_layers(self):
        return self.layers

    def get_layer(self, name=None, index=None):
        """A layer by name or by index."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError("name: no layer named %r in model %r; layers: %s"
                         % (name, self.name, [l.name for l in self.layers]))

    def _plan_layers(self):
        """What a step plan runs: here the whole ``call`` as one node (see the module)."""
        return [_ModelCall(self)]

    def _plan_node(self, in_shape, trainable):
        raise TypeError("model %r: a model runs as its layers' nodes, not as one node"
                        % self.name)

    def _build_layers(self, sample_shape):
        """A subclassed model builds by calling itself once on a batch of one sample."""
        from .. import autodiff

        shape = tuple(sample_shape)
        if type(self).call is Layer.call:
            raise NotImplementedError("model %r: a subclass of Model must define "
                                      "call(inputs, training=None)" % self.name)
        if self._explicit_dtype:  # Model(dtype="float64"): the layers it holds follow
            _adopt_dtype(self, self._dtype)
        probe = autodiff.Tensor(np.zeros((1,) + shape, dtype=self._dtype))
        out = _call_with_training(self, probe, False)
        self.__dict__.setdefault("_output_shapes", {})[shape] = tuple(np.shape(out))[1:]
        self._sample_shape = shape
        Layer.build(self, shape)

    def _maybe_build(self, input_shape):
        if not self.built:
            self._build_layers(tuple(input_shape))

    def build(self, input_shape=None):
        """Build from ``input_shape`` *with* the batch axis, as Keras: ``build((None, 784))``."""
        if input_shape is None:
            if self._sample_shape is None:
                raise ValueError("input_shape: model %r has no known input shape; pass "
                                 "build((None, ...)) or call it on data first" % self.name)
            input_shape = (None,) + self._sample_shape
        self._build_layers(tuple(input_shape)[1:])

    def _call_on_tensors(self, x, training):
        """``model(x)`` on Tensors (under a GradientTape): its ``call``, each layer inside
        recording itself."""
        from .. import autodiff

        self._maybe_build(tuple(np.shape(x)[1:]))
        out = _call_with_training(self, x, training)
        if isinstance(out, (list, tuple)):
            return [autodiff.convert_to_tensor(o) for o in out]
        return autodiff.convert_to_tensor(out)

    def _call_on_array(self, x, training):
        """``model(x)`` on an array: the outputs, through a plan of this call."""
        self._maybe_build(tuple(x.shape[1:]))
        return self._outputs_from_flat(self._predict_arrays(x, max(x.shape[0], 1),
                                                            training=training))

    def _outputs_from_flat(self, y):
        """Predictions from the plan's (n, output size) rows (one array here)."""
        return y

    # A model with several inputs or outputs (functional) packs them into the
    # plan's one row per sample; a subclassed model takes and gives one tensor.
    def _inputs_from_flat(self, x):
        return x

    def _flat_outputs(self, y):
        return y

    # ------------------------------------------------------------ compile
    def _reset_compile_state(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.compiled_loss = None
        self.compiled_metrics = []
        self._compile_args = None
        self._reset_plans()

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        """Set the optimizer, the loss and the metrics (Keras names, classes or configs).

        ``loss`` is required for ``fit``/``evaluate``.  Keras-only options
        that change nothing here (``run_eagerly``, ``jit_compile``,
        ``steps_per_execution=1``) are accepted; anything else is a TypeError.
        """
        from .. import metrics as _metrics
        from .. import optimizers as _optimizers

        for key, value in kwargs.items():
            if key in ("run_eagerly", "jit_compile", "auto_scale_loss"):
                continue
            if key == "steps_per_execution" and value == 1:
                continue
            if key in ("loss_weights", "weighted_metrics") and value is None:
                continue
            raise TypeError("compile: unsupported keyword argument %s=%r" % (key, value))
        self.optimizer = _optimizers.get(optimizer)
        self.optimizer.set_backend(self._backend)
        self.loss = loss
        self.compiled_loss = None if loss is None else _losses.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, dict)) or not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        loss_name = None if self.compiled_loss is None else self.compiled_loss.fn_name
        self.compiled_metrics = [_metrics.get(m, loss=loss_name) for m in metrics]
        for m in self.compiled_metrics:
            m._check_compilable()  # e.g. several thresholds: not one float per step
        self._compile_args = {"loss": loss, "metrics": list(metrics)}
        self.compiled = True
        self._reset_plans()

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in self.compiled_metrics]

    # ------------------------------------------------------------ weights
    def set_weights(self, weights):
        """Set all weights from a list like :meth:`get_weights` returns (every shape is
        checked before any is assigned)."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError("weights: model %r expects a list of %d arrays, got %d"
                             % (self.name, len(own), len(weights)))
        for i, (var, w) in enumerate(zip(own, weights)):
            w = np.asarray(w)
            if w.shape != var.shape:
                raise ValueError("weights[%d]: expected shape %s (%s), got %s"
                                 % (i, var.shape, var.name, w.shape))
        for var, w in zip(own, weights):
            var.assign(np.asarray(w).astype(var.dtype, copy=False))

    def count_params(self):
        return int(sum(v.size for v in self.weights))

    def _weight_regularizers(self):
        out, seen = [], set()
        for layer in self.layers:
            for var, reg in layer._weight_regularizers():
                if id(var) not in seen:
                    seen.add(id(var))
                    out.append((var, reg))
        return out

    # ------------------------------------------------------------ summary / saving
    def _summary_rows(self):
        """(name (type), output shape, params) per layer; a subclassed model knows no
        shapes of its inner layers ("?"), as Keras prints them."""
        return [("%s (%s)" % (l.name, type(l).__name__), "?", "{:,}".format(l.count_params()))
                for l in self.layers]

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Print a Keras-like table of layers, output shapes and parameter counts."""
        text = format_summary(self, line_length=line_length)
        if print_fn is None:
            print(text)
        else:
            for line in text.split("\n"):
                print_fn(line)

    def get_config(self):
        raise NotImplementedError(
            "model %r: a subclassed model has no config to save; save its weights "
            "(model.save_weights) and rebuild it in code, or implement get_config/from_config"
            % self.name)

    def to_json(self, **kwargs):
        """The architecture as JSON (``keras.models.model_from_json`` rebuilds it)."""
        from .cloning import to_json

        return to_json(self, **kwargs)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Write architecture, weights and optimizer state to one file (atomically)."""
        _saving.save_model(self, filepath, overwrite=overwrite,
                           include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Write only the weights (atomically)."""
        _saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Load weights written by :meth:`save_weights` (or :meth:`save`)."""
        _saving.load_weights(self, filepath)

    def __repr__(self):
        return "<%s name=%s, layers=%d, built=%s>" % (type(self).__name__, self.name,
                                                      len(self.layers), self.built)


def _adopt_dtype(layer, dtype):
    """``dtype`` for every tracked sublayer (recursively) that did not choose its own."""
    for sub in layer._tracked_layers():
        sub._set_dtype(dtype)
        _adopt_dtype(sub, dtype)


class _ModelCall(Layer):
    """A model's ``call`` as one layer of a step plan: a Python node (TapeNode) whose
    weights are the model's.  Inputs arrive as the plan's flat rows; a model with
    several inputs gets them split back (``model._inputs_from_flat``)."""

    _build_with_batch_axis = False

    def __init__(self, model):
        object.__setattr__(self, "_sublayers", {})
        self._model = model
        self.name = model.name
        self.trainable = model.trainable
        self._explicit_dtype = True
        self._dtype = model._dtype
        self._input_shape_arg = None
        self.built = True
        self._build_input_shape = tuple(model._sample_shape)
        self._variables = []
        self.grads = []
        self._backend = model._backend
        self._direct_nodes = {}
        self._direct = None

    @property
    def weights(self):
        return self._model.weights

    @property
    def trainable_variables(self):
        return self._model.trainable_variables

    @property
    def non_trainable_variables(self):
        return self._model.non_trainable_variables

    def compute_output_shape(self, input_shape):
        return tuple(self._model.compute_output_shape(tuple(input_shape)))

    def call(self, inputs, training=None):
        model = self._model
        return model._flat_outputs(_call_with_training(model, model._inputs_from_flat(inputs),
                                                       training))
