"""Losses (mean over the batch, a Python float) and their backward.

mse, softmax_cross_entropy (sparse integer labels, one-hot and probability
targets), binary_cross_entropy from logits: values against bprop.reference
(conftest.TOLERANCES; a loss is a sum, so it is compared on the scale of
the sum of |terms|), float64 gradient checks, extremes, label checks.
"""
from __future__ import annotations

import numpy as np
import pytest

from bprop import ops
from bprop import reference as ref
from bprop.testing import gradcheck


def onehot(labels, classes, dtype):
    out = np.zeros((labels.size, classes), dtype)
    out[np.arange(labels.size), labels] = 1
    return out


def probabilities(rng, shape, dtype):
    p = rng.random(shape) + 0.01
    return (p / p.sum(axis=1, keepdims=True)).astype(dtype)


def make_targets(kind, rng, n, c, dtype, label_dtype=np.int64):
    labels = rng.integers(0, c, size=n).astype(label_dtype) if c else np.zeros(n, label_dtype)
    if kind == "sparse":
        return labels
    if kind == "onehot":
        return onehot(labels, c, dtype)
    return probabilities(rng, (n, c), dtype)


def assert_loss_close(got, want, scale, tol):
    assert isinstance(got, float), type(got)
    assert abs(got - want) <= tol["rtol"] * scale + tol["atol"], (got, want)


SHAPES = [(1, 1), (1, 4), (7, 3), (64, 10), (3000, 20)]
TARGETS = ["sparse", "onehot", "probs"]


# ----------------------------------------------------------------- mse
@pytest.mark.parametrize("shape", SHAPES + [(5,), (2, 3, 4)], ids=str)
def test_mse_matches_reference(rng, dtype, tol, shape):
    p = rng.standard_normal(shape).astype(dtype)
    t = rng.standard_normal(shape).astype(dtype)
    d2 = (p.astype(np.float64) - t) ** 2
    assert_loss_close(ops.mse(p, t), ref.mse(p, t), float(d2.mean()), tol)
    g = ops.mse_backward(p, t)
    assert g.dtype == dtype and g.shape == shape
    np.testing.assert_allclose(g, ref.mse_backward(p, t), **tol)


def test_mse_hand_computed():
    p = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = np.array([[0.0, 2.0], [5.0, 4.0]])
    assert ops.mse(p, t) == pytest.approx((1 + 4) / 4, rel=1e-15)
    np.testing.assert_allclose(ops.mse_backward(p, t), [[0.5, 0.0], [-1.0, 0.0]], rtol=1e-15)


def test_mse_gradcheck(rng):
    p, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    assert gradcheck(ops.mse, [p, t], lambda g, p, t: g * ops.mse_backward(p, t), wrt=0)


# ----------------------------------------------------------------- softmax cross-entropy
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kind", TARGETS)
def test_softmax_cross_entropy_matches_reference(rng, dtype, tol, kind, shape):
    n, c = shape
    z = (3 * rng.standard_normal(shape)).astype(dtype)
    y = make_targets(kind, rng, n, c, dtype)
    want = ref.softmax_cross_entropy(z, y)
    scale = float(np.abs(ref.log_softmax(z.astype(np.float64))).max()) + 1.0
    assert_loss_close(ops.softmax_cross_entropy(z, y), want, scale, tol)
    g = ops.softmax_cross_entropy_backward(z, y)
    assert g.dtype == dtype and g.shape == shape
    np.testing.assert_allclose(g, ref.softmax_cross_entropy_backward(z, y),
                               rtol=tol["rtol"], atol=tol["atol"] / n)


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
def test_sparse_labels_equal_onehot_targets(rng, dtype, label_dtype):
    z = rng.standard_normal((9, 5)).astype(dtype)
    labels = rng.integers(0, 5, size=9).astype(label_dtype)
    t = onehot(labels, 5, dtype)
    eps = float(np.finfo(dtype).eps)
    assert ops.softmax_cross_entropy(z, labels) == pytest.approx(
        ops.softmax_cross_entropy(z, t), rel=50 * eps)
    np.testing.assert_allclose(ops.softmax_cross_entropy_backward(z, labels),
                               ops.softmax_cross_entropy_backward(z, t), rtol=50 * eps,
                               atol=eps / 9)


