"""The merge layers on arrays and tensors: values against NumPy, gradients through
the tape against closed forms, shapes, configs, errors."""
import numpy as np
import pytest

import bprop as tf
from bprop import keras
from bprop.keras import layers

RNG = np.random.default_rng(0)
A = RNG.standard_normal((4, 3, 2))
B = RNG.standard_normal((4, 3, 2))
C = RNG.standard_normal((4, 3, 2))


@pytest.mark.parametrize("layer,want", [
    (layers.Add, lambda: A + B + C),
    (layers.Multiply, lambda: A * B * C),
    (layers.Average, lambda: (A + B + C) / 3),
    (layers.Maximum, lambda: np.maximum(np.maximum(A, B), C)),
    (layers.Minimum, lambda: np.minimum(np.minimum(A, B), C)),
])
def test_elementwise_merges_equal_numpy(layer, want):
    out = layer(dtype="float64")([A, B, C])
    assert isinstance(out, tf.Tensor)
    np.testing.assert_allclose(out.numpy(), want(), rtol=1e-14)


def test_subtract_takes_exactly_two():
    np.testing.assert_allclose(layers.Subtract(dtype="float64")([A, B]).numpy(), A - B)
    with pytest.raises(ValueError, match=r"layer 'subtract.*' \(Subtract\) expects exactly 2"):
        layers.Subtract()([A, B, C])


@pytest.mark.parametrize("axis,want_shape", [(-1, (4, 3, 6)), (1, (4, 9, 2)), (2, (4, 3, 6)),
                                             (-2, (4, 9, 2))])
def test_concatenate_along_each_axis(axis, want_shape):
    out = layers.Concatenate(axis=axis, dtype="float64")([A, B, C]).numpy()
    assert out.shape == want_shape
    np.testing.assert_array_equal(out, np.concatenate([A, B, C], axis=axis))


def test_gradients_through_the_tape_are_the_closed_forms():
    a, b = tf.Variable(A), tf.Variable(B)
    with tf.GradientTape() as tape:
        prod = layers.Multiply(dtype="float64")([a, b])
        cat = layers.Concatenate(axis=1, dtype="float64")([prod, a])
        loss = tf.reduce_sum(cat * 2.0)
    ga, gb = tape.gradient(loss, [a, b])
    np.testing.assert_allclose(ga, 2 * B + 2, rtol=1e-14)
    np.testing.assert_allclose(gb, 2 * A, rtol=1e-14)


def test_functional_forms_and_symbolic_shapes():
    x = keras.Input(shape=(3,))
    y = keras.Input(shape=(5,))
    assert layers.concatenate([x, y]).shape == (None, 8)
    assert layers.add([x, x]).shape == (None, 3)
    assert layers.maximum([x, x]).shape == (None, 3)
    with pytest.raises(ValueError, match=r"inputs: layer 'concatenate.*' \(Concatenate, "
                                         r"axis=1\) expects tensors equal but along that axis"):
        layers.Concatenate(axis=1)([keras.Input(shape=(2, 3)), keras.Input(shape=(2, 4))])


def test_configs_round_trip_and_bad_arguments():
    layer = layers.Concatenate(axis=2)
    clone = tf.layers.deserialize(tf.layers.serialize(layer))
    assert clone.get_config() == layer.get_config() and clone.axis == 2
    with pytest.raises(ValueError, match=r"axis: expected a non-zero int \(axis 0 is the batch\)"):
        layers.Concatenate(axis=0)
    with pytest.raises(ValueError, match=r"expects a list of at least 2 tensors"):
        layers.Add()([A])
