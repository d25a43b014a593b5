"""Row-wise softmax / log_softmax and their backward over the last axis of (n, c).

Values against bprop.reference (conftest.TOLERANCES); for logits of
magnitude 1e4 the float64 tolerance is 1e-9 relative: x - max(x) is exact in
both, but exp of it amplifies the 1e4 * 1.1e-16 rounding of the sum.
"""
from __future__ import annotations

import numpy as np
import pytest

from bprop import ops
from bprop import reference as ref
from bprop.testing import gradcheck

NAMES = ["softmax", "log_softmax"]
SHAPES = [(1, 1), (3, 1), (1, 5), (4, 7), (64, 10), (2000, 30)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_reference(rng, dtype, tol, name, shape):
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    got = getattr(ops, name)(x)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, getattr(ref, name)(x), **tol)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_reference(rng, dtype, tol, name, shape):
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    y = getattr(ref, name)(x)
    got = getattr(ops, name + "_backward")(dy, y)
    assert got.dtype == dtype and got.shape == shape
    # y * (dy - sum(dy * y)) cancels: compare on the scale of |y| * (|dy| + sum|dy y|)
    want = getattr(ref, name + "_backward")(dy, y)
    p = np.exp(y) if name == "log_softmax" else y
    scale = np.abs(p) * (np.abs(dy) + (np.abs(dy) * np.abs(y)).sum(-1, keepdims=True)) + np.abs(dy)
    err = np.abs(got.astype(np.float64) - want)
    assert np.all(err <= tol["rtol"] * scale + tol["atol"]), float((err / (scale + 1e-300)).max())


def test_softmax_rows_sum_to_one(rng, dtype):
    y = ops.softmax((5 * rng.standard_normal((50, 13))).astype(dtype))
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=20 * eps, rtol=0)
    assert np.all(y >= 0)


def test_log_softmax_is_log_of_softmax(rng):
    x = 4 * rng.standard_normal((20, 9))
    np.testing.assert_allclose(ops.log_softmax(x), np.log(ops.softmax(x)), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_layouts(rng, dtype, tol, relayout, name, layout_a, layout_b):
    x = (3 * rng.standard_normal((17, 6))).astype(dtype)
    dy = rng.standard_normal((17, 6)).astype(dtype)
    y = getattr(ref, name)(x)
    np.testing.assert_allclose(getattr(ops, name)(relayout(x, layout_a)), y, **tol)
    got = getattr(ops, name + "_backward")(relayout(dy, layout_a), relayout(y, layout_b))
    np.testing.assert_allclose(got, getattr(ref, name + "_backward")(dy, y),
                               rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)], ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_zero_size(dtype, name, shape):
    x = np.zeros(shape, dtype)
    assert getattr(ops, name)(x).shape == shape
    assert getattr(ops, name + "_backward")(x, x).shape == shape
    out = np.zeros(shape, dtype)
    assert getattr(ops, name)(x, out=out) is out


@pytest.mark.parametrize("name", NAMES)
def test_out_is_filled_and_returned_and_may_be_the_input(rng, dtype, tol, name):
    x = rng.standard_normal((5, 8)).astype(dtype)
    want = getattr(ref, name)(x)
    out = np.full_like(x, np.nan)
    assert getattr(ops, name)(x, out=out) is out
    np.testing.assert_allclose(out, want, **tol)
    x2 = x.copy()
    assert getattr(ops, name)(x2, out=x2) is x2
    np.testing.assert_allclose(x2, want, **tol)
    dy = rng.standard_normal((5, 8)).astype(dtype)
    want_b = getattr(ref, name + "_backward")(dy, want)
    out = np.full_like(x, np.nan)
    assert getattr(ops, name + "_backward")(dy, want, out=out) is out
    np.testing.assert_allclose(out, want_b, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)
    for alias in ("dy", "y"):  # in place over either input
        d, y = dy.copy(), want.copy()
        target = d if alias == "dy" else y
        assert getattr(ops, name + "_backward")(d, y, out=target) is target
        np.testing.assert_allclose(target, want_b, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


@pytest.mark.parametrize("name", NAMES)
def test_backward_gradcheck(rng, name):
    x = 2 * rng.standard_normal((4, 5))
    op = getattr(ops, name)
    back = getattr(ops, name + "_backward")
    assert gradcheck(op, [x], lambda g, x: back(g, op(x)))


def test_softmax_is_shift_invariant(rng):
    x = rng.standard_normal((6, 4))
    np.testing.assert_allclose(ops.softmax(x + 1000.0), ops.softmax(x), rtol=1e-11, atol=1e-15)


# ----------------------------------------------------------------- extremes
def test_huge_logits_hand_computed(dtype):
    x = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]], dtype)
    y = ops.softmax(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]],
                               rtol=1e-6, atol=0)
    ly = ops.log_softmax(x)
    assert np.all(np.isfinite(ly))
    ln2, ln3 = np.log(2.0), np.log(3.0)
    np.testing.assert_allclose(ly, [[0, -1e4, -2e4], [-ln2, -ln2, -2e4 - ln2], [-ln3] * 3],
                               rtol=1e-6, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_huge_random_logits_match_reference(rng, name):
    x = 1e4 * rng.standard_normal((40, 12))
    got = getattr(ops, name)(x)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, getattr(ref, name)(x), rtol=1e-9, atol=1e-300)