def test_softmax_cross_entropy_hand_computed():
    z = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    labels = np.array([0, 1])
    # -log(1/2) and -log(1/4), averaged
    assert ops.softmax_cross_entropy(z, labels) == pytest.approx(
        (np.log(2) + np.log(4)) / 2, rel=1e-14)
    np.testing.assert_allclose(ops.softmax_cross_entropy_backward(z, labels),
                               [[-0.25, 0.25], [0.375, -0.375]], rtol=1e-14)


@pytest.mark.parametrize("kind", TARGETS)
def test_softmax_cross_entropy_gradcheck(rng, kind):
    z = 2 * rng.standard_normal((4, 5))
    y = make_targets(kind, rng, 4, 5, np.float64)
    assert gradcheck(ops.softmax_cross_entropy, [z, y],
                     lambda g, z, y: g * ops.softmax_cross_entropy_backward(z, y), wrt=0)


@pytest.mark.parametrize("kind", ["sparse", "onehot"])
def test_softmax_cross_entropy_huge_logits(dtype, kind):
    z = np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4]], dtype)
    labels = np.array([0, 2])
    y = labels if kind == "sparse" else onehot(labels, 3, dtype)
    loss = ops.softmax_cross_entropy(z, y)
    # row 0: -log(1) = 0; row 1: -log softmax = 2e4
    assert np.isfinite(loss) and loss == pytest.approx(1e4, rel=1e-6)
    g = ops.softmax_cross_entropy_backward(z, y)
    np.testing.assert_allclose(g, [[0, 0, 0], [0.5, 0, -0.5]], atol=1e-7, rtol=0)


@pytest.mark.parametrize("kind", TARGETS)
def test_softmax_cross_entropy_empty_batch(dtype, kind):
    z = np.zeros((0, 4), dtype)
    y = make_targets(kind, np.random.default_rng(0), 0, 4, dtype)
    assert ops.softmax_cross_entropy(z, y) == 0.0
    g = ops.softmax_cross_entropy_backward(z, y)
    assert g.shape == (0, 4) and g.dtype == dtype


@pytest.mark.parametrize("bad", [-1, 4, 100])
@pytest.mark.parametrize("fn", ["softmax_cross_entropy", "softmax_cross_entropy_backward"])
def test_labels_out_of_range_raise(dtype, fn, bad):
    z = np.zeros((3, 4), dtype)
    labels = np.array([0, bad, 1])
    with pytest.raises(ValueError, match="labels") as info:
        getattr(ops, fn)(z, labels)
    assert str(bad) in str(info.value)


def test_labels_wrong_length_raise(dtype):
    z = np.zeros((3, 4), dtype)
    with pytest.raises(ValueError, match="labels") as info:
        ops.softmax_cross_entropy(z, np.array([0, 1]))
    assert "(2,)" in str(info.value) and ("(3,)" in str(info.value) or "(3, 4)" in str(info.value))


def test_float_targets_wrong_shape_raise(dtype):
    z = np.zeros((3, 4), dtype)
    with pytest.raises(ValueError, match=r"\(3, 4\)") as info:
        ops.softmax_cross_entropy(z, np.zeros((3, 5), dtype))
    assert "(3, 5)" in str(info.value)


# ----------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("shape", SHAPES + [(6,)], ids=str)
def test_binary_cross_entropy_matches_reference(rng, dtype, tol, shape):
    z = (3 * rng.standard_normal(shape)).astype(dtype)
    t = rng.random(shape).astype(dtype)
    scale = float(np.abs(z).max()) + 1.0
    assert_loss_close(ops.binary_cross_entropy(z, t), ref.binary_cross_entropy(z, t), scale, tol)
    g = ops.binary_cross_entropy_backward(z, t)
    assert g.dtype == dtype and g.shape == shape
    np.testing.assert_allclose(g, ref.binary_cross_entropy_backward(z, t),
                               rtol=tol["rtol"], atol=tol["atol"] / max(z.size, 1))


