"""Calling bprop's low-level kernels directly, and timing them against NumPy.

A walkthrough in three steps, no notebook needed:

1. the kernels of ``bprop.ops`` (C++ core) on plain NumPy arrays, checked
   against their pure-NumPy twins in ``bprop.reference``;
2. a complete training loop for a 64-32-10 network on the bundled digits,
   written with nothing but kernels: ``dense_forward``,
   ``softmax_cross_entropy`` (+ backward), ``dense_backward``, ``adam_update``;
3. a small benchmark: each kernel on ``bprop.ops`` vs ``bprop.reference``.

Run:  python examples/kernels_walkthrough.py [--quick]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import bprop
from bprop import ops, reference


def step1_kernels(rng):
    print("== 1. kernels on NumPy arrays ==")
    a = rng.standard_normal((128, 64), dtype=np.float32)
    b = rng.standard_normal((64, 32), dtype=np.float32)
    c = ops.matmul(a, b)                                   # (128, 32)
    print(f"matmul (128, 64) @ (64, 32) -> {c.shape}, max |ops - reference| = "
          f"{np.abs(c - reference.matmul(a, b)).max():.2e}")
    # Transposed views go to the GEMM as a flag, not a copy; out= reuses memory.
    out = np.empty((64, 64), dtype=np.float32)
    ops.gemm(a, a, trans_a=True, c=out)                    # out = a.T @ a
    print(f"gemm(trans_a=True) == a.T @ a: {np.allclose(out, a.T @ a, rtol=1e-4, atol=1e-3)}")
    y = ops.relu(c)
    print(f"relu: {int((y == 0).sum())} of {y.size} outputs clipped to zero")
    p = ops.softmax(c)
    print(f"softmax rows sum to 1: {np.allclose(p.sum(axis=1), 1.0, atol=1e-5)}")
    try:
        ops.matmul(a, a)                                   # (128, 64) @ (128, 64): wrong shapes
    except ValueError as exc:
        print(f"bad shapes raise ValueError: {exc}")


def step2_training_loop(epochs, batch_size=32, seed=0):
    print("\n== 2. a training loop made of kernels only ==")
    (x_train, y_train), (x_test, y_test) = bprop.datasets.digits.load_data()
    x_train = (x_train.reshape(len(x_train), 64) / np.float32(16)).astype(np.float32)
    x_test = (x_test.reshape(len(x_test), 64) / np.float32(16)).astype(np.float32)
    y_train = y_train.astype(np.int64)
    rng = np.random.default_rng(seed)

    def glorot(fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)

    params = [glorot(64, 32), np.zeros(32, np.float32), glorot(32, 10), np.zeros(10, np.float32)]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    step = 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        losses = []
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            x, y = x_train[idx], y_train[idx]
            w1, b1, w2, b2 = params
            h = ops.dense_forward(x, w1, b1, "relu")              # (n, 32)
            logits = ops.dense_forward(h, w2, b2)                 # (n, 10)
            losses.append(ops.softmax_cross_entropy(logits, y))
            dlogits = ops.softmax_cross_entropy_backward(logits, y)
            dh, dw2, db2 = ops.dense_backward(dlogits, h, w2)
            _, dw1, db1 = ops.dense_backward(dh, x, w1, h, "relu", need_dx=False)
            step += 1
            for p, g, (m, v) in zip(params, (dw1, db1, dw2, db2), moments):
                ops.adam_update(p, g, m, v, lr=0.005, step=step)  # in place
        w1, b1, w2, b2 = params
        test_logits = ops.dense_forward(ops.dense_forward(x_test, w1, b1, "relu"), w2, b2)
        accuracy = float(np.mean(test_logits.argmax(axis=1) == y_test))
        print(f"epoch {epoch:2d}: train loss {np.mean(losses):.4f}, test accuracy {accuracy:.3f}")
    return accuracy


def _best_ms(fn, repeat):
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def step3_benchmark(quick):
    print(f"\n== 3. bprop.ops vs bprop.reference (pure NumPy), {bprop.get_num_threads()} threads ==")
    n = 256 if quick else 1024
    repeat = 2 if quick else 5
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    bias = rng.standard_normal(n, dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    cases = [
        (f"matmul {n}^3", lambda m: m.matmul(a, b, out=out)),
        (f"relu {n}x{n}", lambda m: m.relu(a, out=out)),
        (f"gelu {n}x{n}", lambda m: m.gelu(a, out=out)),
        (f"softmax {n}x{n}", lambda m: m.softmax(a, out=out)),
        (f"dense_forward relu {n}", lambda m: m.dense_forward(a, b, bias, "relu", out=out)),
    ]
    print(f"{'kernel':<24}{'bprop ms':>10}{'NumPy ms':>10}{'speed-up':>10}")
    for name, call in cases:
        t_ops = _best_ms(lambda: call(ops), repeat)
        t_ref = _best_ms(lambda: call(reference), repeat)
        print(f"{name:<24}{t_ops:>10.3f}{t_ref:>10.3f}{t_ref / t_ops:>9.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, small benchmark")
    args = parser.parse_args(argv)
    step1_kernels(np.random.default_rng(0))
    accuracy = step2_training_loop(epochs=3 if args.quick else 15)
    step3_benchmark(args.quick)
    return accuracy


if __name__ == "__main__":
    main()
