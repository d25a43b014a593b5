"""Stochastic gradient descent with optional (Nesterov) momentum, Keras' formula.

velocity = momentum * velocity - lr * g
param   += velocity                               (classical momentum)
param   += momentum * velocity - lr * g           (nesterov=True)
param   -= lr * g                                 (momentum == 0: no slot)
"""
from __future__ import annotations

from .base import Hyper, Optimizer, unit_closed


def _check_nesterov(value, argname):
    if not isinstance(value, bool):
        raise TypeError("%s: expected a bool, got %r" % (argname, value))
    return value


class SGD(Optimizer):
    """``SGD(learning_rate=0.01, momentum=0.0, nesterov=False)``; momentum in [0, 1]."""

    momentum = Hyper(unit_closed)
    nesterov = Hyper(_check_nesterov)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, backend=None):
        super().__init__(learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, backend=backend)
        self.momentum = momentum
        self.nesterov = nesterov

    @property
    def _slot_names(self):
        # Plain SGD keeps no state at all (as Keras).
        return ("velocity",) if self.momentum > 0.0 else ()

    def _update(self, backend, param, grad, slots, lr, step):
        velocity = slots[0] if slots else None
        backend.sgd_update(param, grad, lr, momentum=self.momentum, nesterov=self.nesterov,
                           velocity=velocity)

    def _core_spec(self):
        if type(self)._update is not SGD._update:
            return None
        return dict(kind="sgd", momentum=self.momentum, nesterov=self.nesterov,
                    **self._clip_spec())

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config
