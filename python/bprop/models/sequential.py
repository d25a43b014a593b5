"""``Sequential``: a stack of layers, itself a Layer, trained Keras-style.

    model = bprop.Sequential([
        bprop.layers.Dense(64, activation="relu", input_shape=(784,)),
        bprop.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=5)

This file holds the structure (layers, build, forward/backward chain,
compile, weights, config, summary, saving entry points); the loops of
``fit``/``evaluate``/``predict`` live in :mod:`bprop.models.training`.
``backend="core"`` (default) runs every kernel in ``bprop.ops``,
``backend="numpy"`` in ``bprop.reference``.
"""
from __future__ import annotations

import numpy as np

from .. import layers as _layers
from .. import losses as _losses
from .. import utils as _utils
from ..layers.base import Layer, normalize_shape
from ..variables import float_dtype
from . import saving as _saving
from .summary import format_summary
from .training import TrainingMixin

__all__ = ["Sequential", "Model"]


class Sequential(TrainingMixin, Layer):
    """``Sequential(layers=None, name=None, backend="core", dtype=None)``.

    ``dtype`` ("float32"/"float64") applies to every layer that was not given
    its own.  Shapes: x (batch, *input_shape) -> y (batch, *output_shape).
    """

    def __init__(self, layers=None, name=None, backend="core", dtype=None, trainable=True):
        super().__init__(trainable=trainable, name=name, dtype=dtype)
        self._backend = _utils.get_backend(backend)
        self.layers = []
        self._sample_shape = None
        self.stop_training = False
        self.history = None
        self._reset_compile_state()
        if layers is not None:
            if isinstance(layers, Layer):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    # ------------------------------------------------------------ structure
    def add(self, layer):
        """Append ``layer``; builds it at once when the input shape is known."""
        if not isinstance(layer, Layer):
            raise TypeError("layer: expected a bprop.layers.Layer, got %r" % (layer,))
        if isinstance(layer, _layers.InputLayer):
            # As in Keras, an InputLayer only fixes the input shape; it is not
            # one of model.layers.
            if self.layers or self._sample_shape is not None:
                raise ValueError("layer: an InputLayer/Input can only come first, got %r "
                                 "after %d layer(s)" % (layer.name, len(self.layers)))
            self._sample_shape = tuple(layer._input_shape_arg)
            if not self._explicit_dtype and layer._explicit_dtype:
                self._dtype, self._explicit_dtype = layer._dtype, True
            return
        if any(layer is other for other in self.layers):
            raise ValueError("layer: %r is already in this model" % layer.name)
        names = {other.name for other in self.layers}
        if layer.name in names:
            raise ValueError("layer: name %r is already used in model %r; names must be unique"
                             % (layer.name, self.name))
        self.layers.append(layer)
        layer.set_backend(self._backend)
        self._unify_dtypes()
        if self._sample_shape is None and len(self.layers) == 1:
            shape = layer._input_shape_arg or layer._build_input_shape
            if shape is not None and all(d is not None for d in shape):
                self._sample_shape = tuple(shape)
        if self._sample_shape is not None:
            self._build_layers(self._sample_shape)
        self._reset_plans()

    def pop(self):
        """Remove and return the last layer."""
        if not self.layers:
            raise IndexError("pop: model %r has no layers" % self.name)
        layer = self.layers.pop()
        self._reset_plans()
        return layer

    def _unify_dtypes(self):
        """One float dtype for the whole stack: the model's, else the first explicit one."""
        if self._explicit_dtype:
            dtype = self._dtype
        else:
            explicit = [l._dtype for l in self.layers if l._explicit_dtype]
            dtype = explicit[0] if explicit else np.dtype(np.float32)
        for layer in self.layers:
            layer._set_dtype(dtype)
            if layer._dtype != dtype:
                raise ValueError(
                    "dtype: all layers of a Sequential share one dtype; layer %r is %s, "
                    "the model is %s" % (layer.name, layer._dtype, dtype))
        self._dtype = dtype

    def _set_dtype(self, dtype):
        super()._set_dtype(dtype)
        for layer in self.layers:
            layer._set_dtype(self._dtype)

    def set_backend(self, backend):
        """Run every layer (and the optimizer, once compiled) on ``backend``."""
        super().set_backend(backend)
        for layer in self.layers:
            layer.set_backend(self._backend)
        if self.optimizer is not None:
            self.optimizer.set_backend(self._backend)
        self._reset_plans()

    def build(self, input_shape=None):
        """Build from ``input_shape`` *with* the batch axis, as Keras: ``build((None, 784))``."""
        if input_shape is None:
            if self._sample_shape is None:
                raise ValueError("input_shape: model %r has no known input shape; pass "
                                 "build((None, ...)) or give the first layer input_shape"
                                 % self.name)
            input_shape = (None,) + self._sample_shape
        shape = tuple(input_shape)
        self._build_layers(normalize_shape(shape[1:], "input_shape"))

    def _build_layers(self, sample_shape):
        if not self.layers:
            raise ValueError("layers: model %r has no layers to build" % self.name)
        shape = tuple(sample_shape)
        for layer in self.layers:
            layer._maybe_build(shape)
            shape = tuple(layer.compute_output_shape(shape))
        self._sample_shape = tuple(sample_shape)
        Layer.build(self, self._sample_shape)

    def _maybe_build(self, input_shape):
        if not self.built or any(not l.built for l in self.layers):
            self._build_layers(tuple(input_shape))

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    @property
    def activation_name(self):
        """Activation of the last layer (lets a nested Sequential take the logits path)."""
        return getattr(self.layers[-1], "activation_name", None) if self.layers else None

    def get_layer(self, name=None, index=None):
        """A layer by name or by index."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError("name: no layer named %r in model %r; layers: %s"
                         % (name, self.name, [l.name for l in self.layers]))

    # ------------------------------------------------------------ variables
    @property
    def trainable_variables(self):
        if not self.trainable:
            return []
        return [v for layer in self.layers for v in layer.trainable_variables]

    @property
    def non_trainable_variables(self):
        if not self.trainable:
            return [v for layer in self.layers for v in layer.weights]
        return [v for layer in self.layers for v in layer.non_trainable_variables]

    @property
    def weights(self):
        # Keras orders a model's weights layer by layer.
        return [v for layer in self.layers for v in layer.weights]

    # ------------------------------------------------------------ running
    def _plan_layers(self):
        """The layers a step plan runs, nested models expanded in order."""
        out = []
        for layer in self.layers:
            inner = getattr(layer, "_plan_layers", None)
            out.extend(inner() if inner is not None else [layer])
        return out

    def _plan_node(self, in_shape, trainable):
        raise TypeError("model %r: a model runs as its layers' nodes, not as one node"
                        % self.name)

    def _call_on_array(self, x, training):
        """``model(x)`` on an array: the outputs, through a plan of this call."""
        if not self.layers:
            raise ValueError("layers: model %r has no layers to call" % self.name)
        self._maybe_build(tuple(x.shape[1:]))
        return self._predict_arrays(x, max(x.shape[0], 1), training=training)

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
    # get_weights is Layer's (copies of ``self.weights``, layer by layer here).
    # set_weights differs from Layer's: it checks every shape before it assigns any.
    def set_weights(self, weights):
        """Set all weights from a list like :meth:`get_weights` returns."""
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

    # ------------------------------------------------------------ summary / config / saving
    def summary(self, line_length=None, positions=None, print_fn=None):
        """Print a Keras-like table of layers, output shapes and parameter counts."""
        text = format_summary(self, line_length=line_length)
        if print_fn is None:
            print(text)
        else:
            for line in text.split("\n"):
                print_fn(line)

    def get_config(self):
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype,
            "backend": _utils.backend_name(self._backend),
            "layers": [_layers.serialize(layer) for layer in self.layers],
        }
        if self._sample_shape is not None:
            config["build_input_shape"] = [None] + list(self._sample_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer_configs = config.pop("layers", [])
        build_shape = config.pop("build_input_shape", None)
        dtype = config.pop("dtype", None)
        model = cls(name=config.get("name"), backend=config.get("backend", "core"),
                    dtype=float_dtype(dtype) if dtype else None,
                    trainable=config.get("trainable", True))
        for lc in layer_configs:
            model.add(_layers.deserialize(lc, custom_objects))
        if build_shape is not None and not model.built:
            model.build(tuple(build_shape))
        return model

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
        return "<Sequential name=%s, layers=%d, built=%s>" % (self.name, len(self.layers),
                                                              self.built)


# Keras code often names the class Model; bprop's only model is Sequential.
Model = Sequential
