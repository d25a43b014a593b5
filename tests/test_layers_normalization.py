"""BatchNormalization and LayerNormalization (bprop/layers/normalization.py).

Values against NumPy formulas written out here, gradients against float64
central differences (BatchNormalization in training mode too), the moving
statistics after ``fit`` against Keras' rule applied to the batches fit saw
(shuffle=False), inference with the moving statistics, the undone-step
replay, config and save/load round trips.
"""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import layers
from bprop.models import load_model
from bprop.testing import gradcheck, variable_gradients


def bn_formula(x, mean, var, gamma, beta, eps=1e-3):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def batch_moments(x, axes):
    return x.mean(axis=axes), x.var(axis=axes)


# ----------------------------------------------------------------- BatchNormalization values
def test_batch_norm_weights_are_keras_names_order_and_kinds():
    layer = layers.BatchNormalization()
    layer.build((5,))
    assert [v.name for v in layer.weights] == [
        "batch_normalization/gamma", "batch_normalization/beta",
        "batch_normalization/moving_mean", "batch_normalization/moving_variance"]
    assert [v.trainable for v in layer.weights] == [True, True, False, False]
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones(5))
    np.testing.assert_array_equal(layer.get_weights()[3], np.ones(5))
    no_affine = layers.BatchNormalization(center=False, scale=False, name="plain")
    no_affine.build((5,))
    assert [v.name for v in no_affine.weights] == ["plain/moving_mean", "plain/moving_variance"]


def test_batch_norm_training_uses_the_batch_and_moves_the_statistics_once():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(10, 4))
    layer = layers.BatchNormalization(momentum=0.9, dtype="float64")
    layer.build((4,))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    mm, mv = rng.normal(size=4), rng.uniform(0.5, 2, size=4)
    layer.set_weights([gamma, beta, mm, mv])
    y = np.asarray(layer(x, training=True))
    mean, var = batch_moments(x, 0)
    np.testing.assert_allclose(y, bn_formula(x, mean, var, gamma, beta), rtol=1e-12)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mm * 0.9 + mean * 0.1, rtol=1e-14)
    np.testing.assert_allclose(layer.moving_variance.numpy(), mv * 0.9 + var * 0.1, rtol=1e-14)
    # inference: the moving statistics, nothing moves
    moved = [w.copy() for w in layer.get_weights()]
    y_inf = np.asarray(layer(x))
    np.testing.assert_allclose(y_inf, bn_formula(x, moved[2], moved[3], gamma, beta),
                               rtol=1e-12)
    for a, b in zip(layer.get_weights(), moved):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape,axis,stat_axes", [
    ((6, 5, 5, 3), -1, (0, 1, 2)),   # after Conv2D: per channel
    ((6, 3, 7), 1, (0, 2)),          # channels first
    ((6, 4, 7), -2, (0, 2)),
])
def test_batch_norm_normalizes_per_feature_of_its_axis(shape, axis, stat_axes):
    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 2.0, size=shape).astype(np.float32)
    layer = layers.BatchNormalization(axis=axis, momentum=0.5, center=False)
    y = np.asarray(layer(x, training=True))
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=stat_axes, keepdims=True)
    var = x64.var(axis=stat_axes, keepdims=True)
    np.testing.assert_allclose(y, (x64 - mean) / np.sqrt(var + 1e-3), rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.5 * mean.reshape(-1), rtol=1e-5,
                               atol=1e-6)
    assert layer.moving_mean.shape == (shape[axis],)


@pytest.mark.parametrize("axis", [-1, 1])
def test_batch_norm_gradients_are_central_differences_in_training_and_inference(axis):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3, 4))
    layer = layers.BatchNormalization(axis=axis, dtype="float64")
    layer.build((3, 4))
    c = x.shape[axis]
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    mm, mv = rng.normal(size=c), rng.uniform(0.5, 2, size=c)
    for training in (True, False):
        def f(x, g, b, training=training):
            layer.set_weights([g, b, mm, mv])
            return layer.forward(x, training=training).copy()

        def analytic(dy, x, g, b, training=training):
            layer.set_weights([g, b, mm, mv])
            layer.forward(x, training=training)
            dx = layer.backward(dy)
            return [dx] + [grad.copy() for grad in layer.grads]

        assert gradcheck(f, [x, gamma, beta], analytic, rtol=1e-6, atol=1e-9)


