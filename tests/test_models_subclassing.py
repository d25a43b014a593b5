"""Subclassed models and layers, Keras' way: layers set in ``__init__`` (tracked as
attributes), a ``call(inputs, training=None)``, ``build`` + ``add_weight`` in a
custom layer; fit, evaluate, predict and custom GradientTape loops, checked
against hand-written NumPy and central differences."""
import numpy as np
import pytest

import bprop as tf
from bprop import keras
from bprop.keras import layers
from bprop.testing import variable_gradients


class TwoLayerNet(keras.Model):
    def __init__(self, hidden=8, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = layers.Dense(hidden, activation="tanh")
        self.dropout = layers.Dropout(0.5, seed=1)
        self.dense2 = layers.Dense(classes, activation="softmax")

    def call(self, inputs, training=False):
        x = self.dense1(inputs)
        x = self.dropout(x, training=training)
        return self.dense2(x)


class Linear(keras.layers.Layer):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                 trainable=True)

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b


class Residual(keras.layers.Layer):
    """A layer made of layers: its sublayers' weights are its weights."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.inner = [layers.Dense(units, activation="relu"), Linear(units)]

    def call(self, inputs):
        h = inputs
        for layer in self.inner:
            h = layer(h)
        return inputs + h


def _data(seed=0, n=30, d=5):
    """Inputs and labels a small network can learn (a linear teacher's argmax)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x, np.argmax(x @ rng.standard_normal((d, 3)), axis=1)


def test_layers_assigned_as_attributes_are_tracked():
    model = TwoLayerNet()
    model.build((None, 5))
    assert [l.name for l in model.layers] == [model.dense1.name, model.dropout.name,
                                             model.dense2.name]
    assert [tuple(w.shape) for w in model.trainable_weights] == [(5, 8), (8,), (8, 3), (3,)]
    assert model.count_params() == 5 * 8 + 8 + 8 * 3 + 3
    res = Residual(5)
    res(np.zeros((1, 5), np.float32))
    assert len(res.trainable_weights) == 4


def test_predict_and_call_are_the_numpy_forward():
    model = TwoLayerNet()
    x, _ = _data()
    p = model.predict(x, verbose=0)
    w1, b1, w2, b2 = [v.numpy().astype(np.float64) for v in model.weights]
    z = np.tanh(x @ w1 + b1) @ w2 + b2
    want = np.exp(z - z.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    np.testing.assert_allclose(p, want, rtol=1e-5, atol=1e-6)
    out = model(x)
    assert isinstance(out, tf.Tensor)
    np.testing.assert_allclose(out.numpy(), p, rtol=1e-6)


def test_fit_trains_the_subclassed_model_in_the_core_plan():
    # Seeded, and a learning rate that learns this teacher from any start
    # (at Adam's default 0.001 some initialisations stay near 55% after 25 epochs).
    tf.utils.set_random_seed(0)
    model = TwoLayerNet()
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data(n=120)
    hist = model.fit(x, y, batch_size=16, epochs=25, verbose=0).history
    plan = model._train_plan()
    assert plan.in_core and [type(n).__name__ for n in plan.nodes] == ["TapeNode"]
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9


def test_subclassed_gradients_equal_central_differences_float64():
    class Net(keras.Model):
        def __init__(self):
            super().__init__(dtype="float64")
            self.body = Residual(4, dtype="float64")
            self.head = layers.Dense(3, activation="softmax", dtype="float64")

        def call(self, inputs):
            return self.head(self.body(inputs))

    tf.utils.set_random_seed(3)
    model = Net()
    model.compile("sgd", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    value, grads = model.compute_gradients(x, y)

    def loss():
        p = model.predict(x, verbose=0)
        return -np.mean(np.log(p[np.arange(6), y]))

    assert value == pytest.approx(loss(), rel=1e-12)
    assert len(grads) == 6
    numeric = variable_gradients(model.trainable_variables, loss)
    for var, grad, num in zip(model.trainable_variables, grads, numeric):
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-9, err_msg=var.name)


def test_the_custom_training_loop_of_keras_guide():
    """tape.gradient(loss, model.trainable_weights) + apply_gradients, as the guide writes it."""
    tf.utils.set_random_seed(5)
    model = TwoLayerNet()
    optimizer = keras.optimizers.SGD(learning_rate=0.5)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    x, y = _data(n=64)
    losses = []
    for _ in range(40):
        with tf.GradientTape() as tape:
            probs = model(x, training=False)
            loss_value = loss_fn(y, probs)
        grads = tape.gradient(loss_value, model.trainable_weights)
        assert all(g is not None for g in grads)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        losses.append(float(loss_value))
    assert losses[-1] < 0.8 * losses[0]


def test_a_custom_layer_in_a_sequential():
    tf.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input(shape=(5,)), Linear(8), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x, _ = _data(n=100)
    target = x @ np.arange(1, 6, dtype=np.float32)[:, None]
    hist = model.fit(x, target, epochs=40, verbose=0).history
    assert hist["loss"][-1] < 0.05 * hist["loss"][0]


def test_a_subclass_without_call_and_saving_explain_themselves(tmp_path):
    class NoCall(keras.Model):
        pass

    with pytest.raises(NotImplementedError, match=r"model 'no_call.*': a subclass of Model must "
                                                  r"define call\(inputs, training=None\)"):
        NoCall().predict(np.zeros((1, 2), np.float32), verbose=0)
    model = TwoLayerNet()
    model.build((None, 5))
    with pytest.raises(NotImplementedError, match="a subclassed model has no config to save; "
                                                  "save its weights"):
        model.save(str(tmp_path / "m.bprop"))
    model.save_weights(str(tmp_path / "m.weights.npz"))
    other = TwoLayerNet()
    other.build((None, 5))
    other.load_weights(str(tmp_path / "m.weights.npz"))
    x, _ = _data()
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
