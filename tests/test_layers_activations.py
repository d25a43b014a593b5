"""The activation layers (bprop/layers/activation_layers.py): ReLU, LeakyReLU,
ELU, PReLU, Softmax.

Values against NumPy formulas of Keras 3's definitions, gradients against
float64 central differences, config round trips, and a small model trained
with each layer (Sequential and functional).
"""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import layers
from bprop.testing import variable_gradients

X = np.array([[-7.0, -3.0, -1.0, -0.2, 0.3, 0.9, 2.5, 4.0, 8.0]])


def relu_formula(x, max_value=None, negative_slope=0.0, threshold=0.0):
    above = x if max_value is None else np.minimum(x, max_value)
    return np.where(x > threshold, above, negative_slope * (x - threshold))


# (layer factory, formula) on float64
CASES = {
    "relu": (lambda: layers.ReLU(), lambda x: np.maximum(x, 0)),
    "relu_slope": (lambda: layers.ReLU(negative_slope=0.1),
                   lambda x: relu_formula(x, negative_slope=0.1)),
    "relu6": (lambda: layers.ReLU(max_value=6.0), lambda x: np.clip(x, 0, 6)),
    "relu_all": (lambda: layers.ReLU(max_value=5.0, negative_slope=0.25, threshold=0.5),
                 lambda x: relu_formula(x, 5.0, 0.25, 0.5)),
    "leaky": (lambda: layers.LeakyReLU(), lambda x: np.where(x > 0, x, 0.3 * x)),
    "leaky_alpha": (lambda: layers.LeakyReLU(alpha=0.05), lambda x: np.where(x > 0, x, 0.05 * x)),
    "elu": (lambda: layers.ELU(), lambda x: np.where(x > 0, x, np.expm1(x))),
    "elu_half": (lambda: layers.ELU(alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "softmax": (lambda: layers.Softmax(),
                lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_match_keras_formulas(case):
    make, formula = CASES[case]
    layer = make()
    layer._set_dtype("float64")
    np.testing.assert_allclose(np.asarray(layer(X)), formula(X), rtol=1e-13, atol=1e-15)
    x3 = np.linspace(-4, 9, 2 * 3 * 4).reshape(2, 3, 4).astype(np.float32)
    np.testing.assert_allclose(np.asarray(make()(x3)), formula(x3.astype(np.float64)),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_are_central_differences(case, layer_gradcheck):
    make, _ = CASES[case]
    layer = make()
    layer._set_dtype("float64")
    # away from the kinks (0, the threshold 0.5, the max values 5 and 6)
    x = np.array([[-6.3, -2.2, -0.7, 0.21, 0.8, 1.7, 3.9, 5.6, 7.4]])

    assert layer_gradcheck(layer, x)


def test_relu_keras_examples_and_core_kernels():
    x = np.array([[-10.0, -5.0, 0.0, 5.0, 10.0]], np.float32)
    np.testing.assert_array_equal(np.asarray(layers.ReLU(threshold=5.0)(x)), [[0, 0, 0, 0, 10]])
    np.testing.assert_array_equal(np.asarray(layers.ReLU(max_value=5.0)(x)), [[0, 0, 0, 5, 5]])
    np.testing.assert_array_equal(np.asarray(layers.ReLU(negative_slope=0.5)(x)),
                                  [[-5, -2.5, 0, 5, 10]])
    # the core's relu / leaky_relu kernels where they apply, NumPy otherwise
    from bprop.engine.activation_nodes import ThresholdedReluNode
    from bprop.engine.nodes import ActivationNode

    assert isinstance(layers.ReLU()._plan_node((5,), set()), ActivationNode)
    assert isinstance(layers.LeakyReLU()._plan_node((5,), set()), ActivationNode)
    assert isinstance(layers.ReLU(max_value=6.0)._plan_node((5,), set()), ThresholdedReluNode)


def test_prelu_alpha_per_position_shared_axes_and_gradients(layer_gradcheck):
    layer = layers.PReLU(shared_axes=[1, 2], alpha_initializer="random_uniform", dtype="float64")
    layer.build((3, 4, 2))
    assert layer.alpha.shape == (1, 1, 2) and layer.weights[0].name.endswith("alpha")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3, 4, 2))
    alpha = rng.uniform(0.1, 0.5, size=(1, 1, 2))
    layer.set_weights([alpha])
    np.testing.assert_allclose(np.asarray(layer(x)), np.where(x > 0, x, alpha * x), rtol=1e-15)
    assert layer_gradcheck(layer, x, [alpha])
    default = layers.PReLU()
    default.build((6,))
    np.testing.assert_array_equal(default.alpha.numpy(), np.zeros(6))  # Keras: "Zeros"


@pytest.mark.parametrize("axis", [1, [1, 2], -2])
def test_softmax_over_other_axes_values_and_gradients(axis, layer_gradcheck):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4))
    layer = layers.Softmax(axis=axis, dtype="float64")
    axes = tuple(a % 3 for a in (axis if isinstance(axis, list) else [axis]))
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    np.testing.assert_allclose(np.asarray(layer(x)), e / e.sum(axis=axes, keepdims=True),
                               rtol=1e-13)

    assert layer_gradcheck(layer, x)


CONFIGS = [
    (layers.ReLU, {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5}),
    (layers.ReLU, {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}),
    (layers.LeakyReLU, {"negative_slope": 0.3}),
    (layers.ELU, {"alpha": 0.7}),
    (layers.Softmax, {"axis": -1}),
    (layers.Softmax, {"axis": [1, 2]}),
    (layers.PReLU, {"alpha_initializer": "ones", "alpha_regularizer": None,
                    "alpha_constraint": None, "shared_axes": [1]}),
]


@pytest.mark.parametrize("cls,args", CONFIGS, ids=[c.__name__ for c, _ in CONFIGS])
def test_config_round_trips(cls, args):
    config = cls(**args).get_config()
    for key, value in args.items():
        if key != "alpha_initializer":
            assert config[key] == value
    clone = bprop.layers.deserialize(bprop.layers.serialize(cls.from_config(config)))
    assert type(clone) is cls and clone.get_config() == config


def test_leaky_relu_default_is_keras_3_and_keras_2_alpha_is_accepted():
    assert layers.LeakyReLU().negative_slope == 0.3
    assert layers.LeakyReLU(alpha=0.1).get_config()["negative_slope"] == 0.1


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="max_value: expected a finite number >= 0, got -1"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="threshold: expected a finite number >= 0, got -0.5"):
        layers.ReLU(threshold=-0.5)
    with pytest.raises(ValueError, match="negative_slope: expected a finite number >= 0, got -0.1"):
        layers.LeakyReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="alpha: expected a finite number, got nan"):
        layers.ELU(alpha=float("nan"))
    with pytest.raises(ValueError, match="shared_axes: expected axes of the input >= 1"):
        layers.PReLU(shared_axes=[0])
    with pytest.raises(TypeError, match="axis: expected an int or a list of ints, got 'x'"):
        layers.Softmax(axis="x")
    with pytest.raises(ValueError, match="alpha_constraint: not supported"):
        layers.PReLU(alpha_constraint="non_neg")


