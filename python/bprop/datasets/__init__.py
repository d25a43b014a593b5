"""Data sets: the bundled UCI digits, MNIST and Fashion-MNIST, and an IDX reader.

``digits.load_data()`` works offline (the data ships in the package);
``mnist.load_data()`` and ``fashion_mnist.load_data()`` look for local copies
and otherwise download, verify and cache the canonical files.
"""
from __future__ import annotations

from . import digits, fashion_mnist, mnist
from ._download import ChecksumError, DownloadError, download, sha256_file
from ._idx_dataset import cache_dir
from .idx import IDXFormatError, read_idx, write_idx

__all__ = [
    "digits", "mnist", "fashion_mnist",
    "read_idx", "write_idx", "IDXFormatError",
    "download", "sha256_file", "DownloadError", "ChecksumError", "cache_dir",
    "load",
]

_LOADERS = {"digits": digits, "mnist": mnist, "fashion-mnist": fashion_mnist,
            "fashion_mnist": fashion_mnist}


def load(name, **kwargs):
    """``(x_train, y_train), (x_test, y_test)`` of the data set called ``name``.

    ``name`` is "digits", "mnist" or "fashion-mnist" (or "fashion_mnist");
    keyword arguments go to that module's ``load_data``.
    """
    key = str(name).lower()
    if key not in _LOADERS:
        raise ValueError(
            f"unknown data set {name!r}; expected one of digits, mnist, fashion-mnist"
        )
    return _LOADERS[key].load_data(**kwargs)
