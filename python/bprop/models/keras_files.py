"""Keras' model files: ``.keras`` (Keras 3), ``.weights.h5`` and legacy ``.h5`` (Keras 2).

``model.save`` / ``load_model`` / ``save_weights`` / ``load_weights`` come
here by the file's suffix (:func:`kind_of`); every other suffix keeps
bprop's own format (:mod:`bprop.models.saving`).

* ``.keras``: a zip of ``metadata.json``, ``config.json`` (the model, with
  its ``compile_config``) and ``model.weights.h5`` (Keras 3's layout, see
  :mod:`bprop.models.keras_h5`), stored uncompressed as Keras writes it.
* ``.weights.h5``: that weights file alone (the optimizer's variables too).
* ``.h5`` / ``.hdf5``: Keras 2's HDF5 file, the model (``model_config`` and
  ``training_config`` attributes, ``model_weights``, ``optimizer_weights``)
  for ``save``, the weights alone for ``save_weights``.

Configs are mapped by :mod:`bprop.models.keras_format`.  Files are written
atomically (only rank 0 of a job writes) and read without trust: a damaged
or forged file, or one holding a layer or option bprop lacks, raises
ValueError naming the file and what is wrong; arrays are checked against the
file's size before they are read, and the model is built from the stored
arrays, each checked against the shape its layer asks for.  h5py is an
optional dependency (``pip install "bprop[keras]"``).
"""
from __future__ import annotations

import datetime
import io
import json
import os
import warnings
import zipfile

import numpy as np

from . import keras_compile as _compile_fmt
from . import keras_format as _fmt
from . import keras_h5 as _h5
from .archive import check_zip_entry, write_atomically

__all__ = ["kind_of", "save_keras", "load_keras", "save_legacy_h5", "load_legacy_h5",
           "save_weights_h5", "load_weights_h5"]

# The "keras_version" each file declares: the Keras whose layout is written
# (readers use it only to convert Keras 1 files).
KERAS3_VERSION = "3.0.0"
KERAS2_VERSION = "2.15.0"
_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_MAX_ZIP_ENTRIES = 10000
# What a file's parsers may raise on damage (FileNotFoundError is checked first).
_DAMAGE = (ValueError, KeyError, TypeError, IndexError, OverflowError, RecursionError,
           MemoryError, OSError, RuntimeError, EOFError, NotImplementedError, AttributeError,
           zipfile.BadZipFile, zipfile.LargeZipFile)


def kind_of(filepath):
    """"keras", "weights_h5", "h5" or None (bprop's own format) for a path's suffix."""
    name = os.fsdecode(os.fspath(filepath)).lower()
    if name.endswith(".keras"):
        return "keras"
    if name.endswith(".weights.h5"):
        return "weights_h5"
    if name.endswith((".h5", ".hdf5")):
        return "h5"
    return None


def _existing(filepath):
    path = os.fsdecode(os.fspath(filepath))
    if not os.path.isfile(path):
        raise FileNotFoundError("filepath: no such file %r" % (path,))
    return path


def _damaged(path, kind, exc):
    message = str(exc)
    if path in message:
        return ValueError(message)
    return ValueError("filepath: %r is not a readable %s (%s: %s)"
                      % (path, kind, type(exc).__name__, message))


def _json(data, what):
    value = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    if not isinstance(value, dict):
        raise ValueError("%s is a JSON %s, expected an object" % (what, type(value).__name__))
    return value


# ------------------------------------------------------------------ optimizer variables
def _slots_per_variable(model):
    """Each trainable variable's slots (None unless the optimizer holds them all)."""
    optimizer = model.optimizer
    variables = model.trainable_variables
    if not optimizer._slot_names or not variables \
            or not all(v in optimizer._slots for v in variables):
        return None
    return [s.copy() for v in variables for s in optimizer._slots[v]]


def _optimizer_variables(model):
    """Keras 3's optimizer variables: iterations, the learning rate (when not a
    schedule), then each trainable variable's slots (when built)."""
    from ..optimizers import schedules

    optimizer = model.optimizer
    arrays = [np.array(optimizer.iterations, dtype=np.int64)]
    if not isinstance(optimizer.learning_rate, schedules.LearningRateSchedule):
        arrays.append(np.array(optimizer.learning_rate, dtype=np.float32))
    return arrays + (_slots_per_variable(model) or [])


def _restore_optimizer(model, arrays, names, path):
    variables = model.trainable_variables
    state = _h5.optimizer_state(arrays, names, model.optimizer, variables)
    if len(state) > 1:
        model.optimizer.build(variables)
    model.optimizer.set_state(state)


