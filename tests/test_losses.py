"""Losses: Keras values on hand-checked cases, float64 gradients, names, tensors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import bprop
from bprop import losses
from bprop.testing import numeric_gradient

EPS = 1e-7


def test_mse_and_mae_hand_computed():
    y_true = np.array([[0.0, 1.0], [2.0, -1.0]])
    y_pred = np.array([[1.0, 1.0], [0.0, 0.0]])
    # squared errors 1, 0, 4, 1 -> per sample 0.5, 2.5 -> mean 1.5
    assert losses.MeanSquaredError()(y_true, y_pred) == pytest.approx(1.5, rel=1e-15)
    assert losses.get("mse")(y_true, y_pred) == pytest.approx(1.5, rel=1e-15)
    # abs errors 1, 0, 2, 1 -> mean 1.0
    assert losses.MeanAbsoluteError()(y_true, y_pred) == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_allclose(losses.mean_squared_error(y_true, y_pred), [0.5, 2.5])
    np.testing.assert_allclose(losses.mae(y_true, y_pred), [0.5, 1.5])
    # sample weights: (0.5 * 2 + 2.5 * 0) / 2
    assert losses.mse.__name__ == "mean_squared_error"
    assert losses.MeanSquaredError()(y_true, y_pred, sample_weight=[2, 0]) == pytest.approx(0.5)


def test_sparse_and_categorical_crossentropy_hand_computed():
    p = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]])
    labels = np.array([0, 2])
    expected = -(math.log(0.7) + math.log(0.5)) / 2
    assert losses.SparseCategoricalCrossentropy()(labels, p) == pytest.approx(expected, 1e-12)
    assert losses.CategoricalCrossentropy()(np.eye(3)[labels], p) == pytest.approx(expected,
                                                                                   1e-12)
    # Keras normalises rows that do not sum to one
    assert losses.SparseCategoricalCrossentropy()(labels, 2 * p) == pytest.approx(expected,
                                                                                  1e-12)
    logits = np.log(p) + 3.0  # softmax(logits) == p
    assert losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits) == \
        pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels, p),
                               [-math.log(0.7), -math.log(0.5)], rtol=1e-12)
    # labels as (n, 1) and as integral floats are accepted, as Keras does
    assert losses.SparseCategoricalCrossentropy()(labels[:, None].astype(float), p) == \
        pytest.approx(expected, rel=1e-12)
    # zero probability is clipped to 1e-7, not log(0)
    assert losses.SparseCategoricalCrossentropy()([1], [[1.0, 0.0]]) == pytest.approx(
        -math.log(EPS), rel=1e-6)


def test_binary_crossentropy_hand_computed():
    t = np.array([[1.0], [0.0], [1.0]])
    p = np.array([[0.9], [0.2], [0.6]])
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.6)) / 3
    assert losses.BinaryCrossentropy()(t, p) == pytest.approx(expected, rel=1e-12)
    assert losses.get("binary_crossentropy")(t.ravel(), p.ravel()) == pytest.approx(expected,
                                                                                     rel=1e-12)
    z = np.log(p / (1 - p))
    assert losses.BinaryCrossentropy(from_logits=True)(t, z) == pytest.approx(expected, 1e-12)
    # stable for huge logits: log(1 + e^-1000) = 0 exactly, the wrong side costs 1000
    assert losses.BinaryCrossentropy(from_logits=True)([[1.0], [1.0]], [[1000.0], [-1000.0]]) \
        == pytest.approx(500.0, rel=1e-12)


LOGIT_CASES = [
    (losses.SparseCategoricalCrossentropy(), True, "sparse"),
    (losses.SparseCategoricalCrossentropy(), False, "sparse"),
    (losses.CategoricalCrossentropy(), True, "onehot"),
    (losses.CategoricalCrossentropy(), False, "soft"),
    (losses.BinaryCrossentropy(), True, "binary"),
    (losses.BinaryCrossentropy(), False, "binary"),
    (losses.MeanSquaredError(), False, "real"),
    (losses.MeanAbsoluteError(), False, "real"),
]


def _oracle(kind, out, t, w):
    """Each loss written out from its formula (Keras' definitions), per row then reduced."""
    n = out.shape[0]
    if kind == "softmax_xent":
        z = out - out.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        tt = np.eye(out.shape[1])[t] if t.ndim == 1 else t
        per = -(tt * logp).sum(axis=1)
    elif kind == "prob_xent":
        q = np.clip(out / out.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
        tt = np.eye(out.shape[1])[t] if t.ndim == 1 else t
        per = -(tt * np.log(q)).sum(axis=1)
    elif kind == "binary_xent":
        p = 1 / (1 + np.exp(-out))
        per = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(axis=1)
    elif kind == "binary_xent_probs":
        p = np.clip(out, 1e-7, 1 - 1e-7)
        per = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(axis=1)
    elif kind == "mse":
        per = ((out - t) ** 2).mean(axis=1)
    else:
        per = np.abs(out - t).mean(axis=1)
    return float((per if w is None else per * w).sum() / n)


@pytest.mark.parametrize("loss,is_logits,kind", LOGIT_CASES)
@pytest.mark.parametrize("backend", ["core", "numpy"])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_kernels_against_the_formula_and_central_differences(loss, is_logits, kind,
                                                                  backend, weighted):
    from bprop.engine.objective import LOSS_KERNELS

    rng = np.random.default_rng(0)
    n, k = 5, 4
    be = bprop.utils.get_backend(backend)
    out = rng.normal(size=(n, k)) if is_logits or kind == "real" else rng.uniform(0.1, 0.9,
                                                                                    (n, k))
    y = {"sparse": rng.integers(0, k, n), "onehot": np.eye(k)[rng.integers(0, k, n)],
         "soft": rng.dirichlet(np.ones(k), n), "binary": rng.uniform(0, 1, (n, k)),
         "real": rng.normal(size=(n, k))}[kind]
    t = loss.prepare_targets(y, (k,), np.float64)
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    plan_kind, sparse = loss._plan_kind(is_logits)
    assert sparse == (kind == "sparse")
    value_fn, grad_fn = (getattr(be, name) for name in LOSS_KERNELS[plan_kind])
    value = value_fn(out, t, sample_weight=w)
    assert value == pytest.approx(_oracle(plan_kind, out, t, w), rel=1e-12)
    grad = np.empty_like(out)
    assert grad_fn(out, t, out=grad, sample_weight=w) is grad
    numeric = numeric_gradient(lambda o: value_fn(o, t, sample_weight=w), out)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_get_names_classes_functions_and_configs():
    assert isinstance(losses.get("mean_squared_error"), losses.MeanSquaredError)
    assert isinstance(losses.get("MSE"), losses.MeanSquaredError)
    assert isinstance(losses.get("MeanAbsoluteError"), losses.MeanAbsoluteError)
    assert isinstance(losses.get(losses.categorical_crossentropy),
                      losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.BinaryCrossentropy), losses.BinaryCrossentropy)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, name="ce")
    clone = losses.get(losses.serialize(loss))
    assert isinstance(clone, losses.SparseCategoricalCrossentropy)
    assert clone.from_logits and clone.name == "ce"
    with pytest.raises(ValueError, match="loss: unknown name 'hinge'; known: "
                                         "binary_crossentropy, categorical_crossentropy"):
        losses.get("hinge")
    wrapped = losses.get(lambda a, b: 0.0)  # a function of the user's: differentiated by the tape
    assert isinstance(wrapped, losses.LossFunctionWrapper)
    with pytest.raises(ValueError, match=r"loss: expected one of .*, a loss function or a config "
                                         r"dict, got 3"):
        losses.get(3)
    with pytest.raises(ValueError, match="reduction: expected 'sum_over_batch_size'"):
        losses.MeanSquaredError(reduction="sum")


