"""The step plan: the core plan, the op-by-op plan on bprop.ops, and the op-by-op
plan on bprop.reference (the NumPy oracle) train to the same weights.

Every loss x optimizer x {probabilities (fused), logits} x {with, without
Dropout}: the core plan equals the op-by-op plan on the same kernels to the
bit, and the NumPy plan to 1e-10 in float64 (1e-5 in float32, after two
epochs of updates).
"""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import layers, losses, optimizers

OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.05),
    "momentum": lambda: optimizers.SGD(0.05, momentum=0.9),
    "nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop_momentum_centered": lambda: optimizers.RMSprop(0.01, momentum=0.9, centered=True),
    "adam": lambda: optimizers.Adam(0.01),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.01),
    "adagrad": lambda: optimizers.Adagrad(0.05),
}

# loss -> (output activation with probabilities, targets kind)
LOSSES = {
    "sparse_categorical_crossentropy": ("softmax", "labels"),
    "categorical_crossentropy": ("softmax", "onehot"),
    "binary_crossentropy": ("sigmoid", "binary"),
    "mean_squared_error": ("linear", "real"),
    "mean_absolute_error": ("linear", "real"),
}
LOSS_CLASSES = {"sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
                "categorical_crossentropy": losses.CategoricalCrossentropy,
                "binary_crossentropy": losses.BinaryCrossentropy}


def _data(kind, n=48, k=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    y = {"labels": rng.integers(0, k, n), "onehot": np.eye(k)[rng.integers(0, k, n)],
         "binary": (rng.uniform(size=(n, k)) > 0.5).astype(float),
         "real": rng.normal(size=(n, k))}[kind]
    return x, y


def _train(loss_name, opt_name, logits, dropout, dtype, executor, backend="core", epochs=2,
           **fit_kw):
    out_act, kind = LOSSES[loss_name]
    if logits and loss_name in LOSS_CLASSES:
        loss, out_act = LOSS_CLASSES[loss_name](from_logits=True), "linear"
    else:
        loss = loss_name
    bprop.utils.set_random_seed(3)
    stack = [layers.Dense(8, activation="tanh", input_shape=(6,))]
    if dropout:
        stack.append(layers.Dropout(0.25))
    stack += [layers.Dense(8, activation="relu"), layers.Dense(4, activation=out_act)]
    model = bprop.Sequential(stack, backend=backend, dtype=dtype)
    model._plan_executor = executor
    metrics = ["accuracy"] + ([] if kind == "labels" else ["mse"])
    model.compile(optimizer=OPTIMIZERS[opt_name](), loss=loss, metrics=metrics)
    x, y = _data(kind)
    fit_kw.setdefault("verbose", 0)
    hist = model.fit(x.astype(dtype), y, batch_size=10, epochs=epochs, **fit_kw)
    return model, hist.history


def _assert_same_history(a, b):
    """The loss to the bit; metric sums may add the same values in another order."""
    assert a.keys() == b.keys()
    assert a["loss"] == b["loss"]
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12)


LOSS_FORMS = [(name, False) for name in sorted(LOSSES)] + [(name, True) for name in
                                                           sorted(LOSS_CLASSES)]


@pytest.mark.parametrize("dropout", [False, True], ids=["plain", "dropout"])
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("loss_name,logits", LOSS_FORMS,
                         ids=["%s-%s" % (n, "logits" if lg else "probs") for n, lg in LOSS_FORMS])
