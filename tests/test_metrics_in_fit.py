"""Metrics in ``model.compile``: what ``fit``/``evaluate`` log equals the metric
computed standalone on the model's predictions; the accuracy/MSE fast path
stays in the core; the confusion metrics run op by op and sum their counts
over steps, threads and data-parallel processes."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import bprop
from bprop import layers, metrics
from test_models_data_parallel import _fit_in_threads


def _model(units, activation, loss, metric_list, dtype="float64", optimizer=None, seed=3):
    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([layers.Input(shape=(5,)), layers.Dense(8, activation="tanh"),
                              layers.Dense(units, activation=activation)], dtype=dtype)
    model.compile(optimizer=optimizer or bprop.optimizers.Adam(0.01), loss=loss,
                  metrics=metric_list)
    return model


def _binary_data(n=90, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5))
    y = (x[:, 0] + 0.7 * rng.standard_normal(n) > 0).astype(np.float64)
    return x, y


def _binary_metrics():
    return ["precision", "recall", "auc", metrics.AUC(curve="PR", name="pr_auc"),
            metrics.Precision(thresholds=0.3, name="p30"), metrics.Recall(thresholds=0.7,
                                                                          name="r70"),
            "binary_crossentropy", "root_mean_squared_error", "accuracy",
            metrics.TruePositives(name="tp")]


def _standalone(model, x, y):
    """Each compiled metric's class and config, run once on all of ``x``'s predictions."""
    preds = model.predict(x, verbose=0)
    out = {}
    for m in model.compiled_metrics:
        fresh = type(m).from_config(m.get_config())
        fresh.update_state(y, preds)
        out[m.name] = fresh._result_value()
    return out


def _assert_logs_match(logs, expected, prefix=""):
    for name, value in expected.items():
        assert isinstance(logs[prefix + name], float)
        assert logs[prefix + name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_evaluate_logs_the_metrics_of_the_predictions_unweighted():
    x, y = _binary_data()
    model = _model(1, "sigmoid", "binary_crossentropy", _binary_metrics())
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    expected = _standalone(model, x, y)
    assert 0 < expected["precision"] < 1 and 0.5 < expected["auc"] < 1
    logs = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)  # 13 steps summed
    _assert_logs_match(logs, expected)
    # compile's metrics ignore sample weights (Keras: that is weighted_metrics'); the loss not
    w = np.random.default_rng(1).random(x.shape[0])
    weighted = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    _assert_logs_match(weighted, expected)
    assert weighted["loss"] != pytest.approx(logs["loss"], rel=1e-6)
    # the model's metric objects hold the last loop's state
    for m in model.compiled_metrics:
        assert m._result_value() == pytest.approx(expected[m.name], rel=1e-9)
    assert model.test_on_batch(x[:20], y[:20], return_dict=True)["auc"] == pytest.approx(
        _standalone(model, x[:20], y[:20])["auc"], rel=1e-9)


def test_fit_logs_equal_the_metrics_of_the_predictions_when_nothing_changes():
    x, y = _binary_data()
    xv, yv = _binary_data(40, seed=5)
    model = _model(1, "sigmoid", "binary_crossentropy", _binary_metrics(),
                   optimizer=bprop.optimizers.SGD(0.0))
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_data=(xv, yv))
    train, val = _standalone(model, x, y), _standalone(model, xv, yv)
    for epoch in range(2):
        _assert_logs_match({k: v[epoch] for k, v in history.history.items()}, train)
        _assert_logs_match({k: v[epoch] for k, v in history.history.items()}, val, "val_")


def test_multiclass_and_sparse_metrics():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((70, 5))
    labels = np.argmax(x[:, :4] + 0.5 * rng.standard_normal((70, 4)), axis=1)
    onehot = np.eye(4)[labels]
    model = _model(4, "softmax", "categorical_crossentropy",
                   ["top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy(2, "top2"),
                    "categorical_crossentropy", metrics.Precision(class_id=1),
                    metrics.Recall(top_k=2), metrics.AUC(multi_label=True, name="mauc"),
                    "auc"])
    model.fit(x, onehot, epochs=2, batch_size=16, verbose=0)
    _assert_logs_match(model.evaluate(x, onehot, batch_size=9, verbose=0, return_dict=True),
                       _standalone(model, x, onehot))
    sparse = _model(4, "softmax", "sparse_categorical_crossentropy",
                    ["sparse_top_k_categorical_accuracy",
                     metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"),
                     "sparse_categorical_crossentropy", "accuracy"])
    sparse.fit(x, labels, epochs=2, batch_size=16, verbose=0)
    expected = _standalone(sparse, x, labels)
    assert 0 < expected["top2"] < 1
    _assert_logs_match(sparse.evaluate(x, labels, batch_size=9, verbose=0, return_dict=True),
                       expected)


def test_the_core_keeps_accuracy_and_regression_metrics_and_the_others_run_op_by_op():
    x, y = _binary_data()
    fast = _model(1, "sigmoid", "binary_crossentropy", ["accuracy"])
    assert fast._train_plan().in_core
    regression = _model(1, "linear", "mse", ["mse", "root_mean_squared_error", "mae"])
    assert regression._train_plan().in_core
    regression.fit(x, y, epochs=1, batch_size=16, verbose=0)
    _assert_logs_match(regression.evaluate(x, y, batch_size=7, verbose=0, return_dict=True),
                       _standalone(regression, x, y))
    slow = _model(1, "sigmoid", "binary_crossentropy", ["accuracy", "auc"])
    assert not slow._train_plan().in_core
    # the op-by-op plan of the core's metrics gives the core's numbers
    ops = _model(1, "linear", "mse", ["mse", "root_mean_squared_error", "mae"])
    ops._plan_executor = "ops"
    ops.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(ops.get_weights(), regression.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    _assert_logs_match(ops.evaluate(x, y, batch_size=7, verbose=0, return_dict=True),
                       _standalone(regression, x, y))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_top_k_accuracies_run_in_the_core_as_in_top_k(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((90, 5)).astype(dtype)
    labels = np.argmax(x[:, :4] + 0.8 * rng.standard_normal((90, 4)), axis=1)
    def top_k_model(loss, sparse, executor="auto", **kw):
        cls = metrics.SparseTopKCategoricalAccuracy if sparse else metrics.TopKCategoricalAccuracy
        model = _model(4, "softmax", loss, [cls(), cls(k=1, name="top1"), cls(k=2, name="top2"),
                                            "accuracy"], dtype=dtype, **kw)
        model._plan_executor = executor
        return model

    for loss, sparse, y in (("sparse_categorical_crossentropy", True, labels),
                            ("categorical_crossentropy", False, np.eye(4)[labels])):
        logs = []
        for executor in ("auto", "ops"):  # built and trained in turn: the same shuffles
            model = top_k_model(loss, sparse, executor)
            assert model._train_plan().in_core == (executor == "auto")
            history = model.fit(x, y, epochs=2, batch_size=16, verbose=0).history
            logs.append([values for name, values in history.items() if name != "loss"])
            logs.append(model.evaluate(x, y, batch_size=7, verbose=0)[1:])
        core = model  # the op-by-op one has the core's weights (checked by the logs)
        assert logs[0] == logs[2] and logs[1] == logs[3]  # the same counts as op by op
        # Against NumPy: fewer than k classes score strictly higher than the label.
        scores = core.predict(x, verbose=0)
        higher = (scores > scores[np.arange(90), labels][:, None]).sum(axis=1)
        expected = [np.mean(higher < 5), np.mean(higher < 1), np.mean(higher < 2),
                    np.mean(scores.argmax(1) == labels)]
        np.testing.assert_allclose(logs[1], expected, rtol=1e-12)
        assert expected[1] == expected[3] and 0 < expected[2] < 1 and expected[0] == 1.0
    # Tied scores (a zero kernel and bias: every class 1/4) are all in the top 1.
    tied = top_k_model("sparse_categorical_crossentropy", True, optimizer=bprop.optimizers.SGD(0.0))
    for w in tied.weights:
        w.assign(np.zeros(w.shape, dtype))
    top1, accuracy = tied.evaluate(x, labels, verbose=0)[2::2]
    assert top1 == 1.0 and accuracy == np.mean(labels == 0)


def test_data_parallel_processes_sum_the_counts(monkeypatch):
    x, y = _binary_data(97)  # the last batch has 1 row: two processes have none

    def build(rank=0):
        return _model(1, "sigmoid", "binary_crossentropy",
                      ["precision", "auc", metrics.AUC(curve="PR", name="pr_auc")])

    fit_kwargs = dict(x=x, y=y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    alone = build().fit(**fit_kwargs).history
    prebuilt = [build() for _ in range(3)]  # built here: the global seed is not thread-safe
    _, histories = _fit_in_threads(monkeypatch, 3, lambda rank: prebuilt[rank], fit_kwargs)
    for history in histories:
        for key in ("precision", "auc", "pr_auc"):
            np.testing.assert_allclose(history[key], alone[key], rtol=1e-9)


def test_concurrent_evaluations_keep_their_own_counts():
    x, y = _binary_data(120)
    model = _model(1, "sigmoid", "binary_crossentropy", ["auc", "precision"])
    halves = [(x[:60], y[:60]), (x[60:], y[60:])]
    expected = [_standalone(model, *h) for h in halves]
    results, errors = [[], []], []

    def work(i):
        try:
            for _ in range(5):
                results[i].append(model.evaluate(*halves[i], batch_size=8, verbose=0,
                                                 return_dict=True))
        except BaseException as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    for i in range(2):
        for logs in results[i]:
            _assert_logs_match(logs, expected[i])


class _SeenSamples(metrics.Metric):
    """A user's metric with only update_state: the plan updates it directly."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.total += len(y_true)

    def result(self):
        return self.total


