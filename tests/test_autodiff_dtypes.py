"""Tensor dtypes as TensorFlow 2 assigns them (``bprop/autodiff/dtypes.py``,
``tensor.py``): inference by ``constant``, implicit conversions in ops,
``cast``, integer tensors as constants to the tape, and the Tensor's Python
face (printing, ``==``, indexing, iteration).  Expected dtypes are written
by hand from TensorFlow's documented rules."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
import bprop as tf

I32, I64, F32, F64, B = (np.dtype(t) for t in (np.int32, np.int64, np.float32, np.float64,
                                               np.bool_))


# ------------------------------------------------------------------ constant
@pytest.mark.parametrize("value, dtype", [
    ([[1, 2]], I32),                      # Python ints -> int32
    (2 ** 40, I64),                       # ... int64 when they do not fit
    (1.5, F32),                           # Python floats -> float32
    ([1, 2.5], F32),                      # a mix of ints and floats -> float32
    (True, B),
    ([[True], [False]], B),
    (np.array([1, 2]), I64),              # NumPy keeps its dtype
    (np.array([1, 2], dtype=np.int32), I32),
    (np.float64(1.0), F64),
    (np.array([1.0], dtype=np.float32), F32),
    ([np.float64(1.0), np.float64(2.0)], F64),  # a list of typed values keeps their dtype
])
def test_constant_infers_dtypes_like_tensorflow(value, dtype):
    t = tf.constant(value)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(value))


def test_constant_with_dtype_converts_where_tensorflow_does():
    assert tf.constant([1, 2], dtype=tf.float32).dtype == F32
    assert tf.constant(True, dtype=tf.float32).numpy() == 1.0
    assert tf.constant([1, 2], dtype=tf.int64).dtype == I64
    # A NumPy array is cast (floats truncate towards zero).
    np.testing.assert_array_equal(tf.constant(np.array([1.5, -1.7]), dtype=tf.int32), [1, -1])
    for value, dtype, kind in ((1.5, tf.int32, "float"), (2.0, tf.int32, "float"),
                               (1, tf.bool, "int"), ([0.5], tf.bool, "float")):
        with pytest.raises(TypeError, match="value: cannot convert a value of dtype %s to %s"
                                            % (kind, np.dtype(dtype))):
            tf.constant(value, dtype=dtype)
    with pytest.raises(TypeError, match="value: expected dtype float32, got a Tensor of dtype int32"):
        tf.constant(tf.constant([1]), dtype=tf.float32)
    with pytest.raises(TypeError, match="value: expected dtype float32, got a Tensor of dtype int32"):
        tf.convert_to_tensor(tf.constant([1]), dtype=tf.float32)


def test_constant_shape_reshapes_or_fills():
    np.testing.assert_array_equal(tf.constant(0, shape=[2, 3]), np.zeros((2, 3)))
    assert tf.constant(0, shape=[2, 3]).dtype == I32
    np.testing.assert_array_equal(tf.constant([1, 2, 3, 4], shape=[2, 2]), [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match=r"shape: expected 3 elements"):
        tf.constant([1, 2, 3], shape=[2, 2])


def test_dtype_objects_and_as_dtype():
    assert (tf.float32, tf.float64, tf.int32, tf.int64, tf.bool) == \
        (np.float32, np.float64, np.int32, np.int64, np.bool_)
    assert tf.as_dtype("int32") == I32 and tf.as_dtype(float) == F32 and tf.as_dtype(bool) == B
    with pytest.raises(TypeError, match="dtype: expected a dtype, got Python's int"):
        tf.as_dtype(int)
    with pytest.raises(TypeError, match="dtype: expected one of float32, .*got complex128"):
        tf.constant([1], dtype=np.complex128)
    with pytest.raises(TypeError, match="dtype: expected one of .*got float16"):
        tf.zeros([2], dtype=np.float16)


# ------------------------------------------------------------------ ops
@pytest.mark.parametrize("fn, expected, dtype", [
    (lambda: tf.constant([1, 2]) * 2, [2, 4], I32),            # Python ints adapt
    (lambda: tf.constant([1, 2]) + True, [2, 3], I32),          # so do bools
    (lambda: tf.constant([1.0, 2.0]) + 1, [2.0, 3.0], F32),
    (lambda: tf.constant([1, 2]) + np.array([1, 2]), [2, 4], I32),  # int arrays adapt
    (lambda: tf.constant([1, 2], dtype=tf.int64) + np.array([1, 2], np.int32), [2, 4], I64),
    (lambda: tf.constant([1, 2]) / 2, [0.5, 1.0], F64),         # truediv of int32 -> float64
    (lambda: tf.constant([1, 2], dtype=np.int8) / tf.constant([2, 2], dtype=np.int8),
     [0.5, 1.0], F32),                                          # ... of int8 -> float32
    (lambda: tf.constant([-3, 7]) // 2, [-2, 3], I32),          # floor division
    (lambda: tf.constant([-3, 7]) % 3, [0, 1], I32),            # floormod: the sign of y
    (lambda: tf.constant([-3.5, 7.0]) // 2, [-2.0, 3.0], F32),
    (lambda: tf.constant([-3.5, 7.0]) % 2, [0.5, 1.0], F32),
    (lambda: tf.add(1, 2), 3, I32),                             # no tensor: inferred
    (lambda: tf.square(3), 9, I32),
    (lambda: tf.reduce_sum([1, 2]), 3, I32),
    (lambda: tf.reduce_sum(np.array([1, 2])), 3, I64),
    (lambda: tf.sqrt(4), 2.0, F32),                 # float-only ops take Python ints as float32
    (lambda: tf.pow(tf.constant([2]), 3), [8], I32),
    (lambda: tf.abs(tf.constant([-4])), [4], I32),
    (lambda: -tf.constant([1]), [-1], I32),
    (lambda: tf.maximum(tf.constant([1, 5]), 3), [3, 5], I32),
    (lambda: tf.clip_by_value(tf.constant([1, 5, 9]), 2, 8), [2, 5, 8], I32),
    (lambda: tf.matmul([[1, 2]], [[3], [4]]), [[11]], I32),
    (lambda: tf.constant([[1, 2]]) @ tf.constant([[3], [4]]), [[11]], I32),
    (lambda: tf.nn.relu(tf.constant([-4, 4])), [0, 4], I32),
    (lambda: tf.reduce_sum(tf.constant([2 ** 30] * 3)), -(2 ** 30), I32),  # wraps as int32
    (lambda: tf.transpose([[1, 2]]), [[1], [2]], I32),
    (lambda: tf.reshape([True, False], [2, 1]), [[True], [False]], B),
    (lambda: tf.concat([[1, 2], [3]], axis=0), [1, 2, 3], I32),
    (lambda: tf.constant([3, 5]) & tf.constant([1, 1]), [1, 1], I32),    # bitwise on ints
    (lambda: tf.constant([True, False]) | tf.constant([False, False]), [True, False], B),
    (lambda: ~tf.constant([True, False]), [False, True], B),
    (lambda: ~tf.constant([3]), [-4], I32),
])
def test_op_result_dtypes(fn, expected, dtype):
    got = fn()
    assert isinstance(got, tf.Tensor) and got.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), expected)


@pytest.mark.parametrize("fn, message", [
    (lambda: tf.constant([1]) + tf.constant([1.0]),
     "add: x has dtype int32 but y has dtype float32; mixing dtypes is an error"),
    (lambda: tf.concat([tf.constant([1]), tf.constant([1.0])], axis=0),
     r"concat: values\[0\] has dtype int32 but values\[1\] has dtype float32"),
    (lambda: tf.constant([1, 2]) * 2.0, "multiply: y: cannot convert a value of dtype float to int32"),
    (lambda: tf.constant([1, 2]) > 1.5, "greater: y: cannot convert a value of dtype float to int32"),
    (lambda: tf.clip_by_value(tf.constant([1, 5]), 2.5, 8),
     "clip_by_value: clip_value_min: cannot convert a value of dtype float to int32"),
    (lambda: tf.constant([1, 2]) + np.array([1.0, 2.0]), "add: x has dtype int32 but y has dtype float64"),
    (lambda: tf.sqrt(tf.constant([4])), r"sqrt: x: expected a float tensor \(float32 or float64\), got dtype int32"),
    (lambda: tf.exp(tf.constant([4])), "exp: x: expected a float tensor"),
    (lambda: tf.nn.softmax(tf.constant([[1, 2]])), "softmax: logits: expected a float tensor"),
    (lambda: tf.math.sigmoid(tf.constant([1])), "sigmoid: features: expected a float tensor"),
    (lambda: tf.add(tf.constant([True]), tf.constant([True])),
     r"add: x: expected a numeric tensor \(float or integer\), got dtype bool"),
    (lambda: -tf.constant([True]), "negative: x: expected a numeric tensor"),
    (lambda: tf.constant([1.5]) & tf.constant([1.5]), "and: x: expected a bool or integer tensor"),
])
def test_mixing_dtypes_is_a_type_error_naming_the_arguments(fn, message):
    with pytest.raises(TypeError, match=message):
        fn()


def test_integer_errors_name_the_argument():
    with pytest.raises(ValueError, match="pow: y: integers to negative integer powers"):
        tf.pow(tf.constant([2]), -1)
    with pytest.raises(ZeroDivisionError, match="floordiv: y: integer division by zero"):
        tf.constant([1]) // 0
    with pytest.raises(ZeroDivisionError, match="floormod: y: integer division by zero"):
        tf.constant([1]) % tf.constant([0])


# ------------------------------------------------------------------ cast
def test_cast_between_all_dtypes():
    f = tf.constant([1.7, -1.7, 2.5, 0.0])
    i = tf.cast(f, tf.int32)
    assert i.dtype == I32
    np.testing.assert_array_equal(i, [1, -1, 2, 0])  # truncation towards zero
    b = tf.cast(f, tf.bool)
    assert b.dtype == B
    np.testing.assert_array_equal(b, [True, True, True, False])
    np.testing.assert_array_equal(tf.cast([True, False], tf.float32), [1.0, 0.0])
    np.testing.assert_array_equal(tf.cast(tf.constant([3, 4]), "float64"), [3.0, 4.0])
    assert tf.cast(tf.constant([3, 4]), "float64").dtype == F64
    assert tf.cast(tf.constant([3]), tf.int64).dtype == I64
    with pytest.raises(TypeError, match="dtype: expected a dtype"):
        tf.cast(f, "floaty")


# ------------------------------------------------------------------ gradients
def test_integer_tensors_are_constants_to_the_tape():
    x = tf.constant([1, 2, 3])
    w = tf.Variable([0.5, 1.5, 2.5])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)  # allowed, does nothing (TensorFlow warns)
        y = tf.reduce_sum(tf.cast(x, tf.float32) * w)
        z = tf.reduce_sum(tf.cast(tf.cast(w, tf.int32), tf.float32))  # through an int: no gradient
    assert tape.gradient(y, x) is None
    np.testing.assert_array_equal(tape.gradient(y, w), [1.0, 2.0, 3.0])
    assert tape.gradient(z, w) is None
    np.testing.assert_array_equal(tape.gradient(z, w, unconnected_gradients="zero"), [0, 0, 0])


def test_gradient_through_int_indexing_and_where():
    w = tf.Variable([1.0, -2.0, 3.0])
    with tf.GradientTape() as tape:
        i = tf.argmax(w)  # an int64 index: no gradient of its own
        y = w[i] * 2.0 + tf.reduce_sum(tf.where(w > 0, w, tf.zeros_like(w)))
    np.testing.assert_array_equal(tape.gradient(y, w), [1.0, 0.0, 3.0])


def test_layers_and_losses_accept_integer_tensors():
    layer = bprop.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")
    y = layer(tf.constant([[1, 2]]))
    assert y.dtype == F32
    np.testing.assert_array_equal(y.numpy(), [[3.0, 3.0]])
    loss = bprop.autodiff.mean_squared_error(tf.constant([[1, 0]]), tf.constant([[0.5, 0.5]]))
    assert loss.dtype == F32 and float(loss) == pytest.approx(0.25)


# ------------------------------------------------------------------ the Tensor's Python face
def test_printing_matches_tensorflow():
    assert str(tf.constant([[1, 2]])) == "tf.Tensor([[1 2]], shape=(1, 2), dtype=int32)"
    assert str(tf.constant([[1, 2], [3, 4]])) == \
        "tf.Tensor(\n[[1 2]\n [3 4]], shape=(2, 2), dtype=int32)"
    assert str(tf.constant([1.5, 2.0])) == "tf.Tensor([1.5 2. ], shape=(2,), dtype=float32)"
    assert str(tf.constant(2.5)) == "tf.Tensor(2.5, shape=(), dtype=float32)"
    assert str(tf.constant([True, False])) == "tf.Tensor([ True False], shape=(2,), dtype=bool)"
    assert repr(tf.constant([[1, 2]])) == \
        "<tf.Tensor: shape=(1, 2), dtype=int32, numpy=array([[1, 2]], dtype=int32)>"
    assert repr(tf.constant(2.5)) == "<tf.Tensor: shape=(), dtype=float32, numpy=2.5>"
    assert repr(tf.constant(3)) == "<tf.Tensor: shape=(), dtype=int32, numpy=3>"
    assert "{:.2f}".format(tf.constant(2.5)) == "2.50"
    assert "{}".format(tf.constant([2.5])) == "[2.5]"


def test_tensor_protocol():
    t = tf.constant([[1, 2], [3, 4]])
    assert t.shape == (2, 2) and t.dtype == I32 and len(t) == 2
    assert isinstance(t.numpy(), np.ndarray) and np.asarray(t).dtype == I32
    np.testing.assert_array_equal(t[0], [1, 2])
    np.testing.assert_array_equal(t[:, 1], [2, 4])
    assert t[1, 0].dtype == I32 and int(t[1, 0]) == 3
    np.testing.assert_array_equal(t[tf.constant(1)], [3, 4])
    np.testing.assert_array_equal(tf.constant([1, 2])[tf.constant([True, False])], [1])
    assert [r.numpy().tolist() for r in t] == [[1, 2], [3, 4]]
    assert [10, 20, 30][tf.constant(1)] == 20  # __index__
    assert isinstance(tf.constant(3).numpy(), np.int32)
    with pytest.raises(TypeError, match="only integer scalar tensors"):
        [1, 2][tf.constant(1.0)]
    with pytest.raises(TypeError, match="len"):
        len(tf.constant(1))


def test_equality_is_elementwise_and_tensors_are_unhashable():
    t = tf.constant([1, 2])
    eq = t == 2
    assert isinstance(eq, tf.Tensor) and eq.dtype == B
    np.testing.assert_array_equal(eq, [False, True])
    np.testing.assert_array_equal(t != 2, [True, False])
    np.testing.assert_array_equal(2 == t, [False, True])
    assert (t == None) is False and (t != None) is True  # noqa: E711 - as TensorFlow
    assert bool(t == tf.constant([1, 2, 3])) is False     # shapes that do not broadcast
    with pytest.raises(TypeError, match="unhashable"):
        hash(t)
    v = tf.Variable(1.0)
    assert {v: 1}[v] == 1 and v == v  # Variables keep identity equality
    np.testing.assert_array_equal(v < 2.0, True)


def test_zeros_ones_fill_like_follow_the_input_dtype():
    assert tf.zeros_like([1, 2]).dtype == I32
    assert tf.zeros_like(np.array([1, 2])).dtype == I64
    assert tf.ones_like(tf.constant([1.0]), dtype=tf.int32).dtype == I32
    assert tf.ones([2], dtype=tf.bool).numpy().tolist() == [True, True]
    assert tf.zeros([2], dtype=tf.int64).dtype == I64


def test_python_floats_reach_float64_without_rounding_to_float32():
    assert tf.constant(0.1, dtype=tf.float64).numpy() == 0.1
    assert (tf.constant([1.0], dtype=tf.float64) + 0.1).numpy()[0] == 1.0 + 0.1
    assert (tf.constant([1.0], dtype=tf.float64) % 0.7).numpy()[0] == 1.0 % 0.7
    assert tf.range(0, 0.35, 0.1, dtype=tf.float64).numpy()[3] == 0.1 * 3
    assert tf.one_hot([0], 2, on_value=0.1, off_value=0.2, dtype=tf.float64).numpy()[0, 0] == 0.1
    assert tf.convert_to_tensor(0.1, dtype_hint=tf.float64).numpy() == 0.1
    assert tf.convert_to_tensor(0.1).dtype == F32
    # ...while a cast converts the value first (float32) and then casts, as tf.cast does.
    assert tf.cast(0.1, tf.float64).numpy() == float(np.float32(0.1))
