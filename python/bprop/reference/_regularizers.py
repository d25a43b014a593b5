"""Weight/activity penalty twins (Keras' L1L2) and the squared norm of clipnorm."""
from __future__ import annotations

import numpy as np


def l1_l2_penalty(x, l1=0.0, l2=0.0):
    """l1 sum|x| + l2 sum x^2, in float64."""
    x = np.asarray(x, dtype=np.float64)
    return float(l1 * np.abs(x).sum() + l2 * (x * x).sum())


def l1_l2_grad(x, grad, l1=0.0, l2=0.0):
    """grad += l1 sign(x) + 2 l2 x (in place); returns grad."""
    t = grad.dtype.type
    grad += t(l1) * np.sign(x) + t(2.0 * l2) * x
    return grad


def sum_squares(x):
    """sum of x^2 in float64."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.dot(x.reshape(-1), x.reshape(-1)))
