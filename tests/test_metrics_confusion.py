"""Precision, Recall and the four confusion counts against a NumPy oracle that
compares every prediction with every threshold (float32, strictly above)."""
from __future__ import annotations

import numpy as np
import pytest

from bprop import metrics


def oracle_counts(y_true, y_pred, thresholds, weight=None, top_k=None, class_id=None):
    """(tp, fp, tn, fn) per threshold: prediction > threshold in float32, label != 0,
    each element weighted by its sample's weight (or its own, same shape)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float32)
    if weight is None:
        w = np.ones(y_pred.shape)
    else:
        w = np.asarray(weight, dtype=np.float64)
        w = w if w.shape == y_pred.shape else w.reshape((-1,) + (1,) * (y_pred.ndim - 1))
        w = np.broadcast_to(w, y_pred.shape)
    if top_k is not None:  # positions of each row's k largest, lower index first on ties
        keep = np.zeros(y_pred.shape, dtype=bool)
        for row in range(y_pred.shape[0]):
            keep[row, sorted(range(y_pred.shape[1]), key=lambda j: (-y_pred[row, j], j))[:top_k]] \
                = True
        y_pred = np.where(keep, y_pred, np.float32(-1e10))
    if class_id is not None:
        y_true, y_pred, w = y_true[:, class_id], y_pred[:, class_id], w[:, class_id]
    out = []
    for t in thresholds:
        above = (y_pred > np.float32(t)).ravel()
        pos = (y_true != 0).ravel()
        ww = w.ravel()
        out.append([ww[above & pos].sum(), ww[above & ~pos].sum(), ww[~above & ~pos].sum(),
                    ww[~above & pos].sum()])
    return np.array(out).T


def _ratio(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


def _data(rng, n=60, classes=4):
    y = rng.integers(0, 2, (n, classes)).astype(np.float32)
    p = rng.random((n, classes)).astype(np.float32)
    p[0, :3] = [0.5, 0.0, 1.0]  # exactly on thresholds: not above them
    return y, p, rng.random(n)


@pytest.mark.parametrize("kwargs", [
    {}, {"thresholds": 0.3}, {"thresholds": [0.2, 0.5, 0.9]},
    {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]},  # Keras' evenly spaced (bucket) path
    {"top_k": 2}, {"top_k": 1, "thresholds": 0.6}, {"class_id": 2},
    {"class_id": 1, "top_k": 3}])
def test_precision_and_recall_match_the_oracle_with_weights(rng, kwargs):
    y, p, w = _data(rng)
    thresholds = kwargs.get("thresholds", -1e10 if "top_k" in kwargs else 0.5)
    thresholds = np.atleast_1d(thresholds)
    tp, fp, tn, fn = oracle_counts(y, p, thresholds, w, kwargs.get("top_k"),
                                   kwargs.get("class_id"))
    for cls, expected in ((metrics.Precision, _ratio(tp, tp + fp)),
                          (metrics.Recall, _ratio(tp, tp + fn))):
        m = cls(**kwargs)
        m.update_state(y, p, sample_weight=w)
        got = m._result_value()
        if thresholds.size == 1:
            assert isinstance(got, float)
            assert got == pytest.approx(float(expected[0]), rel=1e-12)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-12)
        np.testing.assert_allclose(m.true_positives, tp, rtol=1e-12)


def test_streaming_equals_one_batch_and_reset_starts_over(rng):
    y, p, w = _data(rng)
    for cls in (metrics.Precision, metrics.Recall, metrics.TruePositives,
                metrics.FalseNegatives):
        whole = cls(thresholds=[0.3, 0.6])
        whole.update_state(y, p, sample_weight=w)
        parts = cls(thresholds=[0.3, 0.6])
        for lo, hi in ((0, 7), (7, 30), (30, 60)):
            parts.update_state(y[lo:hi], p[lo:hi], sample_weight=w[lo:hi])
        np.testing.assert_allclose(parts._result_value(), whole._result_value(), rtol=1e-12)
        parts.reset_state()
        np.testing.assert_array_equal(parts._result_value(), [0.0, 0.0])
        parts.update_state(y[:5], p[:5])
        fresh = cls(thresholds=[0.3, 0.6])
        fresh.update_state(y[:5], p[:5])
        np.testing.assert_array_equal(parts._result_value(), fresh._result_value())


def test_the_four_counts(rng):
    y, p, w = _data(rng)
    expected = oracle_counts(y, p, [0.25, 0.7], w)
    for i, cls in enumerate((metrics.TruePositives, metrics.FalsePositives,
                             metrics.TrueNegatives, metrics.FalseNegatives)):
        m = cls(thresholds=[0.25, 0.7])
        m.update_state(y, p, sample_weight=w)
        np.testing.assert_allclose(m._result_value(), expected[i], rtol=1e-12)
        one = cls()
        assert one(y, p) == pytest.approx(oracle_counts(y, p, [0.5])[i][0])


def test_keras_docstring_examples():
    m = metrics.Precision()
    assert m([0, 1, 1, 1], [1, 0, 1, 1]) == pytest.approx(2 / 3)
    m.reset_state()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert m._result_value() == 1.0
    assert metrics.Precision(top_k=2)([0, 0, 1, 1], [1, 1, 1, 1]) == 0.0
    assert metrics.Precision(top_k=4)([0, 0, 1, 1], [1, 1, 1, 1]) == 0.5
    assert metrics.Recall()([0, 1, 1, 1], [1, 0, 1, 1]) == pytest.approx(2 / 3)
    assert metrics.FalsePositives()([0, 1, 0, 0], [0, 0, 1, 1]) == 2.0


def test_weights_of_several_shapes_and_nonzero_labels_are_positive():
    y = np.array([[0.0, 0.3], [1.0, 0.0]])  # 0.3 is a positive label (Keras casts to bool)
    p = np.array([[0.9, 0.9], [0.9, 0.1]])
    per_sample = metrics.Precision()
    per_sample.update_state(y, p, sample_weight=[2.0, 1.0])
    assert per_sample._result_value() == pytest.approx((2 * 1 + 1) / (2 * 2 + 1))
    column = metrics.Precision()
    column.update_state(y, p, sample_weight=[[2.0], [1.0]])
    assert column._result_value() == per_sample._result_value()
    elements = metrics.Precision()
    elements.update_state(y, p, sample_weight=[[1.0, 3.0], [5.0, 7.0]])
    assert elements._result_value() == pytest.approx((3 + 5) / (1 + 3 + 5))
    scalar = metrics.Precision()
    scalar.update_state(y, p, sample_weight=4.0)
    assert scalar._result_value() == pytest.approx(2 / 3)


def test_zero_denominators_give_zero():
    assert metrics.Precision()([1, 1], [0.1, 0.2]) == 0.0  # nothing predicted positive
    assert metrics.Recall()([0, 0], [0.9, 0.2]) == 0.0     # no positive label
    assert metrics.Precision()._result_value() == 0.0             # no update
    m = metrics.Recall()
    m.update_state([1, 1], [0.9, 0.9], sample_weight=[0, 0])
    assert m._result_value() == 0.0
    np.testing.assert_array_equal(metrics.Precision(thresholds=[0.1, 0.2])._result_value(), [0, 0])


def test_predictions_above_one_and_nan():
    # Keras' general path (not evenly spaced thresholds) compares without clipping;
    # its bucket path clips to [0, 1]: 1.5 is not above the threshold 1.0 there.
    assert metrics.TruePositives(thresholds=[0.9, 1.0])([1], [1.5]).numpy().tolist() == [1.0, 1.0]
    assert metrics.TruePositives(thresholds=[0.0, 0.5, 1.0])([1], [1.5]).numpy().tolist() \
        == [1.0, 1.0, 0.0]
    assert metrics.FalseNegatives()([1, 1], [np.nan, 0.7]) == 1.0  # NaN is above nothing


def test_config_round_trip_and_properties():
    for m in (metrics.Precision(thresholds=[0.2, 0.4], name="p"),
              metrics.Recall(top_k=3, class_id=1), metrics.Precision(thresholds=np.float64(0.7)),
              metrics.TruePositives(thresholds=(0.1, 0.9)), metrics.FalsePositives()):
        clone = metrics.deserialize(metrics.serialize(m))
        assert type(clone) is type(m) and clone.get_config() == m.get_config()
        assert clone.thresholds == m.thresholds
    assert metrics.Recall(top_k=3, class_id=1).get_config() == {
        "name": "recall", "dtype": "float32", "thresholds": None, "top_k": 3, "class_id": 1}
    assert metrics.Precision(thresholds=np.array([0.2, 0.4])).get_config()["thresholds"] \
        == [0.2, 0.4]
    assert metrics.Precision(top_k=2).thresholds == [-1e10]
    m = metrics.Precision(thresholds=[0.3, 0.6])
    m.update_state([[1, 0]], [[0.5, 0.7]])
    assert m.true_positives.tolist() == [1.0, 0.0] and m.false_positives.tolist() == [1.0, 1.0]
    assert repr(m).startswith("<bprop.metrics.Precision name='precision' result=[0.5, 0.")


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match=r"thresholds: expected values in \[0, 1\], got \[1.5\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="thresholds: expected at least one threshold"):
        metrics.Recall(thresholds=[])
    with pytest.raises(TypeError, match="thresholds: expected numbers"):
        metrics.Recall(thresholds=["a"])
    with pytest.raises(ValueError, match="top_k: expected an int >= 1 or None, got 0"):
        metrics.Precision(top_k=0)
    with pytest.raises(ValueError, match="class_id: expected an int >= 0 or None, got -1"):
        metrics.Recall(class_id=-1)
    with pytest.raises(ValueError, match="class_id: expected a class of y_pred's 3, got 3"):
        metrics.Recall(class_id=3).update_state(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"class_id: expected y_pred of shape \(batch, classes\)"):
        metrics.Recall(class_id=0).update_state([1, 0], [0.3, 0.2])
    with pytest.raises(ValueError, match="top_k: expected at most the 2 classes of y_pred, got 3"):
        metrics.Precision(top_k=3).update_state(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"y_true, y_pred: expected equal shapes, got \(2,\) and "
                                         r"\(2, 3\)"):
        metrics.Precision().update_state([0, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="sample_weight: expected shape broadcastable"):
        metrics.Precision().update_state([0, 1], [0.2, 0.9], sample_weight=[1, 2, 3])
    with pytest.raises(TypeError, match="y_pred: expected real numbers"):
        metrics.Precision().update_state([0, 1], ["a", "b"])