def test_bad_targets():
    with pytest.raises(ValueError, match=r"y: expected class labels in \[0, 3\)"):
        losses.SparseCategoricalCrossentropy()([3], [[0.2, 0.3, 0.5]])
    with pytest.raises(ValueError, match=r"y: binary cross-entropy expects targets in \[0, 1\]"):
        losses.BinaryCrossentropy()([[2.0]], [[0.5]])
    with pytest.raises(ValueError, match="y_true: expected 2 samples"):
        losses.MeanSquaredError()([[1.0]], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="sample_weight: expected 1 values, got 2"):
        losses.MeanSquaredError()([[1.0]], [[1.0]], sample_weight=[1, 2])


def test_loss_objects_on_tensors_return_tensors_for_the_tape():
    rng = np.random.default_rng(0)
    logits = bprop.Variable(rng.normal(size=(4, 3)), dtype="float64")
    labels = np.array([0, 2, 1, 1])
    loss_fn = losses.SparseCategoricalCrossentropy(from_logits=True)
    with bprop.GradientTape() as tape:
        value = loss_fn(labels, logits)
    assert isinstance(value, bprop.Tensor)
    expected = float(loss_fn(labels, logits.numpy()))
    assert float(np.asarray(value)) == pytest.approx(expected, rel=1e-12)
    grad = np.asarray(tape.gradient(value, logits))
    numeric = numeric_gradient(lambda z: float(loss_fn(labels, z)), logits.numpy())
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_a_loss_function_of_the_users_trains_through_the_tape():
    """Keras' custom loss: a function of y_true, y_pred returning per-sample values."""
    import bprop as tf

    def scaled_mse(y_true, y_pred):
        return tf.reduce_mean(tf.square(y_true - y_pred), axis=-1) * 2.0

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3))
    y = x @ np.array([[1.0], [-1.0], [0.5]])
    model = bprop.Sequential([bprop.layers.Dense(1, input_shape=(3,))], dtype="float64")
    model.compile("sgd", loss=scaled_mse)
    w = rng.uniform(0.5, 2.0, 40)
    value, grads = model.compute_gradients(x, y, sample_weight=w)
    pred = model.predict(x, verbose=0)
    assert value == pytest.approx(np.sum(2.0 * (pred - y)[:, 0] ** 2 * w) / 40, rel=1e-12)
    np.testing.assert_allclose(grads[0], x.T @ (4.0 * (pred - y) * w[:, None]) / 40, rtol=1e-10)
    hist = model.fit(x, y, epochs=30, verbose=0).history
    assert not model._train_plan().in_core and hist["loss"][-1] < 0.1 * hist["loss"][0]
    assert float(model.compiled_loss(y, pred)) == pytest.approx(2 * np.mean((pred - y) ** 2))