def test_evaluate_starts_a_user_metric_afresh():
    x, y = _binary_data()
    model = _model(1, "sigmoid", "binary_crossentropy", [_SeenSamples(name="seen")])
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, validation_data=(x[:30],
                                                                                    y[:30]))
    assert history.history["seen"] == [90.0] and history.history["val_seen"] == [30.0]
    assert model.evaluate(x[:25], y[:25], verbose=0, return_dict=True)["seen"] == 25.0


def test_compile_refuses_what_it_cannot_log():
    with pytest.raises(ValueError, match=r"thresholds: Precision\(thresholds=\[0.3, 0.7\]\) "
                                         "gives one value per threshold"):
        _model(1, "sigmoid", "binary_crossentropy", [metrics.Precision(thresholds=[0.3, 0.7])])
    with pytest.raises(ValueError, match=r"metrics: Mean takes update_state\(values\)"):
        _model(1, "sigmoid", "binary_crossentropy", ["mean"])
    with pytest.raises(ValueError, match="metric: unknown name 'rmse'"):
        _model(1, "linear", "mse", ["rmse"])


def test_save_and_load_keep_the_metric_arguments(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 5))
    labels = rng.integers(0, 4, 40)
    model = _model(4, "softmax", "sparse_categorical_crossentropy",
                   [metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"), "accuracy",
                    {"class_name": "SparseTopKCategoricalAccuracy", "config": {"k": 3}},
                    metrics.SparseCategoricalCrossentropy])
    model.save(tmp_path / "m.npz")
    loaded = bprop.load_model(tmp_path / "m.npz")
    assert [(m.name, getattr(m, "k", None)) for m in loaded.compiled_metrics] == [
        ("top2", 2), ("accuracy", None), ("sparse_top_k_categorical_accuracy", 3),
        ("sparse_categorical_crossentropy", None)]
    assert loaded.evaluate(x, labels, verbose=0) == pytest.approx(
        model.evaluate(x, labels, verbose=0), rel=1e-12)
