"""Keras' model configs <-> bprop's: the one place (with
:mod:`bprop.models.keras_compile` for the optimizer, loss and metrics) that
knows how they differ.

Keras 3 (``config.json`` of a ``.keras`` file) wraps every object as
``{"module", "class_name", "config", "registered_name"}``, names dtypes by a
``DTypePolicy`` object and starts a Sequential's layers with an
``InputLayer`` holding ``batch_shape``.  Keras 2 (the ``model_config`` and
``training_config`` attributes of a legacy ``.h5`` file) writes
``{"class_name", "config"}``, plain dtype strings and ``batch_input_shape``.
Both are read; :data:`KERAS3` or :data:`KERAS2` chooses what is written.

Reading maps a Keras config to bprop's ``{"class_name", "config"}`` (what
``bprop.layers.deserialize`` and ``Sequential.compile`` take).  The helpers
:func:`unwrap`, :func:`kwargs_for`, :func:`registry_in` and :func:`object_out`
are those rules, shared with :mod:`bprop.models.keras_compile`.  A Keras
option bprop's class takes passes as it is (bprop checks its value); one it
does not take is dropped when it is off (None or False, or one of the
defaults in :data:`_KERAS_DEFAULTS`) and otherwise refused with a ValueError
naming the layer, the option and its value, as is a class bprop lacks.
Layer option names are the same in both libraries; bprop's ``gelu`` is the
tanh approximation, Keras' the exact one, so ``gelu`` is refused both ways
rather than giving other outputs.
"""
from __future__ import annotations

import inspect

__all__ = ["KERAS2", "KERAS3", "LAYER_CLASSES", "model_to_keras", "model_from_keras",
           "unwrap", "kwargs_for", "registry_in", "object_out", "short"]

KERAS3 = "keras3"
KERAS2 = "keras2"

# The Keras layer classes bprop has (same class names and options in both).
LAYER_CLASSES = ("Dense", "Dropout", "Flatten", "Activation", "Conv2D", "Conv1D",
                 "MaxPooling2D", "MaxPooling1D", "AveragePooling2D", "AveragePooling1D",
                 "GlobalAveragePooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling2D",
                 "GlobalMaxPooling1D", "ZeroPadding2D", "ZeroPadding1D", "Reshape")
_ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax")
_DTYPES = ("float32", "float64")
_GELU = ("activation 'gelu': Keras' gelu is the exact (erf) form, bprop's the tanh "
         "approximation; they give different outputs")

# Keras options bprop has no argument for, and the values that mean "off" (any
# value: an option that does nothing while another is off, e.g. ema_momentum).
_ANY = object()
_KERAS_DEFAULTS = {
    "label_smoothing": (0, 0.0), "axis": (-1, [-1]), "amsgrad": (False,),
    "centered": (False,), "use_ema": (False,), "decay": (0, 0.0), "ema_momentum": _ANY,
    "ema_overwrite_frequency": _ANY, "jit_compile": _ANY, "is_legacy_optimizer": _ANY,
    "autocast": _ANY, "lora_alpha": _ANY, "gradient_accumulation_steps": (None, 1),
    "sparse": (None, False), "ragged": (None, False), "optional": (None, False),
}


def _where_layer(config, class_name):
    name = config.get("name") if isinstance(config, dict) else None
    return "layer %r (%s)" % (name, class_name) if name else "layer %s" % class_name


