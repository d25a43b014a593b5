"""Stochastic gradient descent with optional (Nesterov) momentum, Keras' formula.

velocity = momentum * velocity - lr * g
param   += velocity                               (classical momentum)
param   += momentum * velocity - lr * g           (nesterov=True)
param   -= lr * g                                 (momentum == 0: no slot)
"""
from __future__ import annotations

from .base import Optimizer, check_real


class SGD(Optimizer):
    """``SGD(learning_rate=0.01, momentum=0.0, nesterov=False)``; momentum in [0, 1]."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, backend=None):
        super().__init__(learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, backend=backend)
        self.momentum = check_real(momentum, "momentum", 0.0, 1.0)
        if not isinstance(nesterov, bool):
            raise TypeError("nesterov: expected a bool, got %r" % (nesterov,))
        self.nesterov = nesterov
        # Plain SGD keeps no state at all (as Keras).
        self._slot_names = ("velocity",) if self.momentum > 0.0 else ()

    def _update(self, backend, param, grad, slots, lr, step):
        velocity = slots[0] if slots else None
        backend.sgd_update(param, grad, lr, momentum=self.momentum, nesterov=self.nesterov,
                           velocity=velocity)

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config
