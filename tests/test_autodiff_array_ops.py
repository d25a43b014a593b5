"""add_n, reduce_variance/std, norm, gather, boolean_mask, split, tile, sort, argsort,
top_k, l2_normalize, shape/size/rank: values against NumPy, gradients against float64
central differences, errors."""
import numpy as np
import pytest

import bprop as tf
from bprop.testing import numeric_gradient

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5))


def _grad(fn, x):
    """The tape's gradient of sum(fn(v) * w) against central differences."""
    w = RNG.standard_normal(np.shape(fn(tf.constant(x)).numpy()))
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(fn(v) * w)
    got = tape.gradient(out, v).numpy()
    numeric = numeric_gradient(lambda a: float(np.sum(fn(tf.constant(a)).numpy() * w)), x.copy())
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name,fn,want", [
    ("add_n", lambda t: tf.add_n([t, t * 2.0, t]), lambda a: 4 * a),
    ("variance", lambda t: tf.math.reduce_variance(t, axis=1), lambda a: a.var(axis=1)),
    ("std", lambda t: tf.math.reduce_std(t, axis=0, keepdims=True),
     lambda a: a.std(axis=0, keepdims=True)),
    ("norm", lambda t: tf.norm(t, axis=1), lambda a: np.linalg.norm(a, axis=1)),
    ("l1 norm", lambda t: tf.norm(t, ord=1), lambda a: np.abs(a).sum()),
    ("l2_normalize", lambda t: tf.nn.l2_normalize(t, axis=1),
     lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)),
    ("gather", lambda t: tf.gather(t, [3, 0, 3], axis=0), lambda a: a[[3, 0, 3]]),
    ("gather axis 1", lambda t: tf.gather(t, np.array([[4, 1], [1, 1]]), axis=1),
     lambda a: a[:, np.array([[4, 1], [1, 1]])]),
    ("boolean_mask", lambda t: tf.boolean_mask(t, np.array([True, False, True, True])),
     lambda a: a[[0, 2, 3]]),
    ("split", lambda t: tf.split(t, [2, -1, 1], axis=1)[1], lambda a: a[:, 2:4]),
    ("tile", lambda t: tf.tile(t, [2, 3]), lambda a: np.tile(a, (2, 3))),
    ("sort", lambda t: tf.sort(t, axis=1, direction="DESCENDING"),
     lambda a: -np.sort(-a, axis=1)),
    ("top_k", lambda t: tf.math.top_k(t, k=2)[0], lambda a: -np.sort(-a, axis=1)[:, :2]),
])
def test_values_and_gradients(name, fn, want):
    np.testing.assert_allclose(fn(tf.constant(X)).numpy(), want(X), rtol=1e-12, atol=1e-12)
    _grad(fn, X)


def test_integer_and_index_results():
    assert tf.argsort(tf.constant([3, 1, 2])).numpy().tolist() == [1, 2, 0]
    values, idx = tf.math.top_k(tf.constant([[1.0, 5.0, 3.0]]), k=2)
    assert idx.dtype == np.int32 and idx.numpy().tolist() == [[1, 2]]
    assert tf.shape(tf.zeros((2, 3))).numpy().tolist() == [2, 3]
    assert int(tf.size(tf.zeros((2, 3)))) == 6 and int(tf.rank(tf.zeros((2, 3)))) == 2
    parts = tf.split(tf.range(6), 3)
    assert [p.numpy().tolist() for p in parts] == [[0, 1], [2, 3], [4, 5]]
    assert tf.gather(tf.constant([[1, 2], [3, 4]]), [1]).numpy().tolist() == [[3, 4]]


@pytest.mark.parametrize("call,error,message", [
    (lambda: tf.add_n([]), ValueError, r"add_n: inputs: expected at least one tensor"),
    (lambda: tf.gather(tf.constant(X), [4]), ValueError,
     r"gather: indices: expected values in \[0, 4\) along axis 0, got 4"),
    (lambda: tf.gather(tf.constant(X), [0.5]), TypeError, r"gather: indices: expected integers"),
    (lambda: tf.split(tf.constant(X), 3), ValueError,
     r"split: num_or_size_splits: 3 does not divide the axis of length 4"),
    (lambda: tf.boolean_mask(tf.constant(X), [1, 0, 1, 1]), TypeError,
     r"boolean_mask: mask: expected bools"),
    (lambda: tf.tile(tf.constant(X), [2]), ValueError, r"tile: multiples: expected 2"),
    (lambda: tf.norm(tf.constant(X), ord=3), ValueError, r"norm: ord: expected"),
    (lambda: tf.math.top_k(tf.constant(X), k=9), ValueError, r"top_k: k: expected a value in"),
])
def test_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
