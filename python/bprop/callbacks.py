"""Keras-style training callbacks.

A callback sees the model through ``model.stop_training``,
``model.get_weights()/set_weights()``, ``model.save(path)``,
``model.save_weights(path)`` and ``model.optimizer`` only, so any object
with those members can be trained or tested with them.

Hook order in ``fit`` (Keras'): on_train_begin; per epoch on_epoch_begin,
per batch on_train_batch_begin/end, then validation (on_test_begin,
on_test_batch_begin/end, on_test_end), on_epoch_end(epoch, logs) with the
epoch's ``loss``, metrics and ``val_*`` entries; on_train_end.
"""
from __future__ import annotations

import csv
import inspect
import math
import numbers
import os
import warnings

import numpy as np

__all__ = [
    "Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint",
    "LearningRateScheduler", "TerminateOnNaN", "CSVLogger", "LambdaCallback",
]


class Callback:
    """Base class: every hook exists and does nothing until overridden."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = dict(params or {})

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        # Keras 2 name kept working for subclasses that override it.
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def get_config(self):
        return {}


_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)


class CallbackList:
    """Dispatches every hook to a list of callbacks, in order.

    ``CallbackList(callbacks=None, add_history=False, model=None, params=None)``;
    with ``add_history`` a :class:`History` is appended unless one is given.
    """

    def __init__(self, callbacks=None, add_history=False, model=None, params=None):
        self.callbacks = []
        for i, cb in enumerate(callbacks or []):
            if not isinstance(cb, Callback):
                raise TypeError("callbacks[%d]: expected a bprop.callbacks.Callback, got %s"
                                % (i, type(cb).__name__))
            self.callbacks.append(cb)
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        self.model = None
        self.params = {}
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)

    @property
    def history(self):
        """The History callback in the list (None if there is none)."""
        for cb in self.callbacks:
            if isinstance(cb, History):
                return cb
        return None

    def append(self, callback):
        if not isinstance(callback, Callback):
            raise TypeError("callback: expected a bprop.callbacks.Callback, got %s"
                            % type(callback).__name__)
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        callback.set_params(self.params)

    def set_model(self, model):
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        self.params = dict(params or {})
        for cb in self.callbacks:
            cb.set_params(self.params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


def _make_dispatch(hook):
    def dispatch(self, *args, **kwargs):
        for cb in self.callbacks:
            getattr(cb, hook)(*args, **kwargs)
    dispatch.__name__ = hook
    dispatch.__doc__ = "Call ``%s`` on every callback, in order." % hook
    return dispatch


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _make_dispatch(_hook))
del _hook


class History(Callback):
    """Records the epoch logs: ``history`` (dict of lists) and ``epoch`` (list of ints).

    ``fit`` returns it; it also sets ``model.history`` to itself, as Keras does.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:  # a model object that forbids new attributes
                pass


def _monitor_op(monitor, mode, argname="mode"):
    """``np.less`` for losses/errors, ``np.greater`` for accuracies (mode="auto")."""
    if mode not in ("auto", "min", "max"):
        raise ValueError("%s: expected 'auto', 'min' or 'max', got %r" % (argname, mode))
    if mode == "min":
        return np.less
    if mode == "max":
        return np.greater
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if "acc" in name or "auc" in name or name.startswith("fmeasure") \
            or "precision" in name or "recall" in name:
        return np.greater
    return np.less


def _as_scalar(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras 3).

    An epoch improves when ``current - min_delta`` beats the best so far
    (``+ min_delta`` when maximising).  Epochs before ``start_from_epoch`` are
    ignored.  With ``baseline``, waiting is reset only by values that also
    beat the baseline.  With ``restore_best_weights`` the weights of the
    best epoch are put back at the end of training.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) \
                or patience < 0:
            raise ValueError("patience: expected a non-negative int, got %r" % (patience,))
        if isinstance(start_from_epoch, bool) or not isinstance(start_from_epoch, numbers.Integral) \
                or start_from_epoch < 0:
            raise ValueError("start_from_epoch: expected a non-negative int, got %r"
                             % (start_from_epoch,))
        self.monitor = monitor
        self.mode = mode
        self.monitor_op = _monitor_op(monitor, mode)
        self.min_delta = abs(float(min_delta))
        if self.monitor_op is np.less:
            self.min_delta = -self.min_delta
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = None if baseline is None else float(baseline)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))

    def get_monitor_value(self, logs):
        value = _as_scalar((logs or {}).get(self.monitor))
        if value is None:
            warnings.warn(
                "EarlyStopping: monitor %r is not in the epoch logs; available: %s"
                % (self.monitor, ", ".join(sorted(logs or {}))), UserWarning, stacklevel=3)
        return value

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the first monitored weights are the best.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print("Epoch %d: early stopping" % (self.stopped_epoch + 1))
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: %d."
                      % (self.best_epoch + 1))
            self.model.set_weights(self.best_weights)

    def get_config(self):
        return {"monitor": self.monitor, "min_delta": abs(self.min_delta),
                "patience": self.patience, "verbose": self.verbose, "mode": self.mode,
                "baseline": self.baseline, "restore_best_weights": self.restore_best_weights,
                "start_from_epoch": self.start_from_epoch}


