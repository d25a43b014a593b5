"""Numerical safety at the extremes: huge logits, saturated sigmoids, exp overflow,
log of zero probabilities, and NaN/inf during fit.

Every expected value here is a closed form worked out by hand (the comment
next to it says how), so these tests do not lean on ``bprop.reference``.
Warnings are errors in this suite: an overflow warning from NumPy would fail.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import bprop
from bprop import ops, reference

BACKENDS = [ops, reference]
BACKEND_IDS = ["core", "numpy"]


@pytest.fixture(params=BACKENDS, ids=BACKEND_IDS)
def be(request):
    return request.param


# ----------------------------------------------------------------------------- softmax family
@pytest.mark.parametrize("mag", [1e4, 3e4])
def test_softmax_of_huge_logits_is_exact(be, dtype, mag):
    x = np.array([[mag, 0.0, -mag], [mag, mag, -mag], [-mag, -mag, -mag]], dtype)
    y = be.softmax(x)
    # row 0: e^0 / (e^0 + e^-mag + e^-2mag) = 1, others underflow to 0;
    # row 1: two equal maxima share 1/2; row 2: all equal -> 1/3 each.
    want = np.array([[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]], dtype)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=0)


@pytest.mark.parametrize("mag", [1e4, 3e4])
def test_log_softmax_of_huge_logits_is_exact(be, dtype, mag):
    x = np.array([[mag, 0.0, -mag], [mag, mag, -mag]], dtype)
    y = be.log_softmax(x)
    # log softmax = x - max - log(sum exp(x - max)); sum is 1 (+ underflow) or 2.
    want = np.array([[0.0, -mag, -2 * mag], [-math.log(2), -math.log(2), -2 * mag - math.log(2)]])
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, want.astype(dtype), rtol=1e-6, atol=1e-6)


def test_exp_overflow_range_is_handled(be, dtype):
    # exp(100) overflows float32, exp(800) overflows float64: a naive
    # softmax returns inf/inf = NaN there.
    big = 100.0 if dtype == np.float32 else 800.0
    x = np.array([[big, big - 1.0]], dtype)
    y = be.softmax(x)
    e = math.exp(-1.0)
    np.testing.assert_allclose(y, [[1 / (1 + e), e / (1 + e)]], rtol=1e-6)
    np.testing.assert_allclose(be.log_softmax(x), [[-math.log1p(e), -1 - math.log1p(e)]], rtol=1e-6)


def test_softmax_cross_entropy_huge_logits_sparse(be, dtype):
    z = np.array([[1e4, -1e4], [1e4, -1e4]], dtype)
    labels = np.array([1, 0])
    # row 0: logsumexp = 1e4, target logit -1e4 -> 2e4; row 1: 0. Mean 1e4.
    assert be.softmax_cross_entropy(z, labels) == pytest.approx(1e4, rel=1e-6)
    g = be.softmax_cross_entropy_backward(z, labels)
    # (softmax - onehot) / n = ([1, 0] - [0, 1]) / 2 and ([1, 0] - [1, 0]) / 2.
    np.testing.assert_allclose(g, [[0.5, -0.5], [0.0, 0.0]], atol=1e-7)


def test_softmax_cross_entropy_log_of_zero_probability(be, dtype):
    # softmax([1e4, -1e4]) = [1, 0] exactly in floating point; a target of 0
    # on the zero probability must contribute 0, not 0 * log(0) = NaN.
    z = np.array([[1e4, -1e4]], dtype)
    assert be.softmax_cross_entropy(z, np.array([[1.0, 0.0]], dtype)) == pytest.approx(0.0, abs=1e-6)
    # half the mass on the zero-probability class: 0.5 * 2e4.
    assert be.softmax_cross_entropy(z, np.array([[0.5, 0.5]], dtype)) == pytest.approx(1e4, rel=1e-6)
    g = be.softmax_cross_entropy_backward(z, np.array([[0.5, 0.5]], dtype))
    np.testing.assert_allclose(g, [[0.5, -0.5]], atol=1e-7)


# ----------------------------------------------------------------------------- sigmoid family
def test_sigmoid_saturates_without_overflow(be, dtype):
    x = np.array([1000.0, -1000.0, 40.0, -40.0, 0.0], dtype)
    y = be.sigmoid(x)
    assert np.all(np.isfinite(y))
    # 1/(1 + e^-1000) = 1 and e^-1000/(1 + e^-1000) = 0 in floating point;
    # sigmoid(-40) = e^-40 / (1 + e^-40) = 4.248354255291589e-18 (no cancellation).
    np.testing.assert_allclose(y[[0, 1, 4]], [1.0, 0.0, 0.5], atol=0)
    np.testing.assert_allclose(y[3], 4.248354255291589e-18, rtol=1e-5)
    np.testing.assert_allclose(y[2], 1.0, atol=1e-7)
    # the gradient from the saturated output is exactly 0, never NaN
    np.testing.assert_array_equal(be.sigmoid_backward(np.ones(2, dtype), y[:2]), [0.0, 0.0])


def test_tanh_and_gelu_at_plus_minus_1000(be, dtype):
    x = np.array([1000.0, -1000.0], dtype)
    np.testing.assert_array_equal(be.tanh(x), [1.0, -1.0])
    # gelu(x) = x * sigmoid(2u): 1000 * 1 and -1000 * 0.
    np.testing.assert_array_equal(be.gelu(x), [1000.0, 0.0])
    # d gelu/dx -> 1 for x -> +inf, 0 for x -> -inf.
    np.testing.assert_allclose(be.gelu_backward(np.ones(2, dtype), x), [1.0, 0.0], atol=0)


@pytest.mark.parametrize("z, t, loss", [
    (1000.0, 0.0, 1000.0),   # max(z,0) - z t + log1p(e^-|z|) = 1000
    (-1000.0, 1.0, 1000.0),  # 0 + 1000 + 0
    (1000.0, 1.0, 0.0),      # 1000 - 1000 + 0
    (-1000.0, 0.0, 0.0),
    (0.0, 1.0, math.log(2.0)),
])
def test_binary_cross_entropy_at_extreme_logits(be, dtype, z, t, loss):
    zz = np.full((2, 3), z, dtype)
    tt = np.full((2, 3), t, dtype)
    assert be.binary_cross_entropy(zz, tt) == pytest.approx(loss, rel=1e-6, abs=1e-7)
    g = be.binary_cross_entropy_backward(zz, tt)
    # (sigmoid(z) - t) / size, sigmoid(+-1000) = 1 / 0 exactly
    sig = 1.0 if z > 0 else (0.0 if z < 0 else 0.5)
    np.testing.assert_allclose(g, np.full((2, 3), (sig - t) / 6), rtol=1e-6, atol=0)


def test_dense_forward_softmax_of_huge_preactivation(be, dtype):
    x = np.array([[1.0]], dtype)
    w = np.array([[1e4, -1e4, 0.0]], dtype)
    y = be.dense_forward(x, w, None, "softmax")
    np.testing.assert_allclose(y, [[1.0, 0.0, 0.0]], atol=0)


# ----------------------------------------------------------------------------- Keras loss objects
def test_categorical_crossentropy_of_zero_probability_is_clipped():
    # Keras clips probabilities to [1e-7, 1 - 1e-7]: -log(1e-7) = 16.118...
    t = np.array([[0.0, 1.0]], np.float32)
    p = np.array([[1.0, 0.0]], np.float32)
    loss = bprop.losses.CategoricalCrossentropy()(t, p)
    assert loss == pytest.approx(-math.log(1e-7), rel=1e-4)


def test_binary_crossentropy_of_zero_probability_is_clipped():
    t = np.array([[1.0, 0.0]], np.float32)
    p = np.array([[0.0, 1.0]], np.float32)
    loss = bprop.losses.BinaryCrossentropy()(t, p)
    assert math.isfinite(loss) and loss == pytest.approx(-math.log(1e-7), rel=1e-3)


# ----------------------------------------------------------------------------- NaN during fit
def _small_model(seed=0):
    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([bprop.layers.Input((4,)), bprop.layers.Dense(3, activation="relu"),
                              bprop.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=bprop.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_nan_weight_stops_fit_naming_epoch_and_batch(capsys):
    model = _small_model()
    x = np.ones((8, 4), np.float32)
    y = np.array([0, 1] * 4)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)  # builds and trains normally
    weights = model.get_weights()
    weights[0] = weights[0].copy()
    weights[0][0, 0] = np.nan
    model.set_weights(weights)
    capsys.readouterr()
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, shuffle=False)
    out = capsys.readouterr().out
    assert "Epoch 1/3" in out and "batch 0" in out and "invalid loss" in out
    assert len(history.history["loss"]) == 1  # stopped in the first epoch
    assert model.stop_training
    # no update was applied with the NaN gradients: the other weights are untouched
    after = model.get_weights()
    for i in range(1, len(after)):
        np.testing.assert_array_equal(after[i], weights[i])


def test_nan_in_inputs_is_refused_or_stops_fit(capsys):
    model = _small_model()
    x = np.ones((8, 4), np.float32)
    x[5, 2] = np.nan
    y = np.array([0, 1] * 4)
    try:
        model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    except ValueError as e:  # refused up front: the message names the argument
        assert "x" in str(e) and ("nan" in str(e).lower() or "finite" in str(e).lower())
        return
    out = capsys.readouterr().out
    # sample 5 is in batch 1 of epoch 1
    assert "Epoch 1/2" in out and "batch 1" in out
