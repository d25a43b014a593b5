"""bprop's metrics against Keras' (tf.keras.metrics) on the same data, where
TensorFlow is installed (never a dependency: skipped otherwise).  Keras
counts in float32: the tolerance is float32's."""
from __future__ import annotations

import numpy as np
import pytest

from bprop import metrics

tf = pytest.importorskip("tensorflow")


def _data():
    rng = np.random.default_rng(42)
    n = 40
    d = {
        "yb": rng.integers(0, 2, (n, 1)).astype("float32"),
        "pb": rng.random((n, 1)).astype("float32"),
        "sw": rng.random(n).astype("float32"),
        "ym": rng.integers(0, 2, (n, 5)).astype("float32"),
        "pm": rng.random((n, 5)).astype("float32"),
        "onehot": np.eye(5, dtype="float32")[rng.integers(0, 5, n)],
        "labels": rng.integers(0, 5, n),
        "logits": (rng.standard_normal((n, 5)) * 2).astype("float32"),
    }
    d["pb"][:6, 0] = [0.0, 0.5, 1.0, 0.3, 0.7, 0.25]  # on thresholds
    d["pm"][0] = [0.2, 0.2, 0.2, 0.1, 0.3]               # ties
    return d


CASES = [
    ("Precision", {}, ("yb", "pb", "sw")),
    ("Precision", {"thresholds": [0.3, 0.5, 0.7]}, ("yb", "pb", "sw")),
    ("Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, ("ym", "pm", "sw")),
    ("Precision", {"top_k": 2}, ("ym", "pm", "sw")),
    ("Precision", {"class_id": 1, "top_k": 3}, ("ym", "pm")),
    ("Recall", {}, ("ym", "pm", "sw")),
    ("Recall", {"class_id": 2}, ("ym", "pm", "sw")),
    ("Recall", {"top_k": 1, "thresholds": 0.4}, ("ym", "pm")),
    ("TrueNegatives", {"thresholds": [0.2, 0.6]}, ("ym", "pm", "sw")),
    ("AUC", {}, ("yb", "pb", "sw")),
    ("AUC", {"curve": "PR"}, ("yb", "pb", "sw")),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, ("ym", "pm", "sw")),
    ("AUC", {"num_thresholds": 3}, ("yb", "pb")),
    ("AUC", {"thresholds": [0.1, 0.5, 0.55, 0.9], "curve": "PR"}, ("yb", "pb", "sw")),
    ("AUC", {"multi_label": True, "label_weights": [1, 2, 0.5, 0, 3]}, ("ym", "pm", "sw")),
    ("AUC", {"label_weights": [1, 2, 0.5, 0, 3]}, ("ym", "pm", "sw")),
    ("AUC", {"from_logits": True, "curve": "PR"}, ("ym", "logits")),
    ("TopKCategoricalAccuracy", {"k": 2}, ("onehot", "pm", "sw")),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, ("labels", "pm", "sw")),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, ("ym", "pm", "sw")),
    ("BinaryCrossentropy", {"from_logits": True}, ("ym", "logits", "sw")),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, ("onehot", "pm", "sw")),
    ("CategoricalCrossentropy", {"from_logits": True}, ("onehot", "logits")),
    ("SparseCategoricalCrossentropy", {}, ("labels", "pm", "sw")),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, ("labels", "logits", "sw")),
    ("MeanSquaredError", {}, ("ym", "pm", "sw")),
    ("RootMeanSquaredError", {}, ("ym", "pm", "sw")),
]


@pytest.mark.parametrize("name,kwargs,args", CASES,
                         ids=["%s-%s" % (c[0], "-".join(map(str, c[1].values()))) for c in CASES])
def test_same_result_as_keras(name, kwargs, args):
    d = _data()
    arrays = [d[a] for a in args]
    ours = getattr(metrics, name)(**kwargs)
    theirs = getattr(tf.keras.metrics, name)(**kwargs)
    for m in (ours, theirs):
        m.update_state(*arrays)
        m.update_state(*[a[:7] for a in arrays])  # streaming
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=3e-5,
                               atol=3e-6)


def test_mean_and_sum_as_keras():
    d = _data()
    for name in ("Mean", "Sum"):
        ours, theirs = getattr(metrics, name)(), getattr(tf.keras.metrics, name)()
        for m in (ours, theirs):
            m.update_state(d["pm"][:, 0])
            m.update_state(d["pm"], sample_weight=d["sw"])
            m.update_state(d["pm"], sample_weight=d["pm"])
            m.update_state(np.float32(3.0))
        np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=3e-5)
