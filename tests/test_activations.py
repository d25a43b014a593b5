"""bprop.activations: lookup by name / callable / config, values, tape support."""
from __future__ import annotations

import math

import numpy as np
import pytest

import bprop
from bprop import activations


def test_get_resolves_names_aliases_callables_and_configs():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get("ReLU") is activations.relu
    assert activations.get("LeakyReLU") is activations.leaky_relu
    assert activations.get(activations.gelu) is activations.gelu
    assert activations.get({"class_name": "tanh"}) is activations.tanh

    def sigmoid(x):  # a foreign function named like a known activation (tf.nn style)
        return x

    assert activations.get(sigmoid) is activations.sigmoid
    assert activations.serialize(activations.softmax) == "softmax"
    assert activations.deserialize("softmax") is activations.softmax
    assert sorted(activations.ALL_NAMES) == sorted(
        ["linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax"])


def test_unknown_identifiers_raise():
    with pytest.raises(ValueError, match="activation: expected one of gelu, leaky_relu, linear, "
                                         "relu, sigmoid, softmax, tanh .*got 'swishy'"):
        activations.get("swishy")
    with pytest.raises(ValueError, match="is not a known activation"):
        activations.get(np.exp)
    with pytest.raises(TypeError, match="activation: expected a name, a function or None, "
                                        "got int"):
        activations.get(3)


def test_values_on_arrays_of_any_shape():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    np.testing.assert_allclose(activations.relu(x), [[0, 0, 0, 0.5, 3.0]])
    np.testing.assert_allclose(activations.leaky_relu(x), [[-0.4, -0.1, 0, 0.5, 3.0]])
    np.testing.assert_allclose(activations.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(activations.tanh(x), np.tanh(x), rtol=1e-12)
    c = math.sqrt(2 / math.pi)
    np.testing.assert_allclose(activations.gelu(x),
                               0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x ** 3))),
                               rtol=1e-12, atol=1e-15)
    cube = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 10
    s = activations.softmax(cube)
    assert s.shape == (2, 3, 4)
    e = np.exp(cube)
    np.testing.assert_allclose(s, e / e.sum(axis=-1, keepdims=True), rtol=1e-12)
    assert activations.softmax(np.array([1000.0, 1000.0])).tolist() == [0.5, 0.5]
    lin = activations.linear(x)
    np.testing.assert_array_equal(lin, x)
    assert lin is not x
    assert activations.relu([1, -1]).dtype == np.float32  # ints become the default float


def test_activation_functions_on_tensors_are_differentiable():
    v = bprop.Variable(np.array([[-1.0, 0.5, 2.0]]), dtype="float64")
    with bprop.GradientTape() as tape:
        y = activations.sigmoid(v)
        loss = bprop.reduce_sum(y)
    assert isinstance(y, bprop.Tensor)
    s = 1 / (1 + np.exp(-v.numpy()))
    np.testing.assert_allclose(np.asarray(tape.gradient(loss, v)), s * (1 - s), rtol=1e-12)
