"""fit / evaluate / predict on a bprop.data.Dataset or a Python generator of batches.

The oracle throughout is the array path: the same batches in the same order
must give identical weights, History and results."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop.data import Dataset
from bprop.layers import Dense


@pytest.fixture(autouse=True)
def one_thread():
    before = bprop.get_num_threads()
    bprop.set_num_threads(1)
    yield
    bprop.set_num_threads(before)


def data(n=100, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


def model(seed=0, metrics=("accuracy",), input_shape=(8,), backend="core"):
    bprop.utils.set_random_seed(seed)
    m = bprop.Sequential([Dense(16, activation="relu", input_shape=input_shape),
                          Dense(3, activation="softmax")], backend=backend)
    m.compile(optimizer=bprop.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
              metrics=list(metrics))
    return m


def assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


class BatchLog(bprop.callbacks.Callback):
    """Records the batch hooks (forcing one step per core call) and the params."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch", epoch, self.params["steps"]))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch", batch))


# --------------------------------------------------------------------------- fit
@pytest.mark.parametrize("per_step, backend", [(False, "core"), (True, "core"),
                                               (False, "numpy")])
def test_fit_on_a_dataset_equals_fit_on_the_arrays(per_step, backend):
    x, y = data()
    arrays, ds_model = model(backend=backend), model(backend=backend)
    h1 = arrays.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    log = BatchLog()
    ds = Dataset.from_tensor_slices((x, y)).batch(16)  # 6 batches of 16 and one of 4
    h2 = ds_model.fit(ds, epochs=3, verbose=0, callbacks=[log] if per_step else None)
    assert h2.history == h1.history
    assert_same_weights(arrays, ds_model)
    assert ds_model.optimizer.iterations == arrays.optimizer.iterations == 21
    if per_step:
        assert log.events[:8] == [("epoch", 0, 7)] + [("batch", b) for b in range(7)]


def test_sample_weights_and_class_weights_from_a_dataset():
    x, y = data()
    w = np.linspace(0.1, 2.0, len(x))
    a, b = model(), model()
    a.fit(x, y, sample_weight=w, class_weight={0: 2.0}, batch_size=25, shuffle=False,
          epochs=2, verbose=0)
    b.fit(Dataset.from_tensor_slices((x, y, w)).batch(25), class_weight={0: 2.0}, epochs=2,
          verbose=0)
    assert_same_weights(a, b)


def test_a_generator_with_steps_per_epoch_reads_on_across_epochs():
    x, y = data(n=60)

    def batches():
        for i in range(0, 60, 10):
            yield x[i:i + 10], y[i:i + 10]

    gen_model, arrays = model(), model()
    log = BatchLog()
    history = gen_model.fit(batches(), steps_per_epoch=3, epochs=2, verbose=0, callbacks=[log])
    # Epoch 1 takes batches 0-2 (rows 0-29), epoch 2 batches 3-5 (rows 30-59).
    arrays.fit(x[:30], y[:30], batch_size=10, shuffle=False, verbose=0)
    arrays.fit(x[30:], y[30:], batch_size=10, shuffle=False, verbose=0)
    assert_same_weights(gen_model, arrays)
    assert len(history.history["loss"]) == 2
    assert log.events == [("epoch", 0, 3), ("batch", 0), ("batch", 1), ("batch", 2),
                          ("epoch", 1, 3), ("batch", 0), ("batch", 1), ("batch", 2)]


def test_a_repeated_dataset_needs_and_follows_steps_per_epoch():
    x, y = data(n=40)
    ds = Dataset.from_tensor_slices((x, y)).batch(10).repeat()
    with pytest.raises(ValueError, match="steps_per_epoch: the Dataset given as x repeats "
                                         "forever"):
        model().fit(ds, verbose=0)
    a, b = model(), model()
    a.fit(ds, steps_per_epoch=3, epochs=2, verbose=0)  # batches 0,1,2 then 3,0,1
    order = np.r_[0:30, 30:40, 0:20]
    b.fit(x[order], y[order], batch_size=10, shuffle=False, verbose=0)
    assert_same_weights(a, b)


