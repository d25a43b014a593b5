"""Whole-model gradient checks in float64.

For small random MLPs, each hidden activation and each loss (fused logits
path and probability path), the gradients ``Sequential.compute_gradients``
gets by backpropagation (the very ones ``fit`` hands the optimizer) match
central differences of an *independent* NumPy loss computed from
``model.predict``.
"""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop.testing import numeric_gradient, variable_gradients

HIDDEN = ["linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax"]

# (loss name, output activation, output units): the first of each
# cross-entropy takes the fused logits path, the second the probability path.
LOSS_CASES = [
    ("mean_squared_error", "linear", 3),
    ("mean_squared_error", "tanh", 2),
    ("mean_absolute_error", "linear", 3),
    ("binary_crossentropy", "sigmoid", 2),
    ("binary_crossentropy", "softmax", 2),
    ("categorical_crossentropy", "softmax", 4),
    ("categorical_crossentropy", "sigmoid", 4),
    ("sparse_categorical_crossentropy", "softmax", 4),
    ("sparse_categorical_crossentropy", "sigmoid", 3),
]


def oracle_loss(loss, p, y, w=None):
    """The Keras loss of predictions ``p`` (n, k), written out in NumPy."""
    if loss == "mean_squared_error":
        per = ((p - y) ** 2).mean(axis=1)
    elif loss == "mean_absolute_error":
        per = np.abs(p - y).mean(axis=1)
    elif loss == "binary_crossentropy":
        per = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=1)
    elif loss == "categorical_crossentropy":
        per = -(y * np.log(p / p.sum(axis=1, keepdims=True))).sum(axis=1)
    else:
        q = p / p.sum(axis=1, keepdims=True)
        per = -np.log(q[np.arange(len(y)), y])
    if w is None:
        return per.mean()
    return (per * w).sum() / len(per)


def make_targets(loss, rng, n, k):
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, k, size=n)
    if loss == "categorical_crossentropy":
        return np.eye(k)[rng.integers(0, k, size=n)]
    if loss == "binary_crossentropy":
        return rng.uniform(0, 1, size=(n, k))
    return rng.normal(size=(n, k))


def build(hidden, out_act, k, loss, backend, seed):
    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([
        bprop.layers.Dense(5, activation=hidden, input_shape=(3,),
                           bias_initializer="random_normal"),
        bprop.layers.Dense(4, activation=hidden, bias_initializer="random_normal"),
        bprop.layers.Dense(k, activation=out_act),
    ], backend=backend, dtype="float64")
    model.compile(optimizer="sgd", loss=loss)
    return model


def check_model(model, loss, x, y, w=None, rtol=1e-5, atol=1e-7):
    value, grads = model.compute_gradients(x, y, sample_weight=w)
    variables = model.trainable_variables
    assert len(grads) == len(variables) == 6

    def full_loss():
        return oracle_loss(loss, model.predict(x, verbose=0), y, w)

    assert value == pytest.approx(full_loss(), rel=1e-10, abs=1e-12)
    numeric = variable_gradients(variables, full_loss)
    for var, g, num in zip(variables, grads, numeric):
        np.testing.assert_allclose(g, num, rtol=rtol, atol=atol, err_msg=var.name)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("backend", ["core", "numpy"])
def test_each_hidden_activation(hidden, backend):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 3))
    y = rng.integers(0, 4, size=7)
    model = build(hidden, "softmax", 4, "sparse_categorical_crossentropy", backend, 3)
    check_model(model, "sparse_categorical_crossentropy", x, y)


@pytest.mark.parametrize("loss,out_act,k", LOSS_CASES)
@pytest.mark.parametrize("backend", ["core", "numpy"])
def test_each_loss(loss, out_act, k, backend):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3))
    y = make_targets(loss, rng, 6, k)
    model = build("tanh", out_act, k, loss, backend, 5)
    assert (model._train_plan().predictions != "linear") == (out_act in ("softmax", "sigmoid") and
                            {"softmax": "categorical", "sigmoid": "binary"}[out_act] in loss)
    check_model(model, loss, x, y)


@pytest.mark.parametrize("loss,out_act,k", LOSS_CASES[::2])
def test_with_sample_weights(loss, out_act, k):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 3))
    y = make_targets(loss, rng, 6, k)
    w = rng.uniform(0.2, 2.0, size=6)
    model = build("gelu", out_act, k, loss, "core", 7)
    check_model(model, loss, x, y, w)


def test_from_logits_with_linear_output():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 3))
    y = rng.integers(0, 3, size=5)
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([bprop.layers.Dense(4, "relu", input_shape=(3,)),
                              bprop.layers.Dense(3)], dtype="float64")
    model.compile("adam", bprop.losses.SparseCategoricalCrossentropy(from_logits=True))
    value, grads = model.compute_gradients(x, y)

    def loss_of(z):
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(5), y].mean()

    assert value == pytest.approx(loss_of(model.predict(x, verbose=0)), rel=1e-12)
    var = model.trainable_variables[0]
    original = var.numpy()
    numeric = numeric_gradient(lambda v: (var.assign(v), loss_of(model.predict(x, verbose=0)))[1],
                               original)
    var.assign(original)
    np.testing.assert_allclose(grads[0], numeric, rtol=1e-5, atol=1e-8)
