"""fill, range, linspace, one_hot (``bprop/autodiff/creation.py``): values
against NumPy, dtypes as TensorFlow assigns them (written by hand)."""
from __future__ import annotations

import numpy as np
import pytest

import bprop as tf


def test_fill():
    got = tf.fill([2, 2], 7)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.full((2, 2), 7))
    assert tf.fill([3], 7.5).dtype == np.float32
    assert tf.fill((2,), np.float64(1)).dtype == np.float64
    with pytest.raises(ValueError, match=r"value: expected a scalar, got shape \(2,\)"):
        tf.fill([2], [1, 2])
    with pytest.raises(ValueError, match="dims: expected non-negative ints"):
        tf.fill([-1], 0)


@pytest.mark.parametrize("args, kwargs, expected, dtype", [
    ((5,), {}, np.arange(5), np.int32),
    ((1, 10, 2), {}, np.arange(1, 10, 2), np.int32),
    ((5, 0, -2), {}, [5, 3, 1], np.int32),
    ((0, 1, 0.25), {}, [0.0, 0.25, 0.5, 0.75], np.float32),
    ((3.0,), {}, [0.0, 1.0, 2.0], np.float32),
    ((3,), {"dtype": tf.float64}, [0.0, 1.0, 2.0], np.float64),
    ((np.int64(3),), {}, [0, 1, 2], np.int64),
    ((3, 1), {}, [], np.int32),
])
def test_range(args, kwargs, expected, dtype):
    got = tf.range(*args, **kwargs)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.asarray(expected, dtype=dtype))


def test_range_errors():
    with pytest.raises(ValueError, match="range: delta: expected a non-zero step, got 0"):
        tf.range(0, 3, 0)
    with pytest.raises(ValueError, match=r"range: limit: expected a scalar"):
        tf.range([1, 2])
    with pytest.raises(TypeError, match="range: dtype: expected int32, int64, float32 or float64"):
        tf.range(3, dtype=tf.bool)


def test_linspace():
    got = tf.linspace(10.0, 12.0, 3)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [10.0, 11.0, 12.0])
    got = tf.linspace(1, 10, 4)
    assert got.dtype == np.float64  # integers give float64, as in TensorFlow 2
    np.testing.assert_allclose(got, np.linspace(1, 10, 4), rtol=1e-15)
    np.testing.assert_array_equal(tf.linspace(1.0, 10.0, 1), [1.0])
    np.testing.assert_array_equal(tf.linspace(2.0, 3.0, 0), np.zeros(0))
    got = tf.linspace([0.0, 1.0], [1.0, 3.0], 3)
    np.testing.assert_array_equal(got, [[0.0, 1.0], [0.5, 2.0], [1.0, 3.0]])
    got = tf.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1)
    np.testing.assert_array_equal(got, [[0.0, 0.5, 1.0], [1.0, 2.0, 3.0]])
    x = np.float32(0.1)
    assert tf.linspace(x, np.float32(0.7), 7).numpy()[-1] == np.float32(0.7)  # exactly stop
    with pytest.raises(ValueError, match="linspace: num: expected an int >= 0, got -1"):
        tf.linspace(0.0, 1.0, -1)


def test_one_hot():
    got = tf.one_hot([0, 2, -1, 5], 3)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    got = tf.one_hot([0, 2], 3, on_value=5, off_value=-1)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [[5, -1, -1], [-1, -1, 5]])
    assert tf.one_hot([0, 2], 3, dtype=tf.int64).dtype == np.int64
    assert tf.one_hot([0, 2], 3, on_value=np.float64(2)).dtype == np.float64
    np.testing.assert_array_equal(tf.one_hot([0, 2], 3, axis=0), [[1, 0], [0, 0], [0, 1]])
    labels = np.array([[0, 2], [1, 1]])
    np.testing.assert_array_equal(tf.one_hot(labels, 3), np.eye(3)[labels])
    np.testing.assert_array_equal(tf.one_hot(tf.constant([1]), 2), [[0, 1]])


def test_one_hot_errors():
    with pytest.raises(TypeError, match="one_hot: indices: expected integer class indices, "
                                        "got dtype float32"):
        tf.one_hot([0.0, 2.0], 3)
    with pytest.raises(TypeError, match="one_hot: on_value has dtype float32 but off_value has "
                                        "dtype int32"):
        tf.one_hot([0], 3, on_value=1.0, off_value=0)
    with pytest.raises(ValueError, match="one_hot: depth: expected an int >= 0, got -2"):
        tf.one_hot([0], -2)
    with pytest.raises(ValueError, match="one_hot: axis: expected -1 or a value in"):
        tf.one_hot([0], 3, axis=3)
