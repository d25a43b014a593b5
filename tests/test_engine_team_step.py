"""The team step (csrc/core/plan/train_plan_team.cpp): a Dense stack's step
shared by 2, 3 or 4 threads gives the bits of the one-thread step, for every
activation, loss, optimizer and option it runs, in training, evaluation and
prediction, through a skipped and an undone step.

The models here are wide enough for the core to use a team (the tests of
test_engine_plan.py are too small for one); each test checks that a team
actually ran (the plan's ``team_steps``).
"""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import layers, optimizers
from bprop.engine import core_executor
from bprop.models import training

OPTIMIZERS = {
    "sgd": lambda **kw: optimizers.SGD(0.05, **kw),
    "nesterov": lambda **kw: optimizers.SGD(0.05, momentum=0.9, nesterov=True, **kw),
    "rmsprop": lambda **kw: optimizers.RMSprop(0.01, **kw),
    "rmsprop_centered_momentum": lambda **kw: optimizers.RMSprop(0.01, momentum=0.5,
                                                                 centered=True, **kw),
    "adam": lambda **kw: optimizers.Adam(0.01, **kw),
    "adamw": lambda **kw: optimizers.AdamW(0.01, weight_decay=0.01, **kw),
    "adagrad": lambda **kw: optimizers.Adagrad(0.05, **kw),
}


@pytest.fixture
def team_counter(monkeypatch):
    """Every core plan built during the test, to read its team_steps."""
    built = []
    original = core_executor.CoreExecutor.__init__

    def recording_init(self, plan):
        original(self, plan)
        built.append(self)

    monkeypatch.setattr(core_executor.CoreExecutor, "__init__", recording_init)
    return lambda: sum(ex.core.team_steps for ex in built)


@pytest.fixture
def threads():
    previous = bprop.get_num_threads()
    yield bprop.set_num_threads
    bprop.set_num_threads(previous)


def _data(n=640, features=64, classes=10, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(dtype)
    return x, rng.integers(0, classes, n)


def _fit(act="relu", opt="adam", loss="sparse_categorical_crossentropy", out="softmax",
         dtype="float32", dropout=False, extra=None, epochs=2, widths=(96, 48)):
    """A 64-96-48-10 model (batch 64: 0.7M multiply-adds per forward)."""
    bprop.utils.set_random_seed(7)
    reg = bprop.regularizers.L1L2(0.001, 0.002) if extra == "regularizers" else None
    stack = [layers.Dense(widths[0], activation=act, input_shape=(64,), kernel_regularizer=reg,
                          activity_regularizer=reg, dtype=dtype)]
    if act == "linear":  # an Activation node between the Dense layers
        stack.append(layers.Activation("elu"))
    if dropout:
        stack.append(layers.Dropout(0.3))
    stack += [layers.Dense(widths[1], activation=act, dtype=dtype),
              layers.Dense(10, activation=out, bias_regularizer=reg, dtype=dtype)]
    model = bprop.Sequential(stack)
    if extra == "frozen":
        model.layers[0].trainable = False
    clip = {"clipnorm": {"clipnorm": 0.05}, "clipvalue": {"clipvalue": 0.01},
            "global_clipnorm": {"global_clipnorm": 0.1}}.get(extra, {})
    model.compile(optimizer=OPTIMIZERS[opt](**clip), loss=loss, metrics=["accuracy"])
    x, y = _data(dtype=dtype)
    if loss == "mse":
        y = np.eye(10, dtype=dtype)[y]
    fit_kw = {}
    if extra == "sample_weight":
        fit_kw["sample_weight"] = np.linspace(0.1, 2.0, len(y))
    if extra == "class_weight":
        fit_kw["class_weight"] = {0: 0.5, 2: 3.0}
    history = model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, **fit_kw).history
    return model, history, x, y


