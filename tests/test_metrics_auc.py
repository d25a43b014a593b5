"""AUC against NumPy oracles: confusion counts by direct comparison with
Keras' thresholds, the ROC area by trapezoids (and, with many thresholds, the
exact Mann-Whitney statistic), the interpolated PR area by Gauss-Legendre
quadrature of precision along each interval."""
from __future__ import annotations

import numpy as np
import pytest

from bprop import metrics


def keras_thresholds(num_thresholds=200, inner=None):
    if inner is None:
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return np.array([-1e-7] + sorted(inner) + [1 + 1e-7])


def counts(y_true, y_pred, thresholds, weight=None):
    """(tp, fp, tn, fn) per threshold; columns of 2-D inputs kept apart (T, labels)."""
    y = np.asarray(y_true, dtype=np.float64)
    p = np.clip(np.asarray(y_pred, dtype=np.float32), 0, 1)
    w = np.ones(p.shape) if weight is None else np.broadcast_to(
        np.asarray(weight, dtype=np.float64).reshape((-1,) + (1,) * (p.ndim - 1)), p.shape)
    above = p[None] > thresholds.astype(np.float32).reshape((-1,) + (1,) * p.ndim)
    pos = y != 0
    tp = (above & pos) * w
    fp = (above & ~pos) * w
    tn = (~above & ~pos) * w
    fn = (~above & pos) * w
    return tuple(a.sum(axis=1) for a in (tp, fp, tn, fn))


def _ratio(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


def roc_area(tp, fp, tn, fn, method="interpolation"):
    fpr, tpr = _ratio(fp, fp + tn), _ratio(tp, tp + fn)
    return _riemann(fpr, tpr, method)


def pr_area(tp, fp, tn, fn, method):
    return _riemann(_ratio(tp, tp + fn), _ratio(tp, tp + fp), method)


def _riemann(x, y, method):
    pick = {"interpolation": lambda a, b: (a + b) / 2, "minoring": np.minimum,
            "majoring": np.maximum}[method]
    return ((x[:-1] - x[1:]) * pick(y[:-1], y[1:])).sum(axis=0)


def pr_area_interpolated(tp, fp, fn):
    """Per interval between thresholds, tp and p = tp + fp move linearly; the
    area is the integral of precision tp/p over recall tp/positives there."""
    nodes, weights = np.polynomial.legendre.leggauss(40)
    s = (nodes + 1) / 2  # [0, 1]
    positives = tp[0] + fn[0]
    total = 0.0
    for i in range(len(tp) - 1):
        dtp = tp[i] - tp[i + 1]
        if dtp == 0 or positives == 0:
            continue
        tps = tp[i + 1] + s * dtp
        ps = tp[i + 1] + fp[i + 1] + s * (tp[i] + fp[i] - tp[i + 1] - fp[i + 1])
        total += (weights / 2 * tps / ps).sum() * dtp / positives
    return total


def mann_whitney(y, p, w):
    """P(score of a positive > score of a negative), ties half, pairs weighted."""
    pos, neg = p[y == 1], p[y == 0]
    wp, wn = w[y == 1], w[y == 0]
    wins = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return float((wp[:, None] * wn[None, :] * wins).sum() / (wp.sum() * wn.sum()))


def _binary(rng, n=300):
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1).astype(np.float32)
    p[:4] = [0.0, 1.0, 0.5, 0.5]  # on the end and middle thresholds
    return y.astype(np.float32), p, rng.random(n)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("num_thresholds", [200, 7, 3])
def test_auc_matches_the_oracle(rng, curve, method, num_thresholds):
    y, p, w = _binary(rng)
    c = counts(y, p, keras_thresholds(num_thresholds), w)
    if curve == "ROC":
        expected = roc_area(*c, method)
    elif method == "interpolation":
        expected = pr_area_interpolated(c[0], c[1], c[3])
    else:
        expected = pr_area(*c, method)
    m = metrics.AUC(num_thresholds=num_thresholds, curve=curve, summation_method=method)
    m.update_state(y, p, sample_weight=w)
    assert isinstance(m._result_value(), float)
    assert m._result_value() == pytest.approx(float(expected), rel=1e-10)
    for got, want in zip((m.true_positives, m.false_positives, m.true_negatives,
                          m.false_negatives), c):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_roc_auc_with_many_thresholds_is_the_mann_whitney_statistic(rng):
    y = rng.integers(0, 2, 400)
    p = np.clip(0.25 * y + 0.75 * rng.random(400), 0, 1)
    w = rng.random(400)
    m = metrics.AUC(num_thresholds=20001, dtype="float64")
    m.update_state(y, p, sample_weight=w)
    assert m._result_value() == pytest.approx(mann_whitney(y, p, w), abs=2e-4)


@pytest.mark.parametrize("inner", [[0.1, 0.5, 0.55, 0.9], [0.25, 0.5, 0.75], [0.8, 0.2]])
@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_given_thresholds(rng, inner, curve):
    y, p, w = _binary(rng)
    m = metrics.AUC(thresholds=inner, curve=curve)
    thresholds = keras_thresholds(inner=inner)
    assert m.num_thresholds == len(inner) + 2
    np.testing.assert_allclose(m.thresholds, thresholds)
    m.update_state(y, p, sample_weight=w)
    c = counts(y, p, thresholds, w)
    expected = roc_area(*c) if curve == "ROC" else pr_area_interpolated(c[0], c[1], c[3])
    assert m._result_value() == pytest.approx(float(expected), rel=1e-10)


