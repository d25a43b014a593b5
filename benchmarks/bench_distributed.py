"""Data-parallel training over MPI (issue 15): step time and Allreduce time
at 1, 2 and 4 processes, and what they predict for 4, 16 and 64.

Each point runs ``mpiexec -n R python -m benchmarks.bench_distributed
--child MODEL EPOCHS`` (one thread per process, ``OMP_NUM_THREADS=1``).
Every process keeps its batch (weak scaling, Horovod's usual setup: the
global batch is R times the one-process batch), trains ``epochs`` epochs of
``model.fit`` on Fashion-MNIST (or synthetic data of its shape) and times
them; rank 0 also times the Allreduce ``fit`` does each step (the model's
parameters plus the loss and metric tail, float32, in place) on its own.

The step time at R processes is ``compute + allreduce(R)``, so the weak
scaling efficiency is ``t(1) / t(R)``.  Beyond the machine, the ring
Allreduce model gives ``allreduce(R) = 2 (R-1) alpha + 2 (R-1)/R * bytes / bw``;
on one node ``alpha`` and ``bw`` are fitted to the 2-process Allreduce times
of both models, across a network they are assumptions the table states.
With more processes than cores (4 on a 2-core machine) the processes share
cores: those rows measure the overhead of oversubscription, not scaling, and
the report says so.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

# model -> (hidden sizes, per-process batch)
MODELS = {"784-64-64-10": ((64, 64), 32), "784-256-256-10": ((256, 256), 128)}
RANKS = (1, 2, 4)
PREDICT_RANKS = (4, 16, 64)
# Networks of the model: (name, per-message latency alpha in s, bandwidth in B/s).
# 10/25 GbE line rates at ~90% goodput; alpha is a typical TCP small-message
# latency between hosts (kernel stacks, one switch).
NETWORKS = (("10 GbE", 25e-6, 0.9 * 10e9 / 8), ("25 GbE", 15e-6, 0.9 * 25e9 / 8))


def parameter_count(hidden) -> int:
    units = (784,) + tuple(hidden) + (10,)
    return sum(a * b + b for a, b in zip(units[:-1], units[1:]))


def ring_allreduce_s(ranks: int, nbytes: float, alpha: float, bandwidth: float) -> float:
    """The ring Allreduce time: 2 (R-1) messages of nbytes / R each way round."""
    if ranks <= 1:
        return 0.0
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes / bandwidth


def fit_alpha_bandwidth(points):
    """``(alpha, bandwidth)`` of the ring model through 2-process ``(nbytes, seconds)`` points
    (least squares of ``t = 2 alpha + nbytes / bw``; alpha clamped at >= 0)."""
    import numpy as np

    sizes = np.array([p[0] for p in points], dtype=float)
    times = np.array([p[1] for p in points], dtype=float)
    if len(points) == 1:
        return 0.0, sizes[0] / times[0]
    slope, intercept = np.polyfit(sizes, times, 1)
    if intercept < 0 or slope <= 0:  # noise: all of it bandwidth
        return 0.0, float(np.sum(sizes) / np.sum(times))
    return float(intercept / 2), float(1.0 / slope)


def child(model: str, epochs: int, synthetic: bool) -> Optional[Dict]:
    """Runs in every process of the job; rank 0 returns the figures."""
    import numpy as np

    import bprop
    import bprop.distributed as dist
    from benchmarks import bench_training

    dist.init(timeout=600)
    hidden, batch = MODELS[model]
    (x, y), _, source = bench_training.load_data(synthetic=synthetic)
    spec = bench_training.MLPSpec(hidden=hidden, batch_size=batch)
    net = bench_training.build_model(spec, "core")
    global_batch = batch * dist.size()
    seconds = []
    for _ in range(epochs):
        dist.barrier()
        start = time.perf_counter()
        net.fit(x, y, batch_size=global_batch, epochs=1, verbose=0, shuffle=True)
        seconds.append(time.perf_counter() - start)
    steps = -(-len(x) // global_batch)
    # The Allreduce of one step: the parameters and the tail (loss, 2 accuracy sums).
    count = parameter_count(hidden) + 4
    buf = np.zeros(count, dtype=np.float32)
    job = dist.job()
    allreduce = []
    if job is not None:
        for _ in range(20):
            job.allreduce_inplace(buf)
        for _ in range(300):
            job.barrier()
            start = time.perf_counter()
            job.allreduce_inplace(buf)
            allreduce.append(time.perf_counter() - start)
    if not dist.is_root():
        return None
    timed = seconds[1:] or seconds
    epoch_s = float(np.median(timed))
    return {"model": model, "ranks": dist.size(), "batch_per_rank": batch,
            "global_batch": global_batch, "steps": steps, "epoch_s": epoch_s,
            "step_s": epoch_s / steps, "parameters": parameter_count(hidden),
            "allreduce_floats": count,
            "allreduce_s": float(np.median(allreduce)) if allreduce else 0.0, "data": source}


def _mpiexec():
    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return local if os.access(local, os.X_OK) else shutil.which("mpiexec")


def available() -> Optional[str]:
    """None when MPI runs here, else why not."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install \".[mpi]\")"
    if _mpiexec() is None:
        return "no mpiexec on PATH"
    return None


