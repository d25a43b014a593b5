"""GEMM throughput: bprop's core vs NumPy's BLAS (and PyTorch when installed).

Each case is ``C (m, n) = op(A) (m, k) @ op(B) (k, n)`` in one layout:

* ``NN``: A stored (m, k), B stored (k, n);
* ``NT``: B stored (n, k) and used transposed;
* ``TN``: A stored (k, m) and used transposed.

bprop runs ``ops.gemm(A, B, c=C, trans_a=..., trans_b=...)`` on the stored
arrays; NumPy runs ``np.matmul(op(A), op(B), out=C)`` on the same transposed
views (``A.T``), so both absorb the transpose however they like and both
write into a preallocated C.  GFLOP/s = 2 m n k / median seconds.  The
speedup column is NumPy's median time over bprop's (> 1: bprop is faster).

Targets (issue 5): at least 0.9x NumPy on square sizes and the MLP shapes,
at least 1.5x NumPy on the small shapes an MLP step is made of.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from benchmarks.timing import SETTLE_S, compare, import_torch, thread_limit

SQUARE_SIZES = (256, 512, 1024, 2048)
MLP_SHAPES = ((128, 784, 256), (256, 1024, 1024), (60000, 784, 64))
SMALL_SHAPES = ((32, 784, 64), (32, 64, 64), (32, 64, 10), (128, 256, 10))
LAYOUTS = ("NN", "NT", "TN")
DTYPES = ("float32", "float64")

# Minimum bprop/NumPy speedup per group of shapes (issue 5, target 1).
TARGETS = {"square": 0.9, "mlp": 0.9, "small": 1.5}


@dataclass(frozen=True)
class GemmCase:
    """One problem: ``m x k x n`` in a group ("square", "mlp", "small", or "custom")."""

    m: int
    k: int
    n: int
    group: str = "custom"

    @property
    def label(self):
        return f"{self.m}x{self.k}x{self.n}"

    @property
    def flops(self):
        return 2.0 * self.m * self.k * self.n


def classify(m, k, n) -> str:
    """The issue-5 group of a shape ("square", "mlp", "small"), else "custom" (no target)."""
    if (m, k, n) in MLP_SHAPES:
        return "mlp"
    if (m, k, n) in SMALL_SHAPES:
        return "small"
    if m == k == n and SQUARE_SIZES[0] <= m <= SQUARE_SIZES[-1]:
        return "square"
    return "custom"


def default_cases(quick=False) -> List[GemmCase]:
    """The issue's shapes; ``quick`` keeps one or two of each group."""
    if quick:
        squares = (256, 1024)
        mlp = ((128, 784, 256), (256, 1024, 1024))
        small = SMALL_SHAPES
    else:
        squares, mlp, small = SQUARE_SIZES, MLP_SHAPES, SMALL_SHAPES
    cases = [GemmCase(s, s, s, "square") for s in squares]
    cases += [GemmCase(m, k, n, "mlp") for m, k, n in mlp]
    cases += [GemmCase(m, k, n, "small") for m, k, n in small]
    return cases


def _check_layout(layout):
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    return layout[0] == "T", layout[1] == "T"


def make_operands(case: GemmCase, dtype, layout, seed=0):
    """Stored A and B for ``layout``, their op() views, and an output C.

    Returns ``(a_stored, b_stored, a_view, b_view, c)`` with ``a_view``
    (m, k) and ``b_view`` (k, n) (``a_stored.T`` / ``b_stored.T`` when the
    layout transposes them).
    """
    trans_a, trans_b = _check_layout(layout)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    rng = np.random.default_rng(seed)
    a_shape = (case.k, case.m) if trans_a else (case.m, case.k)
    b_shape = (case.n, case.k) if trans_b else (case.k, case.n)
    a = rng.standard_normal(a_shape).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    a_view = a.T if trans_a else a
    b_view = b.T if trans_b else b
    c = np.empty((case.m, case.n), dtype=dtype)
    return a, b, a_view, b_view, c


def _impl_result(timing, flops):
    return {"median_s": timing.median, "min_s": timing.min, "number": timing.number,
            "gflops": flops / timing.median / 1e9 if timing.median > 0 else float("inf")}