def test_core_plan_equals_op_by_op_and_numpy_plans(loss_name, logits, opt_name, dropout):
    core, h_core = _train(loss_name, opt_name, logits, dropout, "float32", "auto")
    assert core._train_plan().in_core
    ops_plan, h_ops = _train(loss_name, opt_name, logits, dropout, "float32", "ops")
    assert not ops_plan._train_plan().in_core
    for a, b in zip(core.get_weights(), ops_plan.get_weights()):
        np.testing.assert_array_equal(a, b)
    _assert_same_history(h_core, h_ops)
    ref32, _ = _train(loss_name, opt_name, logits, dropout, "float32", "ops", backend="numpy")
    for a, b in zip(core.get_weights(), ref32.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    core64, h64 = _train(loss_name, opt_name, logits, dropout, "float64", "auto")
    ref64, r64 = _train(loss_name, opt_name, logits, dropout, "float64", "ops", backend="numpy")
    for a, b in zip(core64.get_weights(), ref64.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for key in h64:
        np.testing.assert_allclose(h64[key], r64[key], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("extra", ["clipnorm", "clipvalue", "global_clipnorm", "schedule",
                                   "sample_weight", "class_weight", "regularizers"])
def test_plans_agree_with_clipping_schedules_weights_and_penalties(extra):
    def build(executor, backend, dtype):
        bprop.utils.set_random_seed(5)
        reg = bprop.regularizers.L1L2(0.01, 0.02) if extra == "regularizers" else None
        model = bprop.Sequential([
            layers.Dense(8, activation="relu", input_shape=(6,), kernel_regularizer=reg,
                         bias_regularizer=reg, activity_regularizer=reg),
            layers.Dense(4, activation="softmax", kernel_regularizer=reg)],
            backend=backend, dtype=dtype)
        model._plan_executor = executor
        kw = {"clipnorm": 0.05} if extra == "clipnorm" else \
            {"clipvalue": 0.01} if extra == "clipvalue" else \
            {"global_clipnorm": 0.1} if extra == "global_clipnorm" else {}
        lr = optimizers.schedules.ExponentialDecay(0.05, 3, 0.5) if extra == "schedule" else 0.05
        model.compile(optimizer=optimizers.Adam(lr, **kw), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        x, y = _data("labels")
        fit_kw = {}
        if extra == "sample_weight":
            fit_kw["sample_weight"] = np.linspace(0.1, 2.0, len(y))
        if extra == "class_weight":
            fit_kw["class_weight"] = {0: 0.5, 2: 3.0}
        hist = model.fit(x.astype(dtype), y, batch_size=10, epochs=2, verbose=0, **fit_kw)
        return model, hist.history

    core, h = build("auto", "core", "float32")
    assert core._train_plan().in_core
    opbyop, h2 = build("ops", "core", "float32")
    for a, b in zip(core.get_weights(), opbyop.get_weights()):
        np.testing.assert_array_equal(a, b)
    _assert_same_history(h, h2)
    core64, h64 = build("auto", "core", "float64")
    ref64, r64 = build("ops", "numpy", "float64")
    for a, b in zip(core64.get_weights(), ref64.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h64["loss"], r64["loss"], rtol=1e-10)


def test_the_loss_includes_the_penalties_as_keras_reports_it():
    bprop.utils.set_random_seed(0)
    reg = bprop.regularizers.L2(0.1)
    act = bprop.regularizers.L1(0.01)
    model = bprop.Sequential([layers.Dense(3, input_shape=(2,), kernel_regularizer=reg,
                                           activity_regularizer=act)], dtype="float64")
    model.compile("sgd", "mse")
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.zeros((2, 3))
    w, b = model.get_weights()
    out = x @ w + b
    expected = (out ** 2).mean() + 0.1 * (w ** 2).sum() + 0.01 * np.abs(out).sum()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-12)
    loss, grads = model.compute_gradients(x, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    dout = 2 * out / out.size + 0.01 * np.sign(out)
    np.testing.assert_allclose(grads[0], x.T @ dout + 0.2 * w, rtol=1e-12)
    np.testing.assert_allclose(grads[1], dout.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("executor", ["auto", "ops"])
def test_trainable_false_freezes_exactly_the_frozen_weights(executor):
    bprop.utils.set_random_seed(1)
    model = bprop.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)),
                              layers.Dense(8, activation="relu"),
                              layers.Dense(4, activation="softmax")])
    model._plan_executor = executor
    model.layers[1].trainable = False
    model.compile("adam", "sparse_categorical_crossentropy")
    before = model.get_weights()
    x, y = _data("labels")
    model.fit(x, y, epochs=2, verbose=0)
    after = model.get_weights()
    assert [np.array_equal(a, b) for a, b in zip(before, after)] == \
        [False, False, True, True, False, False]
    assert len(model.optimizer.tracked_variables) == 4  # no slots for the frozen layer


def test_a_frozen_layer_still_passes_gradients_to_the_layers_before_it():
    bprop.utils.set_random_seed(2)
    model = bprop.Sequential([layers.Dense(5, activation="tanh", input_shape=(3,)),
                              layers.Dense(4, activation="tanh"),
                              layers.Dense(2)], dtype="float64")
    model.layers[1].trainable = False
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    loss, grads = model.compute_gradients(x, y)
    w0 = model.layers[0].kernel
    original = w0.numpy()

    def f(v):
        w0.assign(v)
        return ((model.predict(x, verbose=0) - y) ** 2).mean()

    numeric = bprop.testing.numeric_gradient(f, original)
    w0.assign(original)
    np.testing.assert_allclose(grads[0], numeric, rtol=1e-6, atol=1e-9)
    assert len(grads) == 4


def test_keras2_batch_callback_names_are_called_for_every_batch():
    calls = []

    class Old(bprop.callbacks.Callback):  # Keras 2 spelling only
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, round(logs["loss"], 12)))

    model, _ = _train("sparse_categorical_crossentropy", "adam", False, False, "float64", "auto",
                      epochs=1, callbacks=[Old()])
    assert [c[:2] for c in calls] == [(k, b) for b in range(5) for k in ("begin", "end")]
    # one step per core call with batch hooks: the same weights as the chunked run
    chunked, _ = _train("sparse_categorical_crossentropy", "adam", False, False, "float64",
                        "auto", epochs=1)
    for a, b in zip(model.get_weights(), chunked.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_progress_bar_does_not_change_the_weights(capsys):
    quiet, _ = _train("categorical_crossentropy", "rmsprop", False, True, "float32", "auto")
    bar, _ = _train("categorical_crossentropy", "rmsprop", False, True, "float32", "auto",
                    verbose=1)
    assert "Epoch 2/2" in capsys.readouterr().out
    for a, b in zip(quiet.get_weights(), bar.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_same_bits_at_one_and_two_threads():
    previous = bprop.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            bprop.set_num_threads(threads)
            model, _ = _train("sparse_categorical_crossentropy", "adam", False, True, "float32",
                              "auto")
            results.append(model.get_weights())
    finally:
        bprop.set_num_threads(previous)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


class Affine(layers.Layer):
    """A Keras-style custom layer: weights in build, tensor ops in call."""

    def __init__(self, units, **kw):
        super().__init__(**kw)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return bprop.nn.relu(bprop.matmul(inputs, self.w) + self.b)


def test_a_custom_layer_trains_through_the_plans_tape_segment():
    """The core plan calls the user's layer back (its Python segment) and runs
    the rest itself: the same bits as the op-by-op plan, and the numbers of
    the built-in layer the custom one re-implements."""
    def build(custom, executor="auto"):
        bprop.utils.set_random_seed(4)
        middle = Affine(8, dtype="float64") if custom else layers.Dense(8, "relu", dtype="float64")
        model = bprop.Sequential([layers.Dense(8, activation="tanh", input_shape=(6,)), middle,
                                  layers.Dense(4, activation="softmax")], dtype="float64")
        model._plan_executor = executor
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    custom, builtin, opbyop = build(True), build(False), build(True, "ops")
    builtin.set_weights(custom.get_weights())
    plan = custom._train_plan()
    assert plan.in_core and [type(n).__name__ for n in plan.nodes] == \
        ["DenseNode", "TapeNode", "DenseNode"]
    x, y = _data("labels")
    h1 = custom.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history
    h2 = builtin.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history
    h3 = opbyop.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-12)
    assert h1["loss"] == h3["loss"]
    for a, b, c in zip(custom.get_weights(), builtin.get_weights(), opbyop.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(a, c)


def test_an_error_in_a_custom_layer_leaves_weights_and_step_count_consistent():
    class Fails(layers.Layer):
        calls = 0

        def call(self, inputs):
            Fails.calls += 1
            if Fails.calls == 15:  # in the second epoch
                raise RuntimeError("the user's layer failed")
            return inputs * 1.0

    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([layers.Dense(4, input_shape=(6,)), Fails(), layers.Dense(2)])
    model.compile("adam", "mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 6)).astype(np.float32), rng.normal(size=(40, 2)).astype(np.float32)
    before = model.get_weights()
    with pytest.raises(RuntimeError, match="the user's layer failed"):
        model.fit(x, y, batch_size=4, epochs=3, verbose=0, shuffle=False)
    # the failing core call was undone as a whole: the weights are those of
    # exactly the steps the count says were taken
    steps = model.optimizer.iterations
    assert 10 <= steps < 20
    replay = bprop.Sequential([layers.Dense(4, input_shape=(6,)), layers.Activation("linear"),
                               layers.Dense(2)])
    replay.compile("adam", "mse")
    replay.set_weights(before)
    replay.fit(np.concatenate([x, x])[:4 * steps], np.concatenate([y, y])[:4 * steps],
               batch_size=4, epochs=1, verbose=0, shuffle=False)
    assert replay.optimizer.iterations == steps
    for a, b in zip(model.get_weights(), replay.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
