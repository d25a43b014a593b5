"""Elementwise activations and their backward: relu, leaky_relu, sigmoid, tanh, gelu,
elu, selu, softplus, softsign, silu, exponential, hard_sigmoid.

Values against bprop.reference (tolerances: conftest.TOLERANCES; sigmoid,
tanh and gelu call libm's exp/tanh, 1-2 ulp from NumPy's, well inside them),
layouts, zero sizes, out=, float64 gradient checks, extreme inputs.
"""
from __future__ import annotations

import numpy as np
import pytest

from bprop import ops
from bprop import reference as ref
from bprop.testing import gradcheck

# name -> (kwargs, whether *_backward takes the input "x" or the output "y")
ACTS = {
    "relu": ({}, "x"),
    "leaky_relu": ({"alpha": 0.1}, "x"),
    "sigmoid": ({}, "y"),
    "tanh": ({}, "y"),
    "gelu": ({}, "x"),
    "elu": ({"alpha": 0.7}, "x"),
    "selu": ({}, "x"),
    "softplus": ({}, "x"),
    "softsign": ({}, "x"),
    "silu": ({}, "x"),
    "exponential": ({}, "y"),
    "hard_sigmoid": ({}, "y"),
}
NAMES = sorted(ACTS)
SHAPES = [(0,), (1,), (17,), (0, 5), (5, 0), (4, 7), (2, 3, 5), (300, 70)]


def fwd(name):
    return getattr(ops, name), getattr(ref, name), ACTS[name][0]


def bwd_arg(name, x, kwargs, module=ref):
    """What ``name_backward`` takes: the input x or the output act(x)."""
    return x if ACTS[name][1] == "x" else getattr(module, name)(x, **kwargs)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_reference(rng, dtype, tol, name, shape):
    op, twin, kw = fwd(name)
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    got = op(x, **kw)
    assert isinstance(got, np.ndarray) and got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, twin(x, **kw), **tol)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_reference(rng, dtype, tol, name, shape):
    kw = ACTS[name][0]
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    arg = bwd_arg(name, x, kw)
    got = getattr(ops, name + "_backward")(dy, arg, **kw)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, getattr(ref, name + "_backward")(dy, arg, **kw), **tol)


@pytest.mark.parametrize("name", NAMES)
def test_layouts(rng, dtype, tol, relayout, name, layout_a, layout_b):
    kw = ACTS[name][0]
    x = (3 * rng.standard_normal((19, 11))).astype(dtype)
    dy = rng.standard_normal((19, 11)).astype(dtype)
    np.testing.assert_allclose(getattr(ops, name)(relayout(x, layout_a), **kw),
                               getattr(ref, name)(x, **kw), **tol)
    arg = bwd_arg(name, x, kw)
    got = getattr(ops, name + "_backward")(relayout(dy, layout_a), relayout(arg, layout_b), **kw)
    np.testing.assert_allclose(got, getattr(ref, name + "_backward")(dy, arg, **kw), **tol)


@pytest.mark.parametrize("name", NAMES)
def test_out_is_filled_and_returned_and_may_be_the_input(rng, dtype, tol, name):
    kw = ACTS[name][0]
    x = (3 * rng.standard_normal((8, 9))).astype(dtype)
    want = getattr(ref, name)(x, **kw)
    out = np.full_like(x, np.nan)
    assert getattr(ops, name)(x, out=out, **kw) is out
    np.testing.assert_allclose(out, want, **tol)
    inplace = x.copy()
    assert getattr(ops, name)(inplace, out=inplace, **kw) is inplace
    np.testing.assert_allclose(inplace, want, **tol)
    # backward into out=, and in place over dy
    dy = rng.standard_normal((8, 9)).astype(dtype)
    arg = bwd_arg(name, x, kw)
    want_b = getattr(ref, name + "_backward")(dy, arg, **kw)
    out = np.full_like(x, np.nan)
    assert getattr(ops, name + "_backward")(dy, arg, out=out, **kw) is out
    np.testing.assert_allclose(out, want_b, **tol)
    dy2 = dy.copy()
    assert getattr(ops, name + "_backward")(dy2, arg, out=dy2, **kw) is dy2
    np.testing.assert_allclose(dy2, want_b, **tol)
    arg2 = arg.copy()  # in place over the saved input/output, as a layer may do
    assert getattr(ops, name + "_backward")(dy, arg2, out=arg2, **kw) is arg2
    np.testing.assert_allclose(arg2, want_b, **tol)