def _dense_bn_model(backend, seed=0, dtype="float64", **bn):
    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([
        layers.Dense(5, input_shape=(3,), bias_initializer="random_normal"),
        layers.BatchNormalization(gamma_initializer="random_normal",
                                  beta_initializer="random_normal", **bn),
        layers.Dense(2, activation="tanh")], backend=backend, dtype=dtype)
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.mark.parametrize("backend", ["core", "numpy"])
@pytest.mark.parametrize("training", [True, False])
def test_model_gradients_through_batch_norm_are_central_differences(backend, training):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 3))
    y = rng.normal(size=(8, 2))
    model = _dense_bn_model(backend)
    model.layers[1].moving_variance.assign(rng.uniform(0.5, 2.0, size=5))
    before = model.get_weights()
    value, grads = model.compute_gradients(x, y, training=training)
    for a, b in zip(model.get_weights(), before):  # compute_gradients updates nothing
        np.testing.assert_array_equal(a, b)

    def loss():  # an independent mse of the model's outputs in the same mode
        return float(((np.asarray(model(x, training=training)) - y) ** 2).mean())

    assert value == pytest.approx(loss(), rel=1e-12)
    numeric = variable_gradients(model.trainable_variables, loss)
    for var, g, num in zip(model.trainable_variables, grads, numeric):
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8, err_msg=var.name)


# ----------------------------------------------------------------- moving statistics in fit
def expected_moving(batches, momentum, axes, channels):
    mean, var = np.zeros(channels), np.ones(channels)
    for b in batches:
        bm, bv = batch_moments(b.astype(np.float64), axes)
        mean = mean * momentum + bm * (1 - momentum)
        var = var * momentum + bv * (1 - momentum)
    return mean, var


@pytest.mark.parametrize("executor,backend", [("auto", "core"), ("ops", "core"),
                                              ("ops", "numpy")])
def test_fit_moves_the_statistics_once_per_step_by_keras_rule(executor, backend):
    rng = np.random.default_rng(4)
    x = rng.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    y = rng.normal(size=(50, 2)).astype(np.float32)
    xv = rng.normal(size=(10, 4)).astype(np.float32)
    yv = rng.normal(size=(10, 2)).astype(np.float32)
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([layers.BatchNormalization(momentum=0.8, input_shape=(4,)),
                              layers.Dense(2)], backend=backend)
    model._plan_executor = executor
    model.compile(optimizer="adam", loss="mse")
    assert model._train_plan().in_core == (executor == "auto")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False,
              validation_data=(xv, yv))  # validation does not move them
    batches = [x[i:i + 16] for i in range(0, 50, 16)] * 2
    mean, var = expected_moving(batches, 0.8, 0, 4)
    bn = model.layers[0]
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-5, atol=1e-6)
    # predict and evaluate normalize with them
    gamma, beta = bn.gamma.numpy(), bn.beta.numpy()
    kernel, bias = model.layers[1].get_weights()
    want = bn_formula(x.astype(np.float64), mean, var, gamma, beta) @ kernel + bias
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-4, atol=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(float(((want - y) ** 2).mean()),
                                                            rel=1e-4)