STACKS = {
    "relu": lambda: layers.ReLU(),
    "relu6": lambda: layers.ReLU(max_value=6.0, threshold=0.1),
    "leaky": lambda: layers.LeakyReLU(),
    "elu": lambda: layers.ELU(alpha=0.8),
    "prelu": lambda: layers.PReLU(alpha_initializer="constant"),
    "softmax_axis1": lambda: layers.Softmax(axis=1),
}


@pytest.mark.parametrize("name", sorted(STACKS))
def test_a_small_model_trains_with_each_layer(name):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(48, 5)).astype(np.float32)
    y = (x[:, :3] * np.array([1.0, -2.0, 0.5], np.float32)).argmax(axis=1)
    results = []
    for kind in ("sequential", "functional"):
        bprop.utils.set_random_seed(7)
        if kind == "sequential":
            model = bprop.Sequential([layers.Dense(8, input_shape=(5,)), STACKS[name](),
                                      layers.Dense(3, activation="softmax")])
        else:
            inputs = bprop.keras.Input(shape=(5,))
            h = STACKS[name]()(layers.Dense(8)(inputs))
            model = bprop.keras.Model(inputs, layers.Dense(3, activation="softmax")(h))
        model.compile(optimizer=bprop.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, batch_size=12, epochs=6, verbose=0, shuffle=False)
        assert history.history["loss"][-1] < 0.9 * history.history["loss"][0]
        results.append(model.get_weights())
    for a, b in zip(*results):  # the same plan either way
        np.testing.assert_array_equal(a, b)


def test_model_gradients_through_prelu_and_thresholded_relu_are_central_differences():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 4))
    y = rng.normal(size=(6, 2))
    bprop.utils.set_random_seed(8)
    model = bprop.Sequential([layers.Dense(5, input_shape=(4,), bias_initializer="random_normal"),
                              layers.PReLU(alpha_initializer="random_uniform"),
                              layers.ReLU(max_value=1.5, negative_slope=0.2, threshold=0.1),
                              layers.Dense(2)], dtype="float64")
    model.compile(optimizer="sgd", loss="mse")
    value, grads = model.compute_gradients(x, y)

    def loss():
        return float(((model.predict(x, verbose=0) - y) ** 2).mean())

    assert value == pytest.approx(loss(), rel=1e-12)
    numeric = variable_gradients(model.trainable_variables, loss)
    for var, g, num in zip(model.trainable_variables, grads, numeric):
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8, err_msg=var.name)


def test_against_keras_when_installed():
    keras = pytest.importorskip("keras")
    x = np.linspace(-5, 8, 26).reshape(2, 13).astype(np.float32)
    pairs = [(layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5),
              keras.layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5)),
             (layers.LeakyReLU(), keras.layers.LeakyReLU()),
             (layers.ELU(alpha=0.5), keras.layers.ELU(alpha=0.5)),
             (layers.Softmax(axis=0), keras.layers.Softmax(axis=0))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-5,
                                   atol=1e-6)
    for name in ("elu", "selu", "softplus", "softsign", "silu", "swish", "exponential",
                 "hard_sigmoid"):
        np.testing.assert_allclose(bprop.activations.get(name)(x),
                                   np.asarray(keras.activations.get(name)(x)), rtol=1e-5,
                                   atol=1e-6, err_msg=name)
