"""Property tests (hypothesis): random shapes (0 and 1 included) and strides.

matmul/gemm and the elementwise and row-wise ops are compared with
bprop.reference on arrays drawn with random memory layouts: C order,
transposed, row and column steps, offsets and negative strides.  Examples
are few (conftest's "bprop" profile: 40, no deadline) so this file runs in
seconds.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bprop import ops
from bprop import reference as ref

TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=1e-5, atol=1e-6)}
dtypes = st.sampled_from([np.float32, np.float64])
dims = st.integers(0, 24)


@st.composite
def strided(draw, shape, dtype, scale=3.0):
    """An array of ``shape`` with a random layout; the values come from a seed."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = (scale * rng.standard_normal(shape)).astype(dtype)
    if x.ndim == 0:
        return x
    steps = [draw(st.sampled_from([1, 1, 2, 3, -1, -2])) for _ in shape]
    offsets = [draw(st.integers(0, 2)) for _ in shape]
    big_shape = tuple(abs(s) * n + o for s, n, o in zip(steps, shape, offsets))
    big = np.full(big_shape, np.nan, dtype=dtype)
    index = []
    for s, n, o in zip(steps, shape, offsets):
        if s > 0:
            index.append(slice(o, o + s * n, s))
        else:  # start at the far end and walk backwards
            start = o + abs(s) * n - 1
            index.append(slice(start, None if start - abs(s) * n < 0 else start - abs(s) * n, s))
    view = big[tuple(index)]
    if draw(st.booleans()) and x.ndim == 2:
        # a transposed view: fill a (n, m) buffer and look at it through .T
        view = np.full(shape[::-1], np.nan, dtype=dtype).T
    view[...] = x
    assert view.shape == x.shape
    return view


def assert_matmul_close(got, a, b, dtype):
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    want = ref.matmul(a, b).astype(np.float64)
    scale = np.abs(a64) @ np.abs(b64)
    tol = TOL[dtype]
    assert got.shape == want.shape and got.dtype == dtype
    assert np.all(np.abs(got - want) <= tol["rtol"] * scale + tol["atol"])


@given(data=st.data(), dtype=dtypes, m=dims, k=dims, n=dims)
def test_matmul_any_shape_and_layout(data, dtype, m, k, n):
    a = data.draw(strided((m, k), dtype))
    b = data.draw(strided((k, n), dtype))
    assert_matmul_close(ops.matmul(a, b), a, b, dtype)


@given(data=st.data(), dtype=dtypes, m=dims, k=dims, n=dims, trans_a=st.booleans(),
       trans_b=st.booleans(), alpha=st.sampled_from([1.0, -2.0, 0.5, 0.0]),
       beta=st.sampled_from([0.0, 1.0, -0.5]))
def test_gemm_any_shape_flags_and_layout(data, dtype, m, k, n, trans_a, trans_b, alpha, beta):
    a = data.draw(strided((k, m) if trans_a else (m, k), dtype))
    b = data.draw(strided((n, k) if trans_b else (k, n), dtype))
    c0 = data.draw(strided((m, n), dtype))
    c = c0.copy()
    if beta == 0.0:
        c[...] = np.nan  # beta == 0 must not read c
    got = ops.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    assert got is c
    opa = np.asarray(a.T if trans_a else a, np.float64)
    opb = np.asarray(b.T if trans_b else b, np.float64)
    want = alpha * (opa @ opb) + (beta * c0.astype(np.float64) if beta else 0.0)
    scale = abs(alpha) * (np.abs(opa) @ np.abs(opb)) + abs(beta) * np.abs(c0)
    tol = TOL[dtype]
    assert np.all(np.abs(c - want) <= 2 * tol["rtol"] * scale + tol["atol"])


ELEMENTWISE = {
    "relu": ({}, "x"),
    "leaky_relu": ({"alpha": 0.3}, "x"),
    "sigmoid": ({}, "y"),
    "tanh": ({}, "y"),
    "gelu": ({}, "x"),
    "elu": ({"alpha": 0.6}, "x"),
    "selu": ({}, "x"),
    "softplus": ({}, "x"),
    "softsign": ({}, "x"),
    "silu": ({}, "x"),
    "exponential": ({}, "y"),
    "hard_sigmoid": ({}, "y"),
}
shapes = st.lists(st.integers(0, 9), min_size=1, max_size=3).map(tuple)


@given(data=st.data(), dtype=dtypes, name=st.sampled_from(sorted(ELEMENTWISE)), shape=shapes)
def test_elementwise_any_shape_and_layout(data, dtype, name, shape):
    kw, takes = ELEMENTWISE[name]
    x = data.draw(strided(shape, dtype))
    dy = data.draw(strided(shape, dtype, scale=1.0))
    y = getattr(ops, name)(x, **kw)
    assert y.shape == shape and y.dtype == dtype
    np.testing.assert_allclose(y, getattr(ref, name)(x, **kw), **TOL[dtype])
    arg = x if takes == "x" else getattr(ref, name)(x, **kw)
    got = getattr(ops, name + "_backward")(dy, arg, **kw)
    np.testing.assert_allclose(got, getattr(ref, name + "_backward")(dy, arg, **kw), **TOL[dtype])


@given(data=st.data(), dtype=dtypes, name=st.sampled_from(["softmax", "log_softmax"]),
       n=st.integers(0, 12), c=st.integers(1, 12),
       scale=st.sampled_from([1.0, 30.0, 1e3]))
def test_rowwise_any_shape_and_layout(data, dtype, name, n, c, scale):
    x = data.draw(strided((n, c), dtype, scale=scale))
    y = getattr(ops, name)(x)
    assert y.shape == (n, c) and np.all(np.isfinite(y))
    tol = dict(TOL[dtype])
    tol["atol"] = tol["atol"] * scale  # log_softmax values are of the logits' size
    np.testing.assert_allclose(y, getattr(ref, name)(x), **tol)
    if name == "softmax" and n:
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=0, atol=c * 4 * np.finfo(dtype).eps)


@given(data=st.data(), dtype=dtypes, n=st.integers(0, 30), m=st.integers(0, 12))
def test_bias_any_shape_and_layout(data, dtype, n, m):
    x = data.draw(strided((n, m), dtype))
    b = data.draw(strided((m,), dtype))
    np.testing.assert_array_equal(ops.add_bias(x, b), ref.add_bias(x, b))
    g = ops.bias_grad(x)
    scale = np.abs(np.asarray(x, np.float64)).sum(axis=0)
    assert g.shape == (m,)
    assert np.all(np.abs(g - ref.bias_grad(x)) <= TOL[dtype]["rtol"] * 4 * scale + TOL[dtype]["atol"])


@given(data=st.data(), dtype=dtypes, n=st.integers(0, 10), c=st.integers(1, 8))
def test_sparse_cross_entropy_any_shape(data, dtype, n, c):
    z = data.draw(strided((n, c), dtype))
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)),
                      dtype=np.int64)
    loss = ops.softmax_cross_entropy(z, labels)
    assert loss == pytest.approx(ref.softmax_cross_entropy(z, labels), rel=1e-4 if dtype ==
                                 np.float32 else 1e-11, abs=1e-6)
    g = ops.softmax_cross_entropy_backward(z, labels)
    np.testing.assert_allclose(g, ref.softmax_cross_entropy_backward(z, labels), **TOL[dtype])
    if n:  # each row of the gradient sums to zero
        np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=c * 4 * np.finfo(dtype).eps)
