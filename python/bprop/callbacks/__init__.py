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

from .base import HOOKS, Callback, CallbackList, History, LambdaCallback
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .model_checkpoint import ModelCheckpoint
from .terminate_on_nan import TerminateOnNaN

__all__ = [
    "Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint",
    "LearningRateScheduler", "ReduceLROnPlateau", "TerminateOnNaN", "CSVLogger",
    "LambdaCallback", "HOOKS",
]