# ----------------------------------------------------------------- gradients (float64)
def away_from_kink(x):
    """relu/leaky_relu are not differentiable at 0: keep |x| >= 0.05."""
    return np.where(np.abs(x) < 0.05, 0.5, x)


@pytest.mark.parametrize("name", NAMES)
def test_backward_gradcheck(rng, name):
    kw = ACTS[name][0]
    x = away_from_kink(2 * rng.standard_normal((4, 6)))
    op = getattr(ops, name)
    back = getattr(ops, name + "_backward")

    def analytic(g, x):
        return back(g, bwd_arg(name, x, kw, module=ops), **kw)

    assert gradcheck(lambda v: op(v, **kw), [x], analytic)


def test_relu_backward_accepts_input_or_output(rng, dtype):
    x = rng.standard_normal((6, 7)).astype(dtype)
    dy = rng.standard_normal((6, 7)).astype(dtype)
    via_x = ops.relu_backward(dy, x)
    np.testing.assert_array_equal(via_x, ops.relu_backward(dy, ops.relu(x)))
    np.testing.assert_array_equal(via_x, np.where(x > 0, dy, 0))


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.2, 1.0])
def test_leaky_relu_alpha_hand_computed(alpha):
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_allclose(ops.leaky_relu(x, alpha=alpha),
                               [-2 * alpha, -0.5 * alpha, 0.0, 0.5, 3.0], rtol=1e-15)
    dy = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(ops.leaky_relu_backward(dy, x, alpha=alpha),
                               [alpha, 2 * alpha, 3 * alpha, 4.0, 5.0], rtol=1e-15)


def test_leaky_relu_default_alpha_is_keras_0_2():
    np.testing.assert_allclose(ops.leaky_relu(np.array([-1.0, 1.0])), [-0.2, 1.0], rtol=1e-15)
    np.testing.assert_allclose(ops.leaky_relu_backward(np.ones(2), np.array([-1.0, 1.0])),
                               [0.2, 1.0], rtol=1e-15)


def test_closed_forms_at_known_points():
    x = np.array([0.0, 1.0, -1.0])
    np.testing.assert_allclose(ops.sigmoid(x), [0.5, 1 / (1 + np.e ** -1), 1 / (1 + np.e)],
                               rtol=1e-15)
    np.testing.assert_allclose(ops.tanh(x), [0.0, np.tanh(1.0), -np.tanh(1.0)], rtol=1e-15)
    # gelu(1) = 0.5 (1 + tanh(sqrt(2/pi) * 1.044715))
    g1 = 0.5 * (1 + np.tanh(np.sqrt(2 / np.pi) * 1.044715))
    np.testing.assert_allclose(ops.gelu(x), [0.0, g1, -1 + g1], rtol=1e-14)
    np.testing.assert_allclose(ops.gelu_backward(np.ones(1), np.zeros(1)), [0.5], rtol=1e-15)


# ----------------------------------------------------------------- extremes
def test_sigmoid_saturates_without_overflow(dtype):
    x = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype)
    y = ops.sigmoid(x)
    assert np.all(np.isfinite(y))
    assert y[0] == 0.0 and y[3] == 1.0 and y[2] == 1.0
    assert 0.0 <= y[1] < 1e-40
    d = ops.sigmoid_backward(np.ones(4, dtype), y)
    assert np.all(np.isfinite(d)) and d[0] == 0.0 and d[3] == 0.0


