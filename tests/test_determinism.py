"""Determinism, a documented guarantee of bprop:

    Training with the same seed (``bprop.utils.set_random_seed``) gives
    bitwise-identical weights, run after run, in one process or in separate
    processes, with 1 or 2 threads (any thread count): the core partitions
    work over output elements and never splits a reduction in an order that
    depends on the number of threads.

Bitwise means the float bits: arrays are compared through an unsigned
integer view, so even -0.0 vs 0.0 or two different NaNs would differ.
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


def bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def assert_bitwise_equal(got, want, what=""):
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and g.dtype == w.dtype, (what, i)
        np.testing.assert_array_equal(bits(g), bits(w), err_msg="%s: weight %d differs" % (what, i))


@pytest.fixture
def threads_restored():
    before = ops.get_num_threads()
    yield
    ops.set_num_threads(before)


def make_data(n=160, d=20, classes=4):
    rng = np.random.default_rng(123)  # data fixed independently of the seed under test
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, classes, n)
    return x, y


def train(seed, threads=None, epochs=3, optimizer="adam"):
    """Weights after training a small MLP with shuffling and dropout (all randomness seeded)."""
    if threads is not None:
        ops.set_num_threads(threads)
    x, y = make_data()
    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([
        bprop.layers.Input((x.shape[1],)),
        bprop.layers.Dense(64, activation="relu"),
        bprop.layers.Dropout(0.25),
        bprop.layers.Dense(48, activation="gelu"),
        bprop.layers.Dense(4, activation="softmax"),
    ])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=epochs, batch_size=32, shuffle=True, verbose=0)
    return [np.array(w) for w in model.get_weights()]


def test_same_seed_same_weights_in_one_process():
    assert_bitwise_equal(train(7), train(7), "run 1 vs run 2")


def test_different_seed_different_weights():
    # the guarantee is not vacuous: the seed does matter
    a, b = train(7, epochs=1), train(8, epochs=1)
    assert any(not np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_same_weights_with_1_and_2_threads(threads_restored, optimizer):
    one = train(11, threads=1, optimizer=optimizer)
    two = train(11, threads=2, optimizer=optimizer)
    assert_bitwise_equal(two, one, "1 thread vs 2 threads (%s)" % optimizer)


def test_same_weights_in_a_separate_process(tmp_path):
    path = tmp_path / "w.npz"
    code = textwrap.dedent("""
        import sys, numpy as np
        sys.path.insert(0, %r)
        from test_determinism import train
        np.savez(%r, *train(7, threads=int(sys.argv[1])))
    """) % (os.path.dirname(os.path.abspath(__file__)), str(path))
    for threads in ("1", "2"):
        proc = subprocess.run([sys.executable, "-c", code, threads], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        with np.load(path) as f:
            other = [f["arr_%d" % i] for i in range(len(f.files))]
        assert_bitwise_equal(other, train(7), "separate process with %s thread(s)" % threads)


# ----------------------------------------------------------------------------- kernels
def _kernel_results(dt):
    rng = np.random.default_rng(5)
    # sizes past the GEMM blocking and the element-wise chunking, odd on purpose
    a = rng.standard_normal((301, 157)).astype(dt)
    b = rng.standard_normal((157, 203)).astype(dt)
    bias = rng.standard_normal(203).astype(dt)
    y = rng.standard_normal((301, 203)).astype(dt)
    labels = rng.integers(0, 203, 301)
    big = rng.standard_normal(300_001).astype(dt)
    z = ops.dense_forward(a, b, bias, "tanh")
    return [
        ops.matmul(a, b), ops.gemm(a, y, trans_a=True), ops.gemm(y, b, trans_b=True),
        z, *ops.dense_backward(y, a, b, z, "tanh"), ops.bias_grad(y), ops.softmax(y),
        ops.log_softmax(y), ops.softmax_cross_entropy_backward(y, labels),
        np.array(ops.softmax_cross_entropy(y, labels)), np.array(ops.mse(big, big[::-1])),
        np.array(ops.binary_cross_entropy(big, (big > 0).astype(dt))), ops.gelu(big),
    ]


@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
def test_kernels_bitwise_equal_for_1_2_3_4_threads(threads_restored, dt):
    ops.set_num_threads(1)
    want = _kernel_results(dt)
    for n in (2, 3, 4):
        ops.set_num_threads(n)
        assert_bitwise_equal(_kernel_results(dt), want, "%d threads vs 1" % n)