def unwrap(obj, what):
    """``(class_name, config)`` of a Keras object dict (either style)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("class_name"), str):
        raise ValueError("%s: expected a Keras object {'class_name': ..., 'config': ...}, got %r"
                         % (what, short(obj)))
    config = obj.get("config", {})
    return obj["class_name"], ({} if config is None else config)


def short(value, limit=120):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _accepted(cls):
    """The keyword arguments ``cls`` (and, for a layer, bprop's Layer) takes."""
    from ..layers.base import Layer

    names = set()
    for klass in (cls,) + ((Layer,) if issubclass(cls, Layer) else ()):
        for p in inspect.signature(klass.__init__).parameters.values():
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                names.add(p.name)
    return names


def _is_off(key, value):
    if value is None or value is False:
        return True
    allowed = _KERAS_DEFAULTS.get(key)
    return allowed is _ANY or (allowed is not None and value in allowed)


def kwargs_for(cls, config, where, convert=None):
    """``config``'s options as keyword arguments of ``cls``: converted by
    ``convert[key]`` where given, dropped when bprop lacks them and they are off."""
    if not isinstance(config, dict):
        raise ValueError("%s: expected a config dict, got %r" % (where, short(config)))
    accepted = _accepted(cls)
    out = {}
    for key, value in config.items():
        if key in accepted:
            out[key] = convert[key](value) if convert and key in convert else value
        elif not _is_off(key, value):
            raise ValueError("%s: the Keras option %s=%s is not supported by bprop"
                             % (where, key, short(value)))
    return out


# ------------------------------------------------------------------ small objects
def _dtype_in(value, where):
    if value is None:
        return None
    if isinstance(value, dict):
        cls, cfg = unwrap(value, "%s: dtype" % where)
        value = cfg.get("name") if isinstance(cfg, dict) else None
        if cls not in ("DTypePolicy", "FloatDTypePolicy", "Policy"):
            raise ValueError("%s: dtype policy %s is not supported by bprop (float32 or "
                             "float64 only)" % (where, cls))
    if value not in _DTYPES:
        raise ValueError("%s: dtype %r is not supported by bprop (float32 or float64 only)"
                         % (where, value))
    return value


def _dtype_out(name, style):
    if style == KERAS2:
        return name
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
            "registered_name": None}


def _activation_in(value, where):
    if value is None:
        return "linear"
    if isinstance(value, dict):  # {"class_name": "function", "config": "relu"} or "relu"
        cls, cfg = unwrap(value, "%s: activation" % where)
        value = cfg if cls == "function" and isinstance(cfg, str) else cls
    if not isinstance(value, str):
        raise ValueError("%s: activation %s is not one bprop has" % (where, short(value)))
    name = value.lower()
    if name == "gelu":
        raise ValueError("%s: %s" % (where, _GELU))
    if name not in _ACTIVATIONS:
        raise ValueError("%s: activation %r is not one bprop has (%s)"
                         % (where, value, ", ".join(_ACTIVATIONS)))
    return name


def registry_in(value, where, what, lookup, known):
    """An initializer / regularizer / schedule config for bprop's ``get``."""
    if value is None or isinstance(value, str):
        return value
    cls_name, cfg = unwrap(value, "%s: %s" % (where, what))
    cls = lookup(cls_name)
    if cls is None:
        raise ValueError("%s: %s %s is not one bprop has (%s)"
                         % (where, what, cls_name, ", ".join(sorted(known))))
    return {"class_name": cls.__name__,
            "config": kwargs_for(cls, cfg, "%s: %s %s" % (where, what, cls_name))}


def _initializer_in(value, where):
    from .. import initializers as _init

    return registry_in(value, where, "initializer", _init._BY_CLASS_NAME.get,
                       _init._BY_CLASS_NAME)


def _regularizer_in(value, where):
    from .. import regularizers as _reg

    classes = {"L1": _reg.L1, "L2": _reg.L2, "L1L2": _reg.L1L2}
    return registry_in(value, where, "regularizer", classes.get, classes)


def object_out(module, serialized, style):
    """bprop's ``{"class_name", "config"}`` as Keras writes it."""
    if serialized is None:
        return None
    out = {"class_name": serialized["class_name"], "config": serialized["config"]}
    if style == KERAS3:
        out = {"module": module, "class_name": out["class_name"], "config": out["config"],
               "registered_name": None}
    return out


