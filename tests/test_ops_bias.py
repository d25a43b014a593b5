"""ops.add_bias / ops.bias_grad against bprop.reference; gradient of add_bias."""
from __future__ import annotations

import numpy as np
import pytest

from bprop import ops
from bprop import reference as ref
from bprop.testing import gradcheck

SHAPES = [(1, 1), (3, 4), (17, 33), (300, 70), (1000, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_add_bias_matches_reference(rng, dtype, tol, shape):
    x = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    got = ops.add_bias(x, b)
    assert got.dtype == dtype and got.shape == shape
    # one rounded addition per element: bit-exact
    np.testing.assert_array_equal(got, ref.add_bias(x, b))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_bias_grad_matches_reference(rng, dtype, tol, shape):
    dy = rng.standard_normal(shape).astype(dtype)
    got = ops.bias_grad(dy)
    assert got.dtype == dtype and got.shape == (shape[1],)
    # a sum over the batch: compare on the scale of sum(|dy|) (order of summation differs)
    scale = np.abs(dy).astype(np.float64).sum(axis=0)
    err = np.abs(got.astype(np.float64) - ref.bias_grad(dy).astype(np.float64))
    assert np.all(err <= tol["rtol"] * scale + tol["atol"])


def test_add_bias_layouts(rng, dtype, relayout, layout_a, layout_b):
    x = rng.standard_normal((21, 13)).astype(dtype)
    b = rng.standard_normal(13).astype(dtype)
    got = ops.add_bias(relayout(x, layout_a), relayout(b, layout_b))
    np.testing.assert_array_equal(got, ref.add_bias(x, b))


def test_bias_grad_layouts(rng, dtype, tol, relayout, layout):
    dy = rng.standard_normal((40, 9)).astype(dtype)
    got = ops.bias_grad(relayout(dy, layout))
    np.testing.assert_allclose(got, ref.bias_grad(dy), rtol=tol["rtol"] * 10, atol=tol["atol"] * 40)


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)], ids=str)
def test_zero_size(dtype, shape):
    x = np.ones(shape, dtype)
    b = np.ones(shape[1], dtype)
    got = ops.add_bias(x, b)
    assert got.shape == shape and got.dtype == dtype
    g = ops.bias_grad(x)
    assert g.shape == (shape[1],) and g.dtype == dtype
    # the sum over an empty batch is zero, also into a NaN-filled out= buffer
    out = np.full(shape[1], np.nan, dtype)
    assert ops.bias_grad(x, out=out) is out
    np.testing.assert_array_equal(out, np.zeros(shape[1], dtype))


def test_bias_grad_hand_computed():
    dy = np.array([[1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
    np.testing.assert_array_equal(ops.bias_grad(dy), [5.0, -3.0, 3.0])
    np.testing.assert_array_equal(ops.add_bias(dy, [1.0, 0.0, -1.0]),
                                  [[2.0, 2.0, -4.0], [5.0, -5.0, 5.0]])


def test_out_is_filled_and_returned(rng, dtype):
    x = rng.standard_normal((6, 4)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    out = np.full((6, 4), np.nan, dtype)
    assert ops.add_bias(x, b, out=out) is out
    np.testing.assert_array_equal(out, ref.add_bias(x, b))
    # in place: out is x
    x2 = x.copy()
    assert ops.add_bias(x2, b, out=x2) is x2
    np.testing.assert_array_equal(x2, ref.add_bias(x, b))


def test_gradient_of_add_bias(rng):
    x = rng.standard_normal((5, 4))
    b = rng.standard_normal(4)
    # d/dx (x + b) . g = g ; d/db = sum over the batch of g = bias_grad(g)
    assert gradcheck(ops.add_bias, [x, b], lambda g, x, b: (g, ops.bias_grad(g)))