def test_running_out_of_data_warns_and_stops_training():
    x, y = data(n=30)
    ds = Dataset.from_tensor_slices((x, y)).batch(10)  # 3 batches, 2 per epoch asked
    m = model()
    with pytest.warns(UserWarning, match="ran out of data; interrupting training.* gave 1 of "
                                         "the steps_per_epoch=2"):
        history = m.fit(ds, steps_per_epoch=2, epochs=5, verbose=0)
    assert len(history.history["loss"]) == 2 and m.optimizer.iterations == 3


def test_a_generator_runs_until_exhausted_for_one_epoch():
    x, y = data(n=50)
    a, b = model(), model()
    a.fit(((x[i:i + 20], y[i:i + 20]) for i in range(0, 50, 20)), verbose=0)
    b.fit(x, y, batch_size=20, shuffle=False, verbose=0)
    assert_same_weights(a, b)


def test_batches_of_changing_sizes_equal_single_steps():
    # Chunks group equal sizes only: a size change must still give one step per batch.
    x, y = data(n=48)
    sizes = [10, 10, 5, 10, 3, 7, 3]
    bounds = np.cumsum([0] + sizes)
    a, b = model(), model()
    a.fit(_varying(x, y, bounds), verbose=0)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        b.train_on_batch(x[lo:hi], y[lo:hi])
    assert_same_weights(a, b)
    assert a.optimizer.iterations == len(sizes)


def _varying(x, y, bounds):
    def gen():
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            yield bprop.constant(x[lo:hi]), y[lo:hi]  # Tensors are fine too
    return gen()


def test_validation_dataset_equals_validation_arrays():
    x, y = data()
    xv, yv = data(n=30, seed=5)
    a, b = model(), model()
    h1 = a.fit(x, y, batch_size=20, shuffle=False, epochs=2, verbose=0,
               validation_data=(xv, yv), validation_batch_size=8)
    h2 = b.fit(Dataset.from_tensor_slices((x, y)).batch(20), epochs=2, verbose=0,
               validation_data=Dataset.from_tensor_slices((xv, yv)).batch(8))
    assert h2.history == h1.history
    # A Dataset for validation works with array training too.
    c = model()
    h3 = c.fit(x, y, batch_size=20, shuffle=False, epochs=2, verbose=0,
               validation_data=Dataset.from_tensor_slices((xv, yv)).batch(8))
    assert h3.history == h1.history


