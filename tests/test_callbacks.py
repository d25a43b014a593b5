"""Callbacks driven by hand with a tiny fake model (no training needed)."""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from bprop import callbacks, optimizers


class FakeModel:
    """Just what callbacks may touch: weights, stop_training, save, optimizer."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(2)]
        self.saved = []
        self.optimizer = optimizers.SGD(0.1)

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, path):
        self.saved.append(("model", path))

    def save_weights(self, path):
        self.saved.append(("weights", path))


def run_epochs(cb, model, logs_per_epoch, weights_per_epoch=None):
    """Drive ``cb`` like fit does; returns the number of epochs run."""
    cb.set_model(model)
    cb.on_train_begin({})
    ran = 0
    for epoch, logs in enumerate(logs_per_epoch):
        cb.on_epoch_begin(epoch, {})
        if weights_per_epoch is not None:
            model.weights = [np.full(2, float(weights_per_epoch[epoch]))]
        cb.on_epoch_end(epoch, dict(logs))
        ran += 1
        if model.stop_training:
            break
    cb.on_train_end({})
    return ran


def losses(*values):
    return [{"loss": v, "val_loss": v} for v in values]


# ----------------------------------------------------------------- EarlyStopping
def test_early_stopping_patience():
    model = FakeModel()
    es = callbacks.EarlyStopping(monitor="val_loss", patience=2)
    # best at epoch 1 (0.5); epochs 2 and 3 do not improve -> stop after epoch 3
    ran = run_epochs(es, model, losses(1.0, 0.5, 0.6, 0.7, 0.1, 0.05))
    assert ran == 4 and es.stopped_epoch == 3 and model.stop_training
    assert es.best == 0.5 and es.best_epoch == 1


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    model = FakeModel()
    es = callbacks.EarlyStopping(monitor="loss")
    assert run_epochs(es, model, losses(1.0, 0.9, 0.95, 0.1)) == 3


def test_early_stopping_restores_best_weights():
    model = FakeModel()
    es = callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    run_epochs(es, model, losses(1.0, 0.4, 0.8, 0.9), weights_per_epoch=[10, 20, 30, 40])
    assert es.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [20.0, 20.0])  # not 30 (the last epoch)


def test_early_stopping_without_restore_keeps_last_weights():
    model = FakeModel()
    run_epochs(callbacks.EarlyStopping(patience=1), model, losses(1.0, 0.4, 0.8, 0.9),
               weights_per_epoch=[10, 20, 30, 40])
    np.testing.assert_array_equal(model.weights[0], [30.0, 30.0])


def test_early_stopping_min_delta_mode_max_and_start_from_epoch():
    model = FakeModel()
    es = callbacks.EarlyStopping(monitor="val_accuracy", min_delta=0.05, patience=2)
    assert es.monitor_op is np.greater  # "auto" -> max for accuracies
    logs = [{"val_accuracy": a} for a in (0.5, 0.52, 0.53, 0.9)]
    # +0.02 and +0.03 are under min_delta: no improvement for 2 epochs, stop at epoch 2
    assert run_epochs(es, model, logs) == 3
    model = FakeModel()
    es = callbacks.EarlyStopping(monitor="loss", patience=0, start_from_epoch=2)
    # epochs 0-1 ignored (even though they get worse); 2 sets the best, 3 worsens
    assert run_epochs(es, model, losses(1.0, 2.0, 3.0, 4.0, 0.1)) == 4


def test_early_stopping_baseline():
    model = FakeModel()
    es = callbacks.EarlyStopping(monitor="loss", patience=2, baseline=0.5)
    # improvements that do not beat the baseline do not reset the wait: after
    # 0.9 and 0.8 the wait is 2, so the first non-improving epoch (2) stops
    assert run_epochs(es, model, losses(0.9, 0.8, 0.85, 0.7)) == 3
    es = callbacks.EarlyStopping(monitor="loss", patience=2)
    assert run_epochs(es, FakeModel(), losses(0.9, 0.8, 0.85, 0.7)) == 4


def test_early_stopping_missing_monitor_warns():
    model = FakeModel()
    es = callbacks.EarlyStopping(monitor="val_loss")
    es.set_model(model)
    es.on_train_begin()
    with pytest.warns(UserWarning, match="monitor 'val_loss' is not in the epoch logs; "
                                         "available: loss"):
        es.on_epoch_end(0, {"loss": 1.0})
    assert not model.stop_training


def test_early_stopping_validation():
    with pytest.raises(ValueError, match="mode: expected 'auto', 'min' or 'max', got 'up'"):
        callbacks.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience: expected a non-negative int, got -1"):
        callbacks.EarlyStopping(patience=-1)


# ----------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_saves_every_epoch_with_formatted_path(tmp_path):
    model = FakeModel()
    pattern = str(tmp_path / "ckpt" / "model-{epoch:02d}-{val_loss:.2f}.bprop")
    run_epochs(callbacks.ModelCheckpoint(pattern), model, losses(0.5, 0.25))
    assert model.saved == [("model", str(tmp_path / "ckpt" / "model-01-0.50.bprop")),
                           ("model", str(tmp_path / "ckpt" / "model-02-0.25.bprop"))]
    assert (tmp_path / "ckpt").is_dir()  # parent folders are created


def test_model_checkpoint_save_best_only(tmp_path):
    model = FakeModel()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch}.bprop"), save_best_only=True)
    run_epochs(cb, model, losses(1.0, 0.5, 0.7, 0.4, 0.4))
    assert [p for _, p in model.saved] == [str(tmp_path / ("best-%d.bprop" % e)) for e in (1, 2, 4)]
    assert cb.best == 0.4


def test_model_checkpoint_weights_only_and_max_mode(tmp_path):
    model = FakeModel()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "w.bin"), monitor="accuracy",
                                   save_best_only=True, save_weights_only=True)
    run_epochs(cb, model, [{"accuracy": a} for a in (0.5, 0.4, 0.6)])
    assert model.saved == [("weights", str(tmp_path / "w.bin"))] * 2


def test_model_checkpoint_batch_frequency(tmp_path):
    model = FakeModel()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.bprop"), save_freq=2)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch in range(2):
        cb.on_epoch_begin(epoch)
        for batch in range(3):
            cb.on_train_batch_end(batch, {"loss": 1.0})
        cb.on_epoch_end(epoch, {"loss": 1.0})
    # batches seen 2, 4, 6 -> (epoch 1, batch 2), (epoch 2, batch 1), (epoch 2, batch 3)
    assert [p for _, p in model.saved] == [str(tmp_path / n) for n in
                                           ("e1-b2.bprop", "e2-b1.bprop", "e2-b3.bprop")]


def test_model_checkpoint_bad_format_field(tmp_path):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "{val_acc}.bprop"))
    cb.set_model(FakeModel())
    with pytest.raises(KeyError, match="filepath: cannot format"):
        cb.on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(ValueError, match="save_freq: expected 'epoch' or a positive int"):
        callbacks.ModelCheckpoint("x", save_freq=0)


# ----------------------------------------------------------------- LearningRateScheduler
def test_learning_rate_scheduler_sets_optimizer_rate():
    model = FakeModel()
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5 if epoch > 0 else lr

    cb = callbacks.LearningRateScheduler(schedule)
    logs = [{}, {}, {}]
    cb.set_model(model)
    for epoch in range(3):
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, logs[epoch])
    assert seen == [(0, pytest.approx(0.1)), (1, pytest.approx(0.1)), (2, pytest.approx(0.05))]
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    assert [entry["learning_rate"] for entry in logs] == pytest.approx([0.1, 0.05, 0.025])


def test_learning_rate_scheduler_one_argument_schedule_and_replaces_a_schedule():
    model = FakeModel()
    model.optimizer = optimizers.Adam(optimizers.schedules.ExponentialDecay(1.0, 1, 0.5))
    cb = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    cb.set_model(model)
    cb.on_epoch_begin(2)
    assert model.optimizer.learning_rate == pytest.approx(0.03)


def test_learning_rate_scheduler_rejects_bad_values():
    model = FakeModel()
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    cb.set_model(model)
    with pytest.raises(ValueError, match="schedule: expected a finite float >= 0 for epoch 0, "
                                         "got 'fast'"):
        cb.on_epoch_begin(0)
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: float("nan"))
    cb.set_model(model)
    with pytest.raises(ValueError, match="got nan"):
        cb.on_epoch_begin(0)
    with pytest.raises(TypeError, match="schedule: expected a callable"):
        callbacks.LearningRateScheduler(0.1)


# ----------------------------------------------------------------- TerminateOnNaN
def test_terminate_on_nan_stops_with_a_message(capsys):
    model = FakeModel()
    cb = callbacks.TerminateOnNaN()
    cb.set_model(model)
    cb.on_epoch_begin(2)
    cb.on_train_batch_end(0, {"loss": 0.5})
    assert not model.stop_training
    cb.on_train_batch_end(1, {"loss": float("nan")})
    assert model.stop_training
    assert "Epoch 3, batch 1: invalid loss nan" in capsys.readouterr().out
    model.stop_training = False
    cb.on_train_batch_end(2, {"loss": np.float32(np.inf)})
    assert model.stop_training and "invalid loss inf" in cb.message


# ----------------------------------------------------------------- CSVLogger
def read_rows(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_writes_header_and_rows(tmp_path):
    path = tmp_path / "log.csv"
    model = FakeModel()
    run_epochs(callbacks.CSVLogger(str(path)), model,
               [{"loss": 0.5, "accuracy": 0.75}, {"loss": 0.25, "accuracy": 0.875}])
    assert read_rows(path) == [["epoch", "accuracy", "loss"], ["0", "0.75", "0.5"],
                               ["1", "0.875", "0.25"]]


def test_csv_logger_append_and_separator(tmp_path):
    path = tmp_path / "log.tsv"
    run_epochs(callbacks.CSVLogger(str(path), separator="\t"), FakeModel(), [{"loss": 1.0}])
    run_epochs(callbacks.CSVLogger(str(path), separator="\t", append=True), FakeModel(),
               [{"loss": 0.5}])
    assert read_rows(path, "\t") == [["epoch", "loss"], ["0", "1.0"], ["0", "0.5"]]
    # without append the file is rewritten
    run_epochs(callbacks.CSVLogger(str(path), separator="\t"), FakeModel(), [{"loss": 2.0}])
    assert read_rows(path, "\t") == [["epoch", "loss"], ["0", "2.0"]]


def test_csv_logger_missing_key_written_as_na(tmp_path):
    path = tmp_path / "log.csv"
    run_epochs(callbacks.CSVLogger(str(path)), FakeModel(),
               [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5}])
    assert read_rows(path)[2] == ["1", "0.5", "NA"]


# ----------------------------------------------------------------- History, CallbackList, base
def test_history_records_logs_per_epoch():
    model = FakeModel()
    h = callbacks.History()
    run_epochs(h, model, [{"loss": 1.0, "acc": 0.5}, {"loss": 0.5, "acc": 0.75}])
    assert h.history == {"loss": [1.0, 0.5], "acc": [0.5, 0.75]}
    assert h.epoch == [0, 1]
    assert model.history is h


class Recorder(callbacks.Callback):
    def __init__(self, log):
        super().__init__()
        self.log = log

    def on_epoch_end(self, epoch, logs=None):
        self.log.append((id(self), epoch, logs["loss"]))


def test_callback_list_dispatches_in_order_and_adds_history():
    log = []
    a, b = Recorder(log), Recorder(log)
    model = FakeModel()
    cbs = callbacks.CallbackList([a, b], add_history=True, model=model, params={"epochs": 1})
    assert len(cbs) == 3 and isinstance(cbs.history, callbacks.History)
    assert a.model is model and b.params == {"epochs": 1}
    cbs.on_train_begin()
    cbs.on_epoch_end(0, {"loss": 0.25})
    assert log == [(id(a), 0, 0.25), (id(b), 0, 0.25)]
    assert cbs.history.history == {"loss": [0.25]}
    # every Keras hook exists on the list and on the base class
    for hook in ("on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
                 "on_test_batch_begin", "on_test_batch_end", "on_predict_begin",
                 "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end",
                 "on_epoch_begin", "on_train_end"):
        assert callable(getattr(cbs, hook)) and callable(getattr(a, hook))
    with pytest.raises(TypeError, match=r"callbacks\[0\]: expected a bprop.callbacks.Callback, "
                                        "got str"):
        callbacks.CallbackList(["history"])


def test_keras2_batch_hook_names_and_lambda_callback():
    seen = []

    class Old(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(("old", batch))

    lam = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(
        ("lam", batch, logs["loss"])), on_batch_begin=lambda batch, logs: seen.append(("b", batch)))
    cbs = callbacks.CallbackList([Old(), lam])
    cbs.on_train_batch_begin(3, {"loss": 1.0})
    cbs.on_train_batch_end(3, {"loss": 1.0})
    assert seen == [("b", 3), ("old", 3), ("lam", 3, 1.0)]
    with pytest.raises(ValueError, match="on_epoch_ending: expected one of the hook names"):
        callbacks.LambdaCallback(on_epoch_ending=print)


def test_get_config():
    assert callbacks.EarlyStopping(patience=3, min_delta=-0.1).get_config()["min_delta"] == 0.1
    cfg = callbacks.ModelCheckpoint("m.bprop", save_best_only=True).get_config()
    assert cfg["filepath"] == "m.bprop" and cfg["save_best_only"] is True
    assert callbacks.CSVLogger("x.csv", separator=";").get_config() == {
        "filename": "x.csv", "separator": ";", "append": False}
    assert math.isclose(callbacks.EarlyStopping(baseline=0.5).get_config()["baseline"], 0.5)


# ----------------------------------------------------------------- ReduceLROnPlateau
def test_reduce_lr_on_plateau_with_cooldown_and_floor():
    model = FakeModel()
    model.optimizer.learning_rate = 1.0
    cb = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=1,
                                     min_delta=0.0, min_lr=0.3)
    logs = [{"loss": v} for v in (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)]
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch, entry in enumerate(logs):
        cb.on_epoch_end(epoch, entry)
        rates.append(model.optimizer.learning_rate)
    # e0 sets best; e1, e2 stall -> halve at e2; e3 cooldown; e4, e5 stall -> 0.25 floored
    # to 0.3 at e5; e6 cooldown; e7 waits (lr stays at the floor)
    assert rates == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3])
    assert [entry["learning_rate"] for entry in logs[:4]] == pytest.approx([1.0, 1.0, 1.0, 0.5])


def test_reduce_lr_on_plateau_improvement_resets_wait():
    model = FakeModel()
    cb = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=1)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, v in enumerate((1.0, 0.5, 0.4)):
        cb.on_epoch_end(epoch, {"val_loss": v})
    assert model.optimizer.learning_rate == pytest.approx(0.1)
    cb.on_epoch_end(3, {"val_loss": 0.39995})  # better, but by less than min_delta 1e-4
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    with pytest.raises(ValueError, match=r"factor: expected a value in \(0, 1\), got 1.5"):
        callbacks.ReduceLROnPlateau(factor=1.5)


# ----------------------------------------------------------------- with a real model and fit
def _tiny_model(lr):
    import bprop

    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([bprop.layers.Dense(2, activation="softmax", input_shape=(3,))],
                             backend="numpy")
    model.compile(optimizer=optimizers.SGD(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    return model, x, y


def test_fit_early_stopping_and_scheduler_in_a_real_fit(tmp_path):
    model, x, y = _tiny_model(lr=0.5)
    # The scheduler sets the rate to 0 from epoch 2 on, so the loss stops
    # improving at epoch 2 and EarlyStopping(patience=0) ends training there.
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.5 if epoch < 2 else 0.0)
    es = callbacks.EarlyStopping(monitor="loss", patience=0, restore_best_weights=True)
    log = callbacks.CSVLogger(str(tmp_path / "fit.csv"))
    history = model.fit(x, y, epochs=10, batch_size=16, shuffle=False, verbose=0,
                        callbacks=[sched, es, log])
    assert history.epoch == [0, 1, 2, 3]
    assert history.history["learning_rate"] == pytest.approx([0.5, 0.5, 0.0, 0.0])
    losses_ = history.history["loss"]
    assert losses_[1] < losses_[0] and losses_[3] == pytest.approx(losses_[2])
    assert es.stopped_epoch == 3 and model.optimizer.learning_rate == 0.0
    rows = read_rows(tmp_path / "fit.csv")
    assert rows[0] == ["epoch", "accuracy", "learning_rate", "loss"] and len(rows) == 5


def test_model_checkpoint_writes_loadable_files_in_a_real_fit(tmp_path):
    import bprop

    model, x, y = _tiny_model(lr=0.1)
    pattern = str(tmp_path / "ck-{epoch:02d}.bprop")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(pattern, monitor="loss")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck-01.bprop", "ck-02.bprop"]
    loaded = bprop.models.load_model(str(tmp_path / "ck-02.bprop"))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
