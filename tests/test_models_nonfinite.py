"""A step whose gradients or updated weights are not finite is not applied,
as a step with a non-finite loss is not (issue 12's probe: 20-32 tanh-1, mse,
SGD(1e6), batch 64: batch 3's loss is finite, ~1.9e43, but its float32
update overflows).  The core plan undoes it by restoring the call's first
state and replaying the steps before it; the op-by-op plan the same way."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import layers


def _data():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(512, 20)).astype(np.float32),
            rng.normal(size=(512, 1)).astype(np.float32))


def _model(executor, lr=1e6, momentum=0.0):
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([layers.Dense(32, activation="tanh", input_shape=(20,)),
                              layers.Dense(1)])
    model._plan_executor = executor
    model.compile(bprop.optimizers.SGD(lr, momentum=momentum), "mse")
    return model


@pytest.mark.parametrize("executor", ["auto", "ops"])
@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_an_overflowing_update_is_undone_and_named(executor, momentum, capsys):
    x, y = _data()
    model = _model(executor, momentum=momentum)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    out = capsys.readouterr().out
    assert ("Epoch 1/1, batch 3: the gradients or the updated weights are not finite (loss "
            in out) and "terminating training" in out
    assert model.optimizer.iterations == 3
    weights = model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    # exactly the state after batches 0-2, slots included
    reference = _model(executor, momentum=momentum)
    reference.fit(x[:192], y[:192], batch_size=64, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(weights, reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.optimizer.get_state(), reference.optimizer.get_state()):
        np.testing.assert_array_equal(a, b)


def test_the_undone_step_is_the_same_in_a_chunk_and_alone():
    """Within one core call the plan replays the steps before the bad one; with
    a batch callback every step is its own call.  Both leave the same bits."""
    x, y = _data()
    chunked = _model("auto")
    chunked.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    calls = []
    alone = _model("auto")
    alone.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False,
              callbacks=[bprop.callbacks.LambdaCallback(
                  on_train_batch_end=lambda b, logs: calls.append(b))])
    assert calls == [0, 1, 2, 3]
    for a, b in zip(chunked.get_weights(), alone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_terminate_on_nan_false_skips_the_batch_and_goes_on(capsys):
    x, y = _data()
    model = _model("auto", lr=1e5)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False, terminate_on_nan=False)
    out = capsys.readouterr().out
    assert "batch skipped (no update); training goes on" in out
    assert 0 < model.optimizer.iterations < 8
    assert all(np.isfinite(w).all() for w in model.get_weights())