def test_validation_steps_reads_on_across_epochs():
    x, y = data(n=40)
    xv, yv = data(n=40, seed=7)
    expected = []

    class Oracle(bprop.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            rows = slice(0, 20) if epoch == 0 else slice(20, 40)
            expected.append(self.model.evaluate(xv[rows], yv[rows], batch_size=10,
                                                verbose=0, return_dict=True)["loss"])

    val = Dataset.from_tensor_slices((xv, yv)).batch(10).repeat()
    h = model().fit(Dataset.from_tensor_slices((x, y)).batch(10), epochs=2, verbose=0,
                    validation_data=val, validation_steps=2, callbacks=[Oracle()])
    assert h.history["val_loss"] == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- evaluate / predict
def test_evaluate_and_predict_on_datasets_and_generators():
    x, y = data(n=45)
    m = model()
    m.fit(x, y, epochs=2, verbose=0)
    ds = Dataset.from_tensor_slices((x, y)).batch(10)
    assert m.evaluate(ds, verbose=0) == m.evaluate(x, y, batch_size=10, verbose=0)
    assert m.evaluate(ds, steps=2, verbose=0) == m.evaluate(x[:20], y[:20], batch_size=10,
                                                           verbose=0)
    expected = m.predict(x, verbose=0)
    np.testing.assert_array_equal(m.predict(ds, verbose=0), expected)  # y is ignored
    np.testing.assert_array_equal(m.predict(Dataset.from_tensor_slices(x).batch(7),
                                            verbose=0), expected)
    gen = (x[i:i + 10] for i in range(0, 45, 10))
    np.testing.assert_array_equal(m.predict(gen, steps=3, verbose=0), expected[:30])
    logs = m.evaluate(iter([(x[:20], y[:20]), [x[20:], y[20:]]]), verbose=0, return_dict=True)
    assert logs == m.evaluate(x, y, batch_size=20, verbose=0, return_dict=True)


def test_fit_builds_the_model_and_reads_read_only_arrays():
    x, y = data(n=20)
    bprop.utils.set_random_seed(0)
    m = bprop.Sequential([Dense(3, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    m.fit(Dataset.from_tensors((x, y)), epochs=2, verbose=0)  # frozen arrays, one batch
    assert m.optimizer.iterations == 2 and m.predict(Dataset.from_tensors(x),
                                                      verbose=0).shape == (20, 3)


def test_functional_model_with_named_inputs_from_a_dataset():
    x, y = data(n=30)
    a = bprop.keras.Input((5,), name="a")
    b = bprop.keras.Input((3,), name="b")
    out = Dense(3, activation="softmax")(bprop.keras.layers.Concatenate()([a, b]))
    bprop.utils.set_random_seed(0)
    f = bprop.keras.Model([a, b], out)
    f.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ds = Dataset.from_tensor_slices(({"a": x[:, :5], "b": x[:, 5:]}, y)).batch(10)
    h = f.fit(ds, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2 and f.optimizer.iterations == 6
    np.testing.assert_array_equal(f.predict(ds, verbose=0),
                                  f.predict([x[:, :5], x[:, 5:]], verbose=0))


def test_progress_bar_shows_the_known_number_of_steps(capsys):
    x, y = data(n=30)
    model().fit(Dataset.from_tensor_slices((x, y)).batch(8), epochs=1, verbose=2)
    assert "Epoch 1/1" in capsys.readouterr().out
    model().fit(Dataset.from_tensor_slices((x, y)).batch(8), epochs=1, verbose=1)
    assert "4/4" in capsys.readouterr().out


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 32}, "batch_size: expected None when x is a Dataset or a generator"),
    ({"y": np.zeros(10)}, "y: expected None when x is a Dataset"),
    ({"sample_weight": np.ones(10)}, "sample_weight: expected None when x is a Dataset"),
    ({"validation_split": 0.2}, "validation_split: only for array input"),
    ({"steps_per_epoch": 0}, "steps_per_epoch: expected a positive integer, got 0"),
    ({"validation_data": (np.zeros((2, 8)), np.zeros(2)), "validation_steps": 1},
     "validation_steps: only for validation_data given as a Dataset"),
])
def test_fit_argument_errors_name_the_argument(kwargs, message):
    x, y = data(n=10)
    with pytest.raises(ValueError, match=message):
        model().fit(Dataset.from_tensor_slices((x, y)).batch(5), verbose=0, **kwargs)


def test_input_errors_name_the_argument():
    x, y = data(n=10)
    m = model()
    with pytest.raises(ValueError, match="steps_per_epoch: the generator given as x cannot "
                                         "restart, so it cannot feed 2 runs"):
        m.fit(((x, y) for _ in range(3)), epochs=2, verbose=0)
    with pytest.raises(ValueError, match=r"x \(batch 0\): expected a batch of samples.*needs "
                                         r"\.batch\(batch_size\)"):
        m.fit(Dataset.from_tensor_slices((x, y)), verbose=0)
    bad = x.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"x \(batch 1\): contains NaN .*first at sample 2"):
        m.fit(Dataset.from_tensor_slices((bad, y)).batch(5), verbose=0)
    with pytest.raises(ValueError, match="x: expected at least one batch to train on"):
        m.fit(Dataset.from_tensor_slices((x, y)).batch(5).take(0), verbose=0)
    with pytest.raises(ValueError, match="steps: the Dataset given as x repeats forever"):
        m.evaluate(Dataset.from_tensor_slices((x, y)).batch(5).repeat(), verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch: only for x given as a Dataset"):
        m.fit(x, y, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="steps: only for x given as a Dataset"):
        m.predict(x, steps=2, verbose=0)
    with pytest.raises(ValueError, match="x: expected batches x, \\(x,\\), \\(x, y\\)"):
        m.fit(iter([(x, y, None, None)]), verbose=0)
    with pytest.raises(ValueError, match=r"x \(batch 1\): expected an array of samples, got "
                                         r"None"):
        m.fit(iter([(x, y), None]), verbose=0)


def test_data_parallel_fit_refuses_a_dataset(monkeypatch):
    x, y = data(n=10)
    monkeypatch.setattr(bprop.distributed, "job", lambda: object())
    with pytest.raises(NotImplementedError, match="fit: data-parallel training"):
        model().fit(Dataset.from_tensor_slices((x, y)).batch(5), verbose=0)