def test_streaming_equals_one_batch_and_reset(rng):
    y, p, w = _binary(rng)
    whole = metrics.AUC(curve="PR")
    whole.update_state(y, p, sample_weight=w)
    parts = metrics.AUC(curve="PR")
    for lo, hi in ((0, 1), (1, 120), (120, 300)):
        parts.update_state(y[lo:hi], p[lo:hi], sample_weight=w[lo:hi])
    assert parts._result_value() == pytest.approx(whole._result_value(), rel=1e-12)
    parts.reset_state()
    assert parts._result_value() == 0.0
    assert parts(y[:50], p[:50]) == metrics.AUC(curve="PR")(y[:50], p[:50])


@pytest.mark.parametrize("label_weights", [None, [1.0, 2.0, 0.0, 0.5]])
def test_multi_label_averages_the_labels(rng, label_weights):
    y = rng.integers(0, 2, (80, 4)).astype(np.float32)
    p = rng.random((80, 4)).astype(np.float32)
    w = rng.random(80)
    m = metrics.AUC(multi_label=True, num_thresholds=50, label_weights=label_weights)
    m.update_state(y, p, sample_weight=w)
    per_label = np.array([roc_area(*counts(y[:, j], p[:, j], keras_thresholds(50), w))
                          for j in range(4)])
    lw = np.ones(4) if label_weights is None else np.array(label_weights)
    assert m._result_value() == pytest.approx(float((per_label * lw).sum() / lw.sum()), rel=1e-10)
    assert m.true_positives.shape == (50, 4)


def test_label_weights_without_multi_label_weigh_the_classes(rng):
    y = rng.integers(0, 2, (80, 3)).astype(np.float32)
    p = rng.random((80, 3)).astype(np.float32)
    lw = np.array([1.0, 3.0, 0.5])
    m = metrics.AUC(label_weights=lw)
    m.update_state(y, p)
    c = counts(y, p, keras_thresholds(), np.ones(80))
    # the elements weighted by their class's weight, then flattened
    weighted = [np.sum(a * lw, axis=1) for a in c]
    assert m._result_value() == pytest.approx(float(roc_area(*weighted)), rel=1e-10)


def test_from_logits_and_edge_cases(rng):
    y, p, _ = _binary(rng)
    logits = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))
    assert float(metrics.AUC(from_logits=True)(y, logits)) == pytest.approx(
        float(metrics.AUC()(y, 1 / (1 + np.exp(-logits)))), rel=1e-6)
    assert metrics.AUC(from_logits=True)([1, 0], [800.0, -800.0]) == 1.0
    assert metrics.AUC()._result_value() == 0.0
    assert metrics.AUC()([0, 0, 0], [0.1, 0.5, 0.9]) == 0.0   # no positive label
    assert metrics.AUC(curve="PR")([1, 1], [0.2, 0.7]) == pytest.approx(1.0)
    assert metrics.AUC()([0, 1], [0.2, 0.7]) == pytest.approx(1.0)
    assert metrics.AUC()([1, 0], [0.2, 0.7]) == pytest.approx(0.0)
    assert metrics.AUC()([1, 0], [0.5, 0.5]) == pytest.approx(0.5)  # a tie


def test_config_round_trip():
    for m in (metrics.AUC(), metrics.AUC(num_thresholds=17, curve="PR",
                                         summation_method="minoring", name="pr"),
              metrics.AUC(thresholds=[0.3, 0.1]), metrics.AUC(multi_label=True, num_labels=3,
                                                              label_weights=[1, 2, 3]),
              metrics.AUC(from_logits=True, dtype="float64")):
        clone = metrics.deserialize(metrics.serialize(m))
        assert type(clone) is metrics.AUC and clone.get_config() == m.get_config()
        assert clone.thresholds == m.thresholds
    assert metrics.AUC().get_config() == {
        "name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
        "summation_method": "interpolation", "multi_label": False, "num_labels": None,
        "label_weights": None, "from_logits": False}
    assert metrics.AUC(thresholds=[0.3, 0.1]).get_config()["thresholds"] == [0.1, 0.3]
    assert metrics.AUC(curve="pr", summation_method="Majoring").curve == "PR"


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="num_thresholds: expected an int >= 2, got 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="num_thresholds: expected an int >= 2, got 2.5"):
        metrics.AUC(num_thresholds=2.5)
    with pytest.raises(ValueError, match="curve: expected 'ROC' or 'PR', got 'PRGAIN'"):
        metrics.AUC(curve="PRGAIN")
    with pytest.raises(ValueError, match="summation_method: expected 'interpolation', "
                                         "'minoring' or 'majoring', got 'trapezoid'"):
        metrics.AUC(summation_method="trapezoid")
    with pytest.raises(ValueError, match=r"thresholds: expected values in \[0, 1\]"):
        metrics.AUC(thresholds=[0.5, 2.0])
    with pytest.raises(ValueError, match="num_labels: needed only with multi_label=True"):
        metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="label_weights: expected a 1-D sequence of finite "
                                         "weights >= 0"):
        metrics.AUC(label_weights=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"y_pred: expected rank 2 \(batch, labels\) with "
                                         r"multi_label=True, got shape \(4,\)"):
        metrics.AUC(multi_label=True).update_state([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=r"y_pred: expected shape \(batch, 3\) \(num_labels\)"):
        metrics.AUC(multi_label=True, num_labels=3).update_state(np.zeros((2, 2)),
                                                                 np.zeros((2, 2)))
    m = metrics.AUC(multi_label=True)
    m.update_state(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="y_pred: expected 2 labels as in the earlier updates, "
                                         "got 3"):
        m.update_state(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="label_weights: expected one weight per label"):
        metrics.AUC(multi_label=True, label_weights=[1, 2]).update_state(np.zeros((2, 3)),
                                                                         np.zeros((2, 3)))
