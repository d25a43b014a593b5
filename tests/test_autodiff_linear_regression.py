"""The program of issue 4: linear regression with Variables, a GradientTape and
an optimizer, as bprop and as ``import bprop as tf``."""
from __future__ import annotations

import contextlib
import io
import pathlib
import re
import runpy

import numpy as np
import pytest

import bprop

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "linear_regression.py"


def fit_line(x, y, w0, b0, lr, steps, optimizer=None, module=bprop):
    """The issue's loop; returns (w, b, losses)."""
    dtype = x.dtype
    w = module.Variable(np.asarray(w0, dtype=dtype))
    b = module.Variable(np.asarray(b0, dtype=dtype))
    optimizer = optimizer or module.optimizers.SGD(learning_rate=lr)
    losses = []
    for _ in range(steps):
        with module.GradientTape() as tape:
            y_pred = w * x + b
            loss_t = module.reduce_mean(module.square(y - y_pred))
        gradients = tape.gradient(loss_t, [w, b])
        optimizer.apply_gradients(zip(gradients, [w, b]))
        losses.append(float(loss_t.numpy()))
    return w, b, losses


def test_example_program_runs_as_written_and_its_loss_falls():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    losses = [float(v) for v in re.findall(r"Iteration \d+, Loss: ([0-9.e+-]+)", out.getvalue())]
    assert len(losses) == 10
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    assert losses[-1] < losses[0] / 100


def test_loss_falls_monotonically_over_the_first_iterations():
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    y = 100.0 * x
    _, _, losses = fit_line(x, y, 0.3, 0.7, lr=0.01, steps=10)
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_converges_to_the_closed_form_least_squares_solution():
    rng = np.random.default_rng(3)
    x = np.linspace(-1.0, 2.0, 16).reshape(-1, 1)
    y = 3.0 * x - 2.0 + 0.3 * rng.standard_normal(x.shape)  # not an exact line
    design = np.hstack([x, np.ones_like(x)])
    (w_star, b_star), *_ = np.linalg.lstsq(design, y.ravel(), rcond=None)
    w, b, losses = fit_line(x, y, 0.0, 0.0, lr=0.1, steps=400)
    assert abs(float(w.numpy()) - w_star) < 1e-3
    assert abs(float(b.numpy()) - b_star) < 1e-3
    assert w.dtype == np.float64
    # the minimum reached is the least-squares residual
    resid = np.mean((design @ [w_star, b_star] - y.ravel()) ** 2)
    assert losses[-1] == pytest.approx(resid, rel=1e-6)


def test_issue_data_converges_to_w_100_b_0():
    x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
    y = np.array([[100.0], [200.0], [300.0], [400.0]], dtype=np.float32)
    w, b, _ = fit_line(x, y, 0.5, 0.5, lr=0.05, steps=600)
    assert float(w.numpy()) == pytest.approx(100.0, abs=0.05)
    assert float(b.numpy()) == pytest.approx(0.0, abs=0.15)


def test_runs_as_import_bprop_as_tf():
    import bprop as tf

    x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
    y_true = np.array([[100.0], [200.0], [300.0], [400.0]], dtype=np.float32)
    w = tf.Variable(np.random.rand(), dtype="float32")
    b = tf.Variable(np.random.rand(), dtype="float32")

    def model(x):
        return w * x + b

    def loss(y_true, y_pred):
        return tf.reduce_mean(tf.square(y_true - y_pred))

    optimizer = tf.keras.optimizers.SGD(learning_rate=0.05)
    losses = []
    for _ in range(600):
        with tf.GradientTape() as tape:
            y_pred = model(x)
            loss_t = loss(y_true, y_pred)
        gradients = tape.gradient(loss_t, [w, b])
        optimizer.apply_gradients(zip(gradients, [w, b]))
        losses.append(float(loss_t.numpy()))
    assert all(b_ < a for a, b_ in zip(losses[:10], losses[1:10]))
    assert float(w.numpy()) == pytest.approx(100.0, abs=0.05)
    assert float(b.numpy()) == pytest.approx(0.0, abs=0.15)


OPTIMIZERS = {
    "sgd": lambda: bprop.optimizers.SGD(learning_rate=0.05),
    "sgd_momentum": lambda: bprop.optimizers.SGD(learning_rate=0.02, momentum=0.9),
    "rmsprop": lambda: bprop.optimizers.RMSprop(learning_rate=0.05),
    "adam": lambda: bprop.optimizers.Adam(learning_rate=0.1),
    "adamw": lambda: bprop.optimizers.AdamW(learning_rate=0.1, weight_decay=0.0),
    "adagrad": lambda: bprop.optimizers.Adagrad(learning_rate=0.5),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_applies_tape_gradients(name):
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (32, 1))
    y = 2.0 * x + 0.5
    # first step: the update equals the backend kernel applied to the hand gradient
    w, b, losses = fit_line(x, y, 0.0, 0.0, lr=None, steps=1, optimizer=OPTIMIZERS[name]())
    dw = np.mean(-2.0 * (y - 0.0) * x)
    db = np.mean(-2.0 * (y - 0.0))
    ref = {"w": np.zeros(()), "b": np.zeros(())}
    OPTIMIZERS[name]().apply_gradients([(np.asarray(dw), _var(ref, "w")),
                                        (np.asarray(db), _var(ref, "b"))])
    assert float(w.numpy()) == pytest.approx(float(ref["w"].numpy()), rel=1e-12)
    assert float(b.numpy()) == pytest.approx(float(ref["b"].numpy()), rel=1e-12)
    # and training with it fits the line
    w, b, losses = fit_line(x, y, 0.0, 0.0, lr=None, steps=300, optimizer=OPTIMIZERS[name]())
    assert losses[-1] < 1e-3 * losses[0]


def _var(store, key):
    store[key] = bprop.Variable(store[key])
    return store[key]


def test_minimize_with_a_callable_loss():
    x = np.array([1.0, 2.0, 3.0])
    w = bprop.Variable(np.float64(0.0))
    opt = bprop.optimizers.SGD(learning_rate=0.1)
    loss_fn = lambda: bprop.reduce_mean(bprop.square(3.0 * x - w * x))  # noqa: E731
    first = float(loss_fn())
    for _ in range(50):
        opt.minimize(loss_fn, [w])
    assert float(loss_fn()) < 1e-6 * first
    assert float(w.numpy()) == pytest.approx(3.0, abs=1e-4)


def test_wrong_dtype_variable_is_a_clear_error():
    x = np.array([[1.0], [2.0]], dtype=np.float32)
    w = bprop.Variable(np.float64(1.0))  # float64 against float32 data
    with bprop.GradientTape():
        with pytest.raises(TypeError, match="float64.*float32.*bprop.cast"):
            w * x


def test_minimize_with_a_recorded_loss_and_its_tape():
    w = bprop.Variable(np.float64(1.0))
    opt = bprop.optimizers.SGD(learning_rate=0.25)
    with bprop.GradientTape() as tape:
        loss = bprop.square(w - 3.0)  # gradient 2 (w - 3) = -4
    opt.minimize(loss, [w], tape=tape)
    assert float(w.numpy()) == 2.0
