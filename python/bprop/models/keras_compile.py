"""Keras' compile configs <-> bprop's: the optimizer, the loss and the metrics.

Keras 3 keeps them as a ``.keras`` file's ``compile_config``, Keras 2 as a
legacy ``.h5`` file's ``training_config`` (its optimizer under
``optimizer_config``).  The same rules as for layers
(:mod:`bprop.models.keras_format`): an option bprop takes passes, one it
lacks is dropped when off and refused (ValueError naming it) when on, as is
an optimizer, loss or metric class bprop does not have.
"""
from __future__ import annotations

from .keras_format import KERAS2, KERAS3, kwargs_for, object_out, registry_in, short, unwrap

__all__ = ["OPTIMIZER_CLASSES", "optimizer_from_keras", "compile_from_keras",
           "compile_to_keras"]

OPTIMIZER_CLASSES = ("SGD", "RMSprop", "Adam", "AdamW", "Adagrad")
_LOSS_CLASSES = ("MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
                 "CategoricalCrossentropy", "SparseCategoricalCrossentropy")


def _schedule_in(value, where):
    from ..optimizers import schedules

    return registry_in(value, where, "learning-rate schedule", schedules._BY_CLASS_NAME.get,
                       schedules._BY_CLASS_NAME)


# ------------------------------------------------------------------ Keras -> bprop
def optimizer_from_keras(obj):
    """bprop's optimizer config (a name or ``{"class_name", "config"}``) of Keras'."""
    if isinstance(obj, str):
        if obj.lower() not in [c.lower() for c in OPTIMIZER_CLASSES]:
            raise ValueError("optimizer %r is not one bprop has (%s)"
                             % (obj, ", ".join(OPTIMIZER_CLASSES)))
        return obj.lower()
    class_name, config = unwrap(obj, "optimizer")
    class_name = class_name.split(">")[-1]  # Keras 2 registered "Custom>Adam"
    if class_name not in OPTIMIZER_CLASSES:
        raise ValueError("optimizer %s is not one bprop has (%s)"
                         % (class_name, ", ".join(OPTIMIZER_CLASSES)))
    from .. import optimizers as _optimizers

    where = "optimizer %s" % class_name
    config = dict(config) if isinstance(config, dict) else config
    if isinstance(config, dict):
        if "lr" in config and "learning_rate" not in config:  # Keras 2's first spelling
            config["learning_rate"] = config.pop("lr")
        if class_name != "AdamW" and config.get("weight_decay") in (0, 0.0):
            config.pop("weight_decay")
        if class_name == "RMSprop" and config.get("momentum") in (0, 0.0):
            config.pop("momentum")
    cls = getattr(_optimizers, class_name)
    convert = {"learning_rate": lambda v: _schedule_in(v, where) if isinstance(v, dict) else v}
    return {"class_name": class_name, "config": kwargs_for(cls, config, where, convert)}


def _loss_from_keras(obj):
    from .. import losses as _losses

    if obj is None or isinstance(obj, str):
        return obj
    class_name, config = unwrap(obj, "loss")
    if class_name == "function" and isinstance(config, str):  # a loss function by name
        return config
    if class_name not in _LOSS_CLASSES:
        raise ValueError("loss %s is not one bprop has (%s)"
                         % (class_name, ", ".join(_LOSS_CLASSES)))
    return {"class_name": class_name,
            "config": kwargs_for(getattr(_losses, class_name), config, "loss %s" % class_name)}


def _metric_from_keras(obj):
    from .. import metrics as _metrics

    if isinstance(obj, str):
        return obj
    class_name, config = unwrap(obj, "metric")
    if class_name == "function" and isinstance(config, str):
        return config
    if class_name == "MeanMetricWrapper" and isinstance(config, dict):  # Keras 2 "accuracy"
        name, fn = config.get("name"), config.get("fn")
        known = set(_metrics._BY_NAME) | {"acc"}
        if isinstance(name, str) and name.lower() in known:
            return name
        if isinstance(fn, str):
            return fn
    cls = _metrics._BY_CLASS_NAME.get(class_name)
    if cls is None:
        raise ValueError("metric %s is not one bprop has (%s)"
                         % (class_name, ", ".join(sorted(_metrics._BY_CLASS_NAME))))
    return {"class_name": class_name,
            "config": kwargs_for(cls, config, "metric %s" % class_name)}