def test_tanh_and_gelu_saturate(dtype):
    x = np.array([-1000.0, -30.0, 30.0, 1000.0], dtype)
    np.testing.assert_array_equal(ops.tanh(x), [-1.0, -1.0, 1.0, 1.0])
    g = ops.gelu(x)
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g, [0.0, 0.0, 30.0, 1000.0])
    d = ops.gelu_backward(np.ones(4, dtype), x)
    np.testing.assert_array_equal(d, [0.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize("name", NAMES)
def test_nan_propagates_through_forward(dtype, name):
    # a diverging network must show NaN, not have it silently clamped away
    kw = ACTS[name][0]
    x = np.array([np.nan, 1.0, -1.0], dtype)
    got = getattr(ops, name)(x, **kw)
    assert np.isnan(got[0])
    np.testing.assert_allclose(got[1:], getattr(ref, name)(x[1:], **kw), rtol=1e-6)


# ----------------------------------------------------------------- float32 SIMD math, every path
# float32 sigmoid/tanh/gelu/exp run vectorised approximations per ISA: check
# them against float64 truth on the same inputs.  Tolerances: 4 float32 eps
# relative (measured: ~1 eps), plus an absolute term where the result
# cancels (gelu's tails) or underflows (sigmoid near -88).
F32_EPS = float(np.finfo(np.float32).eps)
ACCURACY = {
    "sigmoid": (4 * F32_EPS, 1e-30),
    "tanh": (4 * F32_EPS, 1e-30),
    "gelu": (4 * F32_EPS, 1e-6),
}


def f32_probe(rng):
    """Inputs over the whole useful range, plus lengths that leave vector tails."""
    return np.concatenate([4 * rng.standard_normal(3001), np.linspace(-100, 100, 2001),
                           1e-3 * rng.standard_normal(17), [0.0, -0.0, 88.7, -88.7, 1e4, -1e4]]
                          ).astype(np.float32)


@pytest.mark.parametrize("name", sorted(ACCURACY))
def test_float32_simd_accuracy_on_every_path(rng, isa, name):
    x = f32_probe(rng)
    rtol, atol = ACCURACY[name]
    truth = getattr(ref, name)(x.astype(np.float64))
    for n in (1, 3, 7, 8, 9, 15, 16, 17, 33, x.size):  # vector tails of every length
        got = getattr(ops, name)(x[:n]).astype(np.float64)
        err = np.abs(got - truth[:n])
        assert np.all(err <= rtol * np.abs(truth[:n]) + atol), (isa, n, float(err.max()))


def test_float32_gelu_backward_accuracy_on_every_path(rng, isa):
    x = f32_probe(rng)
    dy = rng.standard_normal(x.size).astype(np.float32)
    truth = ref.gelu_backward(dy.astype(np.float64), x.astype(np.float64))
    got = ops.gelu_backward(dy, x).astype(np.float64)
    assert np.all(np.abs(got - truth) <= 4 * F32_EPS * np.abs(truth) + 4e-6 * np.abs(dy))


def test_float32_softmax_accuracy_on_every_path(rng, isa):
    for cols in (1, 5, 8, 16, 37):
        z = (5 * rng.standard_normal((40, cols))).astype(np.float32)
        z64 = z.astype(np.float64)
        np.testing.assert_allclose(ops.softmax(z), ref.softmax(z64), rtol=8 * F32_EPS, atol=1e-7)
        np.testing.assert_allclose(ops.log_softmax(z), ref.log_softmax(z64), rtol=8 * F32_EPS,
                                   atol=1e-6)


def test_float32_extremes_on_every_path(isa):
    x = np.array([-1e4, -1000.0, -100.0, 100.0, 1000.0, 1e4], np.float32)
    s = ops.sigmoid(x)
    np.testing.assert_array_equal(s[[0, 1, 4, 5]], [0.0, 0.0, 1.0, 1.0])
    assert 0.0 <= s[2] < 1e-40 and s[3] == 1.0
    np.testing.assert_array_equal(ops.tanh(x), [-1, -1, -1, 1, 1, 1])
    np.testing.assert_array_equal(ops.gelu(x), [0, 0, 0, 100, 1000, 1e4])
    np.testing.assert_array_equal(ops.gelu_backward(np.ones(6, np.float32), x), [0, 0, 0, 1, 1, 1])
    assert np.all(np.isnan(ops.sigmoid(np.full(9, np.nan, np.float32))))


def max_ulp_error(got, truth):
    """Largest |got - truth| in float32 ulps of the true value (results >= 2^-100)."""
    truth32 = truth.astype(np.float32)
    keep = np.abs(truth) >= 2.0 ** -100
    ulp = np.spacing(np.abs(truth32[keep])).astype(np.float64)
    return float(np.max(np.abs(got[keep].astype(np.float64) - truth[keep]) / ulp))


@pytest.mark.parametrize("cols", [7, 64, 1024])
def test_float32_softmax_and_log_softmax_within_4_ulp(rng, isa, cols):
    """Issue 5's accuracy bar: the exp argument's rounding (TwoSum-corrected),
    the float64 row sum and log1p(sum - 1) keep both within 4 ulp of float64,
    where plain float32 arithmetic (NumPy's) is off by 20 to 2000 ulp."""
    z = (4 * rng.standard_normal((64, cols))).astype(np.float32)
    z[::4, 0] += 30.0  # rows dominated by one entry: log_softmax there is near 0
    z64 = z.astype(np.float64)
    assert max_ulp_error(ops.softmax(z), ref.softmax(z64)) <= 4.0
    assert max_ulp_error(ops.log_softmax(z), ref.log_softmax(z64)) <= 4.0


def test_float32_gelu_within_4_ulp_including_its_tail(rng, isa):
    """2u is carried in float64 (hi + lo) into exp: without that, rounding 2u
    costs |2u| / 2 ulp where gelu's negative tail is tiny (NumPy float32: 175)."""
    x = np.concatenate([np.linspace(-12, 6, 20001), 3 * rng.standard_normal(5000)])
    x = x.astype(np.float32)
    for part in (x, x[-13:]):  # the vector body and a padded tail
        assert max_ulp_error(ops.gelu(part), ref.gelu(part.astype(np.float64))) <= 4.0


# ----------------------------------------------------------------- Keras' further activations
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def test_further_activations_closed_forms():
    """Hand-written formulas (float64), not the reference twins."""
    x = np.array([-30.0, -3.0, -1.0, -1e-9, 0.0, 0.5, 2.0, 3.0, 40.0])
    np.testing.assert_allclose(ops.elu(x), np.where(x > 0, x, np.expm1(x)), rtol=1e-13)
    np.testing.assert_allclose(ops.elu(x, alpha=0.5), np.where(x > 0, x, 0.5 * np.expm1(x)),
                               rtol=1e-13)
    assert ops.elu(np.array([-1e-9]))[0] == pytest.approx(-1e-9 + 5e-19, rel=1e-15)  # expm1
    np.testing.assert_allclose(
        ops.selu(x), SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), rtol=1e-13)
    np.testing.assert_allclose(ops.softplus(x), np.log1p(np.exp(x)), rtol=1e-13)
    np.testing.assert_allclose(ops.softsign(x), x / (1 + np.abs(x)), rtol=1e-15)
    np.testing.assert_allclose(ops.silu(x), x / (1 + np.exp(-x)), rtol=1e-13)
    np.testing.assert_allclose(ops.exponential(x), np.exp(x), rtol=1e-15)
    # Keras 3: relu6(x + 3) / 6 (Keras 2's was 0.2 x + 0.5)
    np.testing.assert_allclose(ops.hard_sigmoid(x), [0, 0, 1 / 3, 0.5 - 1e-9 / 6, 0.5,
                                                     0.5 + 0.5 / 6, 5 / 6, 1, 1],
                               rtol=1e-15, atol=1e-16)


def test_further_activations_derivatives_closed_forms():
    x = np.array([-4.0, -1.0, -0.25, 0.25, 1.0, 2.5, 4.0])
    dy = np.linspace(0.5, 2.0, x.size)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(ops.elu_backward(dy, x, alpha=0.5),
                               dy * np.where(x > 0, 1, 0.5 * np.exp(x)), rtol=1e-14)
    np.testing.assert_allclose(ops.selu_backward(dy, x),
                               dy * SELU_SCALE * np.where(x > 0, 1, SELU_ALPHA * np.exp(x)),
                               rtol=1e-14)
    np.testing.assert_allclose(ops.softplus_backward(dy, x), dy * s, rtol=1e-14)
    np.testing.assert_allclose(ops.softsign_backward(dy, x), dy / (1 + np.abs(x)) ** 2,
                               rtol=1e-14)
    np.testing.assert_allclose(ops.silu_backward(dy, x), dy * (s + x * s * (1 - s)), rtol=1e-14)
    np.testing.assert_allclose(ops.exponential_backward(dy, np.exp(x)), dy * np.exp(x),
                               rtol=1e-15)
    y = ops.hard_sigmoid(x)
    np.testing.assert_allclose(ops.hard_sigmoid_backward(dy, y),
                               dy * np.where(np.abs(x) < 3, 1 / 6, 0), rtol=1e-15)


def test_further_activations_saturate_without_overflow(dtype):
    x = np.array([-1e4, -200.0, 200.0, 1e4], dtype)
    tiny = {"rtol": 1e-6, "atol": 1e-30}  # float64 keeps exp(-200)-sized tails

    def close(got, want):
        assert np.all(np.isfinite(got)) and got.dtype == dtype
        np.testing.assert_allclose(got, want, **tiny)

    close(ops.elu(x), [-1, -1, 200, 1e4])
    close(ops.softplus(x), [0, 0, 200, 1e4])
    close(ops.softsign(x), x.astype(np.float64) / (1 + np.abs(x.astype(np.float64))))
    close(ops.silu(x), [0, 0, 200, 1e4])
    close(ops.hard_sigmoid(x), [0, 0, 1, 1])
    e = ops.exponential(x)
    assert np.isinf(e[-1]) and e[0] == 0
    ones = np.ones(4, dtype)
    close(ops.softplus_backward(ones, x), [0, 0, 1, 1])
    close(ops.silu_backward(ones, x), [0, 0, 1, 1])
    close(ops.elu_backward(ones, x), [0, 0, 1, 1])


@pytest.mark.parametrize("name", ["silu", "softplus", "elu", "selu", "softsign"])
def test_float32_further_activations_accuracy_on_every_path(rng, isa, name):
    x = f32_probe(rng)
    truth = getattr(ref, name)(x.astype(np.float64))
    for n in (1, 7, 17, 255, 256, 257, x.size):  # vector tails and the 256-value chunks
        got = getattr(ops, name)(x[:n]).astype(np.float64)
        err = np.abs(got - truth[:n])
        assert np.all(err <= 4 * F32_EPS * np.abs(truth[:n]) + 1e-30), (isa, n, float(err.max()))
    dy = rng.standard_normal(x.size).astype(np.float32)
    truth = getattr(ref, name + "_backward")(dy.astype(np.float64), x.astype(np.float64))
    got = getattr(ops, name + "_backward")(dy, x).astype(np.float64)
    # (silu' crosses zero near x = -1.28, where its two terms cancel: an absolute term in dy)
    assert np.all(np.abs(got - truth) <= 8 * F32_EPS * (np.abs(truth) + np.abs(dy)) + 1e-30), name


def test_float32_exponential_accuracy_on_every_path(rng, isa):
    x = np.concatenate([np.linspace(-87, 88.7, 4001), 4 * rng.standard_normal(1001)])
    x = x.astype(np.float32)
    truth = np.exp(x.astype(np.float64))
    assert max_ulp_error(ops.exponential(x), truth) <= 4.0
