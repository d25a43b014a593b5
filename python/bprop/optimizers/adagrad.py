"""Adagrad, Keras' formula.

accum += g^2        (accum starts at initial_accumulator_value)
param -= lr * g / sqrt(accum + epsilon)
"""
from __future__ import annotations

import numpy as np

from .base import Optimizer, check_real


class Adagrad(Optimizer):
    """``Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7)``."""

    _slot_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, backend=None):
        super().__init__(learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, backend=backend)
        self.initial_accumulator_value = check_real(
            initial_accumulator_value, "initial_accumulator_value", 0.0)
        self.epsilon = check_real(epsilon, "epsilon", 0.0)

    def _slot_initial_value(self, slot_name, variable):
        return np.full(variable.shape, self.initial_accumulator_value, dtype=variable.dtype)

    def _update(self, backend, param, grad, slots, lr, step):
        backend.adagrad_update(param, grad, slots[0], lr, eps=self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update(initial_accumulator_value=self.initial_accumulator_value,
                      epsilon=self.epsilon)
        return config
