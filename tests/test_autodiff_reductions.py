"""Reductions on integer and bool tensors, argmax/argmin, reduce_any/all
(``bprop/autodiff/reductions.py``); the float reductions' gradients are
checked in test_autodiff_ops.py."""
from __future__ import annotations

import numpy as np
import pytest

import bprop as tf

M = np.array([[1, 5, 3], [7, 2, 7]])


@pytest.mark.parametrize("name, ref", [
    ("reduce_sum", np.sum), ("reduce_prod", np.prod), ("reduce_max", np.max),
    ("reduce_min", np.min),
])
def test_integer_reductions_keep_the_dtype(name, ref):
    t = tf.constant(M)  # int64, from NumPy
    for axis in (None, 0, 1, [0, 1], -1):
        for keepdims in (False, True):
            got = getattr(tf, name)(t, axis=axis, keepdims=keepdims)
            assert got.dtype == np.int64
            want = ref(M, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)
            np.testing.assert_array_equal(got, want)
    assert getattr(tf, name)(tf.constant([[1, 2]]), axis=1).dtype == np.int32


def test_integer_mean_truncates_towards_zero_as_tensorflow():
    assert tf.reduce_mean(tf.constant([1, 2])).numpy() == 1
    assert tf.reduce_mean(tf.constant([-1, -2])).numpy() == -1
    assert tf.reduce_mean(tf.constant([-7, 0])).numpy() == -3
    got = tf.reduce_mean(tf.constant(M), axis=1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [3, 5])
    with pytest.raises(ValueError, match="reduce_mean: input_tensor: the integer mean of an empty"):
        tf.reduce_mean(tf.zeros([0], tf.int32))


def test_reduce_axis_may_be_an_integer_tensor():
    got = tf.reduce_sum(tf.ones([2, 3]), axis=tf.constant(1))
    np.testing.assert_array_equal(got, [3.0, 3.0])


def test_reduce_any_all():
    b = np.array([[True, False], [True, True]])
    for name, ref in (("reduce_any", np.any), ("reduce_all", np.all)):
        fn = getattr(tf, name)
        assert getattr(tf.math, name) is fn
        for axis in (None, 0, 1):
            got = fn(b, axis=axis, keepdims=True)
            assert got.dtype == np.bool_
            np.testing.assert_array_equal(got, ref(b, axis=axis, keepdims=True))
    with pytest.raises(TypeError, match="reduce_any: input_tensor: expected a bool tensor, got "
                                        "dtype int32"):
        tf.reduce_any(tf.constant([1, 0]))
    with pytest.raises(TypeError, match="reduce_sum: input_tensor: expected a numeric tensor"):
        tf.reduce_sum(tf.constant([True, False]))


def test_argmax_argmin():
    got = tf.argmax(M)  # axis defaults to 0, as TensorFlow
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [1, 0, 1])
    np.testing.assert_array_equal(tf.argmax(M, axis=1), [1, 0])  # first of a tie
    np.testing.assert_array_equal(tf.math.argmin(M, axis=-1), [0, 1])
    got = tf.math.argmax(M, axis=1, output_type=tf.int32)
    assert got.dtype == np.int32
    x = tf.constant(np.random.default_rng(0).standard_normal((4, 5)))
    np.testing.assert_array_equal(tf.argmax(x, 1), np.argmax(np.asarray(x), 1))
    assert int(tf.argmin([3, 1, 1])) == 1
    assert int(tf.argmax([True, False])) == 0
    with pytest.raises(TypeError, match="argmax: output_type: expected int32 or int64, got float32"):
        tf.argmax(M, output_type=tf.float32)
    with pytest.raises(ValueError, match="argmax: input: expected a tensor of rank >= 1"):
        tf.argmax(3)
    with pytest.raises(ValueError, match=r"argmin: axis: expected values in \[-2, 2\)"):
        tf.argmin(M, axis=2)
