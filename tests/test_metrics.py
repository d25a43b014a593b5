"""Metrics against hand-computed values, with and without sample_weight."""
from __future__ import annotations

import numpy as np
import pytest

from bprop import metrics


def test_mean_running_and_weighted():
    m = metrics.Mean()
    assert m._result_value() == 0.0
    m.update_state([1.0, 2.0, 3.0])
    m.update_state(6.0)
    assert m._result_value() == pytest.approx(3.0)  # (1 + 2 + 3 + 6) / 4
    m.reset_state()
    m.update_state([1.0, 3.0], sample_weight=[3.0, 1.0])
    assert m._result_value() == pytest.approx(1.5)  # (3 + 3) / 4
    assert m.name == "mean"


def test_custom_loop_usage_with_tensors():
    import bprop

    loss_metric = metrics.Mean(name="train_loss")
    acc = metrics.SparseCategoricalAccuracy(name="train_accuracy")
    assert loss_metric(bprop.constant(2.0)) == pytest.approx(2.0)
    assert loss_metric(bprop.constant(4.0)) == pytest.approx(3.0)
    assert acc([1, 0], bprop.constant([[0.2, 0.8], [0.3, 0.7]])) == pytest.approx(0.5)
    loss_metric.reset_states()  # tf.keras spelling
    assert loss_metric._result_value() == 0.0


def test_sparse_categorical_accuracy():
    y_pred = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    y_true = np.array([1, 2, 2, 0])  # hits: yes, no, yes, no
    m = metrics.SparseCategoricalAccuracy()
    assert m(y_true, y_pred) == pytest.approx(0.5)
    m.update_state(np.array([[0], [1]]), y_pred[:2])  # (n, 1) labels: no, no
    assert m._result_value() == pytest.approx(2 / 6)
    m.reset_state()
    m.update_state(y_true, y_pred, sample_weight=[1.0, 2.0, 3.0, 4.0])
    assert m._result_value() == pytest.approx((1 + 3) / 10)
    assert m.name == "sparse_categorical_accuracy"


def test_categorical_accuracy():
    y_true = np.eye(3)[[0, 1, 2]]
    y_pred = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.0, 0.1, 0.9]])
    m = metrics.CategoricalAccuracy()
    assert m(y_true, y_pred) == pytest.approx(2 / 3)
    m.reset_state()
    m.update_state(y_true, y_pred, sample_weight=np.array([0.0, 1.0, 0.0]))
    assert m._result_value() == 0.0


def test_binary_accuracy_threshold_and_weights():
    y_true = np.array([[1.0], [0.0], [1.0], [0.0]])
    y_pred = np.array([[0.9], [0.6], [0.4], [0.1]])
    assert metrics.BinaryAccuracy()(y_true, y_pred) == pytest.approx(0.5)
    assert metrics.BinaryAccuracy(threshold=0.3)(y_true, y_pred) == pytest.approx(0.75)
    assert metrics.BinaryAccuracy(threshold=0.65)(y_true, y_pred) == pytest.approx(0.75)
    m = metrics.BinaryAccuracy()
    m.update_state(y_true, y_pred, sample_weight=[1.0, 1.0, 0.0, 2.0])
    assert m._result_value() == pytest.approx(3 / 4)
    # several outputs per sample: mean over the last axis per sample
    m2 = metrics.BinaryAccuracy()
    m2.update_state([[1, 0], [1, 1]], [[0.9, 0.8], [0.7, 0.6]], sample_weight=[3.0, 1.0])
    assert m2._result_value() == pytest.approx((3 * 0.5 + 1 * 1.0) / 4)


def test_accuracy_exact_match():
    m = metrics.Accuracy()
    assert m([1, 2, 3, 4], [1, 2, 0, 4]) == pytest.approx(0.75)


def test_mse_and_mae_per_sample_then_weighted():
    y_true = np.array([[0.0, 1.0], [2.0, 2.0]])
    y_pred = np.array([[1.0, 1.0], [0.0, 5.0]])
    # per-sample MSE: (1 + 0)/2 = 0.5 and (4 + 9)/2 = 6.5; MAE: 0.5 and 2.5
    assert metrics.MeanSquaredError()(y_true, y_pred) == pytest.approx(3.5)
    assert metrics.MeanAbsoluteError()(y_true, y_pred) == pytest.approx(1.5)
    m = metrics.MeanSquaredError()
    m.update_state(y_true, y_pred, sample_weight=[3.0, 1.0])
    assert m._result_value() == pytest.approx((3 * 0.5 + 6.5) / 4)
    m.update_state(y_true[:1], y_pred[:1])  # accumulates across batches
    assert m._result_value() == pytest.approx((3 * 0.5 + 6.5 + 0.5) / 5)
    assert m.name == "mean_squared_error"


