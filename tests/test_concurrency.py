"""Concurrency: Python threads calling ops (the GIL is released) and training
separate models at once give exactly the serial results; ``out=`` aliasing an
input either works or is refused.

8 threads each run a fixed list of kernels many times on their own data; the
results must equal, bit for bit, those of the same calls made serially (the
core partitions work over output elements, so no result depends on which
thread ran it or on what other threads do).
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import bprop
from bprop import ops, reference

N_THREADS = 8
REPEATS = 20


def _workload(seed, dt):
    """A list of (name, thunk) of every kind of kernel on one thread's own data."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((37, 23)).astype(dt)
    w = rng.standard_normal((23, 19)).astype(dt)
    b = rng.standard_normal(19).astype(dt)
    y = rng.standard_normal((37, 19)).astype(dt)
    labels = rng.integers(0, 19, 37)
    big_a = rng.standard_normal((96, 80)).astype(dt)
    big_b = rng.standard_normal((80, 72)).astype(dt)
    return [
        ("matmul", lambda: ops.matmul(x, w)),
        ("gemm_T", lambda: ops.gemm(big_a, big_b.T.copy(), trans_b=True, alpha=0.5)),
        ("matmul_big", lambda: ops.matmul(big_a, big_b)),
        ("dense_relu", lambda: ops.dense_forward(x, w, b, "relu")),
        ("dense_softmax", lambda: ops.dense_forward(x, w, b, "softmax")),
        ("dense_backward", lambda: ops.dense_backward(y, x, w, ops.dense_forward(x, w, b, "tanh"), "tanh")),
        ("softmax", lambda: ops.softmax(y)),
        ("log_softmax", lambda: ops.log_softmax(y)),
        ("gelu", lambda: ops.gelu(y)),
        ("sigmoid", lambda: ops.sigmoid(y)),
        ("xent", lambda: ops.softmax_cross_entropy(y, labels)),
        ("xent_backward", lambda: ops.softmax_cross_entropy_backward(y, labels)),
        ("mse", lambda: ops.mse(y, y[::-1])),
        ("bias_grad", lambda: ops.bias_grad(y)),
        ("adam", lambda: _adam_steps(x.copy(), dt)),
    ]


def _adam_steps(p, dt):
    g = np.linspace(-1, 1, p.size).reshape(p.shape).astype(dt)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for step in range(1, 4):
        ops.adam_update(p, g, m, v, 0.01, step)
    return p


def _as_list(result):
    if isinstance(result, tuple):
        return [np.array(r) for r in result if r is not None]
    return [np.array(result)]


def _run(work):
    return {name: _as_list(fn()) for name, fn in work}


@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
def test_eight_threads_match_serial_bitwise(dt):
    works = [_workload(seed, dt) for seed in range(N_THREADS)]
    serial = [_run(w) for w in works]
    results = [[] for _ in range(N_THREADS)]
    errors = []
    barrier = threading.Barrier(N_THREADS)

    def worker(i):
        try:
            barrier.wait()
            for _ in range(REPEATS):
                results[i].append(_run(works[i]))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    assert not errors, errors
    for i in range(N_THREADS):
        assert len(results[i]) == REPEATS
        for run in results[i]:
            for name, arrays in serial[i].items():
                for got, want in zip(run[name], arrays):
                    np.testing.assert_array_equal(got, want, err_msg="thread %d, %s" % (i, name))


def test_threads_changing_thread_count_while_others_compute():
    # set_num_threads from one thread while others run GEMMs: results stay exact
    rng = np.random.default_rng(1)
    a = rng.standard_normal((120, 90))
    b = rng.standard_normal((90, 70))
    want = ops.matmul(a, b)
    before = ops.get_num_threads()
    stop = threading.Event()
    errors = []

    def flipper():
        k = 0
        while not stop.is_set():
            ops.set_num_threads(1 + k % 3)
            k += 1

    def worker():
        try:
            for _ in range(30):
                np.testing.assert_array_equal(ops.matmul(a, b), want)
        except BaseException as e:  # pragma: no cover
            errors.append(repr(e))

    f = threading.Thread(target=flipper)
    ws = [threading.Thread(target=worker) for _ in range(4)]
    f.start()
    for t in ws:
        t.start()
    for t in ws:
        t.join(timeout=300)
    stop.set()
    f.join(timeout=60)
    ops.set_num_threads(before)
    assert not errors, errors


# ----------------------------------------------------------------------------- out= aliasing an input
ELEMENTWISE = [("relu", ()), ("sigmoid", ()), ("tanh", ()), ("gelu", ()), ("leaky_relu", (0.1,)),
               ("softmax", ()), ("log_softmax", ())]