# ------------------------------------------------------------------ layers: Keras -> bprop
def _layer_in(obj, where):
    """bprop's ``{"class_name", "config"}`` of one Keras layer object."""
    class_name, config = unwrap(obj, where)
    if class_name == "Sequential":
        return _sequential_in(obj, where)
    if class_name == "InputLayer":
        return _input_layer_in(config, where)
    if class_name not in LAYER_CLASSES:
        raise ValueError("%s: the Keras layer %s (%r) is not one bprop has; it has %s"
                         % (where, class_name, config.get("name") if isinstance(config, dict)
                            else None, ", ".join(LAYER_CLASSES)))
    from .. import layers as _layers

    here = _where_layer(config, class_name)
    convert = {"dtype": lambda v: _dtype_in(v, here),
               "activation": lambda v: _activation_in(v, here)}
    for key in ("kernel_initializer", "bias_initializer"):
        convert[key] = lambda v, k=key: _initializer_in(v, "%s: %s" % (here, k))
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        convert[key] = lambda v, k=key: _regularizer_in(v, "%s: %s" % (here, k))
    kwargs = kwargs_for(getattr(_layers, class_name), config, here, convert)
    if kwargs.get("dtype") is None:
        kwargs.pop("dtype", None)
    return {"class_name": class_name, "config": kwargs}


def _input_layer_in(config, where):
    here = _where_layer(config, "InputLayer")
    if not isinstance(config, dict):
        raise ValueError("%s: expected a config dict, got %r" % (here, short(config)))
    shape = None
    for key in ("batch_shape", "batch_input_shape"):
        if config.get(key) is not None:
            shape = _shape_list(config[key], "%s: %s" % (here, key))[1:]
    if shape is None:
        for key in ("shape", "input_shape"):
            if config.get(key) is not None:
                shape = _shape_list(config[key], "%s: %s" % (here, key))
    if shape is None:
        raise ValueError("%s: no input shape (batch_shape)" % here)
    for key, value in config.items():
        if key not in ("batch_shape", "batch_input_shape", "shape", "input_shape", "name",
                       "dtype", "batch_size", "input_tensor") and not _is_off(key, value):
            raise ValueError("%s: the Keras option %s=%s is not supported by bprop"
                             % (here, key, short(value)))
    if config.get("input_tensor") is not None:
        raise ValueError("%s: input_tensor is not supported by bprop" % here)
    _dtype_in(config.get("dtype"), here)  # checked; the layers carry the model's dtype
    out = {"shape": shape}
    if isinstance(config.get("name"), str):
        out["name"] = config["name"]
    return {"class_name": "InputLayer", "config": out}


def _shape_list(value, where):
    if not isinstance(value, (list, tuple)) or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value):
        raise ValueError("%s: expected a list of ints (or null), got %r" % (where, short(value)))
    return list(value)


def _sequential_in(obj, where):
    class_name, config = unwrap(obj, where)
    if isinstance(config, list):  # Keras 2.0/2.1 wrote the layer list alone
        config = {"layers": config}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("%s: a Sequential config needs a list of layers, got %r"
                         % (where, short(config)))
    name = config.get("name")
    here = "model %r" % name if isinstance(name, str) else "model"
    out = {"layers": [_layer_in(layer, "%s: layers[%d]" % (here, i))
                      for i, layer in enumerate(config["layers"])]}
    if isinstance(name, str):
        out["name"] = name
    if config.get("trainable") is False:
        out["trainable"] = False
    build = config.get("build_input_shape")
    if build is None and isinstance(obj.get("build_config"), dict):
        build = obj["build_config"].get("input_shape")
    if build is not None and not any(lc["class_name"] == "InputLayer" for lc in out["layers"]):
        out["build_input_shape"] = _shape_list(build, "%s: build_input_shape" % here)
    return {"class_name": "Sequential", "config": out}


def model_from_keras(obj):
    """bprop's architecture ``{"class_name": "Sequential", "config": ...}`` of a Keras
    model config (``config.json`` or ``model_config``); ValueError for anything else."""
    class_name, _ = unwrap(obj, "model config")
    if class_name != "Sequential":
        raise ValueError("model config: bprop reads Keras Sequential models, this is a %s "
                         "model" % class_name)
    return _sequential_in(obj, "model config")


