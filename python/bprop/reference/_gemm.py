"""GEMM and bias twins."""
from __future__ import annotations

import numpy as np

from ._common import put as _put

def matmul(a, b, out=None):
    """``a @ b`` for 2-D ``a`` (m, k) and ``b`` (k, n) -> (m, n)."""
    a = np.asarray(a)
    b = np.asarray(b)
    return _put(a @ b, out)


def gemm(a, b, c=None, alpha=1.0, beta=0.0, trans_a=False, trans_b=False):
    """``c = alpha * op(a) @ op(b) + beta * c``, op = transpose when asked.

    When ``c`` is None a new array is returned and ``beta`` is ignored;
    otherwise ``c`` is updated in place and returned.  ``beta == 0`` never
    reads ``c`` (NaN in ``c`` does not propagate), as in BLAS.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    opa = a.T if trans_a else a
    opb = b.T if trans_b else b
    prod = opa @ opb
    if alpha != 1.0:
        prod = prod * prod.dtype.type(alpha)
    if c is None:
        return prod
    if beta == 0.0:
        c[...] = prod
    else:
        c[...] = prod + c.dtype.type(beta) * c
    return c


# --------------------------------------------------------------------------- bias
def add_bias(x, b, out=None):
    """``x + b`` with x (n, m) and b (m,)."""
    return _put(np.asarray(x) + np.asarray(b), out)


def bias_grad(dy, out=None):
    """Sum of ``dy`` (n, m) over the batch axis -> (m,)."""
    return _put(np.asarray(dy).sum(axis=0), out)


