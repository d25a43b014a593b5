"""Layers and models called on tensors inside a GradientTape (call_layer), and a
custom training loop that reproduces ``model.fit``."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import layers
from bprop.testing import gradcheck, numeric_gradient


def _dense(units, in_dim, activation=None, dtype="float64", seed=0):
    layer = layers.Dense(units, activation=activation, dtype=dtype,
                         kernel_initializer=bprop.initializers.RandomNormal(seed=seed),
                         bias_initializer=bprop.initializers.RandomNormal(seed=seed + 1))
    layer.build((in_dim,))
    return layer


def _with_kernel(layer, kernel, fn):
    """fn() evaluated with the layer's kernel set to ``kernel`` (restored after)."""
    saved = layer.kernel.numpy()
    layer.kernel.assign(kernel)
    try:
        return fn()
    finally:
        layer.kernel.assign(saved)


@pytest.mark.parametrize("activation", [None, "tanh", "gelu", "softmax"])
def test_dense_called_on_a_tensor_has_correct_gradients(activation, rng):
    d = _dense(3, 4, activation)
    x0 = rng.standard_normal((5, 4))

    def f(x, kernel, bias):
        saved = d.bias.numpy()
        d.bias.assign(bias)
        try:
            return _with_kernel(d, kernel, lambda: d(x))  # plain arrays: no tape
        finally:
            d.bias.assign(saved)

    def analytic(g, x, kernel, bias):
        xv = bprop.Variable(x)
        d.kernel.assign(kernel)
        d.bias.assign(bias)
        with bprop.GradientTape() as tape:
            y = d(xv)
        assert isinstance(y, bprop.Tensor)
        grads = tape.gradient(y, [xv, d.kernel, d.bias], output_gradients=g)
        return [np.asarray(gr) for gr in grads]

    gradcheck(f, [x0, d.kernel.numpy(), d.bias.numpy()], analytic, rtol=1e-6, atol=1e-9)


def test_same_layer_called_twice_under_one_tape(rng):
    # y = d(d(x)): the first call's cache is overwritten by the second forward.
    d = _dense(3, 3, "tanh")
    x = rng.standard_normal((4, 3))
    g = rng.standard_normal((4, 3))

    def loss_of_kernel(kernel):
        return _with_kernel(d, kernel, lambda: float(np.sum(g * d(d(x)))))

    with bprop.GradientTape() as tape:
        y = d(d(bprop.constant(x)))
        loss = bprop.reduce_sum(y * g)
    gk = np.asarray(tape.gradient(loss, d.kernel))
    numeric = numeric_gradient(loss_of_kernel, d.kernel.numpy())
    np.testing.assert_allclose(gk, numeric, rtol=1e-6, atol=1e-9)


def test_layer_inside_a_model_and_alone_under_one_tape(rng):
    d1, d2 = _dense(4, 3, "relu"), _dense(2, 4, seed=5)
    model = bprop.Sequential([d1, d2])
    x1, x2 = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    g1, g2 = rng.standard_normal((6, 4)), rng.standard_normal((6, 2))

    def loss_of_kernel(kernel):
        return _with_kernel(d1, kernel, lambda: float(np.sum(g1 * d1(x1)) + np.sum(g2 * model(x2))))

    with bprop.GradientTape() as tape:
        alone = d1(x1)         # d1's cache holds this call ...
        whole = model(x2)      # ... until the model's forward overwrites it
        loss = bprop.reduce_sum(alone * g1) + bprop.reduce_sum(whole * g2)
    gk, gk2 = tape.gradient(loss, [d1.kernel, d2.kernel])
    numeric = numeric_gradient(loss_of_kernel, d1.kernel.numpy())
    np.testing.assert_allclose(np.asarray(gk), numeric, rtol=1e-6, atol=1e-9)
    assert gk2.shape == d2.kernel.shape


@pytest.mark.parametrize("seed", [None, 3], ids=["global_rng", "own_rng"])
def test_dropout_called_twice_keeps_each_call_mask(seed, rng):
    bprop.utils.set_random_seed(11)
    drop = layers.Dropout(0.5, seed=seed, dtype="float64")
    x = bprop.Variable(np.ones((4, 5)))
    c1, c2 = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    with bprop.GradientTape() as tape:
        y1 = drop(x, training=True)
        y2 = drop(x, training=True)
        loss = bprop.reduce_sum(y1 * c1) + bprop.reduce_sum(y2 * c2)
    assert not np.array_equal(np.asarray(y1), np.asarray(y2))
    # x is all ones, so y_i is mask_i * scale: d loss / dx = y1 c1 + y2 c2
    np.testing.assert_allclose(np.asarray(tape.gradient(loss, x)),
                               np.asarray(y1) * c1 + np.asarray(y2) * c2, rtol=1e-15)


def test_layer_on_a_tensor_outside_a_tape_returns_a_tensor():
    d = _dense(2, 3)
    y = d(bprop.constant(np.ones((1, 3))))
    assert isinstance(y, bprop.Tensor)
    np.testing.assert_allclose(np.asarray(y), d(np.ones((1, 3))), rtol=1e-15)


def test_layer_rejects_a_tensor_of_another_dtype():
    d = _dense(2, 3, dtype="float32")
    with pytest.raises(TypeError, match="expects dtype float32, got a Tensor of dtype float64"):
        d(bprop.constant(np.ones((1, 3))))


def _data(n=48, seed=1):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return x, y


def _model(output_activation):
    return bprop.Sequential([
        layers.Dense(8, activation="relu", input_shape=(4,)),
        layers.Dense(3, activation=output_activation),
    ])


@pytest.mark.parametrize("from_logits", [True, False])
def test_custom_loop_matches_fit(from_logits):
    x, y = _data()
    epochs, batch = 3, 16
    loss_obj = bprop.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    activation = None if from_logits else "softmax"

    bprop.utils.set_random_seed(42)
    fitted = _model(activation)
    fitted.compile(optimizer=bprop.optimizers.Adam(0.01), loss=loss_obj)
    fitted.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)

    bprop.utils.set_random_seed(42)  # same initial weights, same shuffles
    model = _model(activation)
    opt = bprop.optimizers.Adam(0.01)
    for _ in range(epochs):
        order = bprop.utils.get_rng().permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            with bprop.GradientTape() as tape:
                out = model(x[idx], training=True)
                loss = loss_obj(y[idx], out)
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))

    # From logits both paths run the same fused kernel; from probabilities the
    # tape goes through softmax_backward, equal up to float32 rounding.
    tol = dict(rtol=1e-6, atol=1e-7) if from_logits else dict(rtol=2e-4, atol=2e-5)
    for a, b in zip(model.get_weights(), fitted.get_weights()):
        np.testing.assert_allclose(a, b, **tol)
    assert not np.allclose(model.get_weights()[0], _initial_kernel(activation), atol=1e-3)


def _initial_kernel(activation):
    bprop.utils.set_random_seed(42)
    return _model(activation).get_weights()[0]
