"""clone_model, to_json / model_from_json, get_layer, model.losses and add_weight(regularizer=)."""
import json

import numpy as np
import pytest

import bprop as tf
from bprop import keras
from bprop.keras import layers


def _sequential():
    tf.utils.set_random_seed(0)
    return keras.Sequential([keras.Input(shape=(4,)), layers.Dense(5, activation="relu"),
                             layers.Dropout(0.1), layers.Dense(2, activation="softmax")])


def _functional():
    tf.utils.set_random_seed(0)
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    h = layers.concatenate([layers.Dense(4)(a), b])
    return keras.Model([a, b], layers.Dense(1)(h))


@pytest.mark.parametrize("make", [_sequential, _functional], ids=["sequential", "functional"])
def test_clone_has_the_architecture_and_fresh_weights(make):
    model = make()
    clone = keras.models.clone_model(model)
    assert type(clone) is type(model)
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert all(w1 is not w2 for w1, w2 in zip(clone.weights, model.weights))
    assert any(not np.array_equal(w1.numpy(), w2.numpy())
               for w1, w2 in zip(clone.weights, model.weights) if w1.ndim == 2)
    assert not clone.compiled


@pytest.mark.parametrize("make", [_sequential, _functional], ids=["sequential", "functional"])
def test_to_json_and_model_from_json(make):
    model = make()
    text = model.to_json()
    assert json.loads(text)["class_name"] == type(model).__name__
    rebuilt = keras.models.model_from_json(text)
    assert rebuilt.get_config() == model.get_config()
    rebuilt.set_weights(model.get_weights())
    x = [np.ones((2, 3), np.float32), np.ones((2, 2), np.float32)] \
        if make is _functional else np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match=r"json_string: expected a model's JSON"):
        keras.models.model_from_json("{not json")


def test_get_layer_by_name_and_index():
    model = _sequential()
    first = model.layers[0]
    assert model.get_layer(first.name) is first and model.get_layer(index=2) is model.layers[2]
    with pytest.raises(ValueError, match=r"name: no layer named 'nope' in model"):
        model.get_layer("nope")


class Scaled(keras.layers.Layer):
    """A custom layer whose weight carries an L2 penalty."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                 regularizer=keras.regularizers.l2(0.5), name="w")

    def call(self, inputs):
        return inputs * self.w


def test_model_losses_and_the_penalty_in_the_training_gradient():
    tf.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input(shape=(3,), dtype="float64"), Scaled(dtype="float64"),
                              layers.Dense(1, kernel_regularizer=keras.regularizers.l1(0.2),
                                           dtype="float64")])
    scaled, dense = model.layers
    penalties = [float(p) for p in model.losses]
    assert penalties == pytest.approx([0.5 * 3.0, 0.2 * np.abs(dense.kernel.numpy()).sum()])
    model.compile("sgd", "mse")
    x = np.ones((4, 3))
    y = np.zeros((4, 1))
    value, grads = model.compute_gradients(x, y)
    pred = model.predict(x, verbose=0)
    assert value == pytest.approx(np.mean(pred ** 2) + sum(penalties), rel=1e-12)
    # d/dw of the data term, by hand, plus the penalty's 2 * 0.5 * w
    k = dense.kernel.numpy()[:, 0]
    data_grad = np.mean(2 * pred[:, 0]) * k  # x is all ones and w is all ones
    np.testing.assert_allclose(grads[0], data_grad + 1.0 * scaled.w.numpy(), rtol=1e-12)