def compile_from_keras(config, optimizer_key="optimizer"):
    """``dict(optimizer=..., loss=..., metrics=[...])`` for ``Sequential.compile``
    from Keras 3's ``compile_config`` or (``optimizer_key="optimizer_config"``)
    Keras 2's ``training_config``; None when the model was not compiled."""
    if not config:
        return None
    if not isinstance(config, dict):
        raise ValueError("compile config: expected a dict, got %r" % (short(config),))
    for key in ("loss_weights", "weighted_metrics", "sample_weight_mode"):
        if config.get(key) is not None:
            raise ValueError("compile config: %s=%s is not supported by bprop"
                             % (key, short(config[key])))
    if config.get(optimizer_key) is None:
        raise ValueError("compile config: no optimizer")
    metrics = config.get("metrics") or []
    if not isinstance(metrics, list):
        raise ValueError("compile config: metrics for one output expected (a list), got %r"
                         % (short(metrics),))
    if len(metrics) == 1 and isinstance(metrics[0], list):  # Keras 2: a list per output
        metrics = metrics[0]
    if not isinstance(config.get("loss"), (str, dict, type(None))):
        raise ValueError("compile config: one loss expected, got %r" % (short(config["loss"]),))
    return {"optimizer": optimizer_from_keras(config[optimizer_key]),
            "loss": _loss_from_keras(config.get("loss")),
            "metrics": [_metric_from_keras(m) for m in metrics]}


# ------------------------------------------------------------------ bprop -> Keras
def _optimizer_out(optimizer, style):
    from .. import optimizers as _optimizers
    from ..optimizers import schedules

    name = type(optimizer).__name__
    if name not in OPTIMIZER_CLASSES or type(optimizer) is not getattr(_optimizers, name):
        raise ValueError("optimizer %r: a Keras file can hold only %s"
                         % (optimizer, ", ".join(OPTIMIZER_CLASSES)))
    config = optimizer.get_config()
    lr = config["learning_rate"]
    if isinstance(lr, dict):
        config["learning_rate"] = object_out("keras.optimizers.schedules", lr, style)
    elif isinstance(lr, schedules.LearningRateSchedule):
        config["learning_rate"] = object_out("keras.optimizers.schedules",
                                             schedules.serialize(lr), style)
    config.setdefault("weight_decay", None)
    config.update(use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None)
    if name in ("Adam", "AdamW"):
        config["amsgrad"] = False
    elif name == "RMSprop":
        config.update(momentum=0.0, centered=False)
    if style == KERAS2:
        # As tf.keras 2.21 writes it: so it builds its current optimizer, not the legacy
        # one (which lacks weight_decay); Keras 3 takes the optimizer by its name.
        config.update(jit_compile=False, is_legacy_optimizer=False)
        return {"class_name": "Custom>" + name, "config": config}
    return {"module": "keras.optimizers", "class_name": name, "config": config,
            "registered_name": None}


def _loss_out(model, style):
    from .. import losses as _losses

    given = model._compile_args["loss"]
    if given is None:
        return None
    if isinstance(given, str):
        # Keras 3 reads Keras 2's training_config "mse" as keras.metrics.mse and fails:
        # write the loss function's full name there.
        return model.compiled_loss.fn_name if style == KERAS2 else given
    return object_out("keras.losses", _losses.serialize(model.compiled_loss), style)


def _metric_out(metric, style):
    from .. import metrics as _metrics

    if isinstance(metric, str):
        return metric
    if isinstance(metric, dict):
        return object_out("keras.metrics", metric, style)
    try:
        return object_out("keras.metrics", _metrics.serialize(metric), style)
    except TypeError:
        raise ValueError("metric %r cannot be written to a Keras file (a name or a built-in "
                         "bprop metric can)" % (metric,)) from None


def compile_to_keras(model, style=KERAS3):
    """Keras 3's ``compile_config`` (or Keras 2's ``training_config``) of a compiled model."""
    if not model.compiled:
        return None
    optimizer = _optimizer_out(model.optimizer, style)
    loss = _loss_out(model, style)
    metrics = [_metric_out(m, style) for m in model._compile_args["metrics"]] or None
    if style == KERAS2:
        return {"loss": loss, "metrics": metrics, "weighted_metrics": None,
                "loss_weights": None, "optimizer_config": optimizer}
    return {"optimizer": optimizer, "loss": loss, "loss_weights": None, "metrics": metrics,
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": False}
