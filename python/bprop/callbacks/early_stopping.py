"""EarlyStopping: stop when a monitored quantity stops improving (Keras 3 rules)."""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .base import Callback
from .monitor import as_scalar, monitor_op


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
        self.monitor_op = monitor_op(monitor, mode)
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
        value = as_scalar((logs or {}).get(self.monitor))
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
