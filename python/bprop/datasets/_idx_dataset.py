"""Shared loader for MNIST-format data sets (four IDX files).

Where a data set is looked for, in order:

1. an explicit ``path=`` directory (authoritative: if it lacks a file, that
   is an error, never a silent fall-through to another copy);
2. ``$BPROP_DATA/<name>/``;
3. the cache, ``<cache_dir()>/<name>/`` (``$BPROP_CACHE_DIR``, else
   ``$XDG_CACHE_HOME/bprop``, else ``~/.cache/bprop``);
4. the system directory ``/usr/share/datasets/<name>/`` where Debian's
   ``dataset-fashion-mnist`` package installs its files;
5. otherwise the files are downloaded from the data set's mirrors into the
   cache, each verified against its SHA-256 and written atomically.

In each directory a file may be gzipped (``train-images-idx3-ubyte.gz``) or
plain (``train-images-idx3-ubyte``).  Local copies are not checked against
the download digests (Debian recompresses the archives, so the gzip bytes
differ while the content is the same); instead every file is fully validated
by the IDX reader and the arrays' shapes, dtypes and label range are checked.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from ._download import download_first, sha256_file
from .idx import IDXFormatError, read_idx

__all__ = ["IDXDataset", "cache_dir", "SYSTEM_DATA_DIR", "FILE_ROLES"]

# Patched by tests; the Debian/FHS place for packaged data sets.
SYSTEM_DATA_DIR = "/usr/share/datasets"

# Order of the returned arrays: (x_train, y_train), (x_test, y_test).
FILE_ROLES = ("train_images", "train_labels", "test_images", "test_labels")
_DEFAULT_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def cache_dir():
    """The bprop cache directory (not created here)."""
    env = os.environ.get("BPROP_CACHE_DIR")
    if env:
        return env
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = xdg if xdg else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bprop")


def _stderr_progress(name):
    """A download progress callback printing one updating line on stderr."""
    state = {"last": -1}

    def report(done, total):
        if total:
            percent = int(100 * done / total)
            if percent != state["last"]:
                state["last"] = percent
                sys.stderr.write(f"\r  {name}: {percent:3d}% of {total / 1e6:.1f} MB")
                if done >= total:
                    sys.stderr.write("\n")
                sys.stderr.flush()

    return report


class IDXDataset:
    """Description of one MNIST-format data set and its loader.

    Args:
        name: directory name under the search roots ("mnist", "fashion-mnist").
        sha256: {gzip file name: hex SHA-256} of the canonical archives.
        mirrors: base URLs (ending in "/") tried in order for downloads.
        image_shape: expected shape of one image (None: any, at least 1-D).
        num_classes: labels must lie in ``[0, num_classes)`` (None: unchecked).
    """

    def __init__(self, name, sha256, mirrors, image_shape=(28, 28), num_classes=10):
        self.name = name
        self.sha256 = dict(sha256)
        self.mirrors = list(mirrors)
        self.image_shape = None if image_shape is None else tuple(image_shape)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.files = dict(_DEFAULT_FILES)

    # -- locating -----------------------------------------------------------
    def _find_in(self, directory):
        """{role: existing file path} if ``directory`` holds all four files, else None."""
        found = {}
        for role, gz_name in self.files.items():
            for candidate in (gz_name, gz_name[:-3]):
                full = os.path.join(directory, candidate)
                if os.path.isfile(full):
                    found[role] = full
                    break
            else:
                return None
        return found

    def search_dirs(self):
        """Directories searched after an explicit path, in order."""
        dirs = []
        data_env = os.environ.get("BPROP_DATA")
        if data_env:
            dirs.append(os.path.join(data_env, self.name))
        dirs.append(os.path.join(cache_dir(), self.name))
        dirs.append(os.path.join(SYSTEM_DATA_DIR, self.name))
        return dirs

    def locate(self, path=None, download=True):
        """{role: file path}, downloading into the cache when nothing local has it.

        Raises:
            FileNotFoundError: ``path`` given but missing files; or nothing
                found and ``download`` is False.
            DownloadError / ChecksumError: the download failed.
        """
        if path is not None:
            path = os.fspath(path)
            if not os.path.isdir(path):
                raise FileNotFoundError(
                    f"{self.name}: path={path!r} is not a directory; expected a directory "
                    f"holding {', '.join(self.files.values())} (gzipped or not)"
                )
            found = self._find_in(path)
            if found is None:
                missing = [f for r, f in self.files.items()
                           if not any(os.path.isfile(os.path.join(path, c)) for c in (f, f[:-3]))]
                raise FileNotFoundError(
                    f"{self.name}: path={path!r} lacks {', '.join(missing)} (gzipped or not)"
                )
            return found
        searched = self.search_dirs()
        for directory in searched:
            found = self._find_in(directory)
            if found is not None:
                return found
        if not download:
            raise FileNotFoundError(
                f"{self.name} not found in {', '.join(searched)} and download=False"
            )
        target = os.path.join(cache_dir(), self.name)
        for role in FILE_ROLES:
            file_name = self.files[role]
            dest = os.path.join(target, file_name)
            if os.path.isfile(dest) and sha256_file(dest) == self.sha256[file_name]:
                continue  # kept from an earlier, interrupted download of the set
            sys.stderr.write(f"Downloading {self.name} {file_name} into {target}\n")
            download_first([m + file_name for m in self.mirrors], dest, self.sha256[file_name],
                           progress=_stderr_progress(file_name))
        return self._find_in(target)

    # -- loading ------------------------------------------------------------
    def _check(self, images, labels, images_path, labels_path):
        if self.image_shape is None:  # any image size, but uint8 and at least 2-D
            if images.dtype != np.uint8 or images.ndim < 2:
                raise IDXFormatError(
                    f"{images_path!r}: expected uint8 images of shape (n, ...), got "
                    f"{images.dtype} {images.shape}"
                )
        elif images.dtype != np.uint8 or images.shape[1:] != self.image_shape:
            raise IDXFormatError(
                f"{images_path!r}: expected uint8 images of shape (n, "
                f"{', '.join(map(str, self.image_shape))}), got {images.dtype} {images.shape}"
            )
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise IDXFormatError(
                f"{labels_path!r}: expected uint8 labels of shape (n,), got "
                f"{labels.dtype} {labels.shape}"
            )
        if labels.shape[0] != images.shape[0]:
            raise IDXFormatError(
                f"{labels_path!r} holds {labels.shape[0]} labels but {images_path!r} "
                f"holds {images.shape[0]} images"
            )
        if self.num_classes is not None and labels.size and int(labels.max()) >= self.num_classes:
            raise IDXFormatError(
                f"{labels_path!r}: labels must lie in [0, {self.num_classes}), "
                f"got max {int(labels.max())}"
            )

    def load_data(self, path=None, download=True):
        """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 28, 28), uint8 labels (n,)."""
        files = self.locate(path=path, download=download)
        arrays = {role: read_idx(files[role]) for role in FILE_ROLES}
        self._check(arrays["train_images"], arrays["train_labels"],
                    files["train_images"], files["train_labels"])
        self._check(arrays["test_images"], arrays["test_labels"],
                    files["test_images"], files["test_labels"])
        return ((arrays["train_images"], arrays["train_labels"]),
                (arrays["test_images"], arrays["test_labels"]))
