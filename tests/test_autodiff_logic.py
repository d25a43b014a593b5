"""Comparisons, logical ops and ``where`` (``bprop/autodiff/logic.py``):
values against NumPy, bool results, dtype rules and errors as TensorFlow."""
from __future__ import annotations

import numpy as np
import pytest

import bprop as tf

X = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])


@pytest.mark.parametrize("name, ref", [
    ("equal", np.equal), ("not_equal", np.not_equal), ("greater", np.greater),
    ("greater_equal", np.greater_equal), ("less", np.less), ("less_equal", np.less_equal),
])
def test_comparisons_against_numpy(name, ref):
    fn = getattr(tf, name)
    assert getattr(tf.math, name) is fn
    for x, y in ((tf.constant(X), 2.0), (tf.constant(X), tf.constant(X[::-1])),
                 (tf.constant([1, 2, 3]), 2), (tf.constant(X), np.array([2.0, 2.0, 2.0]))):
        got = fn(x, y)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got.numpy(), ref(np.asarray(x), np.asarray(y)))


def test_comparison_operators_give_bool_tensors():
    t = tf.constant([1, 2, 3])
    for got, want in ((t < 2, [True, False, False]), (t <= 2, [True, True, False]),
                      (t > 2, [False, False, True]), (t >= 2, [False, True, True])):
        assert isinstance(got, tf.Tensor) and got.dtype == np.bool_
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name, ref", [
    ("logical_and", np.logical_and), ("logical_or", np.logical_or),
    ("logical_xor", np.logical_xor),
])
def test_logical_ops(name, ref):
    a, b = [True, True, False, False], [True, False, True, False]
    got = getattr(tf.math, name)(a, b)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, ref(a, b))
    np.testing.assert_array_equal(tf.logical_not(a), [False, False, True, True])


def test_logical_and_comparison_errors():
    with pytest.raises(TypeError, match="logical_and: x: expected a bool tensor, got dtype int32"):
        tf.logical_and(tf.constant([1]), tf.constant([1]))
    with pytest.raises(TypeError, match="less: x: expected a numeric tensor"):
        tf.less(tf.constant([True]), tf.constant([False]))
    with pytest.raises(TypeError, match="equal: x has dtype int32 but y has dtype float32"):
        tf.equal(tf.constant([1, 2]), tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"greater: x of shape \(2,\) and y of shape \(3,\)"):
        tf.greater(tf.constant([1, 2]), tf.constant([1, 2, 3]))


def test_where_coordinates():
    cond = np.array([[True, False], [False, True], [True, True]])
    got = tf.where(cond)
    assert got.dtype == np.int64 and got.shape == (4, 2)
    np.testing.assert_array_equal(got, [[0, 0], [1, 1], [2, 0], [2, 1]])
    np.testing.assert_array_equal(tf.where(tf.constant([1, 0, 2]) > 0), [[0], [2]])
    assert tf.where(np.zeros((2, 3), bool)).shape == (0, 2)


def test_where_picks_and_broadcasts():
    got = tf.where([True, False], [1, 2], [10, 20])
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [1, 20])
    got = tf.where([[True], [False]], [1, 2], 10)
    np.testing.assert_array_equal(got, [[1, 2], [10, 10]])
    assert tf.where([True, False], 1.0, 2).dtype == np.float32
    x = tf.constant(X)
    np.testing.assert_array_equal(tf.where(x > 1.5, x, 0.0), np.where(X > 1.5, X, 0.0))


def test_where_errors():
    with pytest.raises(TypeError, match="where: condition: expected a bool tensor, got dtype int32"):
        tf.where([1, 0], 1.0, 2.0)
    with pytest.raises(ValueError, match="where: x and y: expected both or neither, got only x"):
        tf.where([True], x=[1])
    with pytest.raises(ValueError, match=r"where: condition of shape \(2,\), x of shape \(3,\)"):
        tf.where([True, False], [1, 2, 3], 0)
    with pytest.raises(TypeError, match="where: x has dtype int32 but y has dtype float32"):
        tf.where([True], tf.constant([1]), tf.constant([1.0]))