def test_get_resolves_accuracy_from_the_loss():
    cases = {
        "sparse_categorical_crossentropy": metrics.SparseCategoricalAccuracy,
        "categorical_crossentropy": metrics.CategoricalAccuracy,
        "binary_crossentropy": metrics.BinaryAccuracy,
    }
    for loss, cls in cases.items():
        m = metrics.get("accuracy", loss=loss)
        assert type(m) is cls and m.name == "accuracy"
    m = metrics.get("acc", loss="binary_crossentropy")
    assert type(m) is metrics.BinaryAccuracy and m.name == "acc"

    class SparseCategoricalCrossentropy:  # a loss object named like Keras' class
        pass

    assert type(metrics.get("accuracy", loss=SparseCategoricalCrossentropy())) \
        is metrics.SparseCategoricalAccuracy

    def categorical_crossentropy(y_true, y_pred):
        return 0.0

    assert type(metrics.get("accuracy", loss=categorical_crossentropy)) \
        is metrics.CategoricalAccuracy


@pytest.mark.parametrize("y_true,y_pred,kind", [
    ([1, 0], [[0.1, 0.9], [0.2, 0.8]], metrics.SparseCategoricalAccuracy),
    ([[1], [0]], [[0.1, 0.9], [0.2, 0.8]], metrics.SparseCategoricalAccuracy),
    ([[0, 1], [1, 0]], [[0.1, 0.9], [0.2, 0.8]], metrics.CategoricalAccuracy),
    ([[1], [0]], [[0.9], [0.8]], metrics.BinaryAccuracy),
])
def test_accuracy_without_loss_resolves_from_shapes(y_true, y_pred, kind):
    m = metrics.get("accuracy", loss="mse")
    assert isinstance(m, metrics.AutoAccuracy) and m._result_value() == 0.0
    m.update_state(y_true, y_pred)
    assert type(m.resolved) is kind
    assert m._result_value() == pytest.approx(0.5)
    m.reset_state()
    assert m._result_value() == 0.0


def test_get_by_name_and_errors():
    assert type(metrics.get("mse")) is metrics.MeanSquaredError
    assert metrics.get("mse").name == "mse"
    assert type(metrics.get("mean_absolute_error")) is metrics.MeanAbsoluteError
    assert type(metrics.get("mae")) is metrics.MeanAbsoluteError
    assert type(metrics.get("sparse_categorical_accuracy")) is metrics.SparseCategoricalAccuracy
    inst = metrics.Mean(name="loss")
    assert metrics.get(inst) is inst
    with pytest.raises(ValueError, match="metric: unknown name 'f1'; known: acc, accuracy"):
        metrics.get("f1")

    def max_error(y_true, y_pred):
        return np.abs(np.asarray(y_true) - np.asarray(y_pred)).max(axis=-1)

    wrapped = metrics.get(max_error)
    assert wrapped.name == "max_error"
    assert wrapped([[1.0, 2.0], [0.0, 0.0]], [[1.5, 2.0], [0.0, 3.0]]) == pytest.approx(1.75)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"y_true, y_pred: expected equal shapes, "
                                         r"got \(2, 2\) and \(2, 3\)"):
        metrics.MeanSquaredError().update_state(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"y_true: expected integer labels in \[0, 2\)"):
        metrics.SparseCategoricalAccuracy().update_state([0, 2], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"y_true: expected shape \(2,\)"):
        metrics.SparseCategoricalAccuracy().update_state([0, 1, 1], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="sample_weight: expected shape broadcastable"):
        metrics.MeanSquaredError().update_state([[1.0]] * 2, [[1.0]] * 2, sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match="threshold: expected a value in \\[0, 1\\]"):
        metrics.BinaryAccuracy(threshold=2.0)


def test_config_round_trip():
    for m in (metrics.Mean(name="loss"), metrics.BinaryAccuracy(name="acc", threshold=0.3),
              metrics.MeanAbsoluteError(), metrics.AutoAccuracy(), metrics.CategoricalAccuracy()):
        clone = metrics.deserialize(metrics.serialize(m))
        assert type(clone) is type(m) and clone.get_config() == m.get_config()
    assert metrics.BinaryAccuracy(threshold=0.3).get_config() == {
        "name": "binary_accuracy", "dtype": "float32", "threshold": 0.3}


def test_mean_and_sum_reduce_per_sample_as_keras(rng):
    v = rng.random((6, 3))
    w = rng.random(6)
    we = rng.random((6, 3))
    m = metrics.Mean()
    m.update_state(v)                   # 6 samples, each the mean of its row
    m.update_state(v, sample_weight=w)  # the row means weighted per sample
    m.update_state(v, sample_weight=we)  # elementwise: sum(v w) per row / mean of row weights
    m.update_state(2.0)                 # one more sample
    total = v.mean(1).sum() + (v.mean(1) * w).sum() + (v * we).mean(1).sum() + 2.0
    count = 6 + w.sum() + we.mean(1).sum() + 1
    assert m._result_value() == pytest.approx(total / count, rel=1e-12)
    m.reset_state()
    m.update_state([1.0, 2.0], sample_weight=[0.0, 0.0])
    assert m._result_value() == 0.0  # zero total weight
    s = metrics.Sum()
    assert s._result_value() == 0.0
    s.update_state(v)
    s.update_state(v, sample_weight=w)
    s.update_state(3.0)
    s.update_state(v[:, 0], sample_weight=2.0)
    assert s._result_value() == pytest.approx(
        v.sum() + (v.sum(1) * w).sum() + 3.0 + 2.0 * v[:, 0].sum(), rel=1e-12)
    s.reset_state()
    assert s._result_value() == 0.0 and s.name == "sum"
    with pytest.raises(ValueError, match="sample_weight: expected shape broadcastable"):
        metrics.Sum().update_state(v, sample_weight=[1.0, 2.0])


