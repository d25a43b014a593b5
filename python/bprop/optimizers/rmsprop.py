"""RMSprop, Keras' formula (no momentum, not centered).

sq_avg = rho * sq_avg + (1 - rho) * g^2
param -= lr * g / sqrt(sq_avg + epsilon)
"""
from __future__ import annotations

from .base import Hyper, Optimizer, finite_nonneg, unit_open


class RMSprop(Optimizer):
    """``RMSprop(learning_rate=0.001, rho=0.9, epsilon=1e-7)``; rho in [0, 1), epsilon >= 0."""

    _slot_names = ("sq_avg",)
    rho = Hyper(unit_open)
    epsilon = Hyper(finite_nonneg)

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, backend=None):
        super().__init__(learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, backend=backend)
        self.rho = rho
        self.epsilon = epsilon

    def _update(self, backend, param, grad, slots, lr, step):
        backend.rmsprop_update(param, grad, slots[0], lr, rho=self.rho, eps=self.epsilon)

    def _core_spec(self):
        if type(self)._update is not RMSprop._update:
            return None
        return dict(kind="rmsprop", rho=self.rho, epsilon=self.epsilon, **self._clip_spec())

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, epsilon=self.epsilon)
        return config
