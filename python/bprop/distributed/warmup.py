"""``LearningRateWarmup``: Horovod's learning-rate warm-up, step by step.

With N processes the learning rate is usually scaled by N (a global batch N
times larger).  Starting at that rate can diverge; the warm-up starts at
``lr / N`` and ramps linearly to ``lr`` over the first ``warmup_epochs``
epochs.  It runs inside the compiled step (a schedule wrapping the
optimizer's rate during ``fit``), so it costs no per-batch callback.
"""
from __future__ import annotations

from ..callbacks import Callback
from ..optimizers import schedules

__all__ = ["LearningRateWarmup"]


class _Warmup(schedules.LearningRateSchedule):
    """``base`` (a rate or a schedule) times a factor rising linearly from
    ``start_factor`` to 1 over ``warmup_steps`` steps counted from ``first``."""

    def __init__(self, base, warmup_steps, start_factor, first):
        self.base = base
        self.warmup_steps = warmup_steps
        self.start_factor = start_factor
        self.first = first
        self._serialize_as = base  # a file saved meanwhile stores the rate itself

    def __call__(self, step):
        base = self.base(step) if callable(self.base) else self.base
        done = max(0, step - self.first)
        ramp = min(1.0, done / self.warmup_steps) if self.warmup_steps else 1.0
        return base * (self.start_factor + (1.0 - self.start_factor) * ramp)

    def get_config(self):
        return {"warmup_steps": self.warmup_steps, "start_factor": self.start_factor}


class LearningRateWarmup(Callback):
    """``LearningRateWarmup(warmup_epochs=5, initial_factor=None)``.

    ``initial_factor``: the fraction of the rate to start from (default
    ``1 / size()``).  The optimizer's own rate (a float or a schedule) is
    restored when training ends.
    """

    def __init__(self, warmup_epochs=5, initial_factor=None):
        super().__init__()
        if isinstance(warmup_epochs, bool) or not isinstance(warmup_epochs, (int, float)) \
                or warmup_epochs < 0:
            raise ValueError("warmup_epochs: expected a number >= 0, got %r" % (warmup_epochs,))
        if initial_factor is not None and not 0 < initial_factor <= 1:
            raise ValueError("initial_factor: expected a value in (0, 1], got %r"
                             % (initial_factor,))
        self.warmup_epochs = warmup_epochs
        self.initial_factor = initial_factor
        self._saved = None

    def on_train_begin(self, logs=None):
        from . import size

        opt = self.model.optimizer
        self._saved = opt._learning_rate  # the float or the schedule itself
        steps = int(round(self.warmup_epochs * (self.params.get("steps") or 0)))
        factor = 1.0 / size() if self.initial_factor is None else float(self.initial_factor)
        opt._learning_rate = _Warmup(self._saved, steps, factor, opt.iterations)

    def on_train_end(self, logs=None):
        if self._saved is not None:
            self.model.optimizer._learning_rate = self._saved
            self._saved = None