@pytest.mark.parametrize("name, extra", ELEMENTWISE, ids=[n for n, _ in ELEMENTWISE])
def test_out_aliasing_the_input_works_in_place(name, extra, dtype):
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (3, 5), (17, 33)]:
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        want = getattr(reference, name)(x.copy(), *extra)
        try:
            got = getattr(ops, name)(x, *extra, out=x)
        except ValueError as e:  # refusing is allowed, with a message naming out
            assert "out" in str(e)
            continue
        assert got is x
        np.testing.assert_allclose(x, want, rtol=1e-5, atol=1e-6, err_msg="%s %s in place" % (name, shape))


BACKWARD = ["relu_backward", "sigmoid_backward", "tanh_backward", "gelu_backward", "softmax_backward",
            "log_softmax_backward", "mse_backward", "binary_cross_entropy_backward",
            "softmax_cross_entropy_backward"]


@pytest.mark.parametrize("name", BACKWARD)
@pytest.mark.parametrize("which", [0, 1])
def test_out_aliasing_either_input_of_a_backward_op(name, which, dtype):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((6, 5)).astype(dtype)
    b = reference.softmax(rng.standard_normal((6, 5)).astype(dtype))  # valid y / targets
    args = [a, b]
    want = getattr(reference, name)(a.copy(), b.copy())
    try:
        got = getattr(ops, name)(*args, out=args[which])
    except ValueError as e:
        assert "out" in str(e)
        return
    assert got is args[which]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_out_partially_overlapping_an_input_is_refused_or_correct(dtype):
    buf = np.arange(40, dtype=dtype) / 10 - 2
    x = buf[:30].reshape(5, 6)
    out = buf[6:36].reshape(5, 6)  # shifted by one row
    want = reference.relu(x.copy())
    try:
        ops.relu(x, out=out)
    except ValueError as e:
        assert "out" in str(e) and "overlap" in str(e)
    else:
        np.testing.assert_array_equal(out, want)


def test_gemm_output_aliasing_an_operand_is_refused(dtype):
    a = np.ones((4, 4), dtype)
    with pytest.raises(ValueError, match="^c: must not overlap the input 'a'$"):
        ops.gemm(a, np.ones((4, 4), dtype), c=a, beta=1.0)
    with pytest.raises(ValueError, match="^out: must not overlap the input 'a'$"):
        ops.matmul(a, a, out=a)


def test_optimizer_slots_aliasing_the_param_are_refused(dtype):
    p = np.ones(8, dtype)
    g = np.ones(8, dtype)
    m = np.zeros(8, dtype)
    with pytest.raises(ValueError, match="^grad: must not overlap param$"):
        ops.sgd_update(p, p, 0.1)
    with pytest.raises(ValueError, match="^m: must not overlap param or grad$"):
        ops.adam_update(p, g, p, m, 0.1, 1)
    with pytest.raises(ValueError, match="^m: must not overlap v$"):
        ops.adam_update(p, g, m, m, 0.1, 1)
    np.testing.assert_array_equal(p, np.ones(8, dtype))


# ----------------------------------------------------------------------------- models in threads
def _train(seed, x, y, epochs=3):
    model = bprop.Sequential([bprop.layers.Input((x.shape[1],)),
                              bprop.layers.Dense(16, activation="relu",
                                                 kernel_initializer=bprop.initializers.GlorotUniform(seed=seed)),
                              bprop.layers.Dense(3, kernel_initializer=bprop.initializers.GlorotUniform(seed=seed + 100))])
    model.compile(optimizer=bprop.optimizers.Adam(0.01),
                  loss=bprop.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=epochs, batch_size=16, shuffle=False, verbose=0)
    return [np.array(w) for w in model.get_weights()] + [np.array(model.predict(x, verbose=0))]


def test_training_separate_models_in_threads_matches_serial():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((96, 10)).astype(np.float32)
    y = rng.integers(0, 3, 96)
    seeds = list(range(N_THREADS))
    serial = [_train(s, x, y) for s in seeds]
    results = [None] * N_THREADS
    errors = []

    def worker(i):
        try:
            results[i] = _train(seeds[i], x, y)
        except BaseException as e:  # pragma: no cover
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    for i in range(N_THREADS):
        for got, want in zip(results[i], serial[i]):
            np.testing.assert_array_equal(got, want, err_msg="model %d" % i)
    # different seeds really gave different models (the comparison is not vacuous)
    assert not np.array_equal(serial[0][0], serial[1][0])
