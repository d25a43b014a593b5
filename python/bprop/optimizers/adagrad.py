"""Adagrad, Keras' formula.

accum += g^2        (accum starts at initial_accumulator_value)
param -= lr * g / sqrt(accum + epsilon)
"""
from __future__ import annotations

import numpy as np

from .base import Hyper, Optimizer, finite_nonneg


class Adagrad(Optimizer):
    """``Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7)``."""

    _slot_names = ("accumulator",)
    initial_accumulator_value = Hyper(finite_nonneg)
    epsilon = Hyper(finite_nonneg)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, backend=None):
        super().__init__(learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, backend=backend)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _slot_initial_value(self, slot_name, variable):
        return np.full(variable.shape, self.initial_accumulator_value, dtype=variable.dtype)

    def _update(self, backend, param, grad, slots, lr, step):
        backend.adagrad_update(param, grad, slots[0], lr, eps=self.epsilon)

    def _core_spec(self):
        if type(self)._update is not Adagrad._update:
            return None
        return dict(kind="adagrad", epsilon=self.epsilon, **self._clip_spec())

    def get_config(self):
        config = super().get_config()
        config.update(initial_accumulator_value=self.initial_accumulator_value,
                      epsilon=self.epsilon)
        return config