def test_root_mean_squared_error(rng):
    y, p, w = rng.random((20, 3)), rng.random((20, 3)), rng.random(20)
    per_sample = ((y - p) ** 2).mean(axis=1)
    m = metrics.RootMeanSquaredError()
    m.update_state(y, p, sample_weight=w)
    assert m._result_value() == pytest.approx(np.sqrt((per_sample * w).sum() / w.sum()), rel=1e-12)
    m.update_state(y[:4], p[:4])
    assert m._result_value() == pytest.approx(
        np.sqrt(((per_sample * w).sum() + per_sample[:4].sum()) / (w.sum() + 4)), rel=1e-12)
    assert m.name == "root_mean_squared_error"
    m.reset_state()
    assert m._result_value() == 0.0
    assert metrics.RootMeanSquaredError()([1.0, 2.0], [[1.0], [4.0]]) == pytest.approx(
        np.sqrt(2.0))


def test_keras_string_names():
    expected = {
        "precision": metrics.Precision, "recall": metrics.Recall, "auc": metrics.AUC,
        "AUC": metrics.AUC, "top_k_categorical_accuracy": metrics.TopKCategoricalAccuracy,
        "sparse_top_k_categorical_accuracy": metrics.SparseTopKCategoricalAccuracy,
        "binary_crossentropy": metrics.BinaryCrossentropy, "bce": metrics.BinaryCrossentropy,
        "categorical_crossentropy": metrics.CategoricalCrossentropy,
        "sparse_categorical_crossentropy": metrics.SparseCategoricalCrossentropy,
        "root_mean_squared_error": metrics.RootMeanSquaredError, "sum": metrics.Sum,
        "mean": metrics.Mean, "true_positives": metrics.TruePositives,
        "Precision": metrics.Precision, "RootMeanSquaredError": metrics.RootMeanSquaredError,
    }
    for name, cls in expected.items():
        m = metrics.get(name)
        assert type(m) is cls and m.name == name
    # Keras 3 has no "rmse" (only "mse", "mae" and the like)
    with pytest.raises(ValueError, match="metric: unknown name 'rmse'"):
        metrics.get("rmse")
    assert type(metrics.get(metrics.AUC)) is metrics.AUC  # a class: its default instance
    assert metrics.get({"class_name": "Precision", "config": {"thresholds": 0.7}}).thresholds \
        == [0.7]


def test_every_metric_class_round_trips_its_config():
    for cls in (metrics.Mean, metrics.Sum, metrics.Accuracy, metrics.BinaryAccuracy,
                metrics.CategoricalAccuracy, metrics.SparseCategoricalAccuracy,
                metrics.TopKCategoricalAccuracy, metrics.SparseTopKCategoricalAccuracy,
                metrics.MeanSquaredError, metrics.RootMeanSquaredError,
                metrics.MeanAbsoluteError, metrics.BinaryCrossentropy,
                metrics.CategoricalCrossentropy, metrics.SparseCategoricalCrossentropy,
                metrics.Precision, metrics.Recall, metrics.AUC, metrics.TruePositives,
                metrics.FalsePositives, metrics.TrueNegatives, metrics.FalseNegatives):
        m = cls(name="x", dtype="float64")
        clone = metrics.deserialize(metrics.serialize(m))
        assert type(clone) is cls and clone.get_config() == m.get_config()
        assert clone.name == "x" and clone.dtype == "float64"


def test_what_compile_cannot_log_is_refused():
    metrics.Precision()._check_compilable()
    with pytest.raises(ValueError, match=r"thresholds: Precision\(thresholds=\[0.3, 0.7\]\) "
                                         "gives one value per threshold"):
        metrics.Precision(thresholds=[0.3, 0.7])._check_compilable()
    with pytest.raises(ValueError, match=r"metrics: Mean takes update_state\(values\)"):
        metrics.Mean()._check_compilable()


def test_result_is_a_tensor_in_the_metric_dtype_as_keras():
    import bprop

    m = metrics.Mean()
    m.update_state([1.0, 2.0, 4.0])
    r = m.result()
    assert isinstance(r, bprop.Tensor) and r.dtype == np.float32 and r.shape == ()
    assert float(r) == np.float32(7.0 / 3.0) and r.numpy() == np.float32(7.0 / 3.0)
    assert m._result_value() == pytest.approx(7.0 / 3.0, rel=1e-15)  # the float64 state
    p = metrics.Precision(thresholds=[0.3, 0.7], dtype="float64")
    p.update_state([1, 0, 1], [0.9, 0.5, 0.4])
    np.testing.assert_array_equal(p.result().numpy(), [2 / 3, 1.0])
    assert p(np.array([1]), np.array([0.8])).shape == (2,)  # __call__ returns the result