# ------------------------------------------------------------------ bprop -> Keras
def _check_keras_layer(layer):
    from .. import layers as _layers

    name = type(layer).__name__
    if name not in LAYER_CLASSES or type(layer) is not getattr(_layers, name):
        raise ValueError("layer %r (%s): Keras has no such layer; a Keras file can hold only "
                         "%s" % (layer.name, name, ", ".join(LAYER_CLASSES)))


def _layer_out(layer, style):
    from .. import initializers as _init
    from .. import regularizers as _reg
    from .sequential import Sequential

    if isinstance(layer, Sequential):
        return model_to_keras(layer, style, nested=True)
    _check_keras_layer(layer)
    config = layer.get_config()
    config.pop("input_shape", None)  # the model's InputLayer carries the shape
    config["dtype"] = _dtype_out(config["dtype"], style)
    if config.get("activation") == "gelu":
        raise ValueError("layer %r: %s" % (layer.name, _GELU))
    for key in ("kernel_initializer", "bias_initializer"):
        if key in config:
            config[key] = object_out("keras.initializers",
                                     _init.serialize(getattr(layer, key)), style)
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        if key in config:
            config[key] = object_out("keras.regularizers",
                                     _reg.serialize(getattr(layer, key)), style)
    if config.get("activity_regularizer", 0) is None:
        del config["activity_regularizer"]
    cls = type(layer).__name__
    if cls in ("Dense", "Conv2D", "Conv1D"):
        config.update(kernel_constraint=None, bias_constraint=None)
    elif cls == "Dropout":
        config["noise_shape"] = None
    elif cls == "Flatten":
        config["data_format"] = "channels_last"
    out = {"class_name": cls, "config": config}
    if style == KERAS3:
        out = {"module": "keras.layers", "class_name": cls, "config": config,
               "registered_name": None}
        if layer.weights and layer._build_input_shape is not None:
            out["build_config"] = {"input_shape": [None] + list(layer._build_input_shape)}
    return out


def _input_layer_out(model, style):
    shape = [None] + list(model._sample_shape)
    config = {"batch_shape" if style == KERAS3 else "batch_input_shape": shape,
              "dtype": model.dtype, "sparse": False, "name": "input_layer"}
    if style == KERAS2:
        config["ragged"] = False
        return {"class_name": "InputLayer", "config": config}
    return {"module": "keras.layers", "class_name": "InputLayer", "config": config,
            "registered_name": None}


def model_to_keras(model, style=KERAS3, nested=False):
    """The Keras config of a bprop Sequential (Keras 3's ``config.json`` less the
    compile config, or Keras 2's ``model_config``)."""
    from .sequential import Sequential

    if not isinstance(model, Sequential):
        raise ValueError(
            "model %r (%s): bprop writes Keras files (.keras, .h5) of Sequential models only; "
            "save this one as bprop's own file (model.save('%s.npz')) or its weights "
            "(model.save_weights('%s.weights.h5'))"
            % (model.name, type(model).__name__, model.name, model.name))
    layers = [_layer_out(layer, style) for layer in model.layers]
    if model._sample_shape is not None:
        layers.insert(0, _input_layer_out(model, style))
    config = {"name": model.name, "layers": layers}
    if style == KERAS2:
        return {"class_name": "Sequential", "config": config}
    config = {"name": model.name, "trainable": model.trainable,
              "dtype": _dtype_out(model.dtype, style), "layers": layers}
    out = {"module": "keras", "class_name": "Sequential", "config": config,
           "registered_name": None}
    if model._sample_shape is not None:
        config["build_input_shape"] = [None] + list(model._sample_shape)
        out["build_config"] = {"input_shape": [None] + list(model._sample_shape)}
    if nested:
        out["compile_config"] = {}
    return out