# ------------------------------------------------------------------ building
def _build(arch, weights, path, custom_objects):
    from .saving import rebuild_model

    return rebuild_model(arch, weights, path, custom_objects, _DAMAGE)


def _compile(model, compile_args, arrays, names, path):
    try:
        model.compile(optimizer=compile_args["optimizer"], loss=compile_args["loss"],
                      metrics=compile_args["metrics"])
        if arrays is not None:
            _restore_optimizer(model, arrays, names, path)
    except _DAMAGE as exc:
        raise ValueError("filepath: %r has a compile configuration or optimizer state this "
                         "bprop cannot restore (%s: %s)" % (path, type(exc).__name__, exc)
                         ) from None


def _mapped(path, fn, *args):
    """``fn(*args)`` (a config mapping) with its error naming the file."""
    try:
        return fn(*args)
    except _DAMAGE as exc:
        detail = str(exc) if isinstance(exc, ValueError) else "%s: %s" % (type(exc).__name__,
                                                                          exc)
        raise ValueError("filepath: %r: %s" % (path, detail)) from None


# ------------------------------------------------------------------ .keras
def save_keras(model, path, include_optimizer=True):
    """Write ``model`` as Keras 3 does to the ``.keras`` file ``path``."""
    h5py = _h5.require_h5py()
    from .. import __version__

    config = _fmt.model_to_keras(model, _fmt.KERAS3)
    if model.compiled:
        config["compile_config"] = _compile_fmt.compile_to_keras(model, _fmt.KERAS3)
    metadata = {"keras_version": KERAS3_VERSION, "bprop_version": __version__,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    optimizer = _optimizer_variables(model) if model.compiled and include_optimizer else None
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        _h5.write_keras3_weights(f, model, optimizer)

    def write(fileobj):
        with zipfile.ZipFile(fileobj, "w") as zf:  # stored, as Keras writes it
            zf.writestr(_METADATA, json.dumps(metadata))
            zf.writestr(_CONFIG, json.dumps(config))
            zf.writestr(_WEIGHTS, buffer.getvalue())

    write_atomically(path, write)


def _read_keras_zip(path):
    """``(config dict, weights .h5 bytes)`` of a ``.keras`` file."""
    kind = "Keras .keras file"
    try:
        size = os.path.getsize(path)
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > _MAX_ZIP_ENTRIES:
                raise ValueError("%d entries" % len(infos))
            for info in infos:
                check_zip_entry(info, size)
            names = {info.filename for info in infos}
            if _CONFIG not in names:
                raise ValueError("no %s in it" % _CONFIG)
            if _WEIGHTS not in names:
                if "model.weights.npz" in names:
                    raise ValueError("its weights are in Keras' .npz form, which pickles "
                                     "them; bprop reads model.weights.h5 only")
                raise ValueError("no %s in it" % _WEIGHTS)
            config = _json(zf.read(_CONFIG), _CONFIG)
            if _METADATA in names:
                _json(zf.read(_METADATA), _METADATA)
            return config, zf.read(_WEIGHTS)
    except _DAMAGE as exc:
        raise _damaged(path, kind, exc) from None


def _open_h5_bytes(data):
    return _h5.require_h5py().File(io.BytesIO(data), "r")


def load_keras(filepath, custom_objects=None, compile=True):
    """A bprop Sequential from a ``.keras`` file (written by Keras 3 or bprop)."""
    _h5.require_h5py()
    path = _existing(filepath)
    config, data = _read_keras_zip(path)
    kind = "Keras .keras file"
    arch = _mapped(path, _fmt.model_from_keras, config)
    compile_args = (_mapped(path, _compile_fmt.compile_from_keras, config.get("compile_config"))
                    if compile else None)
    try:
        with _open_h5_bytes(data) as f:
            weights, optimizer = _h5.read_keras3_weights(_h5.H5Reader(f, len(data)),
                                                         _h5.config_tree(arch))
    except _DAMAGE as exc:
        raise _damaged(path, kind + " (its %s)" % _WEIGHTS, exc) from None
    model = _build(arch, weights, path, custom_objects)
    if compile_args is not None:
        _compile(model, compile_args, optimizer, None, path)
    return model


# ------------------------------------------------------------------ legacy .h5
def save_legacy_h5(model, path, include_optimizer=True):
    """Write ``model`` as Keras 2 does to an HDF5 file (``model.save("m.h5")``)."""
    h5py = _h5.require_h5py()
    model_config = _fmt.model_to_keras(model, _fmt.KERAS2)
    training = _compile_fmt.compile_to_keras(model, _fmt.KERAS2) if include_optimizer else None
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = KERAS2_VERSION
        f.attrs["model_config"] = json.dumps(model_config)
        if training is not None:
            f.attrs["training_config"] = json.dumps(training)
        _h5.write_legacy_weights(f.create_group("model_weights"), model, KERAS2_VERSION)
        if training is not None:
            state = [np.array(model.optimizer.iterations, dtype=np.int64)]
            _h5.write_legacy_optimizer(f, model, state + (_slots_per_variable(model) or []))
    write_atomically(path, lambda fileobj: fileobj.write(buffer.getvalue()))


def load_legacy_h5(filepath, custom_objects=None, compile=True):
    """A bprop Sequential from a Keras 2 HDF5 model file (``tf.keras`` ``model.save``)."""
    h5py = _h5.require_h5py()
    path = _existing(filepath)
    kind = "Keras HDF5 model file"
    try:
        with h5py.File(path, "r") as f:
            reader = _h5.H5Reader(f, os.path.getsize(path))
            text = reader.text(f, "model_config")
            if text is None:
                if _legacy_weights_group(reader, f) is not None or "layers" in f:
                    raise ValueError("filepath: %r holds only weights (save_weights); load it "
                                     "with model.load_weights() into a model of the same "
                                     "architecture" % path)
                raise ValueError("no model_config attribute: not a Keras model file")
            arch = _mapped(path, _fmt.model_from_keras, _json(text, "model_config"))
            compile_args, arrays, names = None, None, None
            training = reader.text(f, "training_config") if compile else None
            if training is not None:
                compile_args = _mapped(path, _compile_fmt.compile_from_keras,
                                       _json(training, "training_config"), "optimizer_config")
                group = reader.group("optimizer_weights", required=False)
                if group is not None:
                    names = reader.names(group, "weight_names")
                    arrays = [reader.array(group, n) for n in names]
            weights = _h5.read_legacy_weights(reader, reader.group("model_weights"))
    except _DAMAGE as exc:
        raise _damaged(path, kind, exc) from None
    model = _build(arch, weights, path, custom_objects)
    if compile_args is not None:
        _compile(model, compile_args, arrays, names, path)
    return model


# ------------------------------------------------------------------ weights only
def save_weights_h5(model, path):
    """``save_weights``: Keras 3's ``.weights.h5`` layout, or Keras 2's for ``.h5``."""
    h5py = _h5.require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        if kind_of(path) == "weights_h5":
            _h5.write_keras3_weights(f, model, _optimizer_variables(model)
                                     if model.compiled else None)
        else:
            _h5.write_legacy_weights(f, model, KERAS2_VERSION)
    write_atomically(path, lambda fileobj: fileobj.write(buffer.getvalue()))


def _legacy_weights_group(reader, f):
    if "layer_names" in f.attrs or "layer_names0" in f.attrs:
        return f
    return reader.group("model_weights", required=False)


def load_weights_h5(model, filepath):
    """``load_weights`` from a ``.weights.h5``, ``.h5`` or ``.keras`` file: the model's
    weights, and (Keras 3 files, compiled model) its optimizer's variables."""
    from .saving import _set_weights

    h5py = _h5.require_h5py()
    path = _existing(filepath)
    kind = "Keras weights file"
    arrays = None
    try:
        if kind_of(path) == "keras":
            data = _read_keras_zip(path)[1]
            f, budget = _open_h5_bytes(data), len(data)
        else:
            f, budget = h5py.File(path, "r"), os.path.getsize(path)
        with f:
            reader = _h5.H5Reader(f, budget)
            legacy = _legacy_weights_group(reader, f)
            if legacy is not None:
                weights = _h5.read_legacy_weights(reader, legacy)
            elif "layers" in f or "vars" in f:
                weights, arrays = _h5.read_keras3_weights(reader, _h5.model_tree(model))
            else:
                raise ValueError("neither Keras 3 (layers/...) nor Keras 2 (layer_names) "
                                 "weights in it")
    except _DAMAGE as exc:
        raise _damaged(path, kind, exc) from None
    _set_weights(model, weights, path)
    if arrays is not None and model.compiled:
        try:
            _restore_optimizer(model, arrays, None, path)
        except ValueError as exc:  # as Keras: the weights load, the optimizer starts afresh
            warnings.warn("filepath: %r: the optimizer's variables were not loaded (%s)"
                          % (path, exc), stacklevel=3)
