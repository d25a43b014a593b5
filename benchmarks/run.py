"""Command line of the benchmark harness: ``python -m benchmarks`` or ``python benchmarks/run.py``.

Runs the GEMM, ops and training benchmarks (bprop vs its pure-NumPy twin,
and PyTorch when installed), prints Markdown tables, writes JSON (and the
same tables as Markdown) under ``benchmarks/results/`` and a PNG chart when
matplotlib is installed.

Options:
  --quick            fewer sizes and repeats, training on a fraction of an
                     epoch (extrapolated): under 2 minutes on 2 cores
  --only LIST        comma-separated subset of gemm,ops,training,forms,convnet,memory,distributed
  --threads LIST     thread counts, e.g. 1,2 (default) or 1,2,4,8,16
  --json PATH        where to write the JSON results
  --plot PATH        where to write the PNG chart
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

if __package__ in (None, ""):
    # Run as a script (python benchmarks/run.py): make the package importable.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import (  # noqa: E402
    bench_convnet, bench_distributed, bench_forms, bench_gemm, bench_memory, bench_ops, bench_training,
    report,
)
from benchmarks.timing import import_torch, numpy_thread_control  # noqa: E402

SECTIONS = ("gemm", "ops", "training", "forms", "convnet", "memory", "distributed")


@dataclass
class Config:
    """Everything a run measures; :func:`make_config` fills it from the command line."""

    sections: Sequence[str] = SECTIONS
    threads: Sequence[int] = (1, 2)
    quick: bool = False
    repeats: int = 5
    min_sample_s: float = 0.01
    gemm_cases: Optional[List[bench_gemm.GemmCase]] = None
    gemm_dtypes: Sequence[str] = bench_gemm.DTYPES
    gemm_layouts: Sequence[str] = bench_gemm.LAYOUTS
    ops_names: Sequence[str] = tuple(bench_ops.OPS)
    ops_shapes: Sequence[tuple] = bench_ops.SHAPES
    train_models: Sequence[bench_training.MLPSpec] = bench_training.MODELS
    train_fraction: float = 1.0
    train_repeats: int = 3
    train_data: Optional[tuple] = None  # ((x, y), (x_test, y_test), source); None: load
    synthetic: bool = False
    use_torch: bool = True
    use_keras: bool = True
    keras_python: Optional[str] = None  # None: this interpreter if it has Keras
    command: str = ""
    extra: Dict = field(default_factory=dict)


def _int_list(text, name):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{name} must be comma-separated integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"{name} must be integers >= 1, got {text!r}")
    return values


def _sections(text):
    names = [s.strip().lower() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"--only takes a comma-separated subset of {','.join(SECTIONS)}, got {text!r}")
    return [s for s in SECTIONS if s in names]  # canonical order, no duplicates


def _shapes(text):
    try:
        return [bench_gemm.parse_shape(s) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="bprop vs pure NumPy (and PyTorch when installed): GEMM, ops, training.")
    p.add_argument("--quick", action="store_true",
                   help="fewer sizes and repeats, training on a fraction of an epoch "
                        "(extrapolated); under 2 minutes on 2 cores")
    p.add_argument("--only", type=_sections, default=list(SECTIONS),
                   help="comma-separated subset of gemm,ops,training,forms,convnet,memory,distributed "
                        "(default: all)")
    p.add_argument("--threads", type=lambda s: _int_list(s, "--threads"), default=[1, 2],
                   help="comma-separated thread counts (default: 1,2)")
    p.add_argument("--json", metavar="PATH", default=None,
                   help="JSON output (default: benchmarks/results/bench-<UTC time>.json)")
    p.add_argument("--plot", metavar="PATH", default=None,
                   help="PNG chart (default: next to the JSON; needs matplotlib)")
    p.add_argument("--repeats", type=lambda s: _int_list(s, "--repeats")[0], default=None,
                   help="timed repeats per measurement (default: 5, or 3 with --quick)")
    p.add_argument("--gemm-shapes", type=_shapes, default=None, metavar="LIST",
                   help="GEMM shapes to run instead of the defaults, e.g. 2048 or 32x784x64")
    p.add_argument("--synthetic", action="store_true",
                   help="train on synthetic data even when Fashion-MNIST is installed")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.add_argument("--no-keras", action="store_true",
                   help="leave Keras out of the training rows even if installed")
    p.add_argument("--keras-python", metavar="PATH", default=None,
                   help="interpreter (e.g. another venv's bin/python) that runs Keras' training "
                        "rows (default: $BPROP_BENCH_KERAS_PYTHON, else this one if it has Keras)")
    return p


def make_config(argv=None) -> Config:
    """Parse ``argv`` (default ``sys.argv[1:]``) into a :class:`Config`."""
    args = build_parser().parse_args(argv)
    argv_list = sys.argv[1:] if argv is None else list(argv)
    cfg = Config(sections=args.only, threads=args.threads, quick=args.quick,
                 synthetic=args.synthetic, use_torch=not args.no_torch,
                 use_keras=not args.no_keras, keras_python=args.keras_python,
                 command=" ".join(["python -m benchmarks"] + [shlex.quote(a) for a in argv_list]))
    if args.quick:
        # The budget: under 2 minutes on 2 cores for all three sections.
        cfg.repeats = 3
        cfg.min_sample_s = 0.005
        cfg.gemm_cases = bench_gemm.default_cases(quick=True)
        cfg.train_fraction = 0.1
        cfg.train_repeats = 3
    if args.repeats is not None:
        cfg.repeats = args.repeats
        cfg.train_repeats = args.repeats
    if args.gemm_shapes is not None:
        cfg.gemm_cases = [bench_gemm.GemmCase(m, k, n, bench_gemm.classify(m, k, n))
                          for m, k, n in args.gemm_shapes]
    cfg.extra = {"json": args.json, "plot": args.plot}
    return cfg


def collect_meta(cfg: Config) -> Dict:
    """Machine, library versions and the run's settings, for the JSON and the report."""
    import numpy as np

    import bprop

    meta = {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": cfg.command, "quick": cfg.quick, "threads": list(cfg.threads),
        "sections": list(cfg.sections), "platform": platform.platform(),
        "python": platform.python_version(), "cpu": _cpu_name(), "cpu_count": os.cpu_count(),
        "numpy_version": np.__version__, "bprop_version": bprop.__version__,
        "bprop_build_info": _jsonable(bprop.build_info()),
    }
    meta["load_average_start"] = _load_average()
    tpc = numpy_thread_control()
    meta["numpy_threads_controlled"] = tpc is not None
    if tpc is not None:
        blas = [i for i in tpc.threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            meta["numpy_blas"] = f"{blas[0].get('internal_api')} {blas[0].get('version')}"
    torch = import_torch() if cfg.use_torch else None
    meta["torch_version"] = getattr(torch, "__version__", None)
    return meta


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)


