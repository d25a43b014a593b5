"""Threads: results are bitwise identical for 1, 2 and 4 threads; the setting itself.

Inputs are big enough for every kernel to split its work (elementwise ops
chunk by 16K elements, GEMM by output blocks), so a reduction whose order
followed the thread count would show up here as differing bits.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import bprop
from bprop import ops


def bits(result):
    """Raw bytes of an array, a float, or a tuple of them (None kept)."""
    if isinstance(result, tuple):
        return tuple(bits(r) for r in result)
    if result is None:
        return None
    return np.ascontiguousarray(np.asarray(result)).tobytes()


def assert_same_bits(results):
    first = bits(results[0])
    for n, r in zip((2, 4), results[1:]):
        assert bits(r) == first, "result with %d threads differs from 1 thread" % n


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    d = {}
    for dt in (np.float32, np.float64):
        d[dt] = {
            "a": rng.standard_normal((300, 300)).astype(dt),
            "b": rng.standard_normal((300, 300)).astype(dt),
            "c": rng.standard_normal((300, 300)).astype(dt),
            "v": (3 * rng.standard_normal(100_000)).astype(dt),
            "dv": rng.standard_normal(100_000).astype(dt),
            "rows": (3 * rng.standard_normal((2000, 60))).astype(dt),
            "drows": rng.standard_normal((2000, 60)).astype(dt),
            "labels": rng.integers(0, 60, size=2000),
            "w": (rng.standard_normal((60, 200)) / 8).astype(dt),
            "bias": rng.standard_normal(200).astype(dt),
            "dy": rng.standard_normal((2000, 200)).astype(dt),
        }
    return d


def _ew(name, **kw):
    return name, lambda d: getattr(ops, name)(d["v"], **kw)


def _ewb(name, use_output=False, **kw):
    def call(d):
        arg = getattr(ops, name)(d["v"], **kw) if use_output else d["v"]
        return getattr(ops, name + "_backward")(d["dv"], arg, **kw)
    return name + "_backward", call


CALLS = dict([
    ("matmul", lambda d: ops.matmul(d["a"], d["b"])),
    ("matmul_transposed", lambda d: ops.matmul(d["a"].T, d["b"][::-1])),
    ("gemm_beta", lambda d: ops.gemm(d["a"], d["b"], d["c"].copy(), alpha=0.5, beta=2.0,
                                      trans_b=True)),
    _ew("relu"), _ew("leaky_relu", alpha=0.1), _ew("sigmoid"), _ew("tanh"), _ew("gelu"),
    _ewb("relu"), _ewb("leaky_relu", alpha=0.1), _ewb("sigmoid", True), _ewb("tanh", True),
    _ewb("gelu"),
    _ew("elu", alpha=0.5), _ew("selu"), _ew("softplus"), _ew("softsign"), _ew("silu"),
    _ew("exponential"), _ew("hard_sigmoid"),
    _ewb("elu", alpha=0.5), _ewb("selu"), _ewb("softplus"), _ewb("softsign"), _ewb("silu"),
    _ewb("exponential", True), _ewb("hard_sigmoid", True),
    ("dense_forward_silu", lambda d: ops.dense_forward(d["rows"], d["w"], d["bias"], "silu")),
    ("add_bias", lambda d: ops.add_bias(d["dy"], d["bias"])),
    ("bias_grad", lambda d: ops.bias_grad(d["dy"])),
    ("softmax", lambda d: ops.softmax(d["rows"])),
    ("log_softmax", lambda d: ops.log_softmax(d["rows"])),
    ("softmax_backward", lambda d: ops.softmax_backward(d["drows"], ops.softmax(d["rows"]))),
    ("log_softmax_backward",
     lambda d: ops.log_softmax_backward(d["drows"], ops.log_softmax(d["rows"]))),
    ("mse", lambda d: ops.mse(d["v"], d["dv"])),
    ("mse_backward", lambda d: ops.mse_backward(d["v"], d["dv"])),
    ("sparse_xent", lambda d: ops.softmax_cross_entropy(d["rows"], d["labels"])),
    ("sparse_xent_backward",
     lambda d: ops.softmax_cross_entropy_backward(d["rows"], d["labels"])),
    ("dense_xent", lambda d: ops.softmax_cross_entropy(d["rows"], ops.softmax(d["drows"]))),
    ("bce", lambda d: ops.binary_cross_entropy(d["v"], ops.sigmoid(d["dv"]))),
    ("bce_backward", lambda d: ops.binary_cross_entropy_backward(d["v"], ops.sigmoid(d["dv"]))),
    ("dense_forward", lambda d: ops.dense_forward(d["rows"], d["w"], d["bias"], "gelu")),
    ("dense_forward_softmax", lambda d: ops.dense_forward(d["rows"], d["w"], d["bias"],
                                                          "softmax")),
    ("dense_backward", lambda d: ops.dense_backward(
        d["dy"], d["rows"], d["w"], ops.dense_forward(d["rows"], d["w"], d["bias"], "tanh"),
        "tanh")),
])


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
def test_bitwise_identical_for_1_2_4_threads(data, both_thread_counts, name, dt):
    d = data[dt]
    assert_same_bits(both_thread_counts(lambda: CALLS[name](d)))


@pytest.mark.parametrize("fn,slots", [("sgd_update", {"velocity"}), ("rmsprop_update", {"sq_avg"}),
                                      ("adam_update", {"m", "v"}), ("adagrad_update", {"accum"})])
def test_optimizer_updates_identical_for_1_2_4_threads(data, both_thread_counts, fn, slots):
    d = data[np.float32]

    def run():
        p = d["v"].copy()
        state = {s: np.full_like(p, 0.1) for s in slots}
        kw = {"lr": 0.01}
        if fn == "sgd_update":
            kw["momentum"] = 0.9
        if fn == "adam_update":
            kw["step"] = 3
        for _ in range(2):
            getattr(ops, fn)(p, d["dv"], **kw, **state)
        return (p,) + tuple(state[s] for s in sorted(slots))

    assert_same_bits(both_thread_counts(run))


def test_set_and_get_num_threads_round_trip(both_thread_counts):
    seen = both_thread_counts(bprop.get_num_threads, counts=(1, 3, 2))
    assert seen == [1, 3, 2]
    seen_ops = both_thread_counts(bprop.ops.get_num_threads, counts=(3, 1))
    assert seen_ops == [3, 1]  # bprop.ops and bprop name the same setting


def test_thread_count_is_restored_by_the_fixture(both_thread_counts):
    before = bprop.get_num_threads()
    both_thread_counts(lambda: None, counts=(3,))
    assert bprop.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1])
def test_set_num_threads_rejects_non_positive(bad):
    before = bprop.get_num_threads()
    with pytest.raises(ValueError, match=r"^n: expected a thread count in \[1, \d+\], got %d$"
                       % bad):
        bprop.set_num_threads(bad)
    assert bprop.get_num_threads() == before


@pytest.mark.parametrize("bad", [1.5, "2", None])
def test_set_num_threads_rejects_non_integers(bad):
    with pytest.raises(TypeError, match=r"^n: expected an int, got <class '%s'>$"
                       % type(bad).__name__):
        bprop.set_num_threads(bad)


def test_omp_num_threads_is_honoured():
    env = dict(os.environ, OMP_NUM_THREADS="3")
    code = "import bprop; print(bprop.get_num_threads(), bprop.build_info()['num_threads'])"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["3", "3"]


def test_gil_is_released_while_a_kernel_runs(both_thread_counts):
    """While a long GEMM runs in a thread, Python code keeps running in another.

    With the GIL held during the call, the main thread would be frozen for a
    whole GEMM; released, it keeps ticking, with gaps of a switch interval.
    """
    a = np.random.default_rng(0).standard_normal((1000, 1000))
    done = threading.Event()
    calls = []

    def work():
        for _ in range(3):
            t0 = time.perf_counter()
            ops.matmul(a, a)
            calls.append(time.perf_counter() - t0)
        done.set()

    def measure():
        worker = threading.Thread(target=work)
        ticks = [time.perf_counter()]
        worker.start()
        while not done.is_set():
            ticks.append(time.perf_counter())
        worker.join()
        return float(np.max(np.diff(ticks)))

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        (gap,) = both_thread_counts(measure, counts=(1,))
    finally:
        sys.setswitchinterval(old)
    shortest = min(calls)
    assert shortest > 0.01, "matmul too fast to measure: %.4fs" % shortest
    # held GIL => the main thread waits out a whole call (gap >= shortest);
    # the margin absorbs scheduler hiccups on a loaded machine
    assert gap < 0.7 * shortest, "main thread stalled %.4fs during %.4fs calls" % (gap, shortest)


@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
def test_gemm_and_vector_math_thread_invariant_on_every_path(data, both_thread_counts, isa, dt):
    d = data[dt]

    def run():
        return (ops.matmul(d["a"], d["b"].T), ops.dense_forward(d["rows"], d["w"], d["bias"], "gelu"),
                ops.sigmoid(d["v"]), ops.softmax(d["rows"]))

    assert_same_bits(both_thread_counts(run))
