"""Gradient checks by central differences, in float64.

Three public functions:

* :func:`numeric_gradient` -- the central-difference gradient of a scalar
  function of one array.
* :func:`variable_gradients` -- the same for a model's loss with respect to
  each of its Variables (what ``model.compute_gradients`` should return).
* :func:`gradcheck` -- compares an analytic backward against numeric
  derivatives.  A function with a vector (or matrix) output ``y = f(*inputs)``
  is reduced to the scalar ``L = sum(g * y)`` with a fixed random projection
  ``g`` (``grad_output``); the analytic backward receives ``g`` and must
  return ``dL/d input`` for each checked input, which is exactly what a
  layer's ``backward(dy)`` computes with ``dy = g``.

Example (the derivative of relu, checked away from its kink)::

    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 1e-3] = 0.5
    gradcheck(ops.relu, [x], lambda g, x: ops.relu_backward(g, x))

Everything runs in float64: float inputs are copied to float64 before the
check (central differences in float32 are too coarse to be an oracle).
"""
from __future__ import annotations

import numpy as np

__all__ = ["numeric_gradient", "variable_gradients", "gradcheck"]


def _scalar(value, where):
    """``value`` as a Python float; raise ValueError if it is not a scalar."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(
            "%s: expected a scalar, got an array of shape %s" % (where, arr.shape)
        )
    return float(arr.reshape(()))


def _check_step(eps):
    if not (isinstance(eps, (int, float, np.floating)) and np.isfinite(eps) and eps > 0):
        raise ValueError("eps: expected a finite number > 0, got %r" % (eps,))
    return float(eps)


def numeric_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``f(x) -> scalar`` for ``x`` a float64 array of ``np.shape(x)``; returns
    an array of that shape whose entry ``i`` is
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``.  ``x`` itself is never
    modified: ``f`` receives a perturbed float64 copy (the same array object
    on every call, so ``f`` must not keep a reference to it).
    Truncation error is O(eps^2 f'''), rounding error O(|f| 1e-16 / eps);
    eps = 1e-6 balances both for functions of order one.
    """
    eps = _check_step(eps)
    xw = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(xw)
    flat = xw.reshape(-1)  # a view: xw is a fresh C-contiguous copy
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        f_plus = _scalar(f(xw), "f(x + eps)")
        flat[i] = orig - eps
        f_minus = _scalar(f(xw), "f(x - eps)")
        flat[i] = orig
        gflat[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def variable_gradients(variables, loss, eps=1e-6):
    """Central-difference gradients of ``loss() -> scalar`` with respect to each
    of ``variables`` (``bprop.Variable``), in order.  Each variable is moved
    (``assign``) entry by entry and given its value back afterwards, even if
    ``loss`` raises; ``loss`` reads the variables through the model."""
    grads = []
    for var in variables:
        original = var.numpy()

        def f(v, var=var):
            var.assign(v)
            return loss()

        try:
            grads.append(numeric_gradient(f, original, eps))
        finally:
            var.assign(original)
    return grads


def _as_inputs(inputs):
    """Float inputs -> float64 copies; everything else (integer labels) as is."""
    if isinstance(inputs, np.ndarray) or np.isscalar(inputs):
        inputs = [inputs]
    out = []
    for value in inputs:
        arr = np.asarray(value)
        if arr.dtype.kind == "f":
            out.append(np.array(arr, dtype=np.float64, copy=True))
        else:
            out.append(value)
    return out


def _resolve_wrt(wrt, inputs):
    floats = [i for i, v in enumerate(inputs) if isinstance(v, np.ndarray) and v.dtype == np.float64]
    if wrt is None:
        if not floats:
            raise ValueError("inputs: expected at least one float array to differentiate, got none")
        return floats
    wrt = [wrt] if isinstance(wrt, (int, np.integer)) else list(wrt)
    for i in wrt:
        if not isinstance(i, (int, np.integer)) or not -len(inputs) <= i < len(inputs):
            raise ValueError("wrt: expected input indices in [0, %d), got %r" % (len(inputs), i))
        if i % len(inputs) not in floats:
            raise ValueError("wrt: input %d is not a float array (dtype %s)"
                             % (i, np.asarray(inputs[i]).dtype))
    return [int(i) % len(inputs) for i in wrt]


def _compare(analytic, numeric, rtol, atol, label):
    """Raise AssertionError naming the worst element when |a - n| > atol + rtol |n|."""
    with np.errstate(all="ignore"):  # inf - inf or x / 0 are reported, not warned
        err = np.abs(analytic - numeric)
        bound = atol + rtol * np.abs(numeric)
        bad = ~(err <= bound)  # NaN in either side counts as a failure
        if not bad.any():
            return
        # worst = the largest violation relative to its own tolerance (NaN worst of all)
        ratio = np.where(np.isnan(err), np.inf, np.where(bad, err / bound, -1.0))
    worst = np.unravel_index(int(np.argmax(ratio)), analytic.shape) if analytic.ndim else ()
    finite_err = err[~np.isnan(err)]
    max_err = float(finite_err.max()) if finite_err.size == err.size else float("nan")
    raise AssertionError(
        "gradcheck failed for %s: %d of %d elements differ; max abs error %.3e, "
        "worst index %s: analytic %r vs numeric %r (rtol=%g, atol=%g)"
        % (label, int(bad.sum()), bad.size, max_err, tuple(int(i) for i in worst),
           float(analytic[worst]), float(numeric[worst]), rtol, atol)
    )


def gradcheck(f, inputs, analytic, grad_output=None, wrt=None, eps=1e-6,
              rtol=1e-5, atol=1e-8, seed=0):
    """Check ``analytic`` derivatives of ``f`` against central differences.

    Parameters
    ----------
    f : callable
        ``f(*inputs) -> y``: an array of any shape or a scalar (a loss).
    inputs : sequence of array-likes (or one array)
        Float arrays are copied to float64; other values (integer labels,
        strings, None) are passed through unchanged and are never
        differentiated.
    analytic : callable
        ``analytic(g, *inputs) -> grads``: the gradient of ``sum(g * y)``
        with respect to each checked input, one array (when one input is
        checked) or a sequence of arrays parallel to ``wrt``, each of its
        input's shape.
    grad_output : array-like, optional
        The projection ``g``, of ``y``'s shape.  By default a standard normal
        draw from ``numpy.random.default_rng(seed)`` for an array output and
        1.0 for a scalar output.
    wrt : int or sequence of int, optional
        Indices of the inputs to check; default all float inputs.
    eps, rtol, atol : float
        Central-difference step and the tolerance
        ``|analytic - numeric| <= atol + rtol * |numeric|``, elementwise.

    Returns True when every checked gradient agrees; otherwise raises
    AssertionError naming the input, the number of bad elements, the
    max absolute error and the worst index with both values.  Shape
    mismatches of the analytic gradients raise ValueError.
    """
    eps = _check_step(eps)
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(tol, (int, float, np.floating)) and tol >= 0):
            raise ValueError("%s: expected a number >= 0, got %r" % (name, tol))
    if not callable(f):
        raise TypeError("f: expected a callable, got %s" % type(f).__name__)
    if not callable(analytic):
        raise TypeError("analytic: expected a callable, got %s" % type(analytic).__name__)
    xs = _as_inputs(inputs)
    idx = _resolve_wrt(wrt, xs)

    y = np.asarray(f(*[x.copy() if isinstance(x, np.ndarray) else x for x in xs]),
                   dtype=np.float64)
    if grad_output is None:
        g = np.ones(()) if y.ndim == 0 else np.random.default_rng(seed).standard_normal(y.shape)
    else:
        g = np.array(grad_output, dtype=np.float64, copy=True)
        if g.shape != y.shape:
            raise ValueError("grad_output: expected shape %s (the output's), got %s"
                             % (y.shape, g.shape))
    g_arg = g if g.ndim else float(g)

    grads = analytic(g_arg, *[x.copy() if isinstance(x, np.ndarray) else x for x in xs])
    if len(idx) == 1 and not isinstance(grads, (tuple, list)):
        grads = [grads]
    grads = list(grads)
    if len(grads) != len(idx):
        raise ValueError("analytic: expected %d gradients (one per checked input %s), got %d"
                         % (len(idx), idx, len(grads)))

    for i, ga in zip(idx, grads):
        ga = np.asarray(ga, dtype=np.float64)
        if ga.shape != xs[i].shape:
            raise ValueError("analytic: gradient of input %d has shape %s, expected %s"
                             % (i, ga.shape, xs[i].shape))

        def projected(xi, i=i):
            args = list(xs)
            args[i] = xi
            return float(np.sum(g * np.asarray(f(*args), dtype=np.float64)))

        num = numeric_gradient(projected, xs[i], eps)
        _compare(ga, num, rtol, atol, "input %d" % i)
    return True
