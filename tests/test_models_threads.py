"""One model, many threads: predict/evaluate/model(x) from several threads give
the serial results, and threads predicting while another trains never see a
torn row (each call has its own plan; a training step holds the model's
writer lock while it updates the weights)."""
from __future__ import annotations

import threading

import numpy as np

import bprop
from bprop import layers

N_THREADS = 8


def _model(seed=0):
    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([layers.Dense(32, activation="relu", input_shape=(20,)),
                              layers.Dropout(0.2),
                              layers.Dense(32, activation="tanh"),
                              layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _in_threads(fn, count):
    results, errors = [None] * count, []

    def worker(i):
        try:
            results[i] = fn(i)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def test_eight_threads_predicting_on_one_model_match_serial():
    model = _model()
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(50 + 7 * i, 20)).astype(np.float32) for i in range(N_THREADS)]
    serial = [model.predict(x, batch_size=16, verbose=0) for x in inputs]

    def work(i):
        out = []
        for _ in range(10):
            out.append(model.predict(inputs[i], batch_size=16, verbose=0))
            out.append(model(inputs[i]))
        return out

    for i, outs in enumerate(_in_threads(work, N_THREADS)):
        for got in outs:
            np.testing.assert_array_equal(got, serial[i], err_msg="thread %d" % i)


def test_threads_evaluating_one_model_match_serial():
    model = _model()
    rng = np.random.default_rng(1)
    data = [(rng.normal(size=(40, 20)).astype(np.float32), rng.integers(0, 10, 40))
            for _ in range(N_THREADS)]
    serial = [model.evaluate(x, y, batch_size=8, verbose=0) for x, y in data]
    results = _in_threads(lambda i: [model.evaluate(*data[i], batch_size=8, verbose=0)
                                     for _ in range(5)], N_THREADS)
    for i, outs in enumerate(results):
        assert all(out == serial[i] for out in outs), (i, outs, serial[i])


def test_predicting_while_another_thread_trains_never_sees_torn_rows():
    model = _model()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(600, 20)).astype(np.float32)
    y = rng.integers(0, 10, 600)
    probe = rng.normal(size=(64, 20)).astype(np.float32)
    stop = threading.Event()
    seen = []

    def predictor(i):
        rows_checked = 0
        while not stop.is_set() or rows_checked == 0:
            p = model.predict(probe, batch_size=16, verbose=0)
            assert np.all(np.isfinite(p)) and np.all(p >= 0)
            np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
            rows_checked += p.shape[0]
        seen.append(rows_checked)
        return rows_checked

    def trainer():
        try:
            model.fit(x, y, batch_size=8, epochs=3, verbose=0)
        finally:
            stop.set()

    t = threading.Thread(target=trainer)
    t.start()
    _in_threads(predictor, 4)
    t.join(timeout=120)
    assert len(seen) == 4 and all(s > 0 for s in seen)
    assert model.optimizer.iterations == 3 * 75


def test_predict_in_a_callback_during_fit_uses_the_current_weights():
    """predict between two steps of fit (from a batch callback) sees the weights
    of that moment: its outputs equal a fresh model's with a copy of them."""
    model = _model(1)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 20)).astype(np.float32)
    y = rng.integers(0, 10, 400)
    probe = rng.normal(size=(32, 20)).astype(np.float32)
    snapshots, outputs = [], []

    class Snap(bprop.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            snapshots.append(model.get_weights())
            outputs.append(model.predict(probe, batch_size=8, verbose=0))

    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[Snap()])
    check = _model(1)
    for weights, out in zip(snapshots[::5], outputs[::5]):
        check.set_weights(weights)
        np.testing.assert_array_equal(check.predict(probe, batch_size=8, verbose=0), out)
