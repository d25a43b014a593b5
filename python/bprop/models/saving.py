"""Saving and loading models: ONE file, written atomically, never unpickled.

Format (version 1): an uncompressed NumPy ``.npz`` zip archive holding

* ``bprop_header``   JSON (as uint8 bytes): ``{"magic": "bprop-model" or
  "bprop-weights", "format_version": 1, "bprop_version": ...}``
* ``architecture``   JSON: the model's ``get_config()`` (models only)
* ``compile``        JSON: optimizer / loss / metrics configs (when compiled)
* ``weight_00000``.. the weights in ``model.weights`` order
* ``optimizer_00000``.. ``optimizer.get_state()`` (iterations, then slots)

Files are written to a temporary file in the destination directory and
moved into place with ``os.replace``, so a crash never leaves a half-written
file under the final name.  Reading uses ``allow_pickle=False``; a foreign,
truncated or version-mismatched file raises ValueError naming the path.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "FORMAT_VERSION"]

FORMAT_VERSION = 1
MODEL_MAGIC = "bprop-model"
WEIGHTS_MAGIC = "bprop-weights"


def _json_bytes(obj):
    return np.frombuffer(json.dumps(obj, sort_keys=True).encode("utf-8"), dtype=np.uint8)


def _read_json(archive, key, path):
    try:
        return json.loads(archive[key].tobytes().decode("utf-8"))
    except KeyError:
        raise ValueError("filepath: %r is not a complete bprop file (entry %r is missing)"
                         % (path, key)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("filepath: %r has a corrupt %r entry (%s)" % (path, key, exc)) from None


def _check_path(filepath, overwrite):
    path = os.fspath(filepath)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    if os.path.isdir(path):
        raise ValueError("filepath: %r is a directory, expected a file path" % path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError("filepath: %r exists and overwrite=False" % path)
    return path


def _write_atomically(path, entries):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **entries)  # a file object: savez adds no ".npz" suffix
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _header(magic):
    from .. import __version__

    return _json_bytes({"magic": magic, "format_version": FORMAT_VERSION,
                        "bprop_version": __version__})


def _weight_entries(model):
    return {"weight_%05d" % i: np.asarray(w) for i, w in enumerate(model.get_weights())}


def _open(path, magic):
    """Load the archive's arrays (eagerly, so truncation shows here) and check the header."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError("filepath: no such file %r" % (path,))
    try:
        # Our own file object: np.load leaks the handle it opens when the zip is bad.
        with open(path, "rb") as f:
            archive = np.load(f, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("a single .npy array, not a bprop archive")
            try:
                arrays = {key: archive[key] for key in archive.files}
            finally:
                archive.close()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError("filepath: %r is not a readable bprop file (foreign or truncated: %s)"
                         % (path, exc)) from None
    header = _read_json(arrays, "bprop_header", path)
    if not isinstance(header, dict) or header.get("magic") not in (MODEL_MAGIC, WEIGHTS_MAGIC):
        raise ValueError("filepath: %r is not a bprop file (no bprop magic in its header)" % path)
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError("filepath: %r has bprop format version %r; this bprop reads version %d"
                         % (path, version, FORMAT_VERSION))
    if magic == MODEL_MAGIC and header["magic"] != MODEL_MAGIC:
        raise ValueError("filepath: %r holds only weights (save_weights); load it with "
                         "model.load_weights() into a model of the same architecture" % path)
    return arrays


def _weights_from(arrays, path):
    keys = sorted(k for k in arrays if k.startswith("weight_"))
    if [int(k[7:]) for k in keys] != list(range(len(keys))):
        raise ValueError("filepath: %r has non-contiguous weight entries" % path)
    return [arrays[k] for k in keys]


# ------------------------------------------------------------------ public
def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Write ``model`` (architecture, weights, compile config, optimizer state) to one file."""
    path = _check_path(filepath, overwrite)
    from .. import losses as _losses
    from .. import optimizers as _optimizers

    entries = {"bprop_header": _header(MODEL_MAGIC),
               "architecture": _json_bytes({"class_name": type(model).__name__,
                                            "config": model.get_config()})}
    entries.update(_weight_entries(model))
    if model.compiled:
        compile_config = {
            "optimizer": _optimizers.serialize(model.optimizer),
            "loss": None if model.compiled_loss is None else _losses.serialize(model.compiled_loss),
            "metrics": [m if isinstance(m, str) else m.name
                        for m in model._compile_args["metrics"]],
        }
        entries["compile"] = _json_bytes(compile_config)
        if include_optimizer:
            for i, arr in enumerate(model.optimizer.get_state()):
                entries["optimizer_%05d" % i] = np.asarray(arr)  # keeps 0-d iterations 0-d
    _write_atomically(path, entries)


def load_model(filepath, custom_objects=None, compile=True):
    """Rebuild a model saved by ``model.save``: same architecture, weights and optimizer."""
    from .. import layers as _layers

    path = os.fspath(filepath)
    arrays = _open(path, MODEL_MAGIC)
    arch = _read_json(arrays, "architecture", path)
    try:
        model = _layers.deserialize(arch, custom_objects)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("filepath: %r has an architecture this bprop cannot rebuild (%s)"
                         % (path, exc)) from None
    _set_weights(model, _weights_from(arrays, path), path)
    if compile and "compile" in arrays:
        cfg = _read_json(arrays, "compile", path)
        model.compile(optimizer=cfg["optimizer"], loss=cfg["loss"], metrics=cfg["metrics"])
        opt_keys = sorted(k for k in arrays if k.startswith("optimizer_"))
        if opt_keys:
            state = [arrays[k] for k in opt_keys]
            if len(state) > 1:
                model.optimizer.build(model.trainable_variables)
            model.optimizer.set_state(state)
    return model


def _set_weights(model, weights, path):
    if not model.built and weights:
        raise ValueError("filepath: %r holds weights but no input shape to build the model"
                         % path)
    try:
        model.set_weights(weights)
    except ValueError as exc:
        raise ValueError("filepath: %r does not match this model (%s)" % (path, exc)) from None


def save_weights(model, filepath, overwrite=True):
    """Write only the weights of ``model`` (with the bprop header) to one file."""
    path = _check_path(filepath, overwrite)
    entries = {"bprop_header": _header(WEIGHTS_MAGIC)}
    entries.update(_weight_entries(model))
    _write_atomically(path, entries)


def load_weights(model, filepath):
    """Set ``model``'s weights from a file written by ``save_weights`` or ``save``."""
    path = os.fspath(filepath)
    arrays = _open(path, WEIGHTS_MAGIC)
    _set_weights(model, _weights_from(arrays, path), path)
