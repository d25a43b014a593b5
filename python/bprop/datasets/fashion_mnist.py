"""Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; Zalando, MIT licence): 28x28 clothing images.

``load_data()`` returns ``(x_train, y_train), (x_test, y_test)`` as Keras does:
uint8 images (60000, 28, 28) / (10000, 28, 28) with values 0..255 and uint8
labels 0..9 naming :data:`CLASS_NAMES`.  Debian's ``dataset-fashion-mnist``
package installs the files under /usr/share/datasets/fashion-mnist, which is
searched before downloading (see :mod:`bprop.datasets._idx_dataset`).
"""
from __future__ import annotations

from ._idx_dataset import IDXDataset

__all__ = ["load_data", "CLASS_NAMES", "DATASET"]

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# SHA-256 of the archives published by Zalando Research.
DATASET = IDXDataset(
    name="fashion-mnist",
    sha256={
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    mirrors=[
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
)


def load_data(path=None, download=True):
    """Load Fashion-MNIST.

    Args:
        path: a directory holding the four IDX files (gzipped or not); when
            given, nothing else is searched.
        download: fetch the files into the cache when no local copy exists.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes
        (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).
    """
    return DATASET.load_data(path=path, download=download)