def test_fit_after_conv2d_moves_per_channel_statistics():
    rng = np.random.default_rng(5)
    x = rng.normal(1.0, 1.5, size=(24, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=24)
    bprop.utils.set_random_seed(1)
    model = bprop.Sequential([layers.BatchNormalization(momentum=0.7, input_shape=(6, 6, 2)),
                              layers.Conv2D(4, 3, activation="relu"),
                              layers.BatchNormalization(), layers.GlobalAveragePooling2D(),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert model._train_plan().in_core
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < history.history["loss"][0]
    mean, var = expected_moving([x[i:i + 8] for i in range(0, 24, 8)] * 3, 0.7, (0, 1, 2), 2)
    np.testing.assert_allclose(model.layers[0].moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.layers[0].moving_variance.numpy(), var, rtol=1e-5,
                               atol=1e-6)
    assert model.layers[2].moving_mean.shape == (4,)


def test_a_non_chain_functional_model_moves_the_statistics_once_per_step():
    rng = np.random.default_rng(6)
    x = rng.normal(-1.0, 2.0, size=(30, 3)).astype(np.float32)
    y = rng.normal(size=(30, 3)).astype(np.float32)
    bprop.utils.set_random_seed(2)
    inputs = bprop.keras.Input(shape=(3,))
    normed = layers.BatchNormalization(momentum=0.6)(inputs)
    out = layers.Add()([layers.Dense(3)(normed), layers.Dense(3)(inputs)])
    model = bprop.keras.Model(inputs, out)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, shuffle=False)
    mean, var = expected_moving([x[i:i + 10] for i in range(0, 30, 10)] * 2, 0.6, 0, 3)
    bn = model.layers[1]
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-5, atol=1e-6)


def test_a_frozen_batch_norm_normalizes_with_the_moving_statistics_and_keeps_them():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(20, 4)).astype(np.float32)
    y = rng.normal(size=(20, 2)).astype(np.float32)
    bprop.utils.set_random_seed(3)
    bn = layers.BatchNormalization(input_shape=(4,))
    model = bprop.Sequential([bn, layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    bn.moving_mean.assign(rng.normal(size=4).astype(np.float32))
    bn.trainable = False
    before = bn.get_weights()
    model.fit(x, y, batch_size=5, epochs=1, verbose=0)
    for a, b in zip(bn.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.asarray(bn(x, training=True)),
                               bn_formula(x, before[2], before[3], before[0], before[1]),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("executor", ["auto", "ops"])
def test_an_undone_step_does_not_move_the_statistics_twice(executor, capsys):
    """A step whose update overflows is undone by replaying the call's earlier
    steps from a snapshot: the moving statistics come back with the weights."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 20)).astype(np.float32)
    y = rng.normal(size=(512, 1)).astype(np.float32)

    def model():
        bprop.utils.set_random_seed(0)
        m = bprop.Sequential([layers.BatchNormalization(input_shape=(20,)),
                              layers.Dense(32, activation="tanh"), layers.Dense(1)])
        m._plan_executor = executor
        m.compile(bprop.optimizers.SGD(1e6), "mse")
        return m

    bad = model()
    bad.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    assert "not finite" in capsys.readouterr().out
    done = bad.optimizer.iterations
    assert 0 < done < 8
    reference = model()
    reference.fit(x[:64 * done], y[:64 * done], batch_size=64, epochs=1, verbose=0,
                  shuffle=False)
    for a, b in zip(bad.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("executor", ["auto", "ops"])
def test_data_parallel_processes_move_their_own_statistics(monkeypatch, executor):
    """Keras' synchronized=False: each process normalizes its slice of every
    global batch with the slice's statistics and moves its own moving
    statistics with them (threads stand in for processes, as in
    test_models_data_parallel)."""
    from test_models_data_parallel import _fit_in_threads

    rng = np.random.default_rng(12)
    x = rng.normal(1.0, 2.0, size=(48, 3))
    y = rng.normal(size=(48, 2))

    def build(rank):
        bprop.utils.set_random_seed(9)
        model = bprop.Sequential([layers.BatchNormalization(momentum=0.5, input_shape=(3,)),
                                  layers.Dense(2)], dtype="float64")
        model._plan_executor = executor
        model.compile(optimizer="sgd", loss="mse")
        return model

    models, _ = _fit_in_threads(monkeypatch, 2, build, dict(x=x, y=y, batch_size=16, epochs=1,
                                                            verbose=0, shuffle=False))
    for rank, model in enumerate(models):  # rank r: rows [8r, 8r + 8) of each batch of 16
        slices = [x[b + 8 * rank:b + 8 * rank + 8] for b in range(0, 48, 16)]
        mean, var = expected_moving(slices, 0.5, 0, 3)
        np.testing.assert_allclose(model.layers[0].moving_mean.numpy(), mean, rtol=1e-12)
        np.testing.assert_allclose(model.layers[0].moving_variance.numpy(), var, rtol=1e-12)
    # the trainable weights stay the same on every process (one reduction per step)
    np.testing.assert_array_equal(models[0].layers[1].kernel.numpy(),
                                  models[1].layers[1].kernel.numpy())


# ----------------------------------------------------------------- config, saving, errors
def test_batch_norm_config_round_trip_and_save_load_keep_the_statistics(tmp_path):
    rng = np.random.default_rng(8)
    x = rng.normal(2.0, 1.0, size=(32, 3)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32)
    layer = layers.BatchNormalization(axis=-1, momentum=0.9, epsilon=1e-2, center=False,
                                      gamma_regularizer="l2", moving_variance_initializer="zeros",
                                      name="bn")
    config = layer.get_config()
    assert config["momentum"] == 0.9 and config["epsilon"] == 0.01 and not config["center"]
    assert config["synchronized"] is False and config["beta_constraint"] is None
    clone = layers.BatchNormalization.from_config(config)
    assert clone.get_config() == config
    bprop.utils.set_random_seed(4)
    model = bprop.Sequential([layers.Dense(3, input_shape=(3,)), clone, layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.abs(clone.moving_mean.numpy()).sum() > 0
    path = str(tmp_path / "bn.bprop")
    model.save(path)
    loaded = load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert loaded.layers[1].get_config() == config


def test_batch_norm_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match=r"momentum: expected a finite number in \[0, 1\], got 2"):
        layers.BatchNormalization(momentum=2)
    with pytest.raises(ValueError, match="epsilon: expected a finite number >= 0, got -1"):
        layers.BatchNormalization(epsilon=-1)
    with pytest.raises(ValueError, match="synchronized: not supported"):
        layers.BatchNormalization(synchronized=True)
    with pytest.raises(ValueError, match="gamma_constraint: not supported"):
        layers.BatchNormalization(gamma_constraint="non_neg")
    with pytest.raises(TypeError, match="axis: expected an int, got 1.5"):
        layers.BatchNormalization(axis=1.5)
    with pytest.raises(ValueError, match="axis: expected a feature axis, got the batch axis"):
        layers.BatchNormalization(axis=0)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="axis: 3 is not an axis of an input of rank 2"):
        layers.BatchNormalization(axis=3)(np.zeros((2, 3), np.float32))


# ----------------------------------------------------------------- LayerNormalization
def ln_formula(x, axes, gamma, beta, eps=1e-3):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_layer_norm_values_per_sample():
    rng = np.random.default_rng(9)
    x = rng.normal(3.0, 2.0, size=(5, 4, 6))
    layer = layers.LayerNormalization(dtype="float64")
    layer.build((4, 6))
    assert [v.name for v in layer.weights] == ["layer_normalization/gamma",
                                               "layer_normalization/beta"]
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    layer.set_weights([gamma, beta])
    np.testing.assert_allclose(np.asarray(layer(x)), ln_formula(x, -1, gamma, beta),
                               rtol=1e-12)
    wide = layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, center=False, dtype="float64")
    wide.build((4, 6))
    assert wide.gamma.shape == (4, 6) and wide.beta is None
    g2 = rng.normal(size=(4, 6))
    wide.set_weights([g2])
    np.testing.assert_allclose(np.asarray(wide(x)), ln_formula(x, (1, 2), g2, 0, 1e-5),
                               rtol=1e-12)


@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_layer_norm_gradients_are_central_differences(axis, layer_gradcheck):
    rng = np.random.default_rng(10)
    x = rng.normal(size=(3, 4, 5))
    layer = layers.LayerNormalization(axis=axis, dtype="float64")
    layer.build((4, 5))
    gamma, beta = rng.normal(size=layer.gamma.shape), rng.normal(size=layer.beta.shape)

    assert layer_gradcheck(layer, x, [gamma, beta])


def test_layer_norm_trains_in_sequential_and_functional_models():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=40)
    bprop.utils.set_random_seed(5)
    seq = bprop.Sequential([layers.Dense(8, input_shape=(6,)), layers.LayerNormalization(),
                            layers.Dense(3, activation="softmax")])
    inputs = bprop.keras.Input(shape=(6,))
    h = layers.LayerNormalization()(layers.Dense(8)(inputs))
    fun = bprop.keras.Model(inputs, layers.Dense(3, activation="softmax")(h))
    for model in (seq, fun):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        gamma0 = [v.numpy() for v in model.weights if v.name.endswith("gamma")][0]
        history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
        gamma = [v.numpy() for v in model.weights if v.name.endswith("gamma")][0]
        assert not np.array_equal(gamma, gamma0)


def test_layer_norm_config_round_trip_and_errors():
    layer = layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, scale=False,
                                      beta_regularizer="l1")
    config = layer.get_config()
    assert config["axis"] == [1, 2] and config["rms_scaling"] is False
    assert layers.LayerNormalization.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="rms_scaling: not supported"):
        layers.LayerNormalization(rms_scaling=True)
    with pytest.raises(TypeError, match="axis: expected an int or a list/tuple of ints"):
        layers.LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="axis: expected distinct axes"):
        layers.LayerNormalization(axis=[1, -1])(np.zeros((2, 3), np.float32))
