"""``tf.data.experimental``: the names older TensorFlow tutorials reach for."""
from __future__ import annotations

from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "cardinality"]


def cardinality(dataset):
    """``dataset.cardinality()`` (TensorFlow 2.2's spelling)."""
    if not isinstance(dataset, Dataset):
        raise TypeError("dataset: expected a Dataset, got %s" % type(dataset).__name__)
    return dataset.cardinality()
