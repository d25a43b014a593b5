"""TerminateOnNaN: stop training at the first batch whose loss is NaN or infinite."""
from __future__ import annotations

import math

from .base import Callback
from .monitor import as_scalar


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite, with a message."""

    def __init__(self):
        super().__init__()
        self._epoch = 0
        self.message = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = as_scalar((logs or {}).get("loss"))
        if loss is not None and not math.isfinite(loss):
            self.message = ("Epoch %d, batch %d: invalid loss %s, terminating training"
                            % (self._epoch + 1, batch, loss))
            print(self.message)
            self.model.stop_training = True
