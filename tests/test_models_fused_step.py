"""fit's fused step (one core call per batch for a plain dense classifier).

The fused step must be invisible: the same weights, to the bit, and the same
history as the general per-layer path, which the tests force by switching
the fast path off.  The kernel itself is checked against its pure-NumPy twin.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bprop
from bprop import ops, reference
from bprop.models import fused_step, training
from bprop.models.fused_step import FusedDenseStep


def _data(seed=0, n=203, shape=(6, 5), classes=4, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n,) + shape).astype(dtype)
    y = rng.integers(0, classes, n)
    return x, y


def _model(hidden_acts, optimizer, use_bias=True, backend="core", dtype="float32"):
    bprop.utils.set_random_seed(7)
    layers = [bprop.layers.Flatten(input_shape=(6, 5), dtype=dtype)]
    for i, act in enumerate(hidden_acts):
        layers.append(bprop.layers.Dense(9, activation=act, use_bias=use_bias or i != 0,
                                         dtype=dtype))
    layers.append(bprop.layers.Dense(4, activation="softmax", dtype=dtype))
    model = bprop.Sequential(layers, backend=backend)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _train(model, x, y, fused, monkeypatch):
    if not fused:
        monkeypatch.setattr(FusedDenseStep, "for_model", classmethod(lambda cls, m, sw: None))
    bprop.utils.set_random_seed(11)  # the same shuffling order for both runs
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    monkeypatch.undo()
    return history.history, [np.array(w) for w in model.get_weights()]


OPTIMIZERS = {
    "adam": lambda: bprop.optimizers.Adam(learning_rate=0.01),
    "adamw": lambda: bprop.optimizers.AdamW(learning_rate=0.01, weight_decay=0.05),
    "sgd": lambda: bprop.optimizers.SGD(learning_rate=0.05),
    "sgd-nesterov": lambda: bprop.optimizers.SGD(learning_rate=0.05, momentum=0.9,
                                                 nesterov=True),
}


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
@pytest.mark.parametrize("acts", [("relu", "relu"), ("tanh", "sigmoid"), ("leaky_relu", None)],
                         ids=str)
@pytest.mark.parametrize("backend", ["core", "numpy"])
def test_fused_fit_equals_the_general_path_to_the_bit(monkeypatch, opt, acts, backend):
    x, y = _data()
    fast = _model(acts, OPTIMIZERS[opt](), use_bias=False, backend=backend)
    assert FusedDenseStep.for_model(fast, None) is not None
    slow = _model(acts, OPTIMIZERS[opt](), use_bias=False, backend=backend)
    h_fast, w_fast = _train(fast, x, y, True, monkeypatch)
    h_slow, w_slow = _train(slow, x, y, False, monkeypatch)
    assert h_fast == h_slow
    for a, b in zip(w_fast, w_slow):
        assert a.tobytes() == b.tobytes()
    assert fast.optimizer.iterations == slow.optimizer.iterations == 3 * 7


def test_fused_path_is_not_taken_where_it_does_not_apply():
    model = _model(("relu",), "adam")
    assert FusedDenseStep.for_model(model, None) is not None
    assert FusedDenseStep.for_model(model, np.ones(3)) is None          # sample weights
    clipped = _model(("relu",), bprop.optimizers.Adam(clipnorm=1.0))
    assert FusedDenseStep.for_model(clipped, None) is None
    rms = _model(("relu",), "rmsprop")
    assert FusedDenseStep.for_model(rms, None) is None
    gelu = _model(("gelu",), "adam")
    assert FusedDenseStep.for_model(gelu, None) is None
    bprop.utils.set_random_seed(0)
    dropout = bprop.Sequential([bprop.layers.Dense(8, activation="relu", input_shape=(5,)),
                                bprop.layers.Dropout(0.5),
                                bprop.layers.Dense(3, activation="softmax")])
    dropout.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert FusedDenseStep.for_model(dropout, None) is None
    mse = bprop.Sequential([bprop.layers.Dense(3, activation="softmax", input_shape=(5,))])
    mse.compile(optimizer="adam", loss="mse")
    assert FusedDenseStep.for_model(mse, None) is None


def _step_args(rng, dtype, n=17, sizes=(7, 6, 5), bias=(True, False)):
    weights = [rng.standard_normal((sizes[i], sizes[i + 1])).astype(dtype) * 0.5
               for i in range(len(sizes) - 1)]
    biases = [rng.standard_normal(sizes[i + 1]).astype(dtype) if bias[i] else None
              for i in range(len(sizes) - 1)]
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    labels = rng.integers(0, sizes[-1], n)
    return x, labels, weights, biases


def _buffers(x, weights, dtype):
    n = x.shape[0]
    outputs = [np.zeros((n, w.shape[1]), dtype) for w in weights]
    input_grads = [np.zeros((n, w.shape[0]), dtype) for w in weights]
    weight_grads = [np.zeros_like(w) for w in weights]
    bias_grads = [np.zeros(w.shape[1], dtype) for w in weights]
    dlogits = np.zeros((n, weights[-1].shape[1]), dtype)
    return outputs, input_grads, weight_grads, bias_grads, dlogits


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_train_step_kernel_matches_its_numpy_twin(optimizer):
    rng = np.random.default_rng(3)
    results = []
    for module in (ops, reference):
        x, labels, weights, biases = _step_args(np.random.default_rng(3), np.float64)
        bufs = _buffers(x, weights, np.float64)
        params = [p for w, b in zip(weights, biases) for p in (w, b) if p is not None]
        per = 2 if optimizer == "adam" else 1
        slots = [np.zeros_like(p) for p in params for _ in range(per)]
        out = module.dense_softmax_xent_train_step(
            x, labels, weights, biases, ["tanh", None], *bufs, optimizer=optimizer, lr=0.1,
            step=1, momentum=0.9 if optimizer == "sgd" else 0.0, slots=slots)
        results.append((out, weights, biases, slots))
    (loss_c, correct_c, upd_c), wc, bc, sc = results[0]
    (loss_r, correct_r, upd_r), wr, br, sr = results[1]
    assert upd_c and upd_r and correct_c == correct_r
    assert loss_c == pytest.approx(loss_r, rel=1e-12)
    for a, b in zip(wc + [b for b in bc if b is not None] + sc,
                    wr + [b for b in br if b is not None] + sr):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert rng is not None


def test_train_step_kernel_skips_the_update_on_a_non_finite_loss():
    x, labels, weights, biases = _step_args(np.random.default_rng(1), np.float32)
    x[0, 0] = np.nan
    before = [w.copy() for w in weights]
    bufs = _buffers(x, weights, np.float32)
    slots = [np.zeros_like(p) for w, b in zip(weights, biases) for p in (w, b) if p is not None
             for _ in range(2)]
    loss, _, updated = ops.dense_softmax_xent_train_step(
        x, labels, weights, biases, ["relu", None], *bufs, optimizer="adam", lr=0.1, slots=slots)
    assert not updated and np.isnan(loss)
    for a, b in zip(weights, before):
        assert a.tobytes() == b.tobytes()


def test_train_step_kernel_rejects_bad_arguments():
    x, labels, weights, biases = _step_args(np.random.default_rng(2), np.float32)
    bufs = _buffers(x, weights, np.float32)
    slots = [np.zeros_like(p) for w, b in zip(weights, biases) for p in (w, b) if p is not None
             for _ in range(2)]
    call = ops.dense_softmax_xent_train_step
    with pytest.raises(ValueError, match="labels: expected class indices in \\[0, 5\\), got 9"):
        bad = labels.copy()
        bad[3] = 9
        call(x, bad, weights, biases, ["relu", None], *bufs, optimizer="adam", lr=0.1,
             slots=slots)
    with pytest.raises(ValueError, match="slots"):
        call(x, labels, weights, biases, ["relu", None], *bufs, optimizer="adam", lr=0.1,
             slots=slots[:-1])
    with pytest.raises(ValueError, match="optimizer: expected 'adam' or 'sgd'"):
        call(x, labels, weights, biases, ["relu", None], *bufs, optimizer="rmsprop", lr=0.1,
             slots=slots)
    with pytest.raises(TypeError, match="weights\\[1\\]: expected dtype float32"):
        call(x, labels, [weights[0], weights[1].astype(np.float64)], biases, ["relu", None],
             *bufs, optimizer="adam", lr=0.1, slots=slots)
    with pytest.raises(ValueError, match="outputs\\[0\\]: expected shape \\(17, 6\\)"):
        outs = [np.zeros((16, 6), np.float32), bufs[0][1]]
        call(x, labels, weights, biases, ["relu", None], outs, *bufs[1:], optimizer="adam",
             lr=0.1, slots=slots)
    with pytest.raises(ValueError, match="must not overlap"):
        outs = [bufs[0][0], bufs[4]]  # the logits written over dlogits
        call(x, labels, weights, biases, ["relu", None], outs, *bufs[1:], optimizer="adam",
             lr=0.1, slots=slots)
    with pytest.raises(ValueError, match="must not overlap"):
        shared = [slots[0]] + slots[1:]
        shared[1] = slots[0]  # m and v of the first kernel are one array
        call(x, labels, weights, biases, ["relu", None], *bufs, optimizer="adam", lr=0.1,
             slots=shared)
    with pytest.raises(ValueError, match="activations\\[0\\]: gelu and softmax hidden layers"):
        call(x, labels, weights, biases, ["gelu", None], *bufs, optimizer="adam", lr=0.1,
             slots=slots)


def test_fit_runs_many_fused_steps_per_core_call(monkeypatch):
    """Without batch-level callbacks, fit hands whole runs of steps to the core."""
    calls = []
    real = FusedDenseStep.run_steps

    def counting(self, rows, batch_size):
        calls.append((len(rows), batch_size))
        return real(self, rows, batch_size)

    monkeypatch.setattr(fused_step.FusedDenseStep, "run_steps", counting)
    monkeypatch.setattr(training, "_STEPS_PER_CALL", 2)
    x, y = _data(n=70)
    model = _model(("relu",), "adam")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert calls == [(64, 32), (6, 32)]
    assert model.optimizer.iterations == 3


class _BatchCounter(bprop.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)


def test_batch_level_callbacks_get_one_fused_step_per_batch(monkeypatch):
    calls = []
    real = FusedDenseStep.run

    def counting(self, start, stop, rows=None):
        calls.append(stop - start if rows is None else rows.shape[0])
        return real(self, start, stop, rows)

    monkeypatch.setattr(fused_step.FusedDenseStep, "run", counting)
    x, y = _data(n=70)
    counter = _BatchCounter()
    _model(("relu",), "adam").fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[counter])
    assert calls == [32, 32, 6] and counter.batches == [0, 1, 2]


@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffled", "in-order"])
@pytest.mark.parametrize("schedule", [False, True], ids=["constant-lr", "schedule"])
def test_chunked_fit_equals_the_per_batch_fit_to_the_bit(monkeypatch, shuffle, schedule):
    """Many steps per core call: the same weights, history and optimizer state."""
    x, y = _data(n=203)
    results = []
    for chunk in (False, True):
        lr = bprop.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5) if schedule else 0.01
        model = _model(("relu", "tanh"), bprop.optimizers.Adam(learning_rate=lr))
        monkeypatch.setattr(training, "_STEPS_PER_CALL", 3)
        callbacks = [_BatchCounter()] if not chunk else []
        bprop.utils.set_random_seed(11)
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=callbacks,
                            shuffle=shuffle)
        results.append((history.history, [w.tobytes() for w in model.get_weights()],
                        model.optimizer.iterations))
    assert results[0] == results[1]


@pytest.mark.parametrize("module", [ops, reference], ids=["core", "numpy"])
def test_train_step_rows_gather_the_batch_like_an_explicit_copy(module):
    """rows=idx on the whole data set gives the bits of x[idx], labels[idx]."""
    results = []
    rows = np.array([16, 3, 3, 0, 9, 12, 1], dtype=np.int64)
    for gathered in (False, True):
        x, labels, weights, biases = _step_args(np.random.default_rng(5), np.float32)
        bufs = _buffers(x[rows], weights, np.float32)
        params = [p for w, b in zip(weights, biases) for p in (w, b) if p is not None]
        slots = [np.zeros_like(p) for p in params for _ in range(2)]
        if gathered:
            args = (x, labels)
        else:
            args = (np.ascontiguousarray(x[rows]), labels[rows])
        out = module.dense_softmax_xent_train_step(
            *args, weights, biases, ["relu", None], *bufs, optimizer="adam", lr=0.1, step=1,
            slots=slots, rows=rows if gathered else None)
        results.append((out, [a.tobytes() for a in weights + params + slots + list(bufs[0])]))
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]


@pytest.mark.parametrize("module", [ops, reference], ids=["core", "numpy"])
@pytest.mark.parametrize("rows, error, match", [
    (np.array([0, 17]), ValueError, r"rows: expected row indices in \[0, 17\).*got 17 at index 1"),
    (np.array([-1, 2]), ValueError, r"rows: expected row indices in \[0, 17\).*got -1 at index 0"),
    (np.array([0.0, 1.0]), TypeError, r"rows: expected integer row indices"),
    (np.zeros((2, 2), np.int64), ValueError, r"rows: expected a 1-D array"),
], ids=["past-end", "negative", "float", "2-D"])
def test_train_step_bad_rows_raise(module, rows, error, match):
    x, labels, weights, biases = _step_args(np.random.default_rng(5), np.float32)
    bufs = _buffers(x[:2], weights, np.float32)
    params = [p for w, b in zip(weights, biases) for p in (w, b) if p is not None]
    slots = [np.zeros_like(p) for p in params for _ in range(2)]
    before = [w.copy() for w in weights]
    with pytest.raises(error, match=match):
        module.dense_softmax_xent_train_step(x, labels, weights, biases, ["relu", None], *bufs,
                                             optimizer="adam", lr=0.1, slots=slots, rows=rows)
    for w, b in zip(weights, before):
        assert np.array_equal(w, b)


def test_train_step_rows_checks_only_the_batch_labels():
    """A bad label outside the batch is not the step's business; inside, it raises."""
    x, labels, weights, biases = _step_args(np.random.default_rng(5), np.float64)
    labels[10] = 99
    bufs = _buffers(x[:2], weights, np.float64)
    slots = [np.zeros_like(p) for w, b in zip(weights, biases) for p in (w, b) if p is not None
             for _ in range(2)]
    ops.dense_softmax_xent_train_step(x, labels, weights, biases, ["relu", None], *bufs,
                                      optimizer="adam", lr=0.1, slots=slots, rows=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"labels: expected class indices in \[0, 5\), got 99 at index 10"):
        ops.dense_softmax_xent_train_step(x, labels, weights, biases, ["relu", None], *bufs,
                                          optimizer="adam", lr=0.1, slots=slots,
                                          rows=np.array([0, 10]))


