"""bprop.testing: numeric_gradient and gradcheck against closed forms."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
import bprop.testing
from bprop import reference as ref
from bprop.testing import gradcheck, numeric_gradient


# ----------------------------------------------------------------- numeric_gradient
def test_numeric_gradient_of_sum_of_squares_is_2x(rng):
    x = rng.standard_normal((3, 4))
    g = numeric_gradient(lambda v: np.sum(v * v), x)
    # the central difference of a quadratic is exact up to rounding
    np.testing.assert_allclose(g, 2 * x, rtol=1e-8, atol=1e-9)


def test_numeric_gradient_of_sin_is_cos(rng):
    x = rng.uniform(-3, 3, size=7)
    g = numeric_gradient(lambda v: np.sum(np.sin(v)), x, eps=1e-5)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-8, atol=1e-9)


def test_numeric_gradient_does_not_modify_input_and_works_in_float64(rng):
    x = rng.standard_normal(5).astype(np.float32)
    before = x.copy()
    seen = []
    g = numeric_gradient(lambda v: seen.append(v.dtype) or float(v @ v), x)
    np.testing.assert_array_equal(x, before)
    assert seen and set(seen) == {np.dtype(np.float64)}
    assert g.dtype == np.float64 and g.shape == (5,)
    np.testing.assert_allclose(g, 2 * before.astype(np.float64), rtol=1e-8)


def test_numeric_gradient_zero_size_and_scalar():
    assert numeric_gradient(lambda v: 1.0, np.zeros((0, 3))).shape == (0, 3)
    g = numeric_gradient(lambda v: float(v) ** 3, np.array(2.0))
    assert g.shape == () and abs(float(g) - 12.0) < 1e-6


def test_numeric_gradient_rejects_bad_eps_and_vector_output():
    with pytest.raises(ValueError, match="eps"):
        numeric_gradient(lambda v: 0.0, np.ones(2), eps=0.0)
    with pytest.raises(ValueError, match=r"expected a scalar.*\(2,\)"):
        numeric_gradient(lambda v: v, np.ones(2))


# ----------------------------------------------------------------- gradcheck: passes
def test_gradcheck_accepts_correct_elementwise_backward(rng):
    x = rng.standard_normal((4, 6))
    assert gradcheck(ref.tanh, [x], lambda g, x: ref.tanh_backward(g, ref.tanh(x)))


def test_gradcheck_accepts_correct_two_input_backward(rng):
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4, 2))
    assert gradcheck(ref.matmul, [a, b], lambda g, a, b: (g @ b.T, a.T @ g))


def test_gradcheck_scalar_loss_with_integer_labels_passed_through(rng):
    logits = rng.standard_normal((5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    seen = []

    def analytic(g, z, y):
        seen.append((g, y.dtype))
        return g * ref.softmax_cross_entropy_backward(z, y)

    assert gradcheck(ref.softmax_cross_entropy, [logits, labels], analytic)
    # a scalar output is projected with g = 1.0; labels keep their integer dtype
    assert seen == [(1.0, labels.dtype)]


def test_gradcheck_wrt_selects_inputs(rng):
    a = rng.standard_normal((2, 3))
    b = rng.standard_normal((3, 2))
    # only b is checked: analytic returns one gradient
    assert gradcheck(ref.matmul, [a, b], lambda g, a, b: a.T @ g, wrt=1)
    assert gradcheck(ref.matmul, [a, b], lambda g, a, b: [g @ b.T], wrt=[0])


def test_gradcheck_passes_the_given_projection(rng):
    x = rng.standard_normal(4)
    g0 = rng.standard_normal(4)
    got = []
    gradcheck(np.sin, [x], lambda g, x: got.append(g.copy()) or g * np.cos(x), grad_output=g0)
    np.testing.assert_array_equal(got[0], g0)


def test_gradcheck_float32_inputs_are_checked_in_float64(rng):
    x = rng.standard_normal(6).astype(np.float32)
    dtypes = []
    gradcheck(lambda v: dtypes.append(v.dtype) or v * v, [x], lambda g, v: 2 * g * v)
    assert set(dtypes) == {np.dtype(np.float64)}


# ----------------------------------------------------------------- gradcheck: fails
def test_gradcheck_reports_a_scaled_gradient(rng):
    x = rng.standard_normal((3, 3))
    with pytest.raises(AssertionError, match=r"gradcheck failed for input 0: 9 of 9 elements"):
        gradcheck(np.sin, [x], lambda g, x: 1.01 * g * np.cos(x))


def test_gradcheck_reports_worst_index_and_values(rng):
    x = rng.standard_normal((3, 4))

    def wrong(g, x):
        d = g * np.cos(x)
        d[2, 1] += 0.5
        return d

    with pytest.raises(AssertionError) as info:
        gradcheck(np.sin, [x], wrong)
    msg = str(info.value)
    assert "1 of 12 elements" in msg
    assert "worst index (2, 1)" in msg
    assert "max abs error 5.000e-01" in msg
    assert "analytic" in msg and "numeric" in msg


def test_gradcheck_reports_the_failing_input(rng):
    a = rng.standard_normal((2, 3))
    b = rng.standard_normal((3, 2))
    with pytest.raises(AssertionError, match="input 1"):
        gradcheck(ref.matmul, [a, b], lambda g, a, b: (g @ b.T, -(a.T @ g)))


def test_gradcheck_treats_nan_as_failure(rng):
    x = rng.standard_normal(3)
    with pytest.raises(AssertionError, match=r"worst index \(1,\)"):
        gradcheck(np.sin, [x], lambda g, x: np.where(np.arange(3) == 1, np.nan, g * np.cos(x)))


def test_gradcheck_catches_a_missing_projection(rng):
    # dropping g (returning d sum(y) instead of d sum(g*y)) must fail
    x = rng.standard_normal((4, 4))
    with pytest.raises(AssertionError):
        gradcheck(np.tanh, [x], lambda g, x: 1 - np.tanh(x) ** 2)


# ----------------------------------------------------------------- gradcheck: bad use
def test_gradcheck_rejects_wrong_gradient_shape(rng):
    x = rng.standard_normal((2, 3))
    with pytest.raises(ValueError, match=r"shape \(3, 2\), expected \(2, 3\)"):
        gradcheck(np.sin, [x], lambda g, x: (g * np.cos(x)).T)


def test_gradcheck_rejects_wrong_gradient_count(rng):
    a = rng.standard_normal((2, 2))
    with pytest.raises(ValueError, match="expected 2 gradients"):
        gradcheck(ref.matmul, [a, a], lambda g, a, b: (g @ b.T,))


def test_gradcheck_rejects_bad_arguments(rng):
    x = rng.standard_normal(3)
    ok = lambda g, x: g * np.cos(x)  # noqa: E731
    with pytest.raises(ValueError, match="grad_output"):
        gradcheck(np.sin, [x], ok, grad_output=np.ones(4))
    with pytest.raises(ValueError, match="wrt"):
        gradcheck(np.sin, [x], ok, wrt=3)
    with pytest.raises(ValueError, match="wrt: input 1 is not a float array"):
        gradcheck(lambda x, y: x, [x, np.array([1, 2])], ok, wrt=1)
    with pytest.raises(ValueError, match="eps"):
        gradcheck(np.sin, [x], ok, eps=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        gradcheck(np.sin, [x], ok, rtol=-1.0)
    with pytest.raises(TypeError, match="analytic"):
        gradcheck(np.sin, [x], None)
    with pytest.raises(ValueError, match="inputs"):
        gradcheck(lambda y: 0.0, [np.array([1, 2])], ok)


def test_exported_at_the_top_of_the_package():
    import bprop

    assert bprop.testing.gradcheck is gradcheck
    assert bprop.testing.numeric_gradient is numeric_gradient


def test_variable_gradients_match_the_closed_form_and_restore_the_variables():
    rng = np.random.default_rng(3)
    a = bprop.Variable(rng.normal(size=(3, 2)), dtype="float64")
    b = bprop.Variable(rng.normal(size=(4,)), dtype="float64")
    c = rng.normal(size=(3, 2))
    before = [a.numpy(), b.numpy()]

    def loss():  # sum(c * a^2) + sum(sin(b)): gradients 2 c a and cos(b)
        return float((c * a.value ** 2).sum() + np.sin(b.value).sum())

    ga, gb = bprop.testing.variable_gradients([a, b], loss)
    np.testing.assert_allclose(ga, 2 * c * before[0], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gb, np.cos(before[1]), rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(a.value, before[0])
    np.testing.assert_array_equal(b.value, before[1])


def test_variable_gradients_restore_a_variable_when_the_loss_raises():
    v = bprop.Variable(np.ones(3), dtype="float64")

    def loss():
        if v.value[1] != 1.0:
            raise RuntimeError("boom")
        return float(v.value.sum())

    with pytest.raises(RuntimeError, match="boom"):
        bprop.testing.variable_gradients([v], loss)
    np.testing.assert_array_equal(v.value, np.ones(3))
