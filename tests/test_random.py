"""``bprop.random`` (tf.random): shapes, dtypes, ranges, distributions (by
moments on many samples), seeding through bprop's global generator."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
import bprop as tf


def test_set_seed_repeats_every_draw_and_seeds_bprops_generator():
    tf.random.set_seed(3)
    a = (tf.random.normal([3]), tf.random.uniform([2]), tf.random.shuffle(tf.range(6)),
         bprop.utils.get_rng().random())
    tf.random.set_seed(3)
    b = (tf.random.normal([3]), tf.random.uniform([2]), tf.random.shuffle(tf.range(6)),
         bprop.utils.get_rng().random())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    # The same generator as bprop.utils.set_random_seed: model init follows too.
    bprop.utils.set_random_seed(3)
    np.testing.assert_array_equal(tf.random.normal([3]), a[0])
    tf.random.set_seed(3)
    w1 = bprop.initializers.get("glorot_uniform")((3, 2), np.float32)
    tf.random.set_seed(3)
    w2 = bprop.initializers.get("glorot_uniform")((3, 2), np.float32)
    np.testing.assert_array_equal(w1, w2)
    assert not np.array_equal(tf.random.normal([3]), tf.random.normal([3]))


def test_op_seeds_give_a_repeatable_stream_per_seed():
    tf.random.set_seed(5)
    a1, a2 = tf.random.uniform([4], seed=1), tf.random.uniform([4], seed=1)
    assert not np.array_equal(a1, a2)  # a stream, not one fixed draw
    tf.random.set_seed(5)
    np.testing.assert_array_equal(tf.random.uniform([4], seed=1), a1)
    np.testing.assert_array_equal(tf.random.uniform([4], seed=1), a2)
    tf.random.set_seed(6)
    assert not np.array_equal(tf.random.uniform([4], seed=1), a1)  # the global seed matters
    with pytest.raises(TypeError, match="seed: expected an integer, got 1.5"):
        tf.random.normal([2], seed=1.5)
    with pytest.raises(ValueError, match="seed: expected a non-negative integer, got -1"):
        tf.random.set_seed(-1)


def test_normal_moments_and_dtypes():
    tf.random.set_seed(0)
    x = tf.random.normal([200, 100], mean=2.0, stddev=3.0)
    assert x.dtype == np.float32 and x.shape == (200, 100)
    assert abs(float(np.mean(x)) - 2.0) < 0.05 and abs(float(np.std(x)) - 3.0) < 0.05
    assert tf.random.normal([2], dtype=tf.float64).dtype == np.float64
    m = tf.random.normal([20000, 3], mean=[0.0, 10.0, -10.0], stddev=0.1)
    np.testing.assert_allclose(np.mean(m, axis=0), [0.0, 10.0, -10.0], atol=0.01)
    with pytest.raises(TypeError, match="normal: dtype: expected float32 or float64, got int32"):
        tf.random.normal([2], dtype=tf.int32)
    with pytest.raises(ValueError, match=r"normal: mean: shape \(2,\) does not broadcast"):
        tf.random.normal([3], mean=[0.0, 1.0])


def test_truncated_normal_stays_within_two_stddevs():
    tf.random.set_seed(0)
    x = np.asarray(tf.random.truncated_normal([50000], mean=1.0, stddev=2.0))
    assert x.min() >= -3.0 and x.max() <= 5.0
    # The mean of N(0,1) truncated to [-2, 2] is 0; its variance 1 - 4 phi(2) / (2 Phi(2) - 1).
    var = 1 - 4 * np.exp(-2) / np.sqrt(2 * np.pi) / 0.9544997361036416
    assert abs(x.mean() - 1.0) < 0.03 and abs(x.var() / 4 - var) < 0.02


def test_uniform_floats_and_integers():
    tf.random.set_seed(0)
    u = tf.random.uniform([10000])
    assert u.dtype == np.float32 and 0.0 <= float(tf.reduce_min(u)) and float(tf.reduce_max(u)) < 1
    assert abs(float(np.mean(u)) - 0.5) < 0.02
    v = tf.random.uniform([10000], minval=-2, maxval=3, dtype=tf.float64)
    assert v.dtype == np.float64 and -2 <= np.min(v) and np.max(v) < 3
    k = tf.random.uniform([10000], 0, 10, dtype=tf.int32)
    assert k.dtype == np.int32
    assert sorted(np.unique(k).tolist()) == list(range(10))  # all of [0, 10), never 10
    assert tf.random.uniform([5], 3, 4, dtype=tf.int64).numpy().tolist() == [3] * 5


def test_uniform_errors():
    with pytest.raises(ValueError, match="uniform: maxval: required for the integer dtype int32"):
        tf.random.uniform([2], dtype=tf.int32)
    with pytest.raises(ValueError, match="uniform: maxval: expected a value > minval"):
        tf.random.uniform([2], 5, 1, dtype=tf.int32)
    with pytest.raises(TypeError, match="uniform: minval: expected an integer scalar"):
        tf.random.uniform([2], 1.0, 3, dtype=tf.int32)
    with pytest.raises(TypeError, match="uniform: dtype: expected float32, float64, int32 or int64"):
        tf.random.uniform([2], dtype=tf.bool)


def test_shuffle_permutes_the_first_axis():
    tf.random.set_seed(1)
    x = tf.constant(np.arange(20).reshape(10, 2))
    y = tf.random.shuffle(x)
    assert y.dtype == x.dtype and y.shape == x.shape
    rows = sorted(map(tuple, np.asarray(y).tolist()))
    assert rows == sorted(map(tuple, np.asarray(x).tolist()))  # the same rows, kept whole
    assert not np.array_equal(y, x)
    np.testing.assert_array_equal(tf.random.shuffle(tf.constant(1)), 1)