def _steps_call(module, x, labels, rows, batch_size, lrs, optimizer="adam", seed=5, **kw):
    _, _, weights, biases = _step_args(np.random.default_rng(seed), x.dtype)
    bufs = _buffers(x[:min(int(batch_size), len(rows))], weights, x.dtype)
    params = [p for w, b in zip(weights, biases) for p in (w, b) if p is not None]
    slots = [np.zeros_like(p) for p in params for _ in range(2 if optimizer == "adam" else 1)]
    out = module.dense_softmax_xent_train_steps(
        x, labels, rows, batch_size, weights, biases, ["tanh", None], *bufs, optimizer=optimizer,
        lrs=lrs, slots=slots, **kw)
    return out, weights + params + slots


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_train_steps_equal_single_steps_and_the_twin(optimizer):
    """n steps in one call = n single-step calls (bits), and the NumPy twin (1e-12)."""
    rng = np.random.default_rng(8)
    x, labels, _, _ = _step_args(rng, np.float64, n=23)
    rows = rng.permutation(23)
    lrs = np.array([0.1, 0.05, 0.02, 0.01, 0.3])
    kw = dict(first_step=4, momentum=0.9) if optimizer == "sgd" else dict(first_step=4)
    (losses, correct, done), state = _steps_call(ops, x, labels, rows, 5, lrs, optimizer, **kw)
    assert done == 5 and losses.shape == (5,) and correct.dtype == np.int64
    # the same five steps, one call each
    _, _, weights, biases = _step_args(np.random.default_rng(5), np.float64)
    params = [p for w, b in zip(weights, biases) for p in (w, b) if p is not None]
    slots = [np.zeros_like(p) for p in params for _ in range(2 if optimizer == "adam" else 1)]
    for s in range(5):
        part = rows[5 * s:5 * s + 5]
        bufs = _buffers(x[:len(part)], weights, np.float64)
        loss, right, _ = ops.dense_softmax_xent_train_step(
            x, labels, weights, biases, ["tanh", None], *bufs, optimizer=optimizer, lr=lrs[s],
            step=4 + s, slots=slots, rows=part, momentum=kw.get("momentum", 0.0))
        assert loss == losses[s] and right == correct[s]
    for a, b in zip(state, weights + params + slots):
        assert a.tobytes() == b.tobytes()
    (t_losses, t_correct, t_done), t_state = _steps_call(reference, x, labels, rows, 5, lrs,
                                                         optimizer, **kw)
    assert t_done == 5 and np.array_equal(t_correct, correct)
    np.testing.assert_allclose(t_losses, losses, rtol=1e-12)
    for a, b in zip(state, t_state):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("module", [ops, reference], ids=["core", "numpy"])