def _assert_same(a, b):
    model_a, hist_a = a[0], a[1]
    model_b, hist_b = b[0], b[1]
    for wa, wb in zip(model_a.get_weights(), model_b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert hist_a == hist_b


CASES = (
    [dict(act=a) for a in ("relu", "tanh", "gelu", "sigmoid", "linear")]
    + [dict(opt=o) for o in OPTIMIZERS]
    + [dict(loss=bprop.losses.SparseCategoricalCrossentropy(from_logits=True), out=None),
       dict(loss="mse", out="linear"), dict(dtype="float64"), dict(dropout=True)]
    + [dict(extra=e) for e in ("regularizers", "clipnorm", "clipvalue", "global_clipnorm",
                               "frozen", "sample_weight", "class_weight")]
    + [dict(widths=(100, 37))]
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join("%s=%s" % kv for kv in c.items()))
def test_the_team_step_gives_the_one_thread_bits(case, threads, team_counter):
    threads(1)
    alone = _fit(**case)
    assert team_counter() == 0
    threads(2)
    team = _fit(**case)
    assert team_counter() > 0
    _assert_same(alone, team)


def test_a_call_split_between_one_thread_and_the_team(threads, team_counter, monkeypatch):
    # The pacer (csrc/core/plan/mode_pacer.hpp) runs a whole first call on
    # the team, then opens the next with a probe of 32 one-thread steps and
    # the rest on the team: the bits are those of one thread throughout.
    # Calls are sized by time (about 0.1 s each); a slow build (the sanitizer
    # suite) would cut them short, so here every call after fit's first
    # 4-step one runs to the end of its epoch: 4 + 60 steps, then 64, then 64.
    monkeypatch.setattr(training, "_SECONDS_PER_CALL", 1e9)
    x, y = _data(n=64 * 64)  # 64 steps of batch 64 an epoch
    runs = []
    for count in (1, 2):
        threads(count)
        bprop.utils.set_random_seed(7)
        model = bprop.Sequential([layers.Dense(96, activation="relu", input_shape=(64,)),
                                  layers.Dense(48, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=64, epochs=3, verbose=0).history
        runs.append((model, history))
    team = team_counter()
    # Epoch 1 all team; epoch 2 half; epoch 3 whichever mode measured faster.
    assert team in (64 + 32, 64 + 32 + 64)
    _assert_same(runs[0], runs[1])


@pytest.mark.parametrize("count", [3, 4])
def test_more_threads_than_panels_or_cores(count, threads, team_counter):
    threads(1)
    alone = _fit(dropout=True)
    threads(count)
    team = _fit(dropout=True)
    assert team_counter() > 0
    _assert_same(alone, team)


def test_evaluate_and_predict_on_a_team(threads, team_counter):
    threads(1)
    model, _, x, y = _fit(epochs=1)
    alone_eval = model.evaluate(x, y, batch_size=64, verbose=0)
    alone_pred = model.predict(x, batch_size=64, verbose=0)
    threads(2)
    before = team_counter()
    assert model.evaluate(x, y, batch_size=64, verbose=0) == alone_eval
    assert team_counter() > before
    np.testing.assert_array_equal(model.predict(x, batch_size=64, verbose=0), alone_pred)


def _overflowing(executor="auto"):
    """SGD(1e6) on a tanh layer and mse: a few batches in, the float32 update overflows."""
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([layers.Dense(160, activation="tanh", input_shape=(64,)),
                              layers.Dense(1)])
    model._plan_executor = executor
    model.compile(optimizers.SGD(1e6), "mse")
    return model


def test_an_undone_step_on_a_team(threads, team_counter, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 64)).astype(np.float32)
    y = rng.normal(size=(512, 1)).astype(np.float32)
    results = []
    for count in (1, 2):
        threads(count)
        model = _overflowing()
        model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
        assert "the gradients or the updated weights are not finite" in capsys.readouterr().out
        results.append((model.optimizer.iterations, model.get_weights(), model.optimizer.get_state()))
    assert team_counter() > 0
    (it1, w1, s1), (it2, w2, s2) = results
    assert it1 == it2 < 8  # stopped at the bad step, the steps before it kept
    for a, b in zip(w1 + s1[1:], w2 + s2[1:]):
        np.testing.assert_array_equal(a, b)


def test_a_non_finite_loss_on_a_team(threads, team_counter, capsys):
    x, y = _data()
    x[200, :] = 1e25  # batch 3's squared error overflows float32: the step is not applied
    targets = np.eye(10, dtype=np.float32)[y]
    results = []
    for count in (1, 2):
        threads(count)
        bprop.utils.set_random_seed(7)
        model = bprop.Sequential([layers.Dense(128, activation="relu", input_shape=(64,)),
                                  layers.Dense(10)])
        model.compile("adam", "mse")
        model.fit(x, targets, batch_size=64, epochs=1, verbose=0, shuffle=False)
        assert "not finite" in capsys.readouterr().out
        results.append((model.optimizer.iterations, model.get_weights()))
    assert team_counter() > 0
    assert results[0][0] == results[1][0] == 3
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)
