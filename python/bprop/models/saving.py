"""Saving and loading models: ONE file, written atomically, never unpickled.

Format (version 1): an uncompressed NumPy ``.npz`` zip archive holding

* ``bprop_header``   JSON (as uint8 bytes): ``{"magic": "bprop-model" or
  "bprop-weights", "format_version": 1, "bprop_version": ..., "entries":
  [the names of every other entry]}`` (a reader checks it found exactly those)
* ``architecture``   JSON: the model's ``get_config()`` (models only)
* ``compile``        JSON: optimizer / loss / metrics configs (when compiled; a
  metric as the name given to compile, or a built-in metric object's config)
* ``weight_00000``.. the weights in ``model.weights`` order
* ``optimizer_00000``.. ``optimizer.get_state()`` (iterations, then slots)

Paths ending in ``.keras``, ``.weights.h5``, ``.h5`` or ``.hdf5`` are Keras'
files instead (:mod:`bprop.models.keras_files`, chosen by :func:`keras_files.kind_of`).

Files are written atomically and read without trust (``archive.py``): a
foreign, truncated, damaged or version-mismatched file raises ValueError
naming the path and what is wrong.  A model is rebuilt from the stored
arrays (no random initialisation), each checked against the shape its
layer's config asks for before anything is allocated.
"""
from __future__ import annotations

import json
import os

import numpy as np

from . import keras_files
from .archive import check_output_path, read_archive, write_archive

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "FORMAT_VERSION"]

FORMAT_VERSION = 1
MODEL_MAGIC = "bprop-model"
WEIGHTS_MAGIC = "bprop-weights"


def _json_bytes(obj):
    return np.frombuffer(json.dumps(obj, sort_keys=True).encode("utf-8"), dtype=np.uint8)


def _read_json(archive, key, path, kind=dict):
    try:
        value = json.loads(archive[key].tobytes().decode("utf-8"))
    except KeyError:
        raise ValueError("filepath: %r is not a complete bprop file (entry %r is missing)"
                         % (path, key)) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError("filepath: %r has a corrupt %r entry (%s)" % (path, key, exc)) from None
    if not isinstance(value, kind):
        raise ValueError("filepath: %r has a corrupt %r entry (a %s, expected a %s)"
                         % (path, key, type(value).__name__, kind.__name__))
    return value