def test_train_steps_stop_before_a_non_finite_step(module):
    rng = np.random.default_rng(9)
    x, labels, _, _ = _step_args(rng, np.float32, n=20)
    x[9] = np.inf  # in the third batch of 4 (rows 8-11)
    rows = np.arange(20)
    with np.errstate(all="ignore"):  # the twin's float arithmetic on inf
        (losses, correct, done), state = _steps_call(module, x, labels, rows, 4, np.full(5, 0.1))
    assert done == 2 and not np.isfinite(losses[2])
    assert np.all(np.isnan(losses[3:])) and np.all(correct[3:] == 0)
    (ref_losses, _, _), ref_state = _steps_call(module, x, labels, rows[:8], 4, np.full(2, 0.1))
    np.testing.assert_array_equal(losses[:2], ref_losses)
    for a, b in zip(state, ref_state):
        assert a.tobytes() == b.tobytes()  # the bad step changed nothing


@pytest.mark.parametrize("module", [ops, reference], ids=["core", "numpy"])
@pytest.mark.parametrize("change, error, match", [
    (dict(batch_size=0), ValueError, r"batch_size: expected an int >= 1, got 0"),
    (dict(batch_size=2.0), TypeError, r"batch_size: expected an int"),
    (dict(lrs=np.full(3, 0.1)), ValueError, r"lrs: expected 5 learning rates .*got 3"),
    (dict(lrs=np.array([0.1, 0.1, -1.0, 0.1, 0.1])), ValueError,
     r"lrs: expected learning rates >= 0, got -1\.0+ at index 2"),
    (dict(lrs=np.full((5, 1), 0.1)), ValueError, r"lrs: expected a 1-D array"),
    (dict(rows=np.r_[np.arange(16), 99]), ValueError,
     r"rows: expected row indices in \[0, 17\) \(the rows of x\), got 99 at index 16"),
], ids=["batch-0", "batch-float", "lrs-short", "lrs-negative", "lrs-2d", "rows-range"])
def test_train_steps_bad_arguments_raise(module, change, error, match):
    x, labels, _, _ = _step_args(np.random.default_rng(5), np.float32)
    args = dict(rows=np.arange(17), batch_size=4, lrs=np.full(5, 0.1))
    args.update(change)
    with pytest.raises(error, match=match):
        _steps_call(module, x, labels, args["rows"], args["batch_size"], args["lrs"])


