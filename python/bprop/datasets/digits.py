"""The UCI optical handwritten digits, bundled: 1,797 8x8 images, offline.

This small real data set ships inside the package (``data/digits.csv.gz``,
CC BY 4.0, Alpaydin & Kaynak 1998; see ``data/DIGITS_LICENSE.txt``) and is
the default data of ``bprop train``.
"""
from __future__ import annotations

import functools
import gzip
import math
import os

import numpy as np

__all__ = ["load_data", "DATA_FILE", "LICENSE_FILE", "NUM_SAMPLES", "DEFAULT_SEED"]

_HERE = os.path.dirname(os.path.abspath(__file__))
DATA_FILE = os.path.join(_HERE, "data", "digits.csv.gz")
LICENSE_FILE = os.path.join(_HERE, "data", "DIGITS_LICENSE.txt")
NUM_SAMPLES = 1797
DEFAULT_SEED = 0


@functools.lru_cache(maxsize=1)
def _load_all():
    """All samples as (images (1797, 8, 8) uint8, labels (1797,) uint8), parsed once."""
    with gzip.open(DATA_FILE, "rt", encoding="ascii") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape != (NUM_SAMPLES, 65):
        raise ValueError(
            f"{DATA_FILE}: expected {NUM_SAMPLES} rows of 65 values, got shape {table.shape}"
        )
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{DATA_FILE}: pixel values must lie in 0..16 and labels in 0..9")
    images = pixels.astype(np.uint8).reshape(NUM_SAMPLES, 8, 8)
    images.flags.writeable = False  # cached: callers get copies
    labels = labels.astype(np.uint8)
    labels.flags.writeable = False
    return images, labels


def load_data(test_split=0.2, seed=DEFAULT_SEED):
    """Load the bundled digits, split into train and test sets.

    The split is fixed by ``seed``: the samples are shuffled with
    ``numpy.random.default_rng(seed).permutation(1797)`` (independent of
    ``bprop.utils.set_random_seed``), the first ``ceil(test_split * 1797)``
    indices form the test set and the rest the training set.  With the
    defaults that is 1437 training and 360 test images.

    Args:
        test_split: fraction of samples in the test set, in [0, 1).
        seed: int seed of the shuffle.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: images are uint8 arrays of
        shape (n, 8, 8) with values **0..16** (not 0..255: divide by 16 to
        scale to [0, 1]); labels are uint8 arrays of shape (n,) with values 0..9.

    Raises:
        ValueError: ``test_split`` outside [0, 1).
        TypeError: ``seed`` not an int.
    """
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float)) \
            or not 0.0 <= float(test_split) < 1.0:
        raise ValueError(f"test_split must be a number in [0, 1), got {test_split!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    images, labels = _load_all()
    order = np.random.default_rng(int(seed)).permutation(NUM_SAMPLES)
    n_test = int(math.ceil(float(test_split) * NUM_SAMPLES))
    test_idx, train_idx = order[:n_test], order[n_test:]
    # Fancy indexing copies, so callers may modify the arrays freely.
    return (images[train_idx], labels[train_idx]), (images[test_idx], labels[test_idx])
