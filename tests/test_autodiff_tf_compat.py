"""The TensorFlow-style ops side by side with TensorFlow itself: the same
program run with ``m = bprop`` and ``m = tensorflow`` gives the same dtype,
shape and values (and gradients).  Skipped where TensorFlow is not
installed (it is never a dependency of bprop)."""
from __future__ import annotations

import numpy as np
import pytest

import bprop

tf = pytest.importorskip("tensorflow")

X = np.array([[0.5, -1.5, 2.0], [3.0, 0.25, -0.75]], dtype=np.float32)
M = np.array([[1, 5, 3], [7, 2, 7]], dtype=np.int32)

PROGRAMS = {
    "constant_int": lambda m: m.constant([[1, 2]]),
    "constant_float": lambda m: m.constant([1, 2.5]),
    "constant_bool": lambda m: m.constant([True, False]),
    "constant_np_int64": lambda m: m.constant(np.array([1, 2])),
    "constant_big_int": lambda m: m.constant(2 ** 40),
    "constant_dtype": lambda m: m.constant([1, 2], dtype=m.float64),
    "constant_shape": lambda m: m.constant(7, shape=[2, 3]),
    "int_times_python_int": lambda m: m.constant(M) * 2,
    "int_plus_bool": lambda m: m.constant(M) + True,
    "int_truediv": lambda m: m.constant(M) / 2,
    "int8_truediv": lambda m: m.constant([1, 2], dtype=m.int8) / m.constant([2, 4], dtype=m.int8),
    "int_floordiv": lambda m: m.constant([-3, 7, 8]) // 3,
    "int_floormod": lambda m: m.constant([-3, 7, 8]) % 3,
    "float_floormod": lambda m: m.constant(X) % 0.7,
    "add_python_ints": lambda m: m.add(1, 2),
    "square_python_int": lambda m: m.square(3),
    "reduce_sum_list": lambda m: m.reduce_sum([1, 2]),
    "reduce_sum_int_axis": lambda m: m.reduce_sum(m.constant(M), axis=1, keepdims=True),
    "reduce_mean_int": lambda m: m.reduce_mean(m.constant([[-7, 0, 2], [5, 6, 7]]), axis=1),
    "reduce_mean_float": lambda m: m.reduce_mean(m.constant(X), axis=0),
    "reduce_prod": lambda m: m.reduce_prod(m.constant(M), axis=0),
    "reduce_max_int": lambda m: m.reduce_max(m.constant(M)),
    "reduce_min_float": lambda m: m.reduce_min(m.constant(X), axis=-1),
    "reduce_any": lambda m: m.reduce_any(m.constant(M) > 5, axis=1),
    "reduce_all": lambda m: m.reduce_all(m.constant(M) > 0),
    "argmax": lambda m: m.argmax(m.constant(M)),
    "argmax_axis1": lambda m: m.argmax(m.constant(X), axis=1),
    "argmin_int32": lambda m: m.math.argmin(m.constant(M), axis=1, output_type=m.int32),
    "cast_to_int": lambda m: m.cast(m.constant([1.7, -1.7, 2.5]), m.int32),
    "cast_to_bool": lambda m: m.cast(m.constant([0.0, 0.5]), m.bool),
    "cast_bool_to_float": lambda m: m.cast(m.constant([True, False]), m.float32),
    "one_hot": lambda m: m.one_hot([0, 2, -1, 5], 3),
    "one_hot_on_off": lambda m: m.one_hot([0, 2], 3, on_value=5, off_value=-1),
    "one_hot_axis0": lambda m: m.one_hot([[0, 2]], 3, axis=0),
    "one_hot_dtype": lambda m: m.one_hot([1], 2, dtype=m.int64),
    "linspace": lambda m: m.linspace(10.0, 12.0, 3),
    "linspace_int": lambda m: m.linspace(1, 10, 4),
    "linspace_vector_axis1": lambda m: m.linspace([0.0, 1.0], [1.0, 3.0], 5, axis=1),
    "range": lambda m: m.range(5),
    "range_step": lambda m: m.range(1, 10, 2),
    "range_negative": lambda m: m.range(5, 0, -2),
    "range_float": lambda m: m.range(0, 1, 0.25),
    "range_dtype": lambda m: m.range(3, dtype=m.float64),
    "fill": lambda m: m.fill([2, 2], 7),
    "ones_int": lambda m: m.ones([2], dtype=m.int32),
    "zeros_like_list": lambda m: m.zeros_like([1, 2]),
    "ones_like_dtype": lambda m: m.ones_like(m.constant([1.0]), dtype=m.int32),
    "concat": lambda m: m.concat([[1, 2], [3]], axis=0),
    "concat_axis1": lambda m: m.concat([m.constant(X), m.constant(X)], axis=1),
    "stack": lambda m: m.stack([[1, 2], [3, 4]], axis=1),
    "stack_last": lambda m: m.stack([m.constant(X), m.constant(X)], axis=-1),
    "where_coords": lambda m: m.where([[True, False], [False, True]]),
    "where_pick": lambda m: m.where([True, False], [1, 2], [10, 20]),
    "where_broadcast": lambda m: m.where([[True], [False]], [1, 2], 10),
    "equal": lambda m: m.equal(m.constant(M), 7),
    "eq_operator": lambda m: m.constant(M) == 7,
    "ne_operator": lambda m: m.constant(M) != 7,
    "greater_equal": lambda m: m.greater_equal(m.constant(X), 0.5),
    "less": lambda m: m.math.less(m.constant(M), m.constant(M[::-1])),
    "logical_and": lambda m: m.logical_and([True, False, True], [True, True, False]),
    "logical_xor": lambda m: m.math.logical_xor([True, False], [True, True]),
    "logical_not": lambda m: m.logical_not([True, False]),
    "and_operator_int": lambda m: m.constant([3, 5]) & m.constant([1, 1]),
    "invert_bool": lambda m: ~m.constant([True, False]),
    "square_int": lambda m: m.square(m.constant(M)),
    "sqrt": lambda m: m.sqrt(m.constant(np.abs(X))),
    "exp": lambda m: m.exp(m.constant(X)),
    "log": lambda m: m.math.log(m.constant(np.abs(X))),
    "abs_int": lambda m: m.abs(m.constant(-M)),
    "maximum_int": lambda m: m.maximum(m.constant(M), 4),
    "minimum": lambda m: m.minimum(m.constant(X), 0.3),
    "pow_int": lambda m: m.pow(m.constant(M), 2),
    "clip_int": lambda m: m.clip_by_value(m.constant(M), 2, 6),
    "matmul_int": lambda m: m.matmul(m.constant(M), m.transpose(m.constant(M))),
    "matmul_float": lambda m: m.matmul(m.constant(X), m.constant(X), transpose_b=True),
    "reshape": lambda m: m.reshape(m.constant(M), [3, 2]),
    "expand_dims": lambda m: m.expand_dims(m.constant(M), 1),
    "squeeze": lambda m: m.squeeze(m.constant([[1], [2]])),
    "sigmoid": lambda m: m.math.sigmoid(m.constant(X)),
    "tanh": lambda m: m.math.tanh(m.constant(X)),
    "softplus": lambda m: m.math.softplus(m.constant(X * 40)),
    "relu_int": lambda m: m.nn.relu(m.constant(M - 4)),
    "softmax": lambda m: m.nn.softmax(m.constant(X)),
    "index_column": lambda m: m.constant(M)[:, 1],
    "index_row": lambda m: m.constant(M)[0],
    "index_bool_mask": lambda m: m.constant([1, 2, 3])[m.constant([True, False, True])],
    "negative_int": lambda m: -m.constant(M),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_same_result_as_tensorflow(name):
    program = PROGRAMS[name]
    got, want = program(bprop), program(tf)
    assert got.dtype.name == want.dtype.name
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64) if got.dtype.kind != "b"
                               else np.asarray(got), want.numpy(), rtol=2e-6, atol=1e-6)


