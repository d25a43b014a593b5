"""Shared fixtures of the test-suite.

* ``rng``: a fresh, fixed-seed ``numpy.random.Generator`` per test.
* ``dtype``: parametrises a test over float32 and float64.
* ``tol``: the value tolerance of ``dtype`` against ``bprop.reference``
  (see ``TOLERANCES`` for why these numbers).
* ``relayout``: ``relayout(x, layout)`` returns an array with ``x``'s
  values in another memory layout.  A test taking an argument named
  ``layout``, ``layout_a`` or ``layout_b`` is parametrised over ``LAYOUTS``.
* ``isa``: parametrises a test over the SIMD paths ("generic", "avx2",
  "avx512") selected with ``bprop.ops.set_isa``; skips a path the CPU lacks
  and restores the previous one.
* ``both_thread_counts``: ``run(fn, counts=(1, 2, 4))`` calls ``fn()`` once
  per thread count and returns the results; the previous count is restored.
* ``layer_gradcheck``: ``check(layer, x, weights=())`` is ``gradcheck`` of a
  layer's ``backward`` (the input gradient, and with ``weights`` the
  gradients of the weights it sets) against central differences of its
  ``forward``.
"""
from __future__ import annotations

import numpy as np
import pytest

try:  # hypothesis is in the ``test`` extra; only test_ops_properties needs it
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover
    settings = None
else:
    # Deadlines are meaningless on a shared 2-core machine; keep examples few
    # so the property tests stay a few seconds in total.
    settings.register_profile(
        "bprop", deadline=None, max_examples=40,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile("bprop")

# Tolerances of bprop.ops against bprop.reference on inputs of order one.
# float64: 1e-12 relative is ~4500 ulp: room for a different summation order
# (GEMM over k <= 300 terms errs by <= k * 1.1e-16) and for libm vs NumPy
# transcendentals (1-2 ulp); atol covers results that cancel to ~0.
# float32: 1e-5 relative is ~80 ulp at 1 (float32 eps 1.2e-7), for the same
# reasons; atol 1e-6 covers cancellation (gelu near -3, softmax_backward).
TOLERANCES = {
    np.dtype(np.float64): {"rtol": 1e-12, "atol": 1e-14},
    np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6},
}

LAYOUTS = ("C", "T", "rows2", "cols1", "rev")


def relayout(x, layout):
    """``x``'s values with a different memory layout.

    "C": C-contiguous; "T": Fortran-ordered (the ``.T`` of a C array);
    "rows2": every other row of a taller array (``big[::2]``);
    "cols1": columns 1: of a wider array (``big[:, 1:]``, 1-D: offset by one);
    "rev": negative strides (``big[::-1]``).  The elements skipped by a
    strided view are NaN, so a kernel reading them is caught.
    """
    x = np.ascontiguousarray(x)
    if layout == "C":
        return x
    if layout == "T":
        return np.ascontiguousarray(x.T).T
    if layout == "rows2":
        if x.ndim == 0:
            return x
        big = np.full((2 * x.shape[0],) + x.shape[1:], np.nan, dtype=x.dtype)
        big[::2] = x
        return big[::2]
    if layout == "cols1":
        if x.ndim == 0:
            return x
        big = np.full(x.shape[:-1] + (x.shape[-1] + 1,), np.nan, dtype=x.dtype)
        big[..., 1:] = x
        return big[..., 1:]
    if layout == "rev":
        if x.ndim == 0:
            return x
        return x[::-1].copy()[::-1]
    raise ValueError("layout: expected one of %s, got %r" % (LAYOUTS, layout))


def pytest_generate_tests(metafunc):
    # a test's own @pytest.mark.parametrize of these names takes precedence
    explicit = set()
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if isinstance(names, str):
            names = names.split(",")
        explicit.update(n.strip() for n in names)
    for name in ("layout", "layout_a", "layout_b"):
        if name in metafunc.fixturenames and name not in explicit:
            metafunc.parametrize(name, LAYOUTS)


@pytest.fixture
def rng():
    return np.random.default_rng(20251123)


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture
def tol(dtype):
    return dict(TOLERANCES[dtype])


@pytest.fixture(name="relayout")
def relayout_fixture():
    return relayout


@pytest.fixture
def both_thread_counts():
    import bprop

    previous = bprop.get_num_threads()

    def run(fn, counts=(1, 2, 4)):
        results = []
        try:
            for n in counts:
                bprop.set_num_threads(n)
                results.append(fn())
        finally:
            bprop.set_num_threads(previous)
        return results

    yield run
    bprop.set_num_threads(previous)


def check_layer_gradients(layer, x, weights=()):
    """True when ``layer.backward`` matches central differences of ``layer.forward``
    at ``x`` (and at ``weights``, installed with ``set_weights``, when given)."""
    from bprop.testing import gradcheck

    weights = list(weights)

    def f(x, *ws):
        if weights:
            layer.set_weights(list(ws))
        return layer.forward(x).copy()

    def analytic(dy, x, *ws):
        if weights:
            layer.set_weights(list(ws))
        layer.forward(x)
        dx = layer.backward(dy)
        return [dx] + [grad.copy() for grad in layer.grads] if weights else dx

    return gradcheck(f, [x] + weights, analytic, rtol=1e-6, atol=1e-9)


@pytest.fixture(name="layer_gradcheck")
def layer_gradcheck_fixture():
    return check_layer_gradients


@pytest.fixture(params=["generic", "avx2", "avx512"])
def isa(request):
    from bprop import ops

    previous = ops.get_isa()
    active = ops.set_isa(request.param)
    try:
        if active != request.param:
            pytest.skip("SIMD path %s is not supported by this CPU (using %s)"
                        % (request.param, active))
        yield active
    finally:
        ops.set_isa(previous)


# ---------------------------------------------------------------- the copy under test
def stale_installed_files(source, installed):
    """Python files of the package source ``source`` that the installed copy
    ``installed`` lacks or holds in another version."""
    import hashlib
    import os

    if not os.path.isdir(source) or os.path.samefile(source, installed):
        return []  # not a checkout, or an editable install of it

    def digest(path):
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    stale = []
    for folder, _, files in os.walk(source):
        for name in files:
            if not name.endswith((".py", ".pyi")):
                continue
            src = os.path.join(folder, name)
            rel = os.path.relpath(src, source)
            dst = os.path.join(installed, rel)
            if not os.path.isfile(dst) or digest(dst) != digest(src):
                stale.append(rel)
    return sorted(stale)


def pytest_sessionstart(session):
    # The suite tests the installed copy (site-packages): make sure it is
    # this checkout's, or every result would be about older code.
    import os

    import bprop

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    stale = stale_installed_files(os.path.join(root, "python", "bprop"),
                                  os.path.dirname(os.path.abspath(bprop.__file__)))
    if stale:
        pytest.exit("the installed bprop differs from python/bprop (%d files: %s): reinstall "
                    "it (pip install .) before running the tests"
                    % (len(stale), ", ".join(stale[:5]) + (" ..." if len(stale) > 5 else "")),
                    returncode=4)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a long test (the benchmark harness, long fuzzing); the README's test "
                   "command leaves them out (-m 'not slow'), .ci/run runs them")
