"""Initializers: distribution statistics, seeds, names, configs."""
from __future__ import annotations

import math

import numpy as np
import pytest

import bprop
from bprop import initializers, utils

SHAPE = (300, 500)  # fan_in 300, fan_out 500: 150k draws, statistics to ~1%
FAN_IN, FAN_OUT = SHAPE


def _uniform_checks(w, limit):
    assert np.abs(w).max() <= limit
    assert w.max() > 0.99 * limit and w.min() < -0.99 * limit
    assert abs(w.mean()) < 0.01 * limit
    # Var of U(-l, l) is l^2 / 3
    assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.02)


def _truncated_checks(w, stddev):
    # drawn as N(0, (stddev / 0.8796)^2) truncated at 2 of those: variance stddev^2
    bound = 2 * stddev / 0.87962566103423978
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.98 * bound
    assert abs(w.mean()) < 0.01 * stddev
    assert w.std() == pytest.approx(stddev, rel=0.02)


@pytest.mark.parametrize("name,limit", [
    ("glorot_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("he_uniform", math.sqrt(6 / FAN_IN)),
    ("lecun_uniform", math.sqrt(3 / FAN_IN)),
])
def test_uniform_variance_scaling(name, limit):
    utils.set_random_seed(0)
    w = initializers.get(name)(SHAPE, "float64")
    _uniform_checks(w, limit)


@pytest.mark.parametrize("name,stddev", [
    ("glorot_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("he_normal", math.sqrt(2 / FAN_IN)),
    ("lecun_normal", math.sqrt(1 / FAN_IN)),
])
def test_truncated_normal_variance_scaling(name, stddev):
    utils.set_random_seed(0)
    w = initializers.get(name)(SHAPE, "float64")
    _truncated_checks(w, stddev)


def test_random_normal_uniform_truncated_defaults():
    utils.set_random_seed(3)
    n = initializers.RandomNormal()(SHAPE)
    assert n.dtype == np.float32
    assert n.std() == pytest.approx(0.05, rel=0.02) and abs(n.mean()) < 1e-3
    u = initializers.RandomUniform()(SHAPE)
    assert u.min() >= -0.05 and u.max() <= 0.05 and u.var() == pytest.approx(0.05 ** 2 / 3,
                                                                            rel=0.02)
    t = initializers.TruncatedNormal(mean=1.0, stddev=0.1)(SHAPE, np.float64)
    assert t.min() >= 0.8 and t.max() <= 1.2 and t.mean() == pytest.approx(1.0, abs=1e-3)
    # truncation at 2 sigma leaves std * 0.8796
    assert t.std() == pytest.approx(0.1 * 0.87962566103423978, rel=0.02)


def test_scalar_and_empty_shapes_are_kept():
    assert initializers.GlorotUniform()((), "float64").shape == ()
    assert initializers.Constant(3.0)(()).shape == ()
    assert initializers.HeNormal()((0, 4)).shape == (0, 4)


def test_constant_initializers():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(initializers.get("ones")((4,), np.float64), np.ones(4))
    c = initializers.Constant(2.5)((2, 2), "float64")
    assert c.dtype == np.float64 and (c == 2.5).all()


def test_variance_scaling_modes_and_fans():
    assert initializers.compute_fans(()) == (1, 1)
    assert initializers.compute_fans((7,)) == (7, 7)
    assert initializers.compute_fans((3, 5)) == (3, 5)
    assert initializers.compute_fans((2, 3, 4, 5)) == (24, 30)
    utils.set_random_seed(1)
    w = initializers.VarianceScaling(scale=3.0, mode="fan_out", distribution="uniform")(SHAPE,
                                                                                      "float64")
    _uniform_checks(w, math.sqrt(3 * 3.0 / FAN_OUT))
    w = initializers.VarianceScaling(distribution="untruncated_normal")(SHAPE, "float64")
    assert w.std() == pytest.approx(math.sqrt(1 / FAN_IN), rel=0.02)
    assert np.abs(w).max() > 3 * math.sqrt(1 / FAN_IN)  # not truncated


def test_global_seed_reproduces_initialization():
    utils.set_random_seed(42)
    a = initializers.GlorotUniform()((20, 30))
    b = initializers.HeNormal()((20, 30))
    utils.set_random_seed(42)
    np.testing.assert_array_equal(initializers.GlorotUniform()((20, 30)), a)
    np.testing.assert_array_equal(initializers.HeNormal()((20, 30)), b)
    assert not np.array_equal(a, initializers.GlorotUniform()((20, 30)))


def test_own_seed_gives_same_values_each_call_and_ignores_global_rng():
    init = initializers.GlorotNormal(seed=5)
    utils.set_random_seed(1)
    a = init((10, 10))
    utils.set_random_seed(2)
    np.testing.assert_array_equal(init((10, 10)), a)
    assert not np.array_equal(initializers.GlorotNormal(seed=6)((10, 10)), a)


def test_get_and_config_round_trip():
    for name in ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal",
                 "random_normal", "random_uniform", "zeros", "ones", "constant",
                 "truncated_normal", "variance_scaling", "lecun_uniform"):
        init = initializers.get(name)
        clone = initializers.deserialize(initializers.serialize(init))
        assert type(clone) is type(init) and clone.get_config() == init.get_config()
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    cfg = {"class_name": "RandomNormal", "config": {"mean": 1.0, "stddev": 2.0, "seed": 3}}
    init = initializers.get(cfg)
    assert (init.mean, init.stddev, init.seed) == (1.0, 2.0, 3)
    inst = initializers.HeUniform()
    assert initializers.get(inst) is inst
    assert initializers.get(None) is None

    def fn(shape, dtype=None):
        return np.zeros(shape)
    assert initializers.get(fn) is fn


def test_errors():
    with pytest.raises(ValueError, match="initializer: unknown name 'glorot'; known: constant"):
        initializers.get("glorot")
    with pytest.raises(TypeError, match="dtype: expected float32 or float64, got int32"):
        initializers.Zeros()((2,), np.int32)
    with pytest.raises(ValueError, match=r"shape: expected a tuple of non-negative ints, "
                                         r"got \(2, -1\)"):
        initializers.Ones()((2, -1))
    with pytest.raises(ValueError, match="mode: expected one of fan_in, fan_out, fan_avg"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="seed: expected None or a non-negative int"):
        initializers.GlorotUniform(seed=-3)
    with pytest.raises(ValueError, match="maxval: expected >= minval"):
        initializers.RandomUniform(1.0, 0.0)
    with pytest.raises(TypeError, match="initializer: expected a name"):
        initializers.get(3.0)


def test_constant_takes_an_array_broadcast_to_the_shape():
    init = initializers.Constant([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(init((2, 3), "float64"), [[1, 2, 3], [1, 2, 3]])
    assert init((2, 3)).dtype == np.float32
    clone = initializers.deserialize(initializers.serialize(init))
    np.testing.assert_array_equal(clone((3,)), [1, 2, 3])
    layer = bprop.layers.Dense(3, bias_initializer=initializers.Constant(np.arange(3)),
                               input_shape=(2,))
    bprop.Sequential([layer])
    np.testing.assert_array_equal(layer.bias.numpy(), [0, 1, 2])
    with pytest.raises(ValueError, match=r"value: an array of shape \(3,\) cannot fill a weight "
                                         r"of shape \(2, 2\)"):
        init((2, 2))
    with pytest.raises(TypeError, match=r"value: expected a real scalar or an array of finite"):
        initializers.Constant([1.0, float("nan")])
