"""Normalization (bprop/layers/feature_normalization.py): Keras 3's preprocessing
layer.  ``adapt`` against np.mean / np.var (population variance) over the
reduced axes, outputs against the formula, the docstring examples of Keras,
gradients, config and save/load round trips, use inside fit."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import layers
from bprop.models import load_model


def test_keras_docstring_examples():
    layer = layers.Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32).reshape(5, 1))
    np.testing.assert_allclose(np.asarray(layer(np.array([[1.0], [2.0], [3.0]], np.float32))),
                               [[-1.4142135], [-0.70710677], [0.0]], rtol=1e-6)
    data = np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0], [2.0, 9.0, 6.0]],
                    np.float32)
    per_feature = layers.Normalization(axis=-1)
    per_feature.adapt(data)
    np.testing.assert_allclose(np.asarray(per_feature(data[:1])), [[-1.0, -1.0, -1.0]])
    inverse = layers.Normalization(axis=-1, invert=True)
    inverse.adapt(data)
    np.testing.assert_allclose(np.asarray(inverse(np.array([[1.0, 2.0, 3.0]], np.float32))),
                               [[2.0, 10.0, 8.0]])
    given = layers.Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(np.asarray(given(np.array([[1.0], [2.0], [3.0]], np.float32))),
                               [[-1.4142135], [-0.70710677], [0.0]], rtol=1e-6)


@pytest.mark.parametrize("axis,keep", [(-1, (2,)), ((1, 2), (1, 2)), (1, (1,)), (None, ())])
def test_adapt_is_the_mean_and_population_variance_over_the_other_axes(axis, keep):
    rng = np.random.default_rng(0)
    x = rng.normal(4.0, 3.0, size=(30, 3, 5))
    layer = layers.Normalization(axis=axis, dtype="float64")
    layer.adapt(x)
    reduce = tuple(d for d in range(3) if d not in keep)
    mean, var = x.mean(axis=reduce), x.var(axis=reduce)
    assert [v.name for v in layer.weights] == ["normalization/mean", "normalization/variance"] \
        or layer.weights[0].name.endswith("/mean")
    assert not any(v.trainable for v in layer.weights)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), mean, rtol=1e-13)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), var, rtol=1e-13)
    y = np.asarray(layer(x))
    np.testing.assert_allclose(y, (x - x.mean(axis=reduce, keepdims=True))
                               / np.sqrt(x.var(axis=reduce, keepdims=True)), rtol=1e-12)
    # adapting batch by batch pools them exactly (as Keras does for a dataset)
    batched = layers.Normalization(axis=axis, dtype="float64")
    batched.adapt([x[:7], x[7:20], (x[20:], None)])
    np.testing.assert_allclose(batched.adapt_mean.numpy(), mean, rtol=1e-13)
    np.testing.assert_allclose(batched.adapt_variance.numpy(), var, rtol=1e-12)


def test_zero_variance_divides_by_keras_epsilon_and_invert_undoes():
    layer = layers.Normalization(mean=[1.0, 2.0], variance=[0.0, 4.0], dtype="float64")
    x = np.array([[1.0, 4.0], [1.0 + 1e-9, 0.0]])
    np.testing.assert_allclose(np.asarray(layer(x)), [[0.0, 1.0], [1e-9 / 1e-7, -1.0]],
                               rtol=1e-6)
    back = layers.Normalization(mean=[1.0, 2.0], variance=[0.0, 4.0], invert=True,
                                dtype="float64")
    np.testing.assert_allclose(np.asarray(back(layer(x))), x, rtol=1e-12)


@pytest.mark.parametrize("invert", [False, True])
def test_gradients_are_central_differences(invert, layer_gradcheck):
    rng = np.random.default_rng(1)
    layer = layers.Normalization(axis=-1, invert=invert, dtype="float64")
    layer.adapt(rng.normal(2.0, 3.0, size=(20, 4)))
    x = rng.normal(size=(5, 4))

    assert layer_gradcheck(layer, x)


def test_in_a_model_fit_leaves_it_and_save_load_keeps_it(tmp_path):
    rng = np.random.default_rng(2)
    x = (rng.normal(size=(60, 4)) * [1, 10, 100, 0.1] + [5, -3, 40, 0]).astype(np.float32)
    y = (x[:, 0] > 5).astype(np.int64)
    norm = layers.Normalization()
    norm.adapt(x)
    adapted = norm.get_weights()
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([norm, layers.Dense(8, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=10, epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for a, b in zip(norm.get_weights(), adapted):
        np.testing.assert_array_equal(a, b)
    w1, b1, w2, b2 = (w.astype(np.float64) for w in model.get_weights()[2:])
    z = (x - adapted[0]) / np.sqrt(adapted[1].astype(np.float64))
    logits = np.maximum(z @ w1 + b1, 0) @ w2 + b2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), probs, rtol=1e-4, atol=1e-6)
    path = str(tmp_path / "norm.bprop")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.layers[0].get_weights()[0], adapted[0])
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_in_a_functional_model_with_a_second_branch():
    rng = np.random.default_rng(4)
    x = rng.normal(10.0, 4.0, size=(40, 3)).astype(np.float32)
    y = rng.normal(size=(40, 2)).astype(np.float32)
    norm = layers.Normalization()
    norm.adapt(x)
    bprop.utils.set_random_seed(1)
    inputs = bprop.keras.Input(shape=(3,))
    z = norm(inputs)
    out = layers.Add()([layers.Dense(2)(z), layers.Dense(2)(layers.Dense(3)(z))])
    model = bprop.keras.Model(inputs, out)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_allclose(np.asarray(norm(x)), (x - x.mean(0)) / x.std(0), rtol=1e-4,
                               atol=1e-5)


def test_config_round_trips():
    adapted = layers.Normalization(axis=(1, 2), invert=True)
    config = adapted.get_config()
    assert config["axis"] == [1, 2] and config["mean"] is None and config["invert"] is True
    assert layers.Normalization.from_config(config).get_config() == config
    given = layers.Normalization(mean=[1.0, 2.0], variance=[3.0, 4.0])
    config = given.get_config()
    assert config["mean"] == [1.0, 2.0] and config["variance"] == [3.0, 4.0]
    clone = layers.Normalization.from_config(config)
    x = np.array([[2.0, 4.0]], np.float32)
    np.testing.assert_array_equal(np.asarray(clone(x)), np.asarray(given(x)))
    assert clone.weights == []


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="mean, variance: expected both or neither"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="mean, variance: expected the same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=1.0)
    with pytest.raises(ValueError, match="variance: expected values >= 0"):
        layers.Normalization(mean=1.0, variance=-1.0)
    with pytest.raises(TypeError, match="axis: expected an int, a tuple of ints or None"):
        layers.Normalization(axis="last")
    with pytest.raises(ValueError, match="axis: the batch axis 0 cannot be kept"):
        layers.Normalization(axis=0).adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="adapt: layer .* was given mean and variance"):
        layers.Normalization(mean=0.0, variance=1.0).adapt(np.zeros((4, 3)))
    layer = layers.Normalization()
    layer.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="data: layer .* was built for input shape"):
        layer.adapt(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="data: expected at least one sample"):
        layers.Normalization().adapt([np.zeros((0, 3))])


def test_against_keras_when_installed():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=(40, 3, 4)).astype(np.float32)
    for axis in (-1, (1, 2), None):
        ours, theirs = layers.Normalization(axis=axis), keras.layers.Normalization(axis=axis)
        ours.adapt(x)
        theirs.adapt(x)
        np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-4,
                                   atol=1e-5)
