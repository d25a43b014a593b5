"""bprop.activations: lookup by name / callable / config, values, tape support."""
from __future__ import annotations

import math

import numpy as np
import pytest

import bprop
from bprop import activations, layers
from bprop.testing import numeric_gradient, variable_gradients


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
        ["linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "elu", "selu",
         "softplus", "softsign", "silu", "exponential", "hard_sigmoid"])


def test_unknown_identifiers_raise():
    with pytest.raises(ValueError, match="activation: expected one of elu, exponential, gelu, "
                                         "hard_sigmoid, leaky_relu, linear, relu, selu, sigmoid, "
                                         "silu, softmax, softplus, softsign, tanh .*got 'swishy'"):
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


# ----------------------------------------------------------------- Keras' further activations
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name -> the hand-written formula (float64)
FORMULAS = {
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sigmoid(x),
    "exponential": np.exp,
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
}
NEW = sorted(FORMULAS)


def test_further_names_aliases_and_serialization():
    assert activations.swish is activations.silu
    assert activations.get("swish") is activations.silu
    assert activations.get("silu") is activations.silu
    assert activations.serialize(activations.swish) == "silu"  # Keras 3's name
    assert activations.deserialize("swish") is activations.silu
    for name in NEW:
        fn = activations.get(name)
        assert fn is getattr(activations, name)
        assert activations.serialize(fn) == name
        assert activations.get({"class_name": name}) is fn


@pytest.mark.parametrize("name", NEW)
def test_further_values_match_the_formulas(name):
    x = np.array([[-5.0, -2.9, -1.0, -0.1, 0.0, 0.3, 1.0, 2.9, 4.0]])
    got = activations.get(name)(x)
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, FORMULAS[name](x), rtol=1e-13, atol=1e-15)
    cube = np.linspace(-3, 3, 24).reshape(2, 3, 4).astype(np.float32)
    np.testing.assert_allclose(activations.get(name)(cube),
                               FORMULAS[name](cube.astype(np.float64)), rtol=2e-6, atol=1e-7)


