"""``bprop bench``: bprop's C++ kernels against the pure-NumPy reference.

In a source checkout that has the benchmark harness (``benchmarks/`` with a
``__main__``), this runs ``python -m benchmarks --quick`` and shows its
table.  Otherwise (an installed wheel) or with ``--builtin`` it times a few
kernels and one training epoch itself, each on both backends
(``bprop.ops`` and ``bprop.reference``), best of ``--repeat`` runs.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

__all__ = ["harness_root", "builtin_rows", "cmd_bench"]


def harness_root():
    """The checkout root if ``benchmarks/__main__.py`` sits next to ``python/bprop``, else None."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../bprop
    root = os.path.dirname(os.path.dirname(package))                     # checkout root
    if os.path.basename(os.path.dirname(package)) != "python":
        return None  # an installed package, not a checkout
    main = os.path.join(root, "benchmarks", "__main__.py")
    return root if os.path.isfile(main) else None


def _best_ms(fn, repeat):
    fn()  # warm-up: first-touch allocation, thread pool start
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def _epoch_runner(backend, x, y):
    from .. import utils
    from ._train import build_mlp

    def run():
        utils.set_random_seed(0)
        model = build_mlp(x.shape[1:], [64, 64], "relu", 10, backend=backend)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)

    return run


def builtin_rows(repeat=3, size=256):
    """[(name, bprop ms, numpy ms)] for matmul, relu, dense_forward and one MLP epoch."""
    from .. import datasets, ops, reference

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    big = rng.standard_normal((1024, 1024), dtype=np.float32)
    bias = rng.standard_normal(size, dtype=np.float32)
    out_mm = np.empty((size, size), dtype=np.float32)
    out_relu = np.empty_like(big)
    rows = []
    for name, bp, ref in (
        (f"matmul {size}x{size}x{size} f32",
         lambda: ops.matmul(a, b, out=out_mm), lambda: reference.matmul(a, b, out=out_mm)),
        ("relu 1024x1024 f32",
         lambda: ops.relu(big, out=out_relu), lambda: reference.relu(big, out=out_relu)),
        (f"dense_forward relu {size}x{size} f32",
         lambda: ops.dense_forward(a, b, bias, "relu", out=out_mm),
         lambda: reference.dense_forward(a, b, bias, "relu", out=out_mm)),
    ):
        rows.append((name, _best_ms(bp, repeat), _best_ms(ref, repeat)))
    (x, y), _ = datasets.digits.load_data()
    x = (x.astype(np.float32) / 16.0).astype(np.float32)
    rows.append(("MLP 64-64 epoch, digits (1437)",
                 _best_ms(_epoch_runner("core", x, y), max(1, repeat - 1)),
                 _best_ms(_epoch_runner("numpy", x, y), max(1, repeat - 1))))
    return rows


def format_table(rows):
    head = f"{'benchmark':<34} {'bprop (ms)':>11} {'NumPy (ms)':>11} {'speed-up':>9}"
    lines = [head, "-" * len(head)]
    for name, bp, ref in rows:
        lines.append(f"{name:<34} {bp:>11.3f} {ref:>11.3f} {ref / bp:>8.2f}x")
    return "\n".join(lines)


def cmd_bench(args):
    import bprop

    if args.threads is not None:
        bprop.set_num_threads(args.threads)
    root = None if args.builtin else harness_root()
    if root is not None:
        cmd = [sys.executable, "-m", "benchmarks", "--quick"]
        if args.threads is not None:
            # The harness runs in its own process: pass the thread count on.
            cmd += ["--threads", str(args.threads)]
        print(f"Running the benchmark harness: python {' '.join(cmd[1:])} (in {root})",
              flush=True)
        return subprocess.call(cmd, cwd=root)
    print(f"bprop {bprop.__version__} built-in benchmark, {bprop.get_num_threads()} threads, "
          f"best of {args.repeat} (bprop = C++ core, NumPy = bprop.reference)", flush=True)
    print(format_table(builtin_rows(repeat=args.repeat)))
    return 0
