"""Fused dense layer: dense_forward = act(x @ w + b), dense_backward -> (dx, dw, db).

Values against bprop.reference for every activation (GEMM-like sums are
compared on the scale |x| @ |w|, see test_ops_gemm), float64 gradient checks
of dense_backward for every activation, out buffers, zero sizes, layouts.
"""
from __future__ import annotations

import numpy as np
import pytest

from bprop import ops
from bprop import reference as ref
from bprop.testing import gradcheck

ACTS = [None, "linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax"]
# what dense_backward takes as z_or_y: the pre-activation z for gelu, else the output
TAKES_Z = {"gelu"}


def make(rng, n, k, m, dtype):
    x = rng.standard_normal((n, k)).astype(dtype)
    w = (rng.standard_normal((k, m)) / np.sqrt(max(k, 1))).astype(dtype)
    b = rng.standard_normal(m).astype(dtype)
    return x, w, b


def z_or_y(act, x, w, b, module=ref):
    z = module.dense_forward(x, w, b, None)
    if act in (None, "linear"):
        return None
    return z if act in TAKES_Z else module.dense_forward(x, w, b, act)


def close(got, want, scale, tol):
    err = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))
    bound = tol["rtol"] * scale + tol["atol"]
    assert got.shape == want.shape and np.all(err <= bound), float(np.max(err - bound))


def fwd_scale(x, w, b):
    # activations are 1-Lipschitz (gelu ~1.13): the error of z bounds theirs
    return np.abs(x) @ np.abs(w) + np.abs(b) + 1.0


@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 7, 3), (64, 100, 10), (300, 70, 33)], ids=str)
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("with_bias", [True, False])
def test_forward_matches_reference(rng, dtype, tol, act, shape, with_bias):
    x, w, b = make(rng, *shape, dtype)
    bb = b if with_bias else None
    got = ops.dense_forward(x, w, bb, act)
    assert got.dtype == dtype and got.shape == (shape[0], shape[2])
    close(got, ref.dense_forward(x, w, bb, act), fwd_scale(x, w, b), tol)


@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 7, 3), (64, 100, 10), (300, 70, 33)], ids=str)
@pytest.mark.parametrize("act", ACTS)
def test_backward_matches_reference(rng, dtype, tol, act, shape):
    n, k, m = shape
    x, w, b = make(rng, n, k, m, dtype)
    zy = z_or_y(act, x, w, b)
    dy = rng.standard_normal((n, m)).astype(dtype)
    dx, dw, db = ops.dense_backward(dy, x, w, zy, act)
    rx, rw, rb = ref.dense_backward(dy, x, w, zy, act)
    assert (dx.dtype, dw.dtype, db.dtype) == (dtype,) * 3
    # dz is bounded by |dy| * max|act'| (<= 1.13 for gelu) plus the softmax sum term
    dz = np.abs(dy).astype(np.float64) * 1.2
    if act == "softmax":
        dz = dz + np.abs(dy).sum(axis=1, keepdims=True)
    close(dx, rx, dz @ np.abs(w).T + 1.0, tol)
    close(dw, rw, np.abs(x).T @ dz + 1.0, tol)
    close(db, rb, dz.sum(axis=0) + 1.0, tol)


@pytest.mark.parametrize("act", ACTS)
def test_backward_gradcheck(rng, act):
    x, w, b = make(rng, 4, 5, 3, np.float64)

    def f(x, w, b):
        return ops.dense_forward(x, w, b, act)

    def analytic(g, x, w, b):
        return ops.dense_backward(g, x, w, z_or_y(act, x, w, b, module=ops), act)

    # relu/leaky_relu kinks: this seed keeps every |z| well away from 0
    assert np.abs(ref.dense_forward(x, w, b)).min() > 1e-3
    assert gradcheck(f, [x, w, b], analytic)


