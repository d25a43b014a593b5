"""``bprop.data``: TensorFlow's ``tf.data`` input pipelines (``import bprop as tf``).

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(1000).batch(32)
    model.fit(ds.prefetch(tf.data.AUTOTUNE), epochs=3)

See :mod:`bprop.data.dataset` for what runs how.
"""
from __future__ import annotations

from . import experimental
from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "experimental"]
