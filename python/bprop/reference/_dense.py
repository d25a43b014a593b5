"""The fused dense layer's twins."""
from __future__ import annotations

import numpy as np

from ._activations import ACT_BACKWARD, ACT_FORWARD, activation_name
from ._common import put as _put


def dense_forward(x, w, b=None, activation=None, out=None):
    """``act(x @ w + b)`` for x (n, k), w (k, m), b (m,) or None.

    activation: None/"linear", "relu", "leaky_relu" (alpha 0.2), "sigmoid",
    "tanh", "gelu", "softmax", "elu" (alpha 1), "selu", "softplus", "softsign",
    "silu", "exponential" or "hard_sigmoid".
    """
    name = activation_name(activation)
    z = np.asarray(x) @ np.asarray(w)
    if b is not None:
        z = z + np.asarray(b)
    if name != "linear":
        z = ACT_FORWARD[name](z)
    return _put(z, out)


def dense_backward(dy, x, w, z_or_y=None, activation=None, dx=None, dw=None, db=None,
                   need_dx=True, need_dw=True, need_db=True):
    """Backward of :func:`dense_forward`; returns ``(dx, dw, db)``.

    ``z_or_y`` is the activation's *output* for relu, leaky_relu, sigmoid,
    tanh, exponential, hard_sigmoid and softmax, its *input* (pre-activation)
    for gelu, elu, selu, softplus, softsign and silu, and is ignored for linear.  ``dx``, ``dw``, ``db`` are None when ``need_dx``,
    ``need_dw``, ``need_db`` are False (a first layer, a frozen kernel or bias).
    """
    name = activation_name(activation)
    dy = np.asarray(dy)
    if name == "linear":
        dz = dy
    else:
        if z_or_y is None:
            raise ValueError("z_or_y: required for activation %r, got None" % name)
        dz = ACT_BACKWARD[name](dy, np.asarray(z_or_y))
    x = np.asarray(x)
    w = np.asarray(w)
    dw_v = _put(x.T @ dz, dw) if need_dw else None
    db_v = _put(dz.sum(axis=0), db) if need_db else None
    dx_v = _put(dz @ w.T, dx) if need_dx else None
    return dx_v, dw_v, db_v