MUTATIONS = ("dtype", "int", "shape", "fortran", "readonly", "none")


@settings(max_examples=150, deadline=None)
@given(target=st.sampled_from(["x", "labels", "w0", "w1", "b0", "out0", "dx1", "dw1", "db0",
                               "dlogits", "slot"]),
       mutation=st.sampled_from(MUTATIONS), seed=st.integers(0, 2**16))
def test_train_step_kernel_fuzz_returns_the_twins_answer_or_raises(target, mutation, seed):
    """One argument mutated at a time: a clear TypeError/ValueError, or the right answer."""
    def arguments():
        # float64: an accepted call is compared with the twin to 1e-9 (in float32
        # Adam's first step, g / |g|, amplifies rounding where g is tiny)
        x, labels, weights, biases = _step_args(np.random.default_rng(seed), np.float64)
        outputs, input_grads, weight_grads, bias_grads, dlogits = _buffers(x, weights, np.float64)
        slots = [np.zeros_like(p) for w, b in zip(weights, biases) for p in (w, b)
                 if p is not None for _ in range(2)]
        named = {"x": x, "labels": labels, "w0": weights[0], "w1": weights[1], "b0": biases[0],
                 "out0": outputs[0], "dx1": input_grads[1], "dw1": weight_grads[1],
                 "db0": bias_grads[0], "dlogits": dlogits, "slot": slots[0]}
        return named, (x, labels, weights, biases, outputs, input_grads, weight_grads,
                       bias_grads, dlogits, slots)

    def mutate(a):
        if mutation == "dtype":
            return a.astype(np.float64 if a.dtype == np.float32 else np.float32)
        if mutation == "int":
            return a.astype(np.int32)
        if mutation == "shape":
            return np.zeros(a.shape[:-1] + (a.shape[-1] + 1,), a.dtype)
        if mutation == "fortran":
            return np.asfortranarray(np.stack([a, a], axis=-1))[..., 0]
        if mutation == "readonly":
            b = a.copy()
            b.flags.writeable = False
            return b
        return None

    def call(module, named, args, replace):
        x, labels, weights, biases, outputs, input_grads, weight_grads, bias_grads, dlogits, \
            slots = args
        lists = {"w0": (weights, 0), "w1": (weights, 1), "b0": (biases, 0), "out0": (outputs, 0),
                 "dx1": (input_grads, 1), "dw1": (weight_grads, 1), "db0": (bias_grads, 0),
                 "slot": (slots, 0)}
        if replace:
            new = mutate(named[target])
            if target in lists:
                lst, i = lists[target]
                lst[i] = new
            elif target == "x":
                x = new
            elif target == "labels":
                labels = new
            else:
                dlogits = new
        return module.dense_softmax_xent_train_step(
            x, labels, weights, biases, ["relu", None], outputs, input_grads, weight_grads,
            bias_grads, dlogits, optimizer="adam", lr=0.05, slots=slots), weights

    named, args = arguments()
    try:
        got, got_w = call(ops, named, args, True)
    except (TypeError, ValueError):
        return
    # Accepted: it must be a mutation that keeps the meaning (a layout or dtype
    # the binding may convert for read-only inputs) and give the twin's answer.
    named_r, args_r = arguments()
    want, want_w = call(reference, named_r, args_r, False)
    assert got[2] == want[2] and got[1] == want[1]
    assert got[0] == pytest.approx(want[0], rel=1e-9)
    for a, b in zip(got_w, want_w):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
