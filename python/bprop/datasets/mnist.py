"""MNIST handwritten digits (LeCun, Cortes, Burges): 60,000 + 10,000 28x28 images.

``load_data()`` returns ``(x_train, y_train), (x_test, y_test)`` as Keras does:
uint8 images of shape (60000, 28, 28) / (10000, 28, 28) with values 0..255 and
uint8 labels 0..9.  See :mod:`bprop.datasets._idx_dataset` for where the files
are looked for and how they are downloaded (SHA-256 verified, atomic).
"""
from __future__ import annotations

from ._idx_dataset import IDXDataset

__all__ = ["load_data", "DATASET"]

# SHA-256 of the canonical gzip archives (identical on every mirror below).
DATASET = IDXDataset(
    name="mnist",
    sha256={
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    mirrors=[
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://yann.lecun.com/exdb/mnist/",
    ],
)


def load_data(path=None, download=True):
    """Load MNIST.

    Args:
        path: a directory holding the four IDX files (gzipped or not); when
            given, nothing else is searched.
        download: fetch the files into the cache when no local copy exists.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes
        (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).

    Raises:
        FileNotFoundError, bprop.datasets.IDXFormatError,
        bprop.datasets.DownloadError (or its subclass ChecksumError).
    """
    return DATASET.load_data(path=path, download=download)