def test_printing_as_tensorflow():
    for value in ([[1, 2]], [[1, 2], [3, 4]], [1.5, 2.0], 2.5, 3, [True, False]):
        assert str(bprop.constant(value)) == str(tf.constant(value))
        assert repr(bprop.constant(value)) == repr(tf.constant(value))


ERRORS = {
    "int_plus_float_tensor": lambda m: m.constant([1]) + m.constant([1.0]),
    "int_times_python_float": lambda m: m.constant([1, 2]) * 2.0,
    "sqrt_int": lambda m: m.sqrt(m.constant([4])),
    "softmax_int": lambda m: m.nn.softmax(m.constant([[1, 2]])),
    "add_bool": lambda m: m.add(m.constant([True]), m.constant([True])),
    "logical_and_int": lambda m: m.logical_and(m.constant([1]), m.constant([1])),
    "where_int_condition": lambda m: m.where([1, 0], 1.0, 2.0),
    "one_hot_float_indices": lambda m: m.one_hot([0.0, 2.0], 3),
    "constant_float_as_int": lambda m: m.constant(1.5, dtype=m.int32),
    "uniform_int_without_maxval": lambda m: m.random.uniform([2], dtype=m.int32),
    "normal_int": lambda m: m.random.normal([2], dtype=m.int32),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_refused_as_tensorflow_refuses(name):
    with pytest.raises(Exception):
        ERRORS[name](tf)
    with pytest.raises((TypeError, ValueError)):
        ERRORS[name](bprop)


GRADIENTS = {
    "where": lambda m, x: m.reduce_sum(m.where(x > 0, x * x, -x)),
    "reduce_prod": lambda m, x: m.reduce_sum(m.reduce_prod(x, axis=1)),
    "stack_reduce_max": lambda m, x: m.reduce_max(m.stack([x, 2 * x], axis=0)),
    "floormod": lambda m, x: m.reduce_sum(m.math.floormod(x, 0.7) * x),
    "softplus": lambda m, x: m.reduce_sum(m.math.softplus(x) ** 2),
    "linspace": lambda m, x: m.reduce_sum(m.linspace(x[0], x[1], 4) ** 2),
    "cast_float_to_int": lambda m, x: m.reduce_sum(m.cast(m.cast(x, m.int32), m.float64)),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_same_gradient_as_tensorflow(name):
    x = X.astype(np.float64)
    results = []
    for m, make in ((bprop, bprop.constant), (tf, tf.constant)):
        t = make(x)
        with m.GradientTape() as tape:
            tape.watch(t)
            y = GRADIENTS[name](m, t)
        g = tape.gradient(y, t)
        results.append(None if g is None else np.asarray(g))
    got, want = results
    if want is None:
        assert got is None
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