def test_binary_cross_entropy_hand_computed():
    z = np.array([0.0, np.log(3.0)])
    t = np.array([1.0, 0.0])
    # -log(1/2) and -log(1 - 3/4)
    assert ops.binary_cross_entropy(z, t) == pytest.approx((np.log(2) + np.log(4)) / 2, rel=1e-14)
    np.testing.assert_allclose(ops.binary_cross_entropy_backward(z, t), [-0.25, 0.375],
                               rtol=1e-14)


def test_binary_cross_entropy_gradcheck(rng):
    z, t = 2 * rng.standard_normal((4, 3)), rng.random((4, 3))
    assert gradcheck(ops.binary_cross_entropy, [z, t],
                     lambda g, z, t: g * ops.binary_cross_entropy_backward(z, t), wrt=0)


def test_binary_cross_entropy_extreme_logits(dtype):
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype)
    # per element: 0, 0, 1000, 1000
    assert ops.binary_cross_entropy(z, t) == pytest.approx(500.0, rel=1e-6)
    np.testing.assert_allclose(ops.binary_cross_entropy_backward(z, t),
                               [0.0, 0.0, 0.25, -0.25], atol=1e-7, rtol=0)


def test_losses_of_empty_inputs_are_zero(dtype):
    e = np.zeros((0, 3), dtype)
    assert ops.mse(e, e) == 0.0
    assert ops.binary_cross_entropy(e, e) == 0.0
    assert ops.mse_backward(e, e).shape == (0, 3)
    assert ops.binary_cross_entropy_backward(e, e).shape == (0, 3)


@pytest.mark.parametrize("fn", ["mse_backward", "binary_cross_entropy_backward",
                                "softmax_cross_entropy_backward"])
def test_loss_backward_out_is_filled_and_returned(rng, dtype, tol, fn):
    z = rng.standard_normal((6, 4)).astype(dtype)
    t = probabilities(rng, (6, 4), dtype)
    out = np.full_like(z, np.nan)
    assert getattr(ops, fn)(z, t, out=out) is out
    np.testing.assert_allclose(out, getattr(ref, fn)(z, t), rtol=tol["rtol"], atol=tol["atol"])


@pytest.mark.parametrize("fn", ["mse", "binary_cross_entropy", "softmax_cross_entropy"])
def test_loss_layouts(rng, dtype, tol, relayout, fn, layout_a, layout_b):
    z = rng.standard_normal((11, 5)).astype(dtype)
    t = probabilities(rng, (11, 5), dtype)
    got = getattr(ops, fn)(relayout(z, layout_a), relayout(t, layout_b))
    assert_loss_close(got, getattr(ref, fn)(z, t), 10.0, tol)
    gb = getattr(ops, fn + "_backward")(relayout(z, layout_a), relayout(t, layout_b))
    np.testing.assert_allclose(gb, getattr(ref, fn + "_backward")(z, t),
                               rtol=tol["rtol"], atol=tol["atol"])


@pytest.mark.parametrize("alias", ["logits", "targets"])
@pytest.mark.parametrize("fn", ["mse_backward", "binary_cross_entropy_backward",
                                "softmax_cross_entropy_backward"])
def test_loss_backward_out_aliasing_an_input_is_refused_or_correct(rng, dtype, tol, fn, alias):
    z = rng.standard_normal((6, 4)).astype(dtype)
    t = probabilities(rng, (6, 4), dtype)
    want = getattr(ref, fn)(z, t)
    z2, t2 = z.copy(), t.copy()
    out = z2 if alias == "logits" else t2
    try:
        got = getattr(ops, fn)(z2, t2, out=out)
    except ValueError as exc:
        assert "out" in str(exc)
    else:
        assert got is out
        np.testing.assert_allclose(got, want, rtol=tol["rtol"], atol=tol["atol"])
