"""ModelCheckpoint: save the model or its weights each epoch, or only the best."""
from __future__ import annotations

import numbers
import os
import warnings

from .base import Callback
from .monitor import as_scalar, monitor_op


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
        self.monitor_op = monitor_op(monitor, mode)
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
        from .. import distributed

        if not distributed.is_root():  # in a job, rank 0 saves (and says so)
            return
        logs = logs or {}
        path = self.format_path(epoch, batch, logs)
        if self.save_best_only:
            current = as_scalar(logs.get(self.monitor))
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