class ModelCheckpoint(Callback):
    """Save the model (``model.save``) or its weights (``model.save_weights``).

    ``filepath`` may hold ``str.format`` fields filled from ``epoch``
    (1-based, as Keras), the epoch logs (``{val_loss:.4f}``) and, with an
    integer ``save_freq``, ``batch``.  ``save_best_only`` saves only when
    ``monitor`` improves on the best seen (or on ``initial_value_threshold``).
    ``save_freq="epoch"`` saves at each epoch end; an int saves every that
    many batches.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        filepath = os.fspath(filepath)
        if not isinstance(filepath, str) or not filepath:
            raise ValueError("filepath: expected a non-empty path, got %r" % (filepath,))
        if save_freq != "epoch" and (isinstance(save_freq, bool)
                                     or not isinstance(save_freq, numbers.Integral)
                                     or save_freq <= 0):
            raise ValueError("save_freq: expected 'epoch' or a positive int, got %r"
                             % (save_freq,))
        self.filepath = filepath
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode = mode
        self.monitor_op = _monitor_op(monitor, mode)
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self.best = None if initial_value_threshold is None else float(initial_value_threshold)
        self._epoch = 0
        self._batches_seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def format_path(self, epoch, batch=None, logs=None):
        """The file path for ``epoch`` (0-based; formatted 1-based) and the logs."""
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as e:
            raise KeyError("filepath: cannot format %r with epoch/batch and the logs (%s): %s"
                           % (self.filepath, ", ".join(sorted(fields)), e)) from None

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        path = self.format_path(epoch, batch, logs)
        if self.save_best_only:
            current = _as_scalar(logs.get(self.monitor))
            if current is None:
                warnings.warn("ModelCheckpoint: monitor %r is not in the logs; available: %s"
                              % (self.monitor, ", ".join(sorted(logs))), UserWarning,
                              stacklevel=3)
                return
            if self.best is not None and not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print("Epoch %d: %s did not improve from %.5f"
                          % (epoch + 1, self.monitor, self.best))
                return
            if self.verbose > 0:
                print("Epoch %d: %s improved from %s to %.5f, saving model to %s"
                      % (epoch + 1, self.monitor,
                         "inf" if self.best is None else "%.5f" % self.best, current, path))
            self.best = current
        elif self.verbose > 0:
            print("Epoch %d: saving model to %s" % (epoch + 1, path))
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def get_config(self):
        return {"filepath": self.filepath, "monitor": self.monitor, "verbose": self.verbose,
                "save_best_only": self.save_best_only,
                "save_weights_only": self.save_weights_only, "mode": self.mode,
                "save_freq": self.save_freq,
                "initial_value_threshold": self.initial_value_threshold}


def _positional_arity(fn):
    """How many positional arguments ``fn`` takes (2 if it takes *args or is opaque)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    n = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return 2
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n


def _current_lr(optimizer):
    if hasattr(optimizer, "current_learning_rate"):
        return float(optimizer.current_learning_rate())
    return float(optimizer.learning_rate)


class LearningRateScheduler(Callback):
    """At each epoch's start set ``model.optimizer.learning_rate = schedule(epoch, lr)``.

    ``schedule(epoch, lr) -> float`` (0-based epoch, current rate); a
    one-argument ``schedule(epoch)`` also works (Keras 2).  The rate used is
    logged as ``learning_rate`` at each epoch's end.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError("schedule: expected a callable (epoch, lr) -> float, got %r"
                            % (schedule,))
        self.schedule = schedule
        self.verbose = verbose
        self._arity = _positional_arity(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "learning_rate"):
            raise ValueError("LearningRateScheduler: the model has no optimizer with a "
                             "learning_rate (compile the model first)")
        if self._arity >= 2:
            lr = self.schedule(epoch, _current_lr(optimizer))
        else:
            lr = self.schedule(epoch)
        if isinstance(lr, np.ndarray) and lr.ndim == 0:
            lr = lr.item()
        if isinstance(lr, bool) or not isinstance(lr, (numbers.Real, np.floating)) \
                or not math.isfinite(float(lr)) or lr < 0:
            raise ValueError("schedule: expected a finite float >= 0 for epoch %d, got %r"
                             % (epoch, lr))
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print("Epoch %d: LearningRateScheduler setting learning rate to %s."
                  % (epoch + 1, float(lr)))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model.optimizer)

    def get_config(self):
        return {"verbose": self.verbose}


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite, with a message."""

    def __init__(self):
        super().__init__()
        self._epoch = 0
        self.message = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = _as_scalar((logs or {}).get("loss"))
        if loss is not None and not math.isfinite(loss):
            self.message = ("Epoch %d, batch %d: invalid loss %s, terminating training"
                            % (self._epoch + 1, batch, loss))
            print(self.message)
            self.model.stop_training = True


def _csv_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[%s]" % ", ".join(str(v) for v in np.ravel(value))
    return value


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` then the log keys in sorted order.

    With ``append=True`` rows are added to an existing file (no second header).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError("separator: expected a single character, got %r" % (separator,))
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self.writer = None
        self.csv_file = None
        self._write_header = True

    def on_train_begin(self, logs=None):
        self._write_header = not (self.append and os.path.exists(self.filename)
                                  and os.path.getsize(self.filename) > 0)
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="",
                             encoding="utf-8")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         delimiter=self.sep, extrasaction="ignore")
            if self._write_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        for key in self.keys:
            row[key] = _csv_value(logs[key]) if key in logs else "NA"
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
            self.csv_file = None
        self.writer = None

    def get_config(self):
        return {"filename": self.filename, "separator": self.sep, "append": self.append}


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Keyword names are the hook names (also Keras' ``on_batch_begin/end``,
    meaning the training batches).
    """

    def __init__(self, **hooks):
        super().__init__()
        allowed = set(_HOOKS) | {"on_batch_begin", "on_batch_end"}
        for name, fn in hooks.items():
            if name not in allowed:
                raise ValueError("%s: expected one of the hook names %s"
                                 % (name, ", ".join(sorted(allowed))))
            if fn is not None and not callable(fn):
                raise TypeError("%s: expected a callable, got %r" % (name, fn))
            if fn is not None:
                setattr(self, name, fn)