def _load_average():
    """1-minute load average (None where the OS has none): other work skews timings."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_benchmarks(cfg: Config, log=None) -> Dict:
    """Run the configured sections; returns ``{"meta", "gemm", "ops", "training", "forms",
    "convnet", "convnet_layers", "memory", "distributed"}``."""
    results = {"meta": collect_meta(cfg)}
    t_start = time.perf_counter()
    section_s = results["meta"]["section_seconds"] = {}
    if "gemm" in cfg.sections:
        t0 = time.perf_counter()
        results["gemm"] = bench_gemm.run(
            cases=cfg.gemm_cases, dtypes=cfg.gemm_dtypes, layouts=cfg.gemm_layouts,
            threads=cfg.threads, repeats=cfg.repeats, min_sample_s=cfg.min_sample_s,
            use_torch=cfg.use_torch, quick=cfg.quick, log=log)
        section_s["gemm"] = time.perf_counter() - t0
    if "ops" in cfg.sections:
        t0 = time.perf_counter()
        results["ops"] = bench_ops.run(
            ops_names=cfg.ops_names, shapes=cfg.ops_shapes, threads=cfg.threads,
            repeats=cfg.repeats, min_sample_s=cfg.min_sample_s, use_torch=cfg.use_torch,
            log=log)
        section_s["ops"] = time.perf_counter() - t0
    if "training" in cfg.sections:
        t0 = time.perf_counter()
        data = cfg.train_data
        if data is None:
            data = bench_training.load_data(synthetic=cfg.synthetic)
        results["meta"]["training_data"] = data[2]
        results["training"] = bench_training.run(
            models=cfg.train_models, threads=cfg.threads, fraction=cfg.train_fraction,
            repeats=cfg.train_repeats, use_torch=cfg.use_torch, data=data, log=log,
            use_keras=cfg.use_keras, keras_interpreter=cfg.keras_python)
        keras_versions = {r["results"]["keras"]["version"] for r in results["training"]
                          if "keras" in r["results"]}
        if keras_versions:
            results["meta"]["keras_version"] = ", ".join(sorted(keras_versions))
        section_s["training"] = time.perf_counter() - t0
    if "forms" in cfg.sections:
        t0 = time.perf_counter()
        results["forms"] = bench_forms.run(threads=cfg.threads, epochs=2 if cfg.quick else 3,
                                           synthetic=cfg.synthetic, log=log)
        section_s["forms"] = time.perf_counter() - t0
    if "convnet" in cfg.sections:
        t0 = time.perf_counter()
        results["convnet"] = bench_convnet.run(
            threads=cfg.threads, epochs=1 if cfg.quick else 3, synthetic=cfg.synthetic,
            use_torch=cfg.use_torch, numpy_steps=5 if cfg.quick else 20, log=log)
        results["convnet_layers"] = bench_convnet.layer_rates(threads=cfg.threads,
                                                              repeats=cfg.repeats)
        section_s["convnet"] = time.perf_counter() - t0
    if "memory" in cfg.sections:
        t0 = time.perf_counter()
        results["memory"] = bench_memory.run(epochs=5, synthetic=cfg.synthetic, log=log)
        section_s["memory"] = time.perf_counter() - t0
    if "distributed" in cfg.sections:
        t0 = time.perf_counter()
        models = tuple(bench_distributed.MODELS)
        models = models[:1] if cfg.quick else models
        results["distributed"] = bench_distributed.run(
            models=models, ranks=(1, 2) if cfg.quick else bench_distributed.RANKS,
            synthetic=cfg.synthetic, log=log)
        section_s["distributed"] = time.perf_counter() - t0
    results["meta"]["elapsed_s"] = time.perf_counter() - t_start
    results["meta"]["load_average_end"] = _load_average()
    return results


def main(argv=None) -> int:
    cfg = make_config(argv)

    def log(line):
        print(line, file=sys.stderr, flush=True)

    results = run_benchmarks(cfg, log=log)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    json_path = cfg.extra.get("json") or report.default_path(".json", stamp)
    base = json_path[:-5] if json_path.endswith(".json") else json_path
    plot_path = cfg.extra.get("plot") or base + ".png"
    report.write_json(results, json_path)
    report.write_markdown(results, base + ".md")
    drawn = report.plot(results, plot_path)
    print(report.to_markdown(results))
    print(f"Took {results['meta']['elapsed_s']:.1f} s. JSON: {json_path}; Markdown: {base}.md; "
          + (f"chart: {drawn}" if drawn else "no chart (matplotlib not installed)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