def _child_run(model, ranks, epochs, synthetic):
    cmd = [sys.executable, "-m", "benchmarks.bench_distributed", "--child", model, str(epochs)]
    cmd += ["--synthetic"] if synthetic else []
    if ranks > 1:
        cmd = [_mpiexec(), "-n", str(ranks)] + cmd
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=1200, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def predict(rows: Sequence[Dict]) -> List[Dict]:
    """The expected weak-scaling efficiency at PREDICT_RANKS, per model and network."""
    by_model = {}
    for r in rows:
        by_model.setdefault(r["model"], {})[r["ranks"]] = r
    two = [(4.0 * m[2]["allreduce_floats"], m[2]["allreduce_s"])
           for m in by_model.values() if 2 in m and m[2]["allreduce_s"] > 0]
    networks = []
    if two:
        alpha, bw = fit_alpha_bandwidth(two)
        networks.append(("one node (fitted)", alpha, bw))
    networks += list(NETWORKS)
    out = []
    for model, points in by_model.items():
        if 1 not in points:
            continue
        t1 = points[1]["step_s"]
        nbytes = 4.0 * (parameter_count(MODELS[model][0]) + 4)
        for name, alpha, bw in networks:
            row = {"model": model, "network": name, "alpha_s": alpha, "bandwidth": bw,
                   "step_1_s": t1, "efficiency": {}}
            for ranks in PREDICT_RANKS:
                comm = ring_allreduce_s(ranks, nbytes, alpha, bw)
                row["efficiency"][ranks] = t1 / (t1 + comm)
            out.append(row)
    return out


def run(models: Sequence[str] = tuple(MODELS), ranks: Sequence[int] = RANKS, epochs: int = 2,
        synthetic: bool = False, log=None) -> Dict:
    """``{"rows": measured, "predicted": model rows, "cores": n}`` or ``{"skipped": why}``."""
    why = available()
    if why:
        return {"skipped": why}
    rows = []
    for model in models:
        base = None
        for n in ranks:
            row = _child_run(model, n, epochs, synthetic)
            base = row if n == 1 else base
            row["efficiency"] = base["step_s"] / row["step_s"] if base else None
            row["oversubscribed"] = n > (os.cpu_count() or 1)
            rows.append(row)
            if log is not None:
                log(f"distributed {model} x{n}: {1e3 * row['step_s']:.3f} ms/step, allreduce "
                    f"{1e6 * row['allreduce_s']:.0f} us")
    return {"rows": rows, "predicted": predict(rows), "cores": os.cpu_count()}


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        result = child(sys.argv[2], int(sys.argv[3]), "--synthetic" in sys.argv)
        if result is not None:
            print(json.dumps(result))
    else:
        result = run(log=lambda line: print(line, file=sys.stderr))
        print(json.dumps(result, indent=1))
