"""Resources: memory does not grow with repeated op calls or fit/predict cycles,
and an impossible allocation is a Python MemoryError (or ValueError), not a crash.

RSS is read from /proc/self/statm (Linux; skipped elsewhere).  Each check
warms up first (allocator pools, the GEMM workspace, thread stacks), then
requires the growth over many more calls to stay under a slack far smaller
than what a leak of one buffer per call would cost.  The impossible
allocations run in a child process so that a crash is reported, not fatal.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import bprop
from bprop import ops

statm = "/proc/self/statm"
# Under AddressSanitizer (the .ci/sanitize job) freed memory sits in ASan's
# quarantine (256 MiB) before reuse, so RSS grows by design; LeakSanitizer
# does the leak check there instead.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")
needs_proc = pytest.mark.skipif(not os.path.exists(statm) or UNDER_ASAN,
                                reason="needs /proc/self/statm (Linux) and no ASan quarantine")
SLACK = 4 << 20  # 4 MiB


def rss_bytes():
    with open(statm) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _growth(fn, warmup, calls):
    for _ in range(warmup):
        fn()
    before = rss_bytes()
    for _ in range(calls):
        fn()
    return rss_bytes() - before


def _all_kernels(dt):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 24)).astype(dt)
    w = rng.standard_normal((24, 16)).astype(dt)
    b = rng.standard_normal(16).astype(dt)
    y = rng.standard_normal((32, 16)).astype(dt)
    labels = rng.integers(0, 16, 32)
    p, g = x.copy(), x[::-1].copy()
    s1, s2 = np.zeros_like(p), np.zeros_like(p)
    out = np.empty_like(y)

    def call():
        ops.matmul(x, w)
        ops.gemm(x, y, trans_a=True)
        ops.matmul(x.T, y)  # a transposed view, no copy
        z = ops.dense_forward(x, w, b, "relu")
        ops.dense_backward(y, x, w, z, "relu")
        ops.softmax(y, out=out)
        ops.log_softmax(y)
        ops.gelu_backward(y, y)
        ops.softmax_cross_entropy(y, labels)
        ops.softmax_cross_entropy_backward(y, labels, out=out)
        ops.binary_cross_entropy(y, (y > 0).astype(dt))
        ops.mse(y, out)
        ops.bias_grad(y)
        ops.adam_update(p, g, s1, s2, 1e-3, 1)
        ops.rmsprop_update(p, g, s1, 1e-3)
        for bad in (lambda: ops.matmul(x, x), lambda: ops.relu(x.astype(np.int64)),
                    lambda: ops.softmax_cross_entropy(y, labels + 99)):
            try:
                bad()
            except (TypeError, ValueError):
                pass
    return call


@needs_proc
@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
def test_rss_flat_over_10000_op_calls(dt):
    # 10,000 rounds of 14 kernels and 3 refused calls; a leak of even one
    # (32, 16) float32 result per round would be 20 MiB.
    grown = _growth(_all_kernels(dt), warmup=500, calls=10_000 // 14 + 1)
    assert grown < SLACK, "RSS grew by %.1f MiB" % (grown / 2 ** 20)


@needs_proc
@pytest.mark.parametrize("threads", [1, 2])
def test_rss_flat_over_10000_single_kernel_calls(threads):
    x = np.random.default_rng(1).standard_normal((48, 48)).astype(np.float32)
    before = ops.get_num_threads()
    ops.set_num_threads(threads)
    try:
        grown = _growth(lambda: (ops.matmul(x, x), ops.relu(x)), warmup=300, calls=5_000)
    finally:
        ops.set_num_threads(before)
    assert grown < SLACK, "RSS grew by %.1f MiB (9 KiB per call would be 90 MiB)" % (grown / 2 ** 20)


@needs_proc
def test_rss_flat_over_100_fit_predict_cycles():
    rng = np.random.default_rng(2)
    # 16 batches of (16, 128) activations per epoch: leaking one batch's
    # buffers per step would be 12 MiB over the 100 cycles.
    x = rng.standard_normal((256, 32)).astype(np.float32)
    y = rng.integers(0, 4, 256)
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([bprop.layers.Input((32,)), bprop.layers.Dense(128, activation="relu"),
                              bprop.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def cycle():
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        model.predict(x, verbose=0)
        model.evaluate(x, y, verbose=0)

    grown = _growth(cycle, warmup=10, calls=100)
    assert grown < SLACK, "RSS grew by %.1f MiB over 100 fit/predict cycles" % (grown / 2 ** 20)


# ----------------------------------------------------------------------------- impossible allocations
IMPOSSIBLE = {
    # results of 2**46+ elements (256 TiB and more) from cheap stride-0 inputs
    "matmul": "ops.matmul(np.broadcast_to(z, (2**23, 1)), np.broadcast_to(z, (1, 2**23)))",
    "gemm": "ops.gemm(np.broadcast_to(z, (1, 2**23)), np.broadcast_to(z, (1, 2**23)), trans_a=True)",
    "dense_forward": "ops.dense_forward(np.broadcast_to(z, (2**23, 1)), np.broadcast_to(z, (1, 2**23)))",
    # inputs whose contiguous copy is impossible
    "relu": "ops.relu(np.broadcast_to(z, (2**23, 2**23)))",
    "softmax": "ops.softmax(np.broadcast_to(z, (2**23, 2**23)))",
    "mse": "ops.mse(np.broadcast_to(z, (2**23, 2**23)), np.broadcast_to(z, (2**23, 2**23)))",
    "add_bias": "ops.add_bias(np.broadcast_to(z, (2**23, 2**23)), np.zeros(2**23, z.dtype))",
    "bias_grad": "ops.bias_grad(np.broadcast_to(z, (2**23, 2**23)))",
    "softmax_cross_entropy": "ops.softmax_cross_entropy(np.broadcast_to(z, (2, 2**45)), np.zeros(2, np.int64))",
}


@pytest.mark.parametrize("name", sorted(IMPOSSIBLE))
def test_impossible_allocation_is_a_python_error(name):
    code = textwrap.dedent("""
        import numpy as np
        from bprop import ops
        z = np.zeros((), np.float32)
        try:
            %s
        except (MemoryError, ValueError) as e:
            print("raised", type(e).__name__, e)
        else:
            print("returned")
    """) % IMPOSSIBLE[name]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "%s crashed the interpreter (exit %d)\n%s" % (
        name, proc.returncode, proc.stderr[-3000:])
    assert proc.stdout.startswith("raised"), proc.stdout + proc.stderr