def test_need_dx_false(rng, dtype, tol):
    x, w, b = make(rng, 6, 4, 3, dtype)
    dy = rng.standard_normal((6, 3)).astype(dtype)
    y = ops.dense_forward(x, w, b, "tanh")
    dx, dw, db = ops.dense_backward(dy, x, w, y, "tanh", need_dx=False)
    assert dx is None
    _, rw, rb = ref.dense_backward(dy, x, w, y, "tanh")
    np.testing.assert_allclose(dw, rw, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)
    np.testing.assert_allclose(db, rb, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


def test_buffers_are_filled_and_returned(rng, dtype, tol):
    x, w, b = make(rng, 8, 5, 4, dtype)
    out = np.full((8, 4), np.nan, dtype)
    assert ops.dense_forward(x, w, b, "relu", out=out) is out
    close(out, ref.dense_forward(x, w, b, "relu"), fwd_scale(x, w, b), tol)
    dy = rng.standard_normal((8, 4)).astype(dtype)
    dx, dw, db = (np.full(s, np.nan, dtype) for s in [(8, 5), (5, 4), (4,)])
    got = ops.dense_backward(dy, x, w, out, "relu", dx=dx, dw=dw, db=db)
    assert got[0] is dx and got[1] is dw and got[2] is db
    for g, r in zip(got, ref.dense_backward(dy, x, w, out, "relu")):
        np.testing.assert_allclose(g, r, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


def test_layouts(rng, dtype, tol, relayout, layout_a, layout_b):
    # x.T-style views reach the GEMM as flags; results must not change
    x, w, b = make(rng, 13, 9, 6, dtype)
    xv, wv = relayout(x, layout_a), relayout(w, layout_b)
    close(ops.dense_forward(xv, wv, b, "sigmoid"), ref.dense_forward(x, w, b, "sigmoid"),
          fwd_scale(x, w, b), tol)
    dy = rng.standard_normal((13, 6)).astype(dtype)
    zy = ref.dense_forward(x, w, b, "sigmoid")
    got = ops.dense_backward(relayout(dy, layout_b), xv, wv, relayout(zy, layout_a), "sigmoid")
    for g, r in zip(got, ref.dense_backward(dy, x, w, zy, "sigmoid")):
        np.testing.assert_allclose(g, r, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


@pytest.mark.parametrize("nkm", [(0, 4, 3), (5, 0, 3), (5, 4, 0), (0, 0, 0)], ids=str)
@pytest.mark.parametrize("act", ["relu", "tanh", "softmax"])
def test_zero_size(dtype, act, nkm):
    n, k, m = nkm
    x, w, b = np.ones((n, k), dtype), np.ones((k, m), dtype), np.full(m, 0.5, dtype)
    y = ops.dense_forward(x, w, b, act)
    assert y.shape == (n, m) and y.dtype == dtype
    # k == 0: z = b in every row (an empty sum is 0)
    np.testing.assert_allclose(y, ref.dense_forward(x, w, b, act), rtol=1e-6)
    dy = np.ones((n, m), dtype)
    dw = np.full((k, m), np.nan, dtype)
    db = np.full(m, np.nan, dtype)
    dx, dw2, db2 = ops.dense_backward(dy, x, w, y, act, dw=dw, db=db)
    assert dx.shape == (n, k) and dw2 is dw and db2 is db
    rx, rw, rb = ref.dense_backward(dy, x, w, y, act)
    np.testing.assert_allclose(dx, rx, rtol=1e-6)
    np.testing.assert_allclose(dw, rw, rtol=1e-6)  # n == 0: zeros, not the NaN left there
    np.testing.assert_allclose(db, rb, rtol=1e-6)


def test_hand_computed():
    x = np.array([[1.0, 2.0]])
    w = np.array([[1.0, -1.0], [0.5, -2.0]])
    b = np.array([0.0, 1.0])
    # z = [2, -4]; relu -> [2, 0]
    np.testing.assert_array_equal(ops.dense_forward(x, w, b, "relu"), [[2.0, 0.0]])
    dx, dw, db = ops.dense_backward(np.array([[1.0, 1.0]]), x, w, np.array([[2.0, 0.0]]), "relu")
    np.testing.assert_array_equal(dx, [[1.0, 0.5]])
    np.testing.assert_array_equal(dw, [[1.0, 0.0], [2.0, 0.0]])
    np.testing.assert_array_equal(db, [1.0, 0.0])


def test_unknown_activation_and_missing_z_or_y_raise(rng):
    x, w, b = make(rng, 2, 3, 4, np.float64)
    with pytest.raises(ValueError, match="activation") as info:
        ops.dense_forward(x, w, b, "swish")
    assert "swish" in str(info.value) and "relu" in str(info.value)
    with pytest.raises(ValueError, match="z_or_y"):
        ops.dense_backward(np.ones((2, 4)), x, w, None, "relu")


def test_mismatched_shapes_raise(rng, dtype):
    x, w, b = make(rng, 2, 3, 4, dtype)
    with pytest.raises(ValueError) as info:
        ops.dense_forward(x, w.T.copy(), None, None)
    msg = str(info.value)
    assert "x" in msg and "w" in msg and "(2, 3)" in msg and "(4, 3)" in msg
    with pytest.raises(ValueError, match=r"b: .*\(4,\).*\(3,\)"):
        ops.dense_forward(x, w, b[:3], None)
    with pytest.raises(ValueError, match=r"dy: .*\(2, 4\).*\(2, 5\)"):
        ops.dense_backward(np.ones((2, 5), dtype), x, w, None, None)