def _classifier(loss, seed=1):
    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([bprop.layers.Dense(16, activation="relu", input_shape=(8,)),
                              bprop.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


@pytest.mark.parametrize("label_shape", [(256,), (256, 1)])
def test_a_loss_function_takes_integer_labels_as_keras_hands_them(label_shape):
    """A custom sparse loss gets y as the user gave it (Keras casts it to the loss
    dtype and leaves its shape), and "accuracy" becomes the sparse accuracy."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = rng.integers(0, 3, 256).reshape(label_shape)
    seen = []

    def sparse_ce(y_true, y_pred):
        seen.append((tuple(y_true.shape), np.dtype(y_true.dtype)))
        return bprop.keras.losses.sparse_categorical_crossentropy(y_true, y_pred)

    runs = []
    for loss in ("sparse_categorical_crossentropy", sparse_ce):
        model = _classifier(loss)
        hist = model.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False).history
        runs.append((hist, model.evaluate(x, y, verbose=0), model.predict(x, verbose=0)))
    (built_in, ev_b, pred_b), (custom, ev_c, pred_c) = runs
    assert set(seen) == {((32,) + label_shape[1:], np.dtype("float32"))}
    np.testing.assert_allclose(custom["loss"], built_in["loss"], rtol=1e-6)
    np.testing.assert_allclose(ev_c, ev_b, rtol=1e-6)
    np.testing.assert_allclose(pred_c, pred_b, rtol=1e-5, atol=1e-7)
    # The accuracy against NumPy: the share of rows whose argmax is the label.
    assert custom["accuracy"] == built_in["accuracy"]
    assert ev_c[1] == pytest.approx(np.mean(pred_c.argmax(1) == y.reshape(-1)))


def test_a_loss_function_reads_extra_target_columns_and_labels_meet_one_unit_outputs():
    # y holds (target, per-sample weight): the function's own business, as in Keras.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3))
    y = np.stack([x @ np.array([1.0, -2.0, 0.5]), rng.uniform(0.5, 2.0, 64)], axis=1)
    shapes = []

    def weighted_mse(y_true, y_pred):
        shapes.append((tuple(y_true.shape), tuple(y_pred.shape)))
        return y_true[:, 1] * bprop.square(y_true[:, 0] - y_pred[:, 0])

    model = bprop.Sequential([bprop.layers.Dense(1, input_shape=(3,))], dtype="float64")
    model.compile("sgd", loss=weighted_mse)
    value = model.evaluate(x, y, batch_size=64, verbose=0)
    pred = model.predict(x, verbose=0)[:, 0]
    assert value == pytest.approx(np.mean(y[:, 1] * (y[:, 0] - pred) ** 2), rel=1e-12)
    assert shapes == [((64, 2), (64, 1))]
    # (n,) targets of a one-unit output reach the function as (n, 1) (Keras'
    # squeeze_or_expand_to_same_rank), so y_true - y_pred does not broadcast.
    shapes.clear()

    def mse(y_true, y_pred):
        shapes.append((tuple(y_true.shape), tuple(y_pred.shape)))
        return bprop.reduce_mean(bprop.square(y_true - y_pred), axis=-1)

    model.compile("sgd", loss=mse)
    value = model.evaluate(x, y[:, 0], batch_size=64, verbose=0)
    assert shapes == [((64, 1), (64, 1))]
    assert value == pytest.approx(np.mean((y[:, 0] - pred) ** 2), rel=1e-12)
    np.testing.assert_allclose(float(model.compiled_loss(y[:, 0], pred[:, None])),
                               np.mean((y[:, 0] - pred) ** 2), rtol=1e-12)


def test_a_loss_function_keeps_the_target_form_it_was_first_given():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 8)).astype("float32")
    labels = rng.integers(0, 3, 64)

    def either(y_true, y_pred):  # takes labels or one-hot rows
        if len(y_true.shape) == 2 and y_true.shape[-1] == 3:
            return bprop.keras.losses.categorical_crossentropy(y_true, y_pred)
        return bprop.keras.losses.sparse_categorical_crossentropy(y_true, y_pred)

    model = _classifier(either)
    # fit's y decides, not the validation data prepared after it
    with pytest.raises(ValueError, match=r"y_val: the loss function 'either' was first given "
                                         r"targets shaped like the output and now class labels"):
        model.fit(x, np.eye(3)[labels], epochs=1, verbose=0, validation_data=(x, labels))
    model = _classifier(either)
    model.fit(x, labels, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"y: .* first given class labels and now targets "
                                         r"shaped like the output of shape \(64, 3\)"):
        model.evaluate(x, np.eye(3)[labels], verbose=0)


def test_class_weight_with_a_loss_function_on_integer_labels():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(96, 8)).astype("float32")
    y = rng.integers(0, 3, 96)

    def sparse_ce(y_true, y_pred):
        return bprop.keras.losses.sparse_categorical_crossentropy(y_true, y_pred)

    runs = []
    for loss in ("sparse_categorical_crossentropy", sparse_ce):
        model = _classifier(loss)
        runs.append(model.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False,
                              class_weight={0: 3.0, 2: 0.5}).history["loss"])
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-6)
