"""LearningRateScheduler: set the optimizer's learning rate at each epoch's start."""
from __future__ import annotations

import inspect
import math
import numbers
import warnings

import numpy as np

from .base import Callback
from .monitor import as_scalar, monitor_op


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


def _set_lr(optimizer, value):
    replace = getattr(optimizer, "_replace_learning_rate", None)
    if replace is not None:  # a bprop optimizer: replaces a schedule too
        replace(value)
    else:
        optimizer.learning_rate = float(value)


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
        _set_lr(optimizer, lr)
        if self.verbose > 0:
            print("Epoch %d: LearningRateScheduler setting learning rate to %s."
                  % (epoch + 1, float(lr)))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model.optimizer)

    def get_config(self):
        return {"verbose": self.verbose}


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls (Keras' rules).

    After ``patience`` epochs without an improvement larger than
    ``min_delta``, ``lr = max(lr * factor, min_lr)``; then ``cooldown`` epochs
    pass before waiting starts again.  The rate is logged as
    ``learning_rate`` at each epoch's end.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        if not 0.0 < float(factor) < 1.0:
            raise ValueError("factor: expected a value in (0, 1), got %r" % (factor,))
        for argname, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError("%s: expected a non-negative int, got %r" % (argname, value))
        if not float(min_lr) >= 0.0:
            raise ValueError("min_lr: expected >= 0, got %r" % (min_lr,))
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = mode
        self.min_delta = abs(float(min_delta))
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self._op = monitor_op(monitor, mode)
        self._reset()

    def _reset(self):
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def _improved(self, current):
        if self.best is None:
            return True
        if self._op is np.less:
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = _current_lr(optimizer)
        current = as_scalar(logs.get(self.monitor))
        if current is None:
            warnings.warn("ReduceLROnPlateau: monitor %r is not in the epoch logs; available: %s"
                          % (self.monitor, ", ".join(sorted(logs))), UserWarning, stacklevel=2)
            return
        in_cooldown = self.cooldown_counter > 0
        if in_cooldown:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best = current
            self.wait = 0
            return
        if in_cooldown:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old_lr = _current_lr(optimizer)
            if old_lr > self.min_lr:
                new_lr = max(old_lr * self.factor, self.min_lr)
                _set_lr(optimizer, new_lr)
                if self.verbose > 0:
                    print("Epoch %d: ReduceLROnPlateau reducing learning rate to %s."
                          % (epoch + 1, new_lr))
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def get_config(self):
        return {"monitor": self.monitor, "factor": self.factor, "patience": self.patience,
                "verbose": self.verbose, "mode": self.mode, "min_delta": self.min_delta,
                "cooldown": self.cooldown, "min_lr": self.min_lr}
