"""Top-k accuracies against a NumPy oracle (a hit: fewer than k classes score
strictly higher than the label, TensorFlow's in_top_k)."""
from __future__ import annotations

import numpy as np
import pytest

from bprop import metrics


def oracle_in_top_k(scores, labels, k):
    hits = []
    for row, label in zip(scores, labels):
        higher = sum(1 for s in row if s > row[label])
        hits.append(higher < k and bool(np.all(np.isfinite(row))))
    return np.array(hits, dtype=np.float64)


def _weighted_mean(values, w):
    return float((values * w).sum() / w.sum())


def _scores(rng, n=50, classes=6):
    scores = rng.random((n, classes))
    scores[0] = [0.3, 0.3, 0.3, 0.1, 0.9, 0.2]   # a three-way tie at ranks 2-4
    scores[1, 2] = np.nan                        # never a hit
    return scores, rng.integers(0, classes, n), rng.random(n)


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_top_k_categorical_accuracy(rng, k):
    scores, labels, w = _scores(rng)
    onehot = np.eye(6)[labels]
    hits = oracle_in_top_k(scores, labels, k)
    m = metrics.TopKCategoricalAccuracy(k=k)
    assert m(onehot, scores) == pytest.approx(hits.mean())
    m.reset_state()
    m.update_state(onehot, scores, sample_weight=w)
    assert m._result_value() == pytest.approx(_weighted_mean(hits, w))
    s = metrics.SparseTopKCategoricalAccuracy(k=k)
    s.update_state(labels, scores, sample_weight=w)
    assert s._result_value() == pytest.approx(_weighted_mean(hits, w))
    s.update_state(labels[:, None], scores)  # (n, 1) labels; streams on
    assert s._result_value() == pytest.approx(float((hits * w).sum() + hits.sum()) / (w.sum() + 50))


def test_ties_straddling_the_boundary_are_hits():
    scores = np.array([[0.3, 0.3, 0.3, 0.1, 0.9]])
    assert metrics.SparseTopKCategoricalAccuracy(k=2)([2], scores) == 1.0
    assert metrics.SparseTopKCategoricalAccuracy(k=1)([2], scores) == 0.0
    assert metrics.SparseTopKCategoricalAccuracy(k=2)([3], scores) == 0.0


def test_keras_examples_and_defaults():
    m = metrics.TopKCategoricalAccuracy(k=1)
    assert m([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]) == 0.5
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    assert m([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]) == 0.5
    assert metrics.TopKCategoricalAccuracy().k == 5
    assert metrics.TopKCategoricalAccuracy().name == "top_k_categorical_accuracy"
    assert metrics.SparseTopKCategoricalAccuracy().name == "sparse_top_k_categorical_accuracy"


def test_sorted_ids_and_higher_rank(rng):
    scores, labels, _ = _scores(rng)
    scores[1, 2] = 0.5
    ids = np.argsort(-scores, axis=1, kind="stable")
    m = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    expected = np.mean([label in row[:2] for label, row in zip(labels, ids)])
    assert m(labels, ids) == pytest.approx(expected)
    # (batch, steps, classes): one value per (batch, step) position
    seq = scores.reshape(5, 10, 6)
    onehot = np.eye(6)[labels].reshape(5, 10, 6)
    assert metrics.TopKCategoricalAccuracy(k=2)(onehot, seq) == pytest.approx(
        oracle_in_top_k(scores, labels, 2).mean())


def test_config_and_errors():
    for m in (metrics.TopKCategoricalAccuracy(k=2, name="top2"),
              metrics.SparseTopKCategoricalAccuracy(k=3, from_sorted_ids=True)):
        clone = metrics.deserialize(metrics.serialize(m))
        assert type(clone) is type(m) and clone.get_config() == m.get_config()
    assert metrics.SparseTopKCategoricalAccuracy(k=3).get_config() == {
        "name": "sparse_top_k_categorical_accuracy", "dtype": "float32", "k": 3,
        "from_sorted_ids": False}
    with pytest.raises(ValueError, match="k: expected an int >= 1, got 0"):
        metrics.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match=r"y_true, y_pred: expected equal shapes \(one-hot"):
        metrics.TopKCategoricalAccuracy().update_state([1, 2], np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"y_true: expected integer labels in \[0, 3\)"):
        metrics.SparseTopKCategoricalAccuracy().update_state([1, 3], np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"y_pred: expected \(batch, classes\)"):
        metrics.SparseTopKCategoricalAccuracy().update_state([1, 0], [0.5, 0.2])
