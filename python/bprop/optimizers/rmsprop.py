"""RMSprop, Keras' formula (no momentum, not centered).

sq_avg = rho * sq_avg + (1 - rho) * g^2
param -= lr * g / sqrt(sq_avg + epsilon)
"""
from __future__ import annotations

from .base import Optimizer, check_real


class RMSprop(Optimizer):
    """``RMSprop(learning_rate=0.001, rho=0.9, epsilon=1e-7)``; rho in [0, 1), epsilon >= 0."""

    _slot_names = ("sq_avg",)

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, backend=None):
        super().__init__(learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, backend=backend)
        self.rho = check_real(rho, "rho", 0.0, 1.0, high_open=True)
        self.epsilon = check_real(epsilon, "epsilon", 0.0)

    def _update(self, backend, param, grad, slots, lr, step):
        backend.rmsprop_update(param, grad, slots[0], lr, rho=self.rho, eps=self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, epsilon=self.epsilon)
        return config
