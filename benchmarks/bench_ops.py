"""Elementwise and row-wise kernels: bprop's core vs pure NumPy (and PyTorch).

For each activation (relu, sigmoid, tanh, gelu, softmax, log_softmax) and
its backward, at (256, 1024) and (60000, 64) float32 by default, the same
call runs in ``bprop.ops`` and in ``bprop.reference`` (the pure-NumPy twin,
the project's definition of "pure NumPy"), both writing into a preallocated
``out=``.  Throughput is reported in GB/s of the minimal memory traffic: a
forward reads x and writes y (2 arrays), a backward reads dy and x or y and
writes dx (3 arrays).  ``max_ulp`` is the largest error of bprop's float32
result, in float32 ulps of the float64 reference computed on the same
(float32-representable) inputs; ``numpy_max_ulp`` is the same measure of
NumPy's float32 result, which tells conditioning (both err alike, e.g. the
cancellation in 1 - y*y) from a kernel's own error.  Exact values below
2^-100 (~8e-31), reached through underflowing intermediates, are not counted.

Target (issue 5): at least 5x NumPy on the ops that evaluate exp/tanh, and
at least PyTorch's throughput.
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

from benchmarks.timing import SETTLE_S, compare, import_torch, thread_limit

# op name -> what its backward takes besides dy: the forward's input "x" or output "y".
OPS = {
    "relu": "x",
    "sigmoid": "y",
    "tanh": "y",
    "gelu": "x",
    "softmax": "y",
    "log_softmax": "y",
}
DIRECTIONS = ("forward", "backward")
SHAPES = ((256, 1024), (60000, 64))
# Kernels that evaluate exp or tanh per element: issue 5 asks for >= 5x NumPy there.
TRANSCENDENTAL = {
    ("sigmoid", "forward"), ("tanh", "forward"), ("gelu", "forward"),
    ("softmax", "forward"), ("log_softmax", "forward"),
    ("gelu", "backward"), ("log_softmax", "backward"),
}
TRANSCENDENTAL_TARGET = 5.0
# Exact values smaller than this are not counted by max_ulp_error (2^-100).
ULP_FLOOR = 2.0 ** -100


def _check_op(op, direction):
    if op not in OPS:
        raise ValueError(f"op must be one of {sorted(OPS)}, got {op!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


def make_inputs(op, shape, dtype="float32", seed=0):
    """Inputs of ``op``'s forward and backward: (x, y, dy) with y = reference forward of x.

    Logits and pre-activations are standard normal scaled by 3, so that the
    kernels see both tails of sigmoid/tanh/gelu and non-trivial softmax rows.
    """
    from bprop import reference

    rng = np.random.default_rng(seed)
    x = (3.0 * rng.standard_normal(shape)).astype(dtype)
    y = getattr(reference, op)(x)
    dy = rng.standard_normal(shape).astype(dtype)
    return x, y, dy


def _call(backend, op, direction, x, y, dy, out):
    """The kernel call timed for one backend, writing into ``out``."""
    if direction == "forward":
        return getattr(backend, op)(x, out=out)
    saved = x if OPS[op] == "x" else y
    return getattr(backend, op + "_backward")(dy, saved, out=out)


def max_ulp_error(result, x, y, dy, op, direction):
    """Largest |result - exact| in float32 ulps of the exact value (float64 reference)."""
    from bprop import reference

    x64, y64, dy64 = (a.astype(np.float64) for a in (x, y, dy))
    if direction == "forward":
        exact = getattr(reference, op)(x64)
    else:
        # The backward's inputs are the float32 arrays it was given, not a
        # float64 forward: the oracle sees the very same numbers.
        saved = x64 if OPS[op] == "x" else y64
        exact = getattr(reference, op + "_backward")(dy64, saved)
    # Results below ULP_FLOOR are left out: computing them passes through
    # intermediates that underflow (gelu(-10) = -10 * sigmoid(-92)), so
    # kernels, NumPy's included, flush them toward zero: absolute errors
    # under 1e-30 that no training can see, but millions of ulps.
    keep = (np.abs(exact) >= ULP_FLOOR) | (exact == 0)
    exact = exact[keep]
    ulp = np.spacing(np.abs(exact).astype(result.dtype)).astype(np.float64)
    err = np.abs(result[keep].astype(np.float64) - exact) / ulp
    return float(err.max()) if err.size else 0.0


def _torch_call(torch, op, direction, tx, ty, tdy):
    """A zero-argument callable running ``op`` in PyTorch, or None when unavailable."""
    f = torch.nn.functional
    aten = torch.ops.aten
    forward = {
        "relu": lambda: torch.relu(tx),
        "sigmoid": lambda: torch.sigmoid(tx),
        "tanh": lambda: torch.tanh(tx),
        "gelu": lambda: f.gelu(tx, approximate="tanh"),
        "softmax": lambda: torch.softmax(tx, dim=-1),
        "log_softmax": lambda: torch.log_softmax(tx, dim=-1),
    }
    backward = {
        "relu": lambda: aten.threshold_backward(tdy, tx, 0.0),
        "sigmoid": lambda: aten.sigmoid_backward(tdy, ty),
        "tanh": lambda: aten.tanh_backward(tdy, ty),
        "gelu": lambda: aten.gelu_backward(tdy, tx, approximate="tanh"),
        "softmax": lambda: aten._softmax_backward_data(tdy, ty, -1, tx.dtype),
        "log_softmax": lambda: aten._log_softmax_backward_data(tdy, ty, -1, tx.dtype),
    }
    fn = (forward if direction == "forward" else backward)[op]
    try:
        fn()  # probe: an old PyTorch may lack one of these entry points
    except Exception:  # noqa: BLE001 - torch is optional: report it missing, go on
        return None
    return fn


def bench_op(op, direction, shape, threads, dtype="float32", repeats=5, warmup=1,
             min_sample_s=0.01, torch=None) -> Dict:
    """Time one op in one direction at one shape with bprop, NumPy (and torch)."""
    from bprop import ops, reference

    _check_op(op, direction)
    x, y, dy = make_inputs(op, shape, dtype)
    out_bprop = np.empty_like(x)
    out_numpy = np.empty_like(x)
    impls = {
        "bprop": lambda: _call(ops, op, direction, x, y, dy, out_bprop),
        "numpy": lambda: _call(reference, op, direction, x, y, dy, out_numpy),
    }
    if torch is not None:
        tx, ty, tdy = (torch.from_numpy(a) for a in (x, y, dy))
        fn = _torch_call(torch, op, direction, tx, ty, tdy)
        if fn is not None:
            impls["torch"] = fn

    arrays = 2 if direction == "forward" else 3
    nbytes = arrays * x.size * x.itemsize
    with thread_limit(threads, torch=torch):
        # Interleaved samples are fair under load, but only one thread per
        # library keeps their thread pools from fighting over the cores.
        timings = compare(impls, repeats=repeats, warmup=warmup, min_sample_s=min_sample_s,
                          interleave=threads == 1, settle_s=SETTLE_S if threads > 1 else 0.0)
    results = {name: {"median_s": t.median, "min_s": t.min, "number": t.number,
                      "gbps": nbytes / t.median / 1e9 if t.median > 0 else float("inf")}
               for name, t in timings.items()}

    speedup = results["numpy"]["median_s"] / results["bprop"]["median_s"]
    target = TRANSCENDENTAL_TARGET if (op, direction) in TRANSCENDENTAL else None
    meets = None
    if target is not None:
        meets = bool(speedup >= target)
    if "torch" in results:
        torch_ok = results["torch"]["median_s"] >= results["bprop"]["median_s"]
        meets = torch_ok if meets is None else bool(meets and torch_ok)
    row = {
        "bench": "ops", "op": op, "direction": direction,
        "kernel": op if direction == "forward" else op + "_backward",
        "shape": "x".join(str(s) for s in shape), "dtype": np.dtype(dtype).name,
        "threads": threads, "bytes": nbytes, "results": results, "speedup": speedup,
        "target_speedup": target, "meets_target": meets,
        # Accuracy of both float32 results against one float64 oracle: where
        # NumPy errs as much, the error is the problem's conditioning.
        "max_ulp": (max_ulp_error(out_bprop, x, y, dy, op, direction)
                    if np.dtype(dtype) == np.float32 else None),
        "numpy_max_ulp": (max_ulp_error(out_numpy, x, y, dy, op, direction)
                          if np.dtype(dtype) == np.float32 else None),
    }
    if "torch" in results:
        row["torch_ratio"] = results["torch"]["median_s"] / results["bprop"]["median_s"]
    return row


def run(ops_names: Sequence[str] = tuple(OPS), shapes: Sequence[Tuple[int, int]] = SHAPES,
        directions: Sequence[str] = DIRECTIONS, threads: Sequence[int] = (1, 2),
        dtype="float32", repeats=5, warmup=1, min_sample_s=0.01, use_torch=True,
        log=None) -> List[Dict]:
    """Every op x direction x shape x thread count; one row each."""
    torch = import_torch() if use_torch else None
    rows = []
    for shape in shapes:
        for op in ops_names:
            for direction in directions:
                for n_threads in threads:
                    row = bench_op(op, direction, shape, n_threads, dtype=dtype,
                                   repeats=repeats, warmup=warmup,
                                   min_sample_s=min_sample_s, torch=torch)
                    rows.append(row)
                    if log is not None:
                        log(f"ops {row['kernel']:>20} {row['shape']:>9} t={n_threads}: "
                            f"bprop {row['results']['bprop']['gbps']:6.2f} GB/s, "
                            f"numpy {row['results']['numpy']['gbps']:6.2f} GB/s, "
                            f"x{row['speedup']:.2f}")
    return rows

