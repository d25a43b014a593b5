"""Optimizer update twins (in place), Keras' formulas."""
from __future__ import annotations

import math

import numpy as np


def sgd_update(param, grad, lr, momentum=0.0, nesterov=False, velocity=None):
    """Keras SGD: v = m v - lr g; p += v (nesterov: p += m v - lr g).

    With momentum 0, ``p -= lr g`` and ``velocity`` may be None.
    """
    t = param.dtype.type
    if momentum == 0.0:
        param -= t(lr) * grad
        return param
    velocity *= t(momentum)
    velocity -= t(lr) * grad
    if nesterov:
        param += t(momentum) * velocity - t(lr) * grad
    else:
        param += velocity
    return param


def rmsprop_update(param, grad, sq_avg, lr, rho=0.9, eps=1e-7, momentum=0.0, centered=False,
                   velocity=None, average_grad=None):
    """Keras RMSprop: s = rho s + (1 - rho) g^2; centered: a = rho a + (1 - rho) g and
    d = s - a^2 + eps, else d = s + eps; inc = lr g / sqrt(d); with momentum
    v = momentum v + inc and p -= v, else p -= inc."""
    t = param.dtype.type
    sq_avg *= t(rho)
    sq_avg += t(1 - rho) * grad * grad
    if centered:
        average_grad *= t(rho)
        average_grad += t(1 - rho) * grad
        denominator = sq_avg - average_grad * average_grad + t(eps)
    else:
        denominator = sq_avg + t(eps)
    increment = t(lr) * grad / np.sqrt(denominator)
    if momentum > 0:
        velocity *= t(momentum)
        velocity += increment
        param -= velocity
    else:
        param -= increment
    return param


def adam_update(param, grad, m, v, lr, step, beta1=0.9, beta2=0.999, eps=1e-7,
                weight_decay=0.0):
    """Keras Adam (``step`` counts from 1), with decoupled weight decay (AdamW).

    p -= lr * wd * p (when wd > 0); m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
    p -= lr_t * m / (sqrt(v) + eps) with lr_t = lr sqrt(1 - b2^t) / (1 - b1^t).
    """
    t = param.dtype.type
    if weight_decay:
        param -= t(lr * weight_decay) * param
    m += (grad - m) * t(1 - beta1)
    v += (grad * grad - v) * t(1 - beta2)
    lr_t = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    param -= t(lr_t) * m / (np.sqrt(v) + t(eps))
    return param


def adagrad_update(param, grad, accum, lr, eps=1e-7):
    """Keras Adagrad: a += g^2; p -= lr g / sqrt(a + eps)."""
    t = param.dtype.type
    accum += grad * grad
    param -= t(lr) * grad / np.sqrt(accum + t(eps))
    return param