def _check_path(filepath, overwrite):
    path = os.fspath(filepath)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    check_output_path(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError("filepath: %r exists and overwrite=False" % path)
    return path


def _with_header(magic, entries):
    """``entries`` and the header naming them all (a reader checks it got each)."""
    from .. import __version__

    header = {"magic": magic, "format_version": FORMAT_VERSION, "bprop_version": __version__,
              "entries": sorted(entries)}
    return dict(entries, bprop_header=_json_bytes(header))


def _weight_entries(model):
    return {"weight_%05d" % i: np.asarray(w) for i, w in enumerate(model.get_weights())}


def _open(path, magic):
    """Load the archive's arrays (every byte checked) and check the header."""
    path = os.fspath(path)
    arrays = read_archive(path)
    header = _read_json(arrays, "bprop_header", path)
    if not isinstance(header, dict) or header.get("magic") not in (MODEL_MAGIC, WEIGHTS_MAGIC):
        raise ValueError("filepath: %r is not a bprop file (no bprop magic in its header)" % path)
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError("filepath: %r has bprop format version %r; this bprop reads version %d"
                         % (path, version, FORMAT_VERSION))
    listed = header.get("entries")  # (files of earlier bprop versions have no list)
    if listed is not None and sorted(k for k in arrays if k != "bprop_header") != listed:
        raise ValueError("filepath: %r is damaged: its entries are not those its header lists"
                         % path)
    if magic == MODEL_MAGIC and header["magic"] != MODEL_MAGIC:
        raise ValueError("filepath: %r holds only weights (save_weights); load it with "
                         "model.load_weights() into a model of the same architecture" % path)
    return arrays


def _numbered(arrays, prefix, path):
    keys = sorted(k for k in arrays if k.startswith(prefix))
    if [k[len(prefix):] for k in keys] != ["%05d" % i for i in range(len(keys))]:
        raise ValueError("filepath: %r has misnumbered %r entries" % (path, prefix))
    return [arrays[k] for k in keys]


def _weights_from(arrays, path):
    return _numbered(arrays, "weight_", path)


# ------------------------------------------------------------------ public
def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Write ``model`` (architecture, weights, compile config, optimizer state) to one file.

    In a data-parallel job only rank 0 writes (every process holds the same model)."""
    from .. import distributed

    if not distributed.is_root():
        return
    path = _check_path(filepath, overwrite)
    kind = keras_files.kind_of(path)
    if kind == "keras":
        return keras_files.save_keras(model, path, include_optimizer=include_optimizer)
    if kind is not None:
        return keras_files.save_legacy_h5(model, path, include_optimizer=include_optimizer)
    from .. import losses as _losses
    from .. import optimizers as _optimizers

    entries = {"architecture": _json_bytes({"class_name": type(model).__name__,
                                            "config": model.get_config()})}
    entries.update(_weight_entries(model))
    if model.compiled:
        compile_config = {
            "optimizer": _optimizers.serialize(model.optimizer),
            "loss": None if model.compiled_loss is None else _losses.serialize(model.compiled_loss),
            "metrics": [_metric_entry(m) for m in model._compile_args["metrics"]],
        }
        entries["compile"] = _json_bytes(compile_config)
        if include_optimizer:
            for i, arr in enumerate(model.optimizer.get_state()):
                entries["optimizer_%05d" % i] = np.asarray(arr)  # keeps 0-d iterations 0-d
    write_archive(path, _with_header(MODEL_MAGIC, entries))


def _metric_entry(metric):
    """A ``compile(metrics=...)`` entry as saved: a name or a config as given; a
    built-in metric object as its config (``TopKCategoricalAccuracy(k=2)`` comes
    back with k=2, not as the default its name would give); others by name."""
    from .. import metrics as _metrics

    if isinstance(metric, (str, dict)):
        return metric
    if isinstance(metric, type):  # a class: compile used its default instance
        metric = metric()
    if _metrics._BY_CLASS_NAME.get(type(metric).__name__) is type(metric):
        return _metrics.serialize(metric)
    return metric.name


def load_model(filepath, custom_objects=None, compile=True):
    """Rebuild a model saved by ``model.save``: same architecture, weights and optimizer.

    Any damage to the file raises ValueError naming the file and what is
    wrong; the layers are built from the stored arrays, each checked against
    the shape its config asks for first (no initialisation, no allocation of
    what the file merely declares).
    """
    kind = keras_files.kind_of(filepath)
    if kind == "keras":
        return keras_files.load_keras(filepath, custom_objects=custom_objects, compile=compile)
    if kind is not None:
        return keras_files.load_legacy_h5(filepath, custom_objects=custom_objects,
                                          compile=compile)
    path = os.fspath(filepath)
    arrays = _open(path, MODEL_MAGIC)
    arch = _read_json(arrays, "architecture", path)
    model = rebuild_model(arch, _weights_from(arrays, path), path, custom_objects,
                          (KeyError, TypeError, ValueError, AttributeError, IndexError,
                           OverflowError, RecursionError, MemoryError))
    if compile and "compile" in arrays:
        _compile_from(model, arrays, path)
    return model


def _compile_from(model, arrays, path):
    cfg = _read_json(arrays, "compile", path)
    state = _numbered(arrays, "optimizer_", path)
    try:
        metrics = cfg["metrics"]
        if not isinstance(metrics, list) or not all(isinstance(m, (str, dict)) for m in metrics):
            raise TypeError("metrics: expected a list of names and configs, got %r" % (metrics,))
        model.compile(optimizer=cfg["optimizer"], loss=cfg["loss"], metrics=metrics)
        if state:
            if len(state) > 1:
                model.optimizer.build(model.trainable_variables)
            model.optimizer.set_state(state)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        raise ValueError("filepath: %r has a compile configuration or optimizer state this "
                         "bprop cannot restore (%s: %s)" % (path, type(exc).__name__, exc)
                         ) from None


def rebuild_model(arch, weights, path, custom_objects, damage):
    """The model of the architecture ``arch`` with ``weights`` set (bprop's
    files and Keras' alike); an exception of ``damage`` while rebuilding is a
    ValueError naming ``path``."""
    from .. import layers as _layers
    from ..layers.base import weights_from

    try:
        with weights_from(weights, "filepath: %r" % path):
            model = _layers.deserialize(arch, custom_objects)
            if weights and not getattr(model, "built", False):
                raise ValueError("filepath: %r holds weights but no input shape to build the "
                                 "model" % path)
    except damage as exc:
        message = str(exc)
        if path not in message:
            message = "filepath: %r has an architecture this bprop cannot rebuild (%s: %s)" % (
                path, type(exc).__name__, exc)
        raise ValueError(message) from None
    _set_weights(model, weights, path)
    return model


def _set_weights(model, weights, path):
    if not model.built and weights:
        raise ValueError("filepath: %r holds weights but no input shape to build the model"
                         % path)
    try:
        model.set_weights(weights)
    except (TypeError, ValueError) as exc:
        raise ValueError("filepath: %r does not match this model (%s)" % (path, exc)) from None


def save_weights(model, filepath, overwrite=True):
    """Write only the weights of ``model`` (with the bprop header) to one file (rank 0 of a job)."""
    from .. import distributed

    if not distributed.is_root():
        return
    kind = keras_files.kind_of(filepath)
    if kind == "keras":
        raise ValueError("filepath: %r: save_weights writes a .weights.h5 (Keras 3) or .h5 "
                         "(Keras 2) file; a .keras file holds a whole model (model.save)"
                         % (os.fsdecode(os.fspath(filepath)),))
    path = _check_path(filepath, overwrite)
    if kind is not None:
        return keras_files.save_weights_h5(model, path)
    write_archive(path, _with_header(WEIGHTS_MAGIC, _weight_entries(model)))


def load_weights(model, filepath):
    """Set ``model``'s weights from a file written by ``save_weights`` or ``save``."""
    if keras_files.kind_of(filepath) is not None:
        return keras_files.load_weights_h5(model, filepath)
    path = os.fspath(filepath)
    arrays = _open(path, WEIGHTS_MAGIC)
    _set_weights(model, _weights_from(arrays, path), path)
