"""Learning-rate schedules: ``schedule(step) -> float``, Keras 3 formulas.

An optimizer whose ``learning_rate`` is a schedule evaluates it at its
``iterations`` count *before* the step is applied (0 on the first step),
as Keras does.
"""
from __future__ import annotations

import math
import numbers

from .. import _registry

__all__ = [
    "LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
    "InverseTimeDecay", "CosineDecay", "PolynomialDecay",
    "serialize", "deserialize",
]


def _real(value, argname, minimum=None, strict=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError("%s: expected a real number, got %r" % (argname, value))
    value = float(value)
    if minimum is not None:
        if strict and not value > minimum:
            raise ValueError("%s: expected > %r, got %r" % (argname, minimum, value))
        if not strict and not value >= minimum:
            raise ValueError("%s: expected >= %r, got %r" % (argname, minimum, value))
    return value


def _step(step):
    """Steps may be ints, floats or 0-d arrays (e.g. an iterations counter)."""
    try:
        s = float(step)
    except (TypeError, ValueError):
        raise TypeError("step: expected a number, got %r" % (step,)) from None
    if not s >= 0:
        raise ValueError("step: expected >= 0, got %r" % (step,))
    return s


class LearningRateSchedule(_registry.Configurable):
    """Base class: subclasses implement ``__call__(step) -> float`` and ``get_config``."""

    def __call__(self, step):
        raise NotImplementedError("%s must implement __call__" % type(self).__name__)

    def get_config(self):
        raise NotImplementedError("%s must implement get_config" % type(self).__name__)


class _RateDecay(LearningRateSchedule):
    """The arguments of ExponentialDecay and InverseTimeDecay, and their
    progress ``step / decay_steps`` (floored when ``staircase``)."""

    _DEFAULT_NAME = None  # each subclass names itself

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate = _real(initial_learning_rate, "initial_learning_rate", 0.0)
        self.decay_steps = _real(decay_steps, "decay_steps", 0.0, strict=True)
        self.decay_rate = _real(decay_rate, "decay_rate", 0.0)
        self.staircase = bool(staircase)
        self.name = name or self._DEFAULT_NAME

    def _progress(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """``lr0 * decay_rate ** (step / decay_steps)``; the exponent is floored when ``staircase``."""

    _DEFAULT_NAME = "ExponentialDecay"

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class InverseTimeDecay(_RateDecay):
    """``lr0 / (1 + decay_rate * step / decay_steps)``; the ratio is floored when ``staircase``."""

    _DEFAULT_NAME = "InverseTimeDecay"

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while step <= boundaries[0], ``values[i]`` while
    boundaries[i-1] < step <= boundaries[i], ``values[-1]`` after the last one."""

    def __init__(self, boundaries, values, name=None):
        boundaries = [_real(b, "boundaries", 0.0) for b in boundaries]
        values = [_real(v, "values", 0.0) for v in values]
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "values: expected len(boundaries) + 1 = %d values, got %d"
                % (len(boundaries) + 1, len(values))
            )
        if any(b1 <= b0 for b0, b1 in zip(boundaries, boundaries[1:])):
            raise ValueError("boundaries: expected strictly increasing, got %r" % (boundaries,))
        self.boundaries = boundaries
        self.values = values
        self.name = name or "PiecewiseConstant"

    def __call__(self, step):
        s = _step(step)
        for boundary, value in zip(self.boundaries, self.values):
            if s <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values),
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warmup (Keras 3).

    Without warmup: ``lr0 * ((1 - alpha) * 0.5 (1 + cos(pi min(step, D) / D)) + alpha)``.
    With ``warmup_target`` and ``warmup_steps`` W: linear from lr0 to the
    target over W steps, then the cosine above starting from the target.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None,
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = _real(initial_learning_rate, "initial_learning_rate", 0.0)
        self.decay_steps = _real(decay_steps, "decay_steps", 0.0, strict=True)
        self.alpha = _real(alpha, "alpha", 0.0)
        if self.alpha > 1.0:
            raise ValueError("alpha: expected in [0, 1], got %r" % alpha)
        self.warmup_target = (None if warmup_target is None
                              else _real(warmup_target, "warmup_target", 0.0))
        self.warmup_steps = _real(warmup_steps, "warmup_steps", 0.0)
        self.name = name or "CosineDecay"

    def _decay(self, step, from_lr):
        fraction = step / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return from_lr * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        s = _step(step)
        if self.warmup_target is None:
            return self._decay(min(s, self.decay_steps), self.initial_learning_rate)
        s = min(s, self.decay_steps + self.warmup_steps)
        if s < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + delta * s / self.warmup_steps
        return self._decay(s - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class PolynomialDecay(LearningRateSchedule):
    """``(lr0 - end) * (1 - min(step, D) / D) ** power + end`` (no cycling)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name=None):
        self.initial_learning_rate = _real(initial_learning_rate, "initial_learning_rate", 0.0)
        self.decay_steps = _real(decay_steps, "decay_steps", 0.0, strict=True)
        self.end_learning_rate = _real(end_learning_rate, "end_learning_rate", 0.0)
        self.power = _real(power, "power", 0.0)
        self.cycle = bool(cycle)
        self.name = name or "PolynomialDecay"

    def __call__(self, step):
        s = _step(step)
        d = self.decay_steps
        if self.cycle:
            # Keras: the horizon grows to the next multiple of decay_steps.
            d = d * max(1.0, math.ceil(s / d))
        else:
            s = min(s, d)
        frac = 1.0 - s / d
        return (self.initial_learning_rate - self.end_learning_rate) * frac ** self.power \
            + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


_BY_CLASS_NAME = {cls.__name__: cls for cls in (
    ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay, CosineDecay, PolynomialDecay)}


def serialize(schedule):
    """``{"class_name": ..., "config": ...}`` of a schedule."""
    return _registry.serialize(schedule, LearningRateSchedule, "schedule",
                               "a LearningRateSchedule")


def deserialize(config):
    """Inverse of :func:`serialize`."""
    return _registry.deserialize(config, _BY_CLASS_NAME.get, "schedule",
                                 lambda: sorted(_BY_CLASS_NAME))