def test_keras_arguments_of_relu_leaky_relu_elu_and_softmax():
    x = np.array([-10.0, -5.0, 0.0, 5.0, 10.0])
    # the examples of Keras 3's relu docstring
    np.testing.assert_array_equal(activations.relu(x), [0, 0, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, negative_slope=0.5), [-5, -2.5, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, max_value=5.0), [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(activations.relu(x, threshold=5.0), [0, 0, 0, 0, 10])
    np.testing.assert_allclose(activations.leaky_relu(x, negative_slope=0.1), [-1, -0.5, 0, 5, 10])
    np.testing.assert_allclose(activations.elu(x, alpha=0.5),
                               np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-15)
    m = np.array([[1.0, 2.0], [3.0, 5.0]])
    e = np.exp(m)
    np.testing.assert_allclose(activations.softmax(m, axis=0), e / e.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(activations.softmax(m, axis=1), e / e.sum(axis=1, keepdims=True),
                               rtol=1e-13)
    with pytest.raises(ValueError, match="negative_slope: expected a finite number >= 0, got -1"):
        activations.leaky_relu(x, negative_slope=-1)
    with pytest.raises(ValueError, match="max_value: expected a finite number >= 0, got -2"):
        activations.relu(x, max_value=-2)


@pytest.mark.parametrize("name", NEW)
def test_further_activations_on_tensors_have_the_central_difference_gradient(name):
    x0 = np.array([[-2.5, -0.7, 0.4, 1.3, 2.2]])
    v = bprop.Variable(x0, dtype="float64")
    w = np.array([[0.3, -1.2, 0.8, 1.1, -0.5]])
    with bprop.GradientTape() as tape:
        loss = bprop.reduce_sum(activations.get(name)(v) * w)
    got = np.asarray(tape.gradient(loss, v))
    numeric = numeric_gradient(lambda z: float((FORMULAS[name](z) * w).sum()), x0)
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-9)


def test_activations_with_arguments_on_tensors_are_differentiable():
    x0 = np.array([[-2.0, -0.5, 0.5, 2.0, 7.0]])
    v = bprop.Variable(x0, dtype="float64")
    with bprop.GradientTape(persistent=True) as tape:
        a = bprop.reduce_sum(activations.elu(v, alpha=0.5))
        b = bprop.reduce_sum(activations.relu(v, max_value=6.0, negative_slope=0.1))
        c = bprop.reduce_sum(activations.leaky_relu(v, negative_slope=0.05))
    np.testing.assert_allclose(np.asarray(tape.gradient(a, v)),
                               np.where(x0 > 0, 1, 0.5 * np.exp(x0)), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(tape.gradient(b, v)), [[0.1, 0.1, 1, 1, 0]])
    np.testing.assert_allclose(np.asarray(tape.gradient(c, v)), [[0.05, 0.05, 1, 1, 1]])


def test_the_activation_layer_takes_the_further_names():
    layer = layers.Activation("swish")
    assert layer.get_config()["activation"] == "silu"
    clone = layers.Activation.from_config(layer.get_config())
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(np.asarray(clone(x)), FORMULAS["silu"](x.astype(np.float64)),
                               rtol=1e-6, atol=1e-7)
    elu = layers.Activation("elu")  # elu's own default alpha (1), not leaky_relu's slope
    np.testing.assert_allclose(np.asarray(elu(-x)), FORMULAS["elu"](-x.astype(np.float64)),
                               rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------- in Dense and Conv2D, in fit
def _mlp(name, backend, seed=3):
    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([
        layers.Dense(5, activation=name, input_shape=(3,), bias_initializer="random_normal"),
        layers.Dense(4, activation=name, bias_initializer="random_normal"),
        layers.Dense(3)], backend=backend, dtype="float64")
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.mark.parametrize("backend", ["core", "numpy"])
@pytest.mark.parametrize("name", NEW)
def test_dense_with_each_further_activation_has_the_central_difference_gradients(name, backend):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 3))
    y = rng.normal(size=(7, 3))
    model = _mlp(name, backend)
    value, grads = model.compute_gradients(x, y)

    def loss():  # independent of the plan's loss: the mean squared error of predict
        return float(((model.predict(x, verbose=0) - y) ** 2).mean())

    assert value == pytest.approx(loss(), rel=1e-12)
    numeric = variable_gradients(model.trainable_variables, loss)
    for var, g, num in zip(model.trainable_variables, grads, numeric):
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8, err_msg=var.name)


@pytest.mark.parametrize("name", NEW)
def test_dense_with_each_further_activation_trains_the_same_in_the_core_and_op_by_op(name):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = rng.normal(size=(40, 3)).astype(np.float32)
    weights = []
    for executor in ("auto", "ops"):
        bprop.utils.set_random_seed(4)
        model = bprop.Sequential([layers.Dense(6, activation=name, input_shape=(3,)),
                                  layers.Dense(3)])
        model._plan_executor = executor
        model.compile(optimizer=bprop.optimizers.Adam(0.01), loss="mse")
        assert model._train_plan().in_core == (executor == "auto")
        history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
        assert history.history["loss"][-1] < history.history["loss"][0]
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["silu", "hard_sigmoid", "elu"])
def test_conv2d_with_a_further_activation_has_the_central_difference_gradients(name):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 5, 5, 2))
    y = rng.normal(size=(3, 2))
    bprop.utils.set_random_seed(6)
    model = bprop.Sequential([
        layers.Conv2D(3, 3, activation=name, input_shape=(5, 5, 2),
                      bias_initializer="random_normal"),
        layers.Flatten(), layers.Dense(2)], dtype="float64")
    model.compile(optimizer="sgd", loss="mse")
    _, grads = model.compute_gradients(x, y)

    def loss():
        return float(((model.predict(x, verbose=0) - y) ** 2).mean())

    numeric = variable_gradients(model.trainable_variables[:2], loss)
    for var, g, num in zip(model.trainable_variables[:2], grads[:2], numeric):  # the conv kernel and bias
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8, err_msg=var.name)
