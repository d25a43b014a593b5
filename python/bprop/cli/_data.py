"""Data for the command line: ``--data digits|mnist|fashion-mnist|PATH``.

Named sets come from :mod:`bprop.datasets`.  A PATH is either

* a ``.npz`` file holding ``x_train, y_train, x_test, y_test`` (the layout of
  Keras' ``mnist.npz``), or
* a directory holding the four MNIST-format IDX files
  (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
  ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``).

Pixels are scaled to [0, 1] as float32: integer images are divided by the
data set's maximum pixel value (16 for the bundled digits, 255 otherwise)
unless ``scale`` is given; float images are used as they are.
"""
from __future__ import annotations

import os

import numpy as np

from .. import datasets
from ..datasets._idx_dataset import IDXDataset
from ._errors import CLIError

__all__ = ["NAMED", "load_for_cli", "default_scale", "scale_images"]

NAMED = ("digits", "mnist", "fashion-mnist")
_SCALE = {"digits": 16.0, "mnist": 255.0, "fashion-mnist": 255.0}


def default_scale(data):
    """Divisor that maps the integer pixels of ``data`` to [0, 1]."""
    return _SCALE.get(data, 255.0)


def scale_images(x, scale):
    """float32 copy of ``x`` / ``scale`` for integer ``x``; float ``x`` as float32."""
    x = np.asarray(x)
    if x.dtype.kind in "ui":
        return (x.astype(np.float32) / np.float32(scale)).astype(np.float32)
    if x.dtype.kind == "f":
        return x.astype(np.float32)
    raise CLIError(f"images must be integers or floats, got dtype {x.dtype}")


def _load_npz(path):
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CLIError(f"--data {path}: not a readable .npz file ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CLIError(f"--data {path}: expected an .npz archive, got a single .npy array")
    with archive:
        needed = ("x_train", "y_train", "x_test", "y_test")
        missing = [k for k in needed if k not in archive.files]
        if missing:
            raise CLIError(
                f"--data {path}: the .npz lacks {', '.join(missing)} (needs x_train, "
                f"y_train, x_test, y_test; has {', '.join(archive.files) or 'nothing'})"
            )
        try:
            arrays = [archive[k] for k in needed]
        except (OSError, ValueError) as exc:
            raise CLIError(f"--data {path}: corrupt .npz entry ({exc})") from None
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])


def _check_arrays(train, test, where):
    for (x, y), split in ((train, "train"), (test, "test")):
        if x.ndim < 2:
            raise CLIError(f"{where}: x_{split} must have shape (n, ...), got {x.shape}")
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise CLIError(
                f"{where}: y_{split} must be integer labels of shape ({x.shape[0]},), got "
                f"{y.dtype} {y.shape}"
            )
        if y.dtype.kind not in "ui":
            raise CLIError(f"{where}: y_{split} must hold integer labels, got dtype {y.dtype}")
        if y.size and int(y.min()) < 0:
            raise CLIError(f"{where}: y_{split} has a negative label {int(y.min())}")
        if x.shape[0] == 0:
            raise CLIError(f"{where}: x_{split} is empty")
    if train[0].shape[1:] != test[0].shape[1:]:
        raise CLIError(
            f"{where}: train and test images differ in shape: {train[0].shape[1:]} vs "
            f"{test[0].shape[1:]}"
        )


def load_for_cli(data, scale=None, download=True):
    """Load ``data`` for training or evaluation.

    Returns:
        dict with ``x_train, y_train, x_test, y_test`` (x float32 in [0, 1],
        y int64), ``num_classes`` and ``name``.

    Raises:
        CLIError: unknown name, missing or malformed file (one-line message).
    """
    key = data.lower()
    if key in NAMED:
        loader = {"digits": datasets.digits, "mnist": datasets.mnist,
                  "fashion-mnist": datasets.fashion_mnist}[key]
        train, test = loader.load_data() if key == "digits" else loader.load_data(download=download)
        name, divisor = key, default_scale(key)
    elif os.path.isfile(data) and data.endswith(".npz"):
        train, test = _load_npz(data)
        name, divisor = os.path.basename(data), 255.0
    elif os.path.isdir(data):
        spec = IDXDataset(name=os.path.basename(os.path.abspath(data)), sha256={}, mirrors=[],
                          image_shape=None, num_classes=None)
        train, test = spec.load_data(path=data, download=False)
        name, divisor = os.path.basename(os.path.abspath(data)), 255.0
    elif os.path.exists(data):
        raise CLIError(
            f"--data {data}: expected a .npz file or a directory of IDX files"
        )
    else:
        raise CLIError(
            f"--data {data!r}: unknown data set and no such file or directory; expected "
            f"one of {', '.join(NAMED)} or a path"
        )
    _check_arrays(train, test, f"--data {data}")
    if scale is not None:
        divisor = scale
    y_train = train[1].astype(np.int64)
    y_test = test[1].astype(np.int64)
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    return {
        "name": name,
        "x_train": scale_images(train[0], divisor),
        "y_train": y_train,
        "x_test": scale_images(test[0], divisor),
        "y_test": y_test,
        "num_classes": max(num_classes, 2),
        "scale": divisor,
    }
