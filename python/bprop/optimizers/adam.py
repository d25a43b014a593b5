"""Adam and AdamW, Keras' formulas (``step`` counts from 1).

param -= lr * weight_decay * param                       (AdamW only, decoupled)
m += (g - m) * (1 - beta_1);   v += (g^2 - v) * (1 - beta_2)
param -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)
"""
from __future__ import annotations

from .base import Hyper, Optimizer, finite_nonneg, unit_open


class Adam(Optimizer):
    """``Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)``; betas in [0, 1)."""

    _slot_names = ("m", "v")
    beta_1 = Hyper(unit_open)
    beta_2 = Hyper(unit_open)
    epsilon = Hyper(finite_nonneg)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, backend=None):
        super().__init__(learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, backend=backend)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _weight_decay(self):
        return 0.0

    def _update(self, backend, param, grad, slots, lr, step):
        backend.adam_update(param, grad, slots[0], slots[1], lr, step, beta1=self.beta_1,
                            beta2=self.beta_2, eps=self.epsilon,
                            weight_decay=self._weight_decay())

    def _core_spec(self):
        if type(self)._update is not Adam._update:
            return None
        return dict(kind="adam", beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                    weight_decay=self._weight_decay(), **self._clip_spec())

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config


class AdamW(Adam):
    """``AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7)``.

    Adam with decoupled weight decay: each step first shrinks the parameter
    by ``lr * weight_decay`` (Keras 3 and Loshchilov & Hutter).
    """

    weight_decay = Hyper(finite_nonneg)

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 backend=None):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, backend=backend)
        self.weight_decay = weight_decay

    def _weight_decay(self):
        return self.weight_decay

    def get_config(self):
        config = super().get_config()
        config.update(weight_decay=self.weight_decay)
        return config
