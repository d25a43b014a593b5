"""RMSprop, Keras 3's formula.

sq_avg = rho * sq_avg + (1 - rho) * g^2
centered:  average_grad = rho * average_grad + (1 - rho) * g
           denominator = sq_avg - average_grad^2 + epsilon
otherwise: denominator = sq_avg + epsilon
increment = lr * g / sqrt(denominator)
momentum > 0: velocity = momentum * velocity + increment; param -= velocity
otherwise:    param -= increment

Every form runs the backend's fused ``rmsprop_update`` (the core's, or its
NumPy twin in ``bprop.reference``) and trains in the core plan.
"""
from __future__ import annotations

import numpy as np

from .base import Hyper, Optimizer, finite_nonneg, unit_open


class RMSprop(Optimizer):
    """``RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)``;
    rho and momentum in [0, 1), epsilon >= 0."""

    rho = Hyper(unit_open)
    momentum = Hyper(unit_open)
    epsilon = Hyper(finite_nonneg)

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 backend=None):
        super().__init__(learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, backend=backend)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        if not isinstance(centered, (bool, np.bool_)):
            raise ValueError("centered: expected True or False, got %r" % (centered,))
        self.centered = bool(centered)

    @property
    def _slot_names(self):
        return (("sq_avg",) + (("velocity",) if self.momentum > 0 else ())
                + (("average_grad",) if self.centered else ()))

    def _update(self, backend, param, grad, slots, lr, step):
        velocity = slots[1] if self.momentum > 0 else None
        average = slots[-1] if self.centered else None
        backend.rmsprop_update(param, grad, slots[0], lr, rho=self.rho, eps=self.epsilon,
                               momentum=self.momentum, centered=self.centered,
                               velocity=velocity, average_grad=average)

    def _core_spec(self):
        if type(self)._update is not RMSprop._update:
            return None
        return dict(kind="rmsprop", rho=self.rho, epsilon=self.epsilon, momentum=self.momentum,
                    centered=self.centered, **self._clip_spec())

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                      centered=self.centered)
        return config
