"""Layers: values against closed forms, gradients against central differences (float64)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import bprop
from bprop.layers import Activation, Dense, Dropout, Flatten, Input, InputLayer
from bprop.testing import numeric_gradient

ACTS = ["linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax"]
BACKENDS = ["core", "numpy"]


def closed_form(name, z):
    """Each activation written out from its textbook formula."""
    if name == "linear":
        return z
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.2 * z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "gelu":
        return 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3)))
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def grad_check(layer, x, rtol=1e-6, atol=1e-8):
    """backward() against central differences of sum(forward(x) * r) for x and every weight."""
    r = np.random.default_rng(9).normal(size=layer.forward(x).shape)

    def loss(_):
        return float((layer.forward(xv[0], training=False) * r).sum())

    xv = [x.copy()]
    layer.forward(x)
    dx = layer.backward(r.copy())
    grads = [g.copy() for g in layer.grads]

    def f_x(v):
        xv[0] = v
        return loss(None)

    np.testing.assert_allclose(dx, numeric_gradient(f_x, x), rtol=rtol, atol=atol)
    xv[0] = x
    assert len(grads) == len(layer.trainable_variables)
    for var, g in zip(layer.trainable_variables, grads):
        original = var.numpy()

        def f_w(v, var=var):
            var.assign(v)
            return loss(None)

        numeric = numeric_gradient(f_w, original)
        var.assign(original)
        np.testing.assert_allclose(g, numeric, rtol=rtol, atol=atol, err_msg=var.name)


def dense64(units, act, in_dim, backend, **kw):
    layer = Dense(units, activation=act, dtype="float64", bias_initializer="random_normal", **kw)
    layer.set_backend(backend)
    layer.build((in_dim,))
    return layer


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_dense_forward_matches_closed_form(act, backend):
    rng = np.random.default_rng(0)
    layer = dense64(5, act, 4, backend)
    x = rng.normal(size=(6, 4))
    expected = closed_form(act, x @ layer.kernel.numpy() + layer.bias.numpy())
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-14)
    layer32 = Dense(5, activation=act)
    layer32.set_backend(backend)
    y32 = layer32(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(
        y32, closed_form(act, x.astype(np.float32) @ layer32.kernel.numpy()), rtol=1e-5,
        atol=1e-6)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_dense_gradients(act, backend):
    layer = dense64(4, act, 3, backend)
    grad_check(layer, np.random.default_rng(1).normal(size=(5, 3)))


def test_dense_without_bias_and_rank3_inputs():
    layer = dense64(3, "tanh", 4, "core", use_bias=False)
    assert [v.name for v in layer.weights] == [layer.name + "/kernel"]
    assert layer.count_params() == 12
    x = np.random.default_rng(2).normal(size=(2, 5, 4))
    y = layer.forward(x)
    assert y.shape == (2, 5, 3)
    np.testing.assert_allclose(y, np.tanh(x @ layer.kernel.numpy()), rtol=1e-12)
    grad_check(layer, x)


def test_dense_defaults_and_initializers():
    bprop.utils.set_random_seed(0)
    layer = Dense(50)
    layer.build((200,))
    assert layer.dtype == "float32" and layer.use_bias
    assert layer.activation is bprop.activations.linear
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(50, np.float32))
    limit = math.sqrt(6 / (200 + 50))  # glorot_uniform
    k = layer.kernel.numpy()
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.9 * limit
    assert Dense(3, input_dim=7).input_shape == (None, 7)


def test_non_trainable_layer_has_no_trainable_variables_and_fit_leaves_it():
    bprop.utils.set_random_seed(0)
    frozen = Dense(4, activation="relu", input_shape=(3,), trainable=False)
    model = bprop.Sequential([frozen, Dense(2)])
    assert len(model.trainable_variables) == 2 and len(model.non_trainable_variables) == 2
    before = frozen.get_weights()
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(16, 3)), rng.normal(size=(16, 2)), epochs=2, verbose=0)
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert frozen.grads == []


@pytest.mark.parametrize("act", ACTS[1:])
@pytest.mark.parametrize("backend", BACKENDS)
def test_activation_layer(act, backend):
    layer = Activation(act, dtype="float64")
    layer.set_backend(backend)
    x = np.random.default_rng(3).normal(size=(2, 3, 4))
    np.testing.assert_allclose(layer.forward(x), closed_form(act, x), rtol=1e-12, atol=1e-14)
    grad_check(layer, x)


def test_activation_by_callable_and_config():
    layer = Activation(bprop.activations.sigmoid)
    assert layer.get_config()["activation"] == "sigmoid"
    clone = Activation.from_config(layer.get_config())
    assert clone.activation is bprop.activations.sigmoid and clone.name == layer.name


def test_flatten_is_a_view_and_backward_restores_the_shape():
    layer = Flatten(dtype="float64")
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    y = layer.forward(x)
    assert y.shape == (2, 12) and np.shares_memory(x, y)
    assert layer.compute_output_shape((3, 4)) == (12,)
    dy = np.ones((2, 12))
    assert layer.backward(dy).shape == (2, 3, 4)
    assert layer.backward(dy, need_dx=False) is None


def test_dropout_inference_is_identity_and_training_scales_kept_units():
    layer = Dropout(0.3, dtype="float64")
    x = np.ones((200, 100))
    assert layer.forward(x, training=False) is x
    bprop.utils.set_random_seed(1)
    y = layer.forward(x, training=True)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-15)
    # fraction dropped ~ Binomial(20000, 0.3): within 4 sigma
    assert abs((~kept).mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 20000)
    dy = np.random.default_rng(0).normal(size=x.shape)
    np.testing.assert_allclose(layer.backward(dy), np.where(kept, dy / 0.7, 0.0), rtol=1e-15)


def test_dropout_is_reproducible_with_seed_or_global_seed():
    x = np.ones((4, 50), np.float32)
    a = Dropout(0.5, seed=3).forward(x, training=True).copy()
    b = Dropout(0.5, seed=3).forward(x, training=True).copy()
    np.testing.assert_array_equal(a, b)
    masks = []
    for _ in range(2):
        bprop.utils.set_random_seed(7)
        masks.append(Dropout(0.5).forward(x, training=True).copy())
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0], a)


def test_input_layer_fixes_the_shape_and_is_not_in_layers():
    model = bprop.Sequential([Input(shape=(4,)), Dense(2)])
    assert model.built and [type(l) for l in model.layers] == [Dense]
    assert model.layers[0].kernel.shape == (4, 2)
    assert InputLayer(input_shape=(3, 2)).get_config()["shape"] == [3, 2]
    with pytest.raises(ValueError, match="shape: InputLayer needs the per-sample shape"):
        InputLayer()
    with pytest.raises(ValueError, match="InputLayer/Input can only come first"):
        bprop.Sequential([Dense(2, input_shape=(3,)), Input(shape=(2,))])


def test_layer_config_round_trip_and_auto_names():
    bprop.layers.base.clear_name_counters()
    first, second = Dense(3), Dense(3)
    assert (first.name, second.name) == ("dense", "dense_1")
    layer = Dense(7, activation="gelu", use_bias=False, kernel_initializer="he_normal",
                  input_shape=(5,), name="hidden", dtype="float64")
    config = layer.get_config()
    assert config["input_shape"] == [5] and config["activation"] == "gelu"
    clone = bprop.layers.deserialize(bprop.layers.serialize(layer))
    assert type(clone) is Dense and clone.get_config() == config
    for cls, kwargs in ((Dropout, {"rate": 0.2, "seed": 1}), (Flatten, {}),
                        (Activation, {"activation": "tanh"})):
        original = cls(**kwargs)
        assert cls.from_config(original.get_config()).get_config() == original.get_config()
    with pytest.raises(ValueError, match="class_name: unknown layer 'Conv3D'"):
        bprop.layers.deserialize({"class_name": "Conv3D", "config": {}})


def test_call_returns_a_fresh_array_and_casts_to_the_layer_dtype():
    layer = Dense(3)
    x = np.random.default_rng(0).normal(size=(2, 4))  # float64 in, float32 layer
    y1 = layer(x)
    y2 = layer(x * 2)
    assert y1.dtype == np.float32 and not np.shares_memory(y1, y2)
    with pytest.raises(TypeError, match="x: layer .* expects dtype float32, got float64"):
        layer.forward(x)
    fresh = Dense(2)
    assert fresh.forward(np.zeros((1, 3), np.float32)).shape == (1, 2)  # builds, as layer(x)
    assert fresh.kernel.shape == (3, 2)
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        Dense(2).backward(np.zeros((1, 2), np.float32))


def test_layer_under_gradient_tape():
    bprop.utils.set_random_seed(0)
    layer = dense64(3, "sigmoid", 4, "core")
    x = np.random.default_rng(4).normal(size=(5, 4))
    r = np.random.default_rng(5).normal(size=(5, 3))
    with bprop.GradientTape() as tape:
        y = layer(bprop.constant(x))
        loss = bprop.reduce_sum(y * r)
    assert isinstance(y, bprop.Tensor)
    grads = tape.gradient(loss, layer.trainable_variables)
    layer.forward(x)
    layer.backward(r)
    for g, expected in zip(grads, layer.grads):
        np.testing.assert_allclose(np.asarray(g), expected, rtol=1e-12)


def test_nested_sequential_is_a_layer():
    bprop.utils.set_random_seed(0)
    inner = bprop.Sequential([Dense(5, activation="relu"), Dense(4, activation="tanh")],
                             name="block")
    model = bprop.Sequential([Input(shape=(3,)), inner, Dense(2, activation="softmax")],
                             dtype="float64")
    assert inner.built and len(model.trainable_variables) == 6
    assert inner.output_shape == (None, 4)
    x = np.random.default_rng(0).normal(size=(8, 3))
    y = np.array([0, 1] * 4)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss, grads = model.compute_gradients(x, y)
    var = inner.trainable_variables[2]
    original = var.numpy()

    def f(v):
        var.assign(v)
        p = model.predict(x, verbose=0)
        return -np.log(p[np.arange(8), y]).mean()

    numeric = numeric_gradient(f, original)
    var.assign(original)
    np.testing.assert_allclose(grads[2], numeric, rtol=1e-6, atol=1e-9)
    clone = bprop.Sequential.from_config(model.get_config())
    assert [type(l).__name__ for l in clone.layers] == ["Sequential", "Dense"]
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_trainable_weights_of_a_model_are_its_trainable_variables():
    """Issue 13's silent bug: Sequential.trainable_weights was [] (the base
    class's property bound to Layer's own), so a custom loop trained nothing."""
    model = bprop.Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    assert model.trainable_weights == model.trainable_variables
    assert len(model.trainable_weights) == 4 and model.non_trainable_weights == []
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    assert model.non_trainable_weights == model.non_trainable_variables


def test_trainable_is_set_on_every_layer_inside_as_keras_does():
    # Keras' transfer-learning guide: base_model.trainable = False freezes
    # every layer inside it (each reports False), True unfreezes them all, and
    # the guide's fine-tuning then refreezes a few of them by hand.
    inner = bprop.Sequential([Dense(4, input_shape=(3,)), Dense(4)])
    base = bprop.Sequential([inner, Dense(2)])
    base.trainable = False
    assert [l.trainable for l in base.layers] == [False, False]
    assert [l.trainable for l in inner.layers] == [False, False]
    assert base.trainable_weights == [] and len(base.non_trainable_weights) == 6
    base.trainable = True
    assert [l.trainable for l in inner.layers] == [True, True]
    inner.layers[0].trainable = False
    assert len(base.trainable_weights) == 4  # inner's second Dense and base's Dense
    assert base.trainable and inner.trainable

    class Block(bprop.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = Dense(2)

        def call(self, x):
            return self.dense(x)

    block = Block()
    block.trainable = False
    assert block.dense.trainable is False


def test_a_nested_models_own_flag_decides_which_plan_trains():
    # The flags of the inner layers can read True while the inner model itself
    # is frozen; the train plan must follow the weights that actually train.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 2))
    inner = bprop.Sequential([Dense(4, input_shape=(3,)), Dense(4)], dtype="float64")
    model = bprop.Sequential([inner, Dense(2)], dtype="float64")
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    inner.trainable = False
    for layer in inner.layers:
        layer.trainable = True  # the inner model stays frozen
    before = inner.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, inner.get_weights()))
    inner.trainable = True  # the layers' flags do not change; the trained weights do
    model.fit(x, y, epochs=1, verbose=0)
    assert not any(np.array_equal(a, b) for a, b in zip(before, inner.get_weights()))
