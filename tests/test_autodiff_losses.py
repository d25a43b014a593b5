"""Keras losses on tensors: values against closed forms, gradients against
central differences (float64), both backends, and label/dtype errors."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import autodiff
from bprop.testing import gradcheck

R = np.random.default_rng(17)
EPS = 1e-7


@pytest.fixture(params=["core", "numpy"])
def backend(request):
    previous = autodiff.set_backend(request.param)
    yield request.param
    autodiff.set_backend(previous)


def _log_softmax(z):
    s = z - z.max(-1, keepdims=True)
    return s - np.log(np.exp(s).sum(-1, keepdims=True))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def grad_wrt_pred(loss_fn, y_true):
    """analytic(g, y_pred) for gradcheck through the tape."""

    def analytic(g, y_pred):
        p = bprop.Variable(y_pred)
        with bprop.GradientTape() as tape:
            loss = loss_fn(y_true, p)
        assert loss.shape == () and loss.dtype == np.float64
        return np.asarray(tape.gradient(loss, p)) * g

    return analytic


LABELS = np.array([2, 0, 1, 2])
ONEHOT = np.eye(3)[LABELS]
PROBS = R.uniform(0.05, 1.0, (4, 3))       # rows not normalised: Keras renormalises
LOGITS = R.standard_normal((4, 3))
TARGETS = R.uniform(0, 1, (4, 3))

CASES = {
    "mse": (autodiff.mean_squared_error, TARGETS, LOGITS,
            lambda t, p: np.mean((t - p) ** 2)),
    "mse_rank_rule": (autodiff.mean_squared_error, TARGETS[:, 0], LOGITS[:, :1],
                      lambda t, p: np.mean((t[:, None] - p) ** 2)),
    "mae": (autodiff.mean_absolute_error, TARGETS, LOGITS,
            lambda t, p: np.mean(np.abs(t - p))),
    "cce_logits": (lambda t, p: autodiff.categorical_crossentropy(t, p, from_logits=True),
                   ONEHOT, LOGITS, lambda t, p: -np.mean((t * _log_softmax(p)).sum(-1))),
    "cce_soft_labels_logits": (
        lambda t, p: autodiff.categorical_crossentropy(t, p, from_logits=True),
        np.exp(_log_softmax(TARGETS)), LOGITS,
        lambda t, p: -np.mean((t * _log_softmax(p)).sum(-1))),
    "cce_probs": (autodiff.categorical_crossentropy, ONEHOT, PROBS,
                  lambda t, p: -np.mean((t * np.log(p / p.sum(-1, keepdims=True))).sum(-1))),
    "scce_logits": (lambda t, p: autodiff.sparse_categorical_crossentropy(t, p, from_logits=True),
                    LABELS, LOGITS, lambda t, p: -np.mean(_log_softmax(p)[np.arange(4), t])),
    "scce_logits_column_labels": (
        lambda t, p: autodiff.sparse_categorical_crossentropy(t, p, from_logits=True),
        LABELS.reshape(-1, 1).astype(np.float32), LOGITS,
        lambda t, p: -np.mean(_log_softmax(p)[np.arange(4), t.ravel().astype(int)])),
    # Keras renormalises the rows (these sum to 0.9) before the log.
    "scce_probs": (autodiff.sparse_categorical_crossentropy, LABELS, PROBS * 0.9,
                   lambda t, p: -np.mean(np.log((p / p.sum(-1, keepdims=True))[np.arange(4), t]))),
    "bce_logits": (lambda t, p: autodiff.binary_crossentropy(t, p, from_logits=True),
                   TARGETS, LOGITS,
                   lambda t, p: -np.mean(t * np.log(_sigmoid(p)) + (1 - t) * np.log(1 - _sigmoid(p)))),
    "bce_probs": (autodiff.binary_crossentropy, TARGETS, _sigmoid(LOGITS),
                  lambda t, p: -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_value_and_gradient(name, backend):
    fn, y_true, y_pred, oracle = CASES[name]
    got = fn(y_true, bprop.constant(y_pred))
    assert isinstance(got, bprop.Tensor) and got.shape == ()
    np.testing.assert_allclose(float(got), oracle(y_true, y_pred), rtol=1e-12)
    gradcheck(lambda p: np.asarray(fn(y_true, p)), [y_pred], grad_wrt_pred(fn, y_true),
              rtol=1e-6, atol=1e-9)


def test_mse_gradient_flows_to_a_tensor_target():
    t = bprop.Variable(np.array([1.0, 2.0]))
    p = np.array([0.0, 4.0])
    with bprop.GradientTape() as tape:
        loss = autodiff.mean_squared_error(t, p)
    np.testing.assert_allclose(np.asarray(tape.gradient(loss, t)), [1.0, -2.0])


def test_probability_losses_clip_like_keras():
    p = bprop.Variable(np.array([[1.0, 0.0]]))
    with bprop.GradientTape() as tape:
        loss = autodiff.categorical_crossentropy(np.array([[0.0, 1.0]]), p)
    assert float(loss) == pytest.approx(-np.log(EPS))
    assert np.all(np.isfinite(np.asarray(tape.gradient(loss, p))))


def test_keras_loss_objects_return_tensors_under_a_tape():
    p = bprop.Variable(LOGITS)
    loss_obj = bprop.losses.SparseCategoricalCrossentropy(from_logits=True)
    with bprop.GradientTape() as tape:
        loss = loss_obj(LABELS, p)
    assert isinstance(loss, bprop.Tensor)
    assert float(loss) == pytest.approx(float(loss_obj(LABELS, LOGITS)), rel=1e-12)
    grad = np.asarray(tape.gradient(loss, p))
    np.testing.assert_allclose(grad, (np.exp(_log_softmax(LOGITS)) - ONEHOT) / 4, rtol=1e-12)


def test_label_arrays_adopt_the_prediction_dtype():
    p = bprop.constant(np.zeros((2, 2), dtype=np.float32))
    loss = autodiff.mean_squared_error(np.ones((2, 2)), p)  # float64 labels, float32 preds
    assert loss.dtype == np.float32 and float(loss) == 1.0


def test_label_errors_are_clear():
    logits = bprop.constant(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"labels: expected integers in \[0, 2\)"):
        autodiff.sparse_categorical_crossentropy(np.array([0, 2, 1]), logits, from_logits=True)
    with pytest.raises(ValueError, match="non-integral"):
        autodiff.sparse_categorical_crossentropy(np.array([0.5, 1, 1]), logits, from_logits=True)
    with pytest.raises(ValueError, match=r"expected 3 class indices"):
        autodiff.sparse_categorical_crossentropy(np.array([0, 1]), logits)
    with pytest.raises(ValueError, match=r"y_true: expected shape \(3, 2\) \(y_pred's\), got \(3, 3\)"):
        autodiff.mean_squared_error(np.zeros((3, 3)), logits)
    with pytest.raises(TypeError, match="y_true has dtype float32 but y_pred has dtype float64"):
        autodiff.mean_squared_error(bprop.constant(np.zeros((3, 2), np.float32)), logits)


@pytest.mark.parametrize("name", ["SparseCategoricalCrossentropy", "CategoricalCrossentropy",
                                  "BinaryCrossentropy"])
def test_tape_and_arrays_give_the_same_loss_for_unnormalised_probabilities(name):
    """The bug of issue 11: sparse cross-entropy on rows that do not sum to 1 was
    renormalised on arrays and not under the tape (0.525 against 1e-7)."""
    p = np.array([[0.05, 0.05, 0.2], [0.3, 0.3, 0.1]])
    y = np.array([2, 0]) if name.startswith("Sparse") else np.eye(3)[[2, 0]]
    loss = getattr(bprop.losses, name)()
    on_arrays = loss(y, p)
    assert isinstance(on_arrays, bprop.Tensor) and on_arrays.shape == ()  # as Keras returns
    on_arrays = float(on_arrays)
    with bprop.GradientTape() as tape:
        pv = bprop.Variable(p)
        on_tensors = loss(y, pv)
    assert float(on_tensors) == on_arrays
    if name != "BinaryCrossentropy":
        q = p / p.sum(axis=1, keepdims=True)
        assert on_arrays == pytest.approx(-np.mean(np.log(q[np.arange(2), [2, 0]])), rel=1e-12)
    assert np.all(np.isfinite(np.asarray(tape.gradient(on_tensors, pv))))


# Keras' loss functions return each sample's loss, under a tape too (a custom
# loss or a custom training loop weights or masks them before reducing).
PER_SAMPLE = {
    "mse": bprop.keras.losses.mean_squared_error,
    "mae": bprop.keras.losses.mean_absolute_error,
    "cce_logits": lambda t, p: bprop.keras.losses.categorical_crossentropy(t, p, from_logits=True),
    "cce_probs": bprop.keras.losses.categorical_crossentropy,
    "scce_logits": lambda t, p: bprop.keras.losses.sparse_categorical_crossentropy(
        t, p, from_logits=True),
    "scce_probs": bprop.keras.losses.sparse_categorical_crossentropy,
    "bce_logits": lambda t, p: bprop.keras.losses.binary_crossentropy(t, p, from_logits=True),
    "bce_probs": bprop.keras.losses.binary_crossentropy,
}


def _weighted_sum_check(fn, w, y_true=None, y_pred=None):
    """gradcheck of sum(w * fn(y_true, y_pred)) through the tape, with respect to
    whichever of y_true / y_pred is None in the call (the other is data)."""
    wrt_true = y_true is None
    x = TARGETS if wrt_true else y_pred

    def call(v):
        return fn(v, LOGITS) if wrt_true else fn(y_true, v)

    def analytic(g, a):
        v = bprop.Variable(a)
        with bprop.GradientTape() as tape:
            total = bprop.reduce_sum(call(v) * w)
        return np.asarray(tape.gradient(total, v)) * g

    gradcheck(lambda a: np.sum(w * np.asarray(call(a))), [x], analytic, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(PER_SAMPLE))
def test_keras_loss_functions_give_each_samples_loss_under_a_tape(name, backend):
    fn = PER_SAMPLE[name]
    _, y_true, y_pred, oracle = CASES[name]
    got = fn(y_true, bprop.constant(y_pred))
    assert isinstance(got, bprop.Tensor) and got.shape == (4,)
    # Row i's loss from the closed form: the batch mean of four copies of row i.
    rows = [oracle(np.repeat(y_true[i:i + 1], 4, axis=0), np.repeat(y_pred[i:i + 1], 4, axis=0))
            for i in range(4)]
    np.testing.assert_allclose(np.asarray(got), rows, rtol=1e-12)
    _weighted_sum_check(fn, np.array([0.5, -1.0, 2.0, 3.0]), y_true=y_true, y_pred=y_pred)


def test_a_per_sample_loss_weights_the_gradient_of_a_tensor_target():
    for fn in (bprop.keras.losses.mean_squared_error,
               lambda t, p: bprop.keras.losses.categorical_crossentropy(t, p, from_logits=True)):
        _weighted_sum_check(fn, np.array([1.0, -2.0, 0.5, 4.0]))  # d/d y_true at LOGITS