def bench_case(case: GemmCase, dtype, layout, threads, repeats=5, warmup=1,
               min_sample_s=0.01, torch=None) -> Dict:
    """Time one case with bprop, NumPy (and ``torch`` if given) at ``threads`` threads."""
    from bprop import ops

    trans_a, trans_b = _check_layout(layout)
    a, b, a_view, b_view, c_bprop = make_operands(case, dtype, layout)
    c_numpy = np.empty_like(c_bprop)

    def run_bprop():
        ops.gemm(a, b, c=c_bprop, trans_a=trans_a, trans_b=trans_b)

    def run_numpy():
        np.matmul(a_view, b_view, out=c_numpy)

    impls = {"bprop": run_bprop, "numpy": run_numpy}
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        ta_view = ta.t() if trans_a else ta
        tb_view = tb.t() if trans_b else tb
        c_torch = torch.from_numpy(np.empty_like(c_bprop))

        def run_torch():
            torch.matmul(ta_view, tb_view, out=c_torch)

        impls["torch"] = run_torch

    with thread_limit(threads, torch=torch) as controlled:
        # Interleaved samples are fair under load, but only one thread per
        # library keeps their thread pools from fighting over the cores.
        timings = compare(impls, repeats=repeats, warmup=warmup, min_sample_s=min_sample_s,
                          interleave=threads == 1, settle_s=SETTLE_S if threads > 1 else 0.0)
    results = {name: _impl_result(t, case.flops) for name, t in timings.items()}

    # A benchmark of a wrong product would be worthless: check bprop's C.
    scale = float(np.max(np.abs(c_numpy))) if c_numpy.size else 0.0
    diff = float(np.max(np.abs(c_bprop - c_numpy))) if c_numpy.size else 0.0
    target = TARGETS.get(case.group)
    speedup = results["numpy"]["median_s"] / results["bprop"]["median_s"]
    row = {
        "bench": "gemm", "shape": case.label, "m": case.m, "k": case.k, "n": case.n,
        "group": case.group, "dtype": np.dtype(dtype).name, "layout": layout,
        "threads": threads, "numpy_threads_controlled": controlled["numpy"],
        "results": results, "speedup": speedup,
        "target_speedup": target,
        "meets_target": None if target is None else bool(speedup >= target),
        "max_rel_err": diff / scale if scale > 0 else diff,
    }
    if "torch" in results:
        row["torch_ratio"] = results["torch"]["median_s"] / results["bprop"]["median_s"]
    return row


def run(cases: Optional[Sequence[GemmCase]] = None, dtypes: Sequence[str] = DTYPES,
        layouts: Sequence[str] = LAYOUTS, threads: Sequence[int] = (1, 2), repeats=5,
        warmup=1, min_sample_s=0.01, use_torch=True, quick=False, log=None) -> List[Dict]:
    """Every case x dtype x layout x thread count; returns one row per combination.

    ``cases`` defaults to :func:`default_cases` (``quick`` selects fewer);
    ``log`` (a callable taking a str) hears one line per row as it finishes.
    """
    if cases is None:
        cases = default_cases(quick)
    torch = import_torch() if use_torch else None
    rows = []
    for case in cases:
        for dtype in dtypes:
            for layout in layouts:
                for n_threads in threads:
                    row = bench_case(case, dtype, layout, n_threads, repeats=repeats,
                                     warmup=warmup, min_sample_s=min_sample_s, torch=torch)
                    rows.append(row)
                    if log is not None:
                        log(f"gemm {row['shape']:>16} {row['dtype']} {layout} t={n_threads}: "
                            f"bprop {row['results']['bprop']['gflops']:7.1f} GFLOP/s, "
                            f"numpy {row['results']['numpy']['gflops']:7.1f} GFLOP/s, "
                            f"x{row['speedup']:.2f}")
    return rows


def parse_shape(text) -> Tuple[int, int, int]:
    """``"MxKxN"`` (or a single ``"S"`` for a square) -> (m, k, n)."""
    parts = str(text).lower().split("x")
    if len(parts) == 1:
        parts = parts * 3
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"a GEMM shape must look like 'MxKxN' or 'S', got {text!r}")
    m, k, n = (int(p) for p in parts)
    return m, k, n
