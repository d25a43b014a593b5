"""Sequential.fit / evaluate / predict: learning, backends, reproducibility, loop semantics."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import bprop
from bprop.layers import Dense, Dropout, Flatten


def blobs(n, seed, features=784, classes=10, spread=0.2):
    """Gaussian blobs: class centres N(0, spread^2) per feature, unit noise."""
    centres = np.random.default_rng(0).normal(scale=spread, size=(classes, features))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=n)
    x = centres[y] + rng.normal(size=(n, features))
    return x.astype(np.float32), y


def small_mlp(backend="core", dtype=None, dropout=0.0, seed=0):
    bprop.utils.set_random_seed(seed)
    layers = [Dense(16, activation="relu", input_shape=(8,))]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(3, activation="softmax"))
    return bprop.Sequential(layers, backend=backend, dtype=dtype)


def small_data(n=96, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(dtype)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


@pytest.fixture
def one_thread():
    """Results do not depend on the thread count (a core rule, tested by the ops
    tests); one thread keeps these small models fast on a shared 2-core box."""
    before = bprop.get_num_threads()
    bprop.set_num_threads(1)
    yield
    bprop.set_num_threads(before)


def test_issue_program_reaches_90_percent_on_blobs(one_thread):
    x_train, y_train = blobs(2000, seed=1)
    x_test, y_test = blobs(500, seed=2)
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([
        bprop.layers.Dense(64, activation="relu", input_shape=(784,)),
        bprop.layers.Dense(64, activation="relu"),
        bprop.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=5, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    assert len(history.history["loss"]) == 5
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    assert acc == pytest.approx(np.mean(predicted == y_test))
    assert acc >= 0.90


def test_xor_is_learned_by_2_4_1():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0], dtype=np.float32)
    bprop.utils.set_random_seed(3)
    model = bprop.Sequential([Dense(4, activation="tanh", input_shape=(2,)),
                              Dense(1, activation="sigmoid")])
    model.compile(optimizer=bprop.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=4, epochs=400, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    p = model.predict(x, verbose=0).ravel()
    np.testing.assert_array_equal(p > 0.5, y > 0.5)
    assert np.all(np.abs(p - y) < 0.2)


def test_core_and_numpy_backends_give_the_same_loss_trajectory():
    x, y = small_data()
    runs = []
    for backend in ("core", "numpy"):
        model = small_mlp(backend=backend, dtype="float64", dropout=0.2, seed=11)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        bprop.utils.set_random_seed(5)  # the same shuffles and dropout masks
        h = model.fit(x, y, batch_size=16, epochs=4, validation_split=0.25, verbose=0)
        runs.append((h.history, model.get_weights()))
    (h_core, w_core), (h_np, w_np) = runs
    np.testing.assert_allclose(h_core["loss"], h_np["loss"], rtol=1e-10)
    np.testing.assert_allclose(h_core["val_loss"], h_np["val_loss"], rtol=1e-10)
    assert h_core["accuracy"] == h_np["accuracy"]
    for a, b in zip(w_core, w_np):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


def test_same_seed_gives_identical_weights_after_training():
    x, y = small_data(dtype=np.float32)
    weights = []
    for _ in range(2):
        model = small_mlp(dropout=0.3, seed=42)
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=10, epochs=3, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
    other = small_mlp(dropout=0.3, seed=43)
    assert not np.array_equal(other.get_weights()[0], weights[0][0])


def test_validation_data_logs_match_evaluate_and_split_takes_the_tail():
    x, y = small_data()
    model = small_mlp(dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    h = model.fit(x[:64], y[:64], epochs=2, validation_data=(x[64:], y[64:]), verbose=0)
    assert sorted(h.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert h.epoch == [0, 1]
    val_loss, val_acc = model.evaluate(x[64:], y[64:], verbose=0)
    assert h.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-12)
    assert h.history["val_acc"][-1] == pytest.approx(val_acc)

    model2 = small_mlp(dtype="float64")
    model2.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    h2 = model2.fit(x, y, epochs=1, validation_split=1 / 3, shuffle=False, verbose=0)
    assert h2.history["val_loss"][0] == pytest.approx(model2.evaluate(x[64:], y[64:],
                                                                      verbose=0), rel=1e-12)


def test_class_weight_equals_the_matching_sample_weight():
    x, y = small_data()
    cw = {0: 2.0, 1: 0.5, 2: 1.0}
    results = []
    for kwargs in ({"class_weight": cw}, {"sample_weight": np.array([cw[c] for c in y])}):
        model = small_mlp(dtype="float64", seed=2)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        h = model.fit(x, y, batch_size=12, epochs=2, shuffle=False, verbose=0, **kwargs)
        results.append((h.history["loss"], model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)
    # and the weights matter: uniform weights train differently
    model = small_mlp(dtype="float64", seed=2)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=12, epochs=2, shuffle=False, verbose=0)
    assert not np.allclose(model.get_weights()[0], results[0][1][0])


def test_initial_epoch_and_callback_hook_order():
    x, y = small_data(n=20)
    calls = []

    class Recorder(bprop.callbacks.Callback):
        def __getattribute__(self, name):
            if name.startswith("on_"):
                return lambda *args: calls.append(name[3:])
            return object.__getattribute__(self, name)

    model = small_mlp(dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    h = model.fit(x, y, batch_size=10, epochs=2, initial_epoch=1, verbose=0,
                  validation_data=(x[:5], y[:5]), callbacks=[Recorder()])
    assert h.epoch == [1]
    assert calls == ["train_begin", "epoch_begin", "train_batch_begin", "train_batch_end",
                     "train_batch_begin", "train_batch_end", "test_begin",
                     "test_batch_begin", "test_batch_end", "test_end", "epoch_end",
                     "train_end"]


def test_stop_training_from_a_callback_and_early_stopping():
    x, y = small_data()

    class StopAfterTwo(bprop.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    model = small_mlp(dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert model.fit(x, y, epochs=10, verbose=0, callbacks=[StopAfterTwo()]).epoch == [0, 1]

    # val_loss on targets the model cannot fit stops improving -> EarlyStopping
    model = small_mlp(dtype="float64")
    model.compile(optimizer=bprop.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    es = bprop.callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    h = model.fit(x, y, epochs=50, verbose=0, validation_data=(x, (y + 1) % 3), callbacks=[es])
    assert len(h.epoch) < 50
    best = int(np.argmin(h.history["val_loss"]))
    assert model.evaluate(x, (y + 1) % 3, verbose=0) == pytest.approx(
        h.history["val_loss"][best], rel=1e-12)


def test_nan_loss_stops_with_a_message_naming_epoch_and_batch(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype(np.float32)
    y = np.zeros((96, 1))
    y[64:] = 1e200  # the squared error overflows to inf in the third batch
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([Dense(1, input_shape=(4,))], dtype="float64")
    model.compile(optimizer="sgd", loss="mse")
    h = model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    out = capsys.readouterr().out
    assert "Epoch 1/3, batch 2: invalid loss (inf)" in out
    assert h.epoch == [0] and np.isinf(h.history["loss"][0])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_nan_loss_opt_out_skips_the_batch_and_keeps_training(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype(np.float32)
    y = np.zeros((96, 1))
    y[64:] = 1e200  # the third batch's squared error overflows to inf, every epoch
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([Dense(1, input_shape=(4,))], dtype="float64")
    model.compile(optimizer="sgd", loss="mse")
    h = model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0,
                  terminate_on_nan=False)
    out = capsys.readouterr().out
    for epoch in (1, 2, 3):
        assert "Epoch %d/3, batch 2: invalid loss (inf), batch skipped" % epoch in out
    assert h.epoch == [0, 1, 2]
    # only the two finite batches of each epoch were applied: the same weights
    # as training on those 64 rows alone
    bprop.utils.set_random_seed(0)
    clean = bprop.Sequential([Dense(1, input_shape=(4,))], dtype="float64")
    clean.compile(optimizer="sgd", loss="mse")
    clean.fit(x[:64], y[:64], batch_size=32, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), clean.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_evaluate_and_predict_shapes_and_batching():
    x, y = small_data()
    model = small_mlp(dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    p_all = model.predict(x, batch_size=96, verbose=0)
    p_small = model.predict(x, batch_size=7, verbose=0)
    assert p_all.shape == (96, 3) and p_all.dtype == np.float64
    np.testing.assert_allclose(p_small, p_all, rtol=1e-13)
    np.testing.assert_allclose(p_all.sum(axis=1), 1.0, rtol=1e-12)
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(result) == ["loss", "accuracy"]
    expected = -np.log(p_all[np.arange(96), y]).mean()
    assert result["loss"] == pytest.approx(expected, rel=1e-10)
    assert result["accuracy"] == pytest.approx(np.mean(p_all.argmax(1) == y))
    np.testing.assert_allclose(model(x), p_all, rtol=1e-13)
    np.testing.assert_allclose(model.predict_on_batch(x), p_all, rtol=1e-13)


def test_flatten_feeds_images_to_dense():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, size=40)
    model = bprop.Sequential([Flatten(input_shape=(28, 28)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    h = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    assert model.predict(x, verbose=0).shape == (40, 10)


def test_verbose_modes(capsys):
    x, y = small_data(n=40)
    model = small_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, batch_size=8, verbose=2, validation_split=0.2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2 - ") and "loss: " in lines[0]
    assert "val_accuracy: " in lines[1]
    model.fit(x, y, epochs=1, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "5/5" in out and "ETA" in out and "accuracy: " in out


def test_steady_state_training_step_allocates_no_arrays(one_thread):
    """The plan's buffers are made once: more steps in a core call cost no more
    Python memory than fewer (only the per-step results, ~50 bytes a step)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2048, 200)).astype(np.float32)
    y = rng.integers(0, 10, size=2048)
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([Dense(128, activation="relu", input_shape=(200,)),
                              Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    plan = model._train_plan()
    assert plan.in_core
    data = plan.data(x, model.compiled_loss.prepare_targets(y, (10,), np.float32))
    plan.run(data, np.arange(2048), 64, train=True)  # the first call builds the buffers

    def peak(steps):
        rows = np.arange(64 * steps)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            plan.run(data, rows, 64, train=True)
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()

    few, many = peak(4), peak(32)
    # The smallest array of a step is 64 x 10 float32 = 2560 bytes; a 64 x 128
    # activation is 32 KiB: 28 more steps would show any array made per step.
    assert many - few < 2560, (few, many)
    assert many < 2560 * 4, many
