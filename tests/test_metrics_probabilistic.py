"""Cross-entropy metrics against the textbook formulas in NumPy (Keras' clipping
to [1e-7, 1 - 1e-7], label smoothing, logits), weighted over samples."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import metrics

EPS = 1e-7


def _weighted_mean(values, w=None):
    w = np.ones(len(values)) if w is None else w
    return float((values * w).sum() / w.sum())


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_binary_crossentropy(rng, smoothing):
    y = rng.integers(0, 2, (30, 3)).astype(np.float64)
    p = rng.random((30, 3))
    p[0] = [0.0, 1.0, 1e-9]  # clipped
    w = rng.random(30)
    t = y * (1 - smoothing) + 0.5 * smoothing
    pc = np.clip(p, EPS, 1 - EPS)
    per_sample = -(t * np.log(pc) + (1 - t) * np.log(1 - pc)).mean(axis=1)
    m = metrics.BinaryCrossentropy(label_smoothing=smoothing)
    m.update_state(y, p, sample_weight=w)
    assert m._result_value() == pytest.approx(_weighted_mean(per_sample, w), rel=1e-12)
    z = rng.standard_normal((30, 3)) * 5
    logits = metrics.BinaryCrossentropy(from_logits=True, label_smoothing=smoothing)
    sig = 1 / (1 + np.exp(-z))
    expected = -(t * np.log(sig) + (1 - t) * np.log(1 - sig)).mean(axis=1)
    assert logits(y, z) == pytest.approx(_weighted_mean(expected), rel=1e-10)
    # a column of outputs against (n,) labels: n samples
    col = metrics.BinaryCrossentropy()
    assert col(y[:, 0], p[:, :1]) == pytest.approx(
        _weighted_mean(-(y[:, 0] * np.log(pc[:, 0]) + (1 - y[:, 0]) * np.log(1 - pc[:, 0]))))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_categorical_crossentropy(rng, smoothing):
    labels = rng.integers(0, 4, 25)
    onehot = np.eye(4)[labels]
    raw = rng.random((25, 4)) + 0.01
    w = rng.random(25)
    t = onehot * (1 - smoothing) + smoothing / 4
    q = np.clip(raw / raw.sum(axis=1, keepdims=True), EPS, 1 - EPS)  # divided by the sum
    m = metrics.CategoricalCrossentropy(label_smoothing=smoothing)
    m.update_state(onehot, raw, sample_weight=w)
    assert m._result_value() == pytest.approx(_weighted_mean(-(t * np.log(q)).sum(axis=1), w),
                                       rel=1e-12)
    z = rng.standard_normal((25, 4)) * 3
    expected = -(t * np.log(_softmax(z))).sum(axis=1)
    assert metrics.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)(
        onehot, z) == pytest.approx(_weighted_mean(expected), rel=1e-10)


def test_sparse_categorical_crossentropy(rng):
    labels = rng.integers(0, 4, 25)
    raw = rng.random((25, 4))
    raw[0] = [0.0, 0.0, 0.0, 1.0]  # clipped before normalising (Keras' TensorFlow path)
    w = rng.random(25)
    pc = np.clip(raw, EPS, 1 - EPS)
    q = pc / pc.sum(axis=1, keepdims=True)
    expected = -np.log(q[np.arange(25), labels])
    m = metrics.SparseCategoricalCrossentropy()
    m.update_state(labels, raw, sample_weight=w)
    assert m._result_value() == pytest.approx(_weighted_mean(expected, w), rel=1e-12)
    z = rng.standard_normal((25, 4)) * 3
    expected = -np.log(_softmax(z)[np.arange(25), labels])
    m = metrics.SparseCategoricalCrossentropy(from_logits=True)
    assert m(labels[:, None], z) == pytest.approx(_weighted_mean(expected), rel=1e-10)


def test_metrics_equal_bprop_losses_on_ordinary_probabilities(rng):
    labels = rng.integers(0, 3, 20)
    probs = _softmax(rng.standard_normal((20, 3)))
    assert metrics.SparseCategoricalCrossentropy()(labels, probs) == pytest.approx(
        float(bprop.losses.SparseCategoricalCrossentropy()(labels, probs)), rel=1e-10)
    assert metrics.CategoricalCrossentropy()(np.eye(3)[labels], probs) == pytest.approx(
        float(bprop.losses.CategoricalCrossentropy()(np.eye(3)[labels], probs)), rel=1e-10)
    y = rng.integers(0, 2, (20, 2)).astype(np.float64)
    p = rng.random((20, 2))
    assert metrics.BinaryCrossentropy()(y, p) == pytest.approx(
        float(bprop.losses.BinaryCrossentropy()(y, p)), rel=1e-10)


def test_streaming_reset_config_and_errors(rng):
    labels = rng.integers(0, 3, 20)
    probs = _softmax(rng.standard_normal((20, 3)))
    whole = metrics.SparseCategoricalCrossentropy()
    whole.update_state(labels, probs)
    parts = metrics.SparseCategoricalCrossentropy()
    parts.update_state(labels[:7], probs[:7])
    parts.update_state(labels[7:], probs[7:])
    assert parts._result_value() == pytest.approx(whole._result_value(), rel=1e-12)
    parts.reset_state()
    assert parts._result_value() == 0.0
    for m in (metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
              metrics.CategoricalCrossentropy(name="cce", label_smoothing=0.2),
              metrics.SparseCategoricalCrossentropy(from_logits=True)):
        clone = metrics.deserialize(metrics.serialize(m))
        assert type(clone) is type(m) and clone.get_config() == m.get_config()
    assert metrics.CategoricalCrossentropy().get_config() == {
        "name": "categorical_crossentropy", "dtype": "float32", "from_logits": False,
        "label_smoothing": 0.0, "axis": -1}
    with pytest.raises(ValueError, match=r"label_smoothing: expected a value in \[0, 1\], got 2"):
        metrics.BinaryCrossentropy(label_smoothing=2)
    with pytest.raises(ValueError, match="axis: expected -1"):
        metrics.CategoricalCrossentropy(axis=1)
    with pytest.raises(ValueError, match=r"y_true, y_pred: expected equal shapes"):
        metrics.CategoricalCrossentropy().update_state(labels, probs)
    with pytest.raises(ValueError, match=r"y_true: expected integer labels in \[0, 3\)"):
        metrics.SparseCategoricalCrossentropy().update_state(labels + 1, probs)
