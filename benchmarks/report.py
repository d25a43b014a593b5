"""Reporting: Markdown tables, JSON files and a PNG chart of benchmark results.

``results`` is the dict built by :func:`benchmarks.run.run_benchmarks`:
``{"meta": {...}, "gemm": [rows], "ops": [rows], "training": [rows], "memory": {...}}``, each
row as produced by the matching ``bench_*`` module.  Speedups are NumPy's
time over bprop's (> 1 means bprop is faster); a torch column appears when
PyTorch took part.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
from typing import Dict, List, Optional, Sequence

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned, text left-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    for i, row in enumerate(cells):
        if len(row) != len(headers):
            raise ValueError(f"row {i} has {len(row)} cells, headers have {len(headers)}")
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(headers)]
    numeric = [all(_is_number(r[j]) for r in cells) and bool(cells) for j in range(len(headers))]

    def line(values):
        out = []
        for j, v in enumerate(values):
            out.append(v.rjust(widths[j]) if numeric[j] else v.ljust(widths[j]))
        return "| " + " | ".join(out) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if numeric[j] else ("-" * (w + 2))
                          for j, w in enumerate(widths)) + "|"
    return "\n".join([line(list(headers)), rule] + [line(r) for r in cells])


def _is_number(text):
    text = text.lstrip("x").rstrip("%")
    try:
        float(text)
    except ValueError:
        return text in ("-", "")
    return True


def _fmt(value, digits=2):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _met(value):
    return "-" if value is None else ("yes" if value else "no")


def _has_torch(rows):
    return any("torch" in r["results"] for r in rows)


def gemm_table(rows: Sequence[Dict]) -> str:
    torch = _has_torch(rows)
    headers = ["shape (MxKxN)", "group", "dtype", "layout", "threads", "bprop GFLOP/s",
               "NumPy GFLOP/s"] + (["torch GFLOP/s"] if torch else []) + [
               "bprop/NumPy", "target", "met"]
    body = []
    for r in rows:
        res = r["results"]
        line = [r["shape"], r["group"], r["dtype"], r["layout"], r["threads"],
                _fmt(res["bprop"]["gflops"], 1), _fmt(res["numpy"]["gflops"], 1)]
        if torch:
            line.append(_fmt(res["torch"]["gflops"], 1) if "torch" in res else "-")
        line += ["x" + _fmt(r["speedup"]),
                 ">= x" + _fmt(r["target_speedup"], 1) if r["target_speedup"] else "-",
                 _met(r["meets_target"])]
        body.append(line)
    return markdown_table(headers, body)


def ops_table(rows: Sequence[Dict]) -> str:
    torch = _has_torch(rows)
    headers = ["kernel", "shape", "threads", "bprop GB/s", "NumPy GB/s"] + (
        ["torch GB/s"] if torch else []) + [
        "bprop/NumPy", "max ulp bprop", "max ulp NumPy", "target", "met"]
    body = []
    for r in rows:
        res = r["results"]
        line = [r["kernel"], r["shape"], r["threads"], _fmt(res["bprop"]["gbps"]),
                _fmt(res["numpy"]["gbps"])]
        if torch:
            line.append(_fmt(res["torch"]["gbps"]) if "torch" in res else "-")
        target = ">= x" + _fmt(r["target_speedup"], 0) if r["target_speedup"] else "-"
        if torch and "torch" in res:
            target = (target + ", " if r["target_speedup"] else "") + ">= torch"
        line += ["x" + _fmt(r["speedup"]), _fmt(r["max_ulp"], 1), _fmt(r.get("numpy_max_ulp"), 1),
                 target, _met(r["meets_target"])]
        body.append(line)
    return markdown_table(headers, body)


def training_table(rows: Sequence[Dict]) -> str:
    torch = _has_torch(rows)
    sklearn = any("sklearn" in r["results"] for r in rows)
    keras = any("keras" in r["results"] for r in rows)
    headers = ["model", "batch", "threads", "core s/epoch", "NumPy s/epoch",
               "NumPy MLP s/epoch"] + (["torch s/epoch"] if torch else []) + (
        ["sklearn s/epoch"] if sklearn else []) + (["Keras s/epoch"] if keras else []) + [
        "core/NumPy", "core vs NumPy MLP", "core acc %", "NumPy acc %", "target", "met",
        "timed on"]
    body = []
    for r in rows:
        res = r["results"]

        def epoch(name):
            return _fmt(res[name]["epoch_s"], 3) if name in res else "-"

        def acc(name):
            return _fmt(100.0 * res[name]["test_accuracy"], 1) if name in res else "-"

        targets = []
        if r["target_epoch_s"] is not None:
            targets.append(f"<= {r['target_epoch_s']} s")
        if r["target_speedup"] is not None:
            targets.append(f">= x{r['target_speedup']:.0f}")
        if r.get("target_accuracy_gap") is not None:
            targets.append(f"acc gap <= {r['target_accuracy_gap']}")
        timed = (f"{100 * r['fraction']:.0f}% of an epoch, extrapolated"
                 if r["extrapolated"] else "full epoch")
        line = [r["model"], r["batch_size"], r["threads"], epoch("core"), epoch("numpy"),
                epoch("numpy_mlp")]
        if torch:
            line.append(epoch("torch"))
        if sklearn:
            line.append(epoch("sklearn"))
        if keras:
            line.append(epoch("keras"))
        line += ["x" + _fmt(r["speedup"]) if r["speedup"] is not None else "-",
                 "x" + _fmt(r["numpy_mlp_ratio"]) if r.get("numpy_mlp_ratio") else "-",
                 acc("core"), acc("numpy"), ", ".join(targets) or "-",
                 _met(r["meets_target"]), f"{timed}, median of {r['repeats']}"]
        body.append(line)
    return markdown_table(headers, body)


def forms_table(rows: Sequence[Dict]) -> str:
    headers = ["form a Keras user writes", "threads", "s/epoch", "vs the first form",
               "vs the fastest", "target", "met", "in the core"]
    body = [[r["description"], r["threads"], _fmt(r["epoch_s"], 3),
             "x" + _fmt(r["ratio_to_first"]), "x" + _fmt(r["ratio_to_fastest"]),
             "<= x1.25 the first", _met(r["meets_target"]),
             "yes" if r.get("in_core") else "no"] for r in rows]
    return markdown_table(headers, body)


def convnet_table(rows: Sequence[Dict]) -> str:
    """Keras' convnet: s/epoch, images/s and test accuracy per framework and thread count."""
    headers = ["threads", "framework", "s/epoch", "images/s", "test accuracy", "bprop faster by"]
    body = []
    names = {"bprop": "bprop (core)", "torch": "PyTorch", "numpy": "bprop NumPy backend"}
    for r in rows:
        for fw, res in r["results"].items():
            speed = "-" if fw == "bprop" else "x" + _fmt(res["epoch_s"] / r["results"]["bprop"]["epoch_s"])
            note = " (from %d steps)" % res["extrapolated_from_steps"] \
                if res.get("extrapolated_from_steps") else ""
            body.append([r["threads"], names.get(fw, fw), _fmt(res["epoch_s"]) + note,
                         "-" if res.get("images_per_s") is None else _fmt(res["images_per_s"], 0),
                         "-" if res["accuracy"] is None else "%.4f" % res["accuracy"], speed])
    return markdown_table(headers, body)


def convnet_layers_table(rows: Sequence[Dict]) -> str:
    headers = ["layer (batch 128)", "threads", "forward GFLOP/s", "backward GFLOP/s"]
    return markdown_table(headers, [[r["layer"], r["threads"], _fmt(r["forward_gflops"], 1),
                                     _fmt(r["backward_gflops"], 1)] for r in rows])


def distributed_table(section: Dict) -> str:
    """Measured step and Allreduce times per model and process count (weak scaling)."""
    cores = section.get("cores")
    headers = ["model", "processes", "batch per process", "ms/step", "Allreduce us (floats)",
               "efficiency t(1)/t(n)", "note"]
    body = [[r["model"], r["ranks"], r["batch_per_rank"], _fmt(1e3 * r["step_s"], 3),
             "-" if r["ranks"] == 1 else "%s (%d)" % (_fmt(1e6 * r["allreduce_s"], 0),
                                                    r["allreduce_floats"]),
             "-" if r.get("efficiency") is None else "%.0f%%" % (100 * r["efficiency"]),
             "oversubscribed: %d processes on %s cores" % (r["ranks"], cores)
             if r.get("oversubscribed") else ""] for r in section["rows"]]
    return markdown_table(headers, body)


def distributed_prediction_table(section: Dict) -> str:
    """The ring-Allreduce model's expected weak-scaling efficiency beyond the machine."""
    ranks = sorted({n for r in section["predicted"] for n in r["efficiency"]}, key=int)
    headers = ["model", "network", "alpha us", "GB/s", "ms/step alone"] + [
        "%s processes" % n for n in ranks]
    body = [[r["model"], r["network"], _fmt(1e6 * r["alpha_s"], 1), _fmt(r["bandwidth"] / 1e9),
             _fmt(1e3 * r["step_1_s"], 3)] + ["%.0f%%" % (100 * r["efficiency"][n])
                                               for n in ranks]
            for r in section["predicted"]]
    return markdown_table(headers, body)


def meta_lines(meta: Dict) -> List[str]:
    """A few lines naming the machine, the build and the command."""
    out = []
    if meta.get("command"):
        out.append(f"Command: `{meta['command']}`")
    if meta.get("cpu"):
        line = f"Machine: {meta['cpu']}, {meta.get('cpu_count')} logical CPUs"
        if meta.get("load_average_start") is not None:
            line += (f"; load average {meta['load_average_start']} at start, "
                     f"{meta.get('load_average_end')} at end")
            if max(meta["load_average_start"], meta.get("load_average_end") or 0) > 0.5 * (
                    meta.get("cpu_count") or 1):
                line += (" (other work was running: timings, multi-thread ones above all, "
                         "are skewed)")
        out.append(line)
    info = meta.get("bprop_build_info") or {}
    if info:
        keys = [k for k in ("compiler", "openmp_version", "simd", "gemm_kernel_fp32",
                            "gemm_kernel_fp64", "build_type") if k in info]
        out.append("bprop: " + ", ".join(f"{k}={info[k]}" for k in keys) if keys
                   else "bprop: " + ", ".join(f"{k}={v}" for k, v in sorted(info.items())))
    out.append(f"NumPy {meta.get('numpy_version')} ({meta.get('numpy_blas', 'BLAS unknown')}); "
               + ("NumPy's BLAS threads limited per row with threadpoolctl"
                  if meta.get("numpy_threads_controlled")
                  else "threadpoolctl not installed: NumPy's BLAS thread count is NOT controlled"))
    out.append(f"PyTorch: {meta['torch_version']}" if meta.get("torch_version")
               else "PyTorch: not installed (no torch column)")
    if meta.get("quick"):
        out.append("Mode: --quick (fewer sizes and repeats; training timed on a fraction "
                   "of an epoch and extrapolated)")
    if meta.get("section_seconds"):
        out.append(f"Took {meta.get('elapsed_s', 0):.0f} s: " + ", ".join(
            f"{k} {v:.0f} s" for k, v in meta["section_seconds"].items()))
    if meta.get("training_data"):
        out.append(f"Training data: {meta['training_data']}")
    if meta.get("keras_version"):
        out.append(f"Keras (training rows, in a process of its own): {meta['keras_version']}")
    return out


def _worst(rows, key="speedup"):
    worst = min(rows, key=lambda r: r[key])
    return worst[key], worst


def targets_summary(results: Dict) -> List[str]:
    """One line per target of issue 5 that this run measured: how many rows meet it, the worst."""
    lines = []
    gemm = results.get("gemm") or []
    for group in ("square", "mlp", "small"):
        rows = [r for r in gemm if r["group"] == group]
        if not rows:
            continue
        met = sum(bool(r["meets_target"]) for r in rows)
        value, w = _worst(rows)
        lines.append(f"GEMM {group} shapes, bprop/NumPy >= x{rows[0]['target_speedup']}: "
                     f"met in {met}/{len(rows)} rows; worst x{value:.2f} "
                     f"({w['shape']} {w['dtype']} {w['layout']} t={w['threads']})")
    ops_rows = [r for r in (results.get("ops") or []) if r["target_speedup"]]
    if ops_rows:
        met = sum(r["speedup"] >= r["target_speedup"] for r in ops_rows)
        value, w = _worst(ops_rows)
        lines.append(f"Transcendental ops, bprop/NumPy >= x{ops_rows[0]['target_speedup']:.0f}: "
                     f"met in {met}/{len(ops_rows)} rows; worst x{value:.2f} "
                     f"({w['kernel']} {w['shape']} t={w['threads']})")
    fwd = [r for r in (results.get("ops") or []) if r["direction"] == "forward"
           and r.get("max_ulp") is not None]
    if fwd:
        w = max(fwd, key=lambda r: r["max_ulp"])
        lines.append("Forward ops accuracy (<= 4 ulp of float64; results >= 2^-100): "
                     f"bprop's worst "
                     f"{w['max_ulp']:.1f} ulp ({w['kernel']} {w['shape']}; NumPy float32 "
                     f"there: {_fmt(w.get('numpy_max_ulp'), 1)} ulp)")
    for r in results.get("training") or []:
        core = r["results"].get("core")
        if core is None:
            continue
        parts = [f"Training {r['model']} b={r['batch_size']} t={r['threads']}: "
                 f"core {core['epoch_s']:.3f} s/epoch"]
        if r["target_epoch_s"] is not None:
            parts.append(f"(target <= {r['target_epoch_s']} s)")
        if r["speedup"] is not None:
            parts.append(f"x{r['speedup']:.2f} NumPy backend"
                         + (f" (target >= x{r['target_speedup']:.0f})"
                            if r["target_speedup"] else ""))
        if r.get("accuracy_gap_points") is not None:
            parts.append(f"accuracy gap {r['accuracy_gap_points']:.2f} points"
                         + (f" (target <= {r['target_accuracy_gap']})"
                            if r.get("target_accuracy_gap") is not None else ""))
        parts.append("met" if r["meets_target"] else "NOT met" if r["meets_target"] is not None
                     else "no target")
        lines.append(" ".join(parts[:2]) + "; " + "; ".join(parts[2:]) if len(parts) > 2
                     else parts[0])
    forms = results.get("forms") or []
    for n in sorted({r["threads"] for r in forms}):
        rows = [r for r in forms if r["threads"] == n]
        worst = max(rows, key=lambda r: r["ratio_to_first"])
        met = sum(bool(r["meets_target"]) for r in rows)
        lines.append(f"Forms of the seed MLP (issue 11), t={n}: within x1.25 of the first form "
                     f"({rows[0]['epoch_s']:.3f} s/epoch) in {met}/{len(rows)} forms; slowest "
                     f"{worst['form']} x{worst['ratio_to_first']:.2f} ({worst['epoch_s']:.3f} "
                     f"s/epoch)")
    for r in results.get("convnet") or []:
        if r.get("speedup_vs_torch") is None:
            lines.append("Convnet (issue 14), t=%d: %.2f s/epoch, x%.1f the NumPy backend; PyTorch "
                         "not installed (no target measured)" % (
                             r["threads"], r["results"]["bprop"]["epoch_s"], r["speedup_vs_numpy"]))
            continue
        lines.append("Convnet (issue 14), t=%d: %.2f s/epoch, x%.2f PyTorch's (target >= x1.5), "
                     "accuracy gap %.2f points (target <= 0.5); %s" % (
                         r["threads"], r["results"]["bprop"]["epoch_s"], r["speedup_vs_torch"],
                         r["accuracy_gap_points"], "met" if r["meets_target"] else "NOT met"))
    mem = results.get("memory")
    if mem and mem.get("peak_rss_mib") is not None:
        lines.append(f"Memory, {mem['epochs']}-epoch fit of 784-64-64-10 ({mem['source']}): "
                     f"peak RSS {mem['peak_rss_mib']:.1f} MiB = data {mem['data_mib']:.1f} MiB "
                     f"+ {mem['overhead_mib']:.1f} MiB (target {mem['target']}); "
                     + ("met" if mem["met"] else "NOT met"))
    elif mem and mem.get("skipped"):
        lines.append(f"Memory: skipped ({mem['skipped']})")
    return lines


def scaling_summary(results: Dict) -> List[str]:
    """Parallel efficiency t(1) / (n t(n)) of bprop where a run measured 1 and more threads.

    For GEMM: the largest shape measured, NN layout (or the first layout),
    each dtype; for training: the core backend of each model.
    """
    lines = []
    gemm = results.get("gemm") or []
    if gemm:
        biggest = max(gemm, key=lambda r: r["m"] * r["k"] * r["n"])
        layout = "NN" if any(r["layout"] == "NN" for r in gemm) else biggest["layout"]
        for dtype in sorted({r["dtype"] for r in gemm}):
            rows = {r["threads"]: r["results"]["bprop"]["median_s"] for r in gemm
                    if r["shape"] == biggest["shape"] and r["dtype"] == dtype
                    and r["layout"] == layout}
            line = _efficiency(rows)
            if line:
                lines.append(f"GEMM {biggest['shape']} {dtype} {layout}: {line}")
    models = []
    for r in results.get("training") or []:
        if r["model"] not in models:
            models.append(r["model"])
    for model in models:
        rows = {r["threads"]: r["results"]["core"]["epoch_s"]
                for r in results["training"] if r["model"] == model and "core" in r["results"]}
        line = _efficiency(rows)
        if line:
            lines.append(f"Training {model} (core): {line}")
    return lines


def _efficiency(times_by_threads: Dict[int, float]) -> Optional[str]:
    if 1 not in times_by_threads or len(times_by_threads) < 2:
        return None
    t1 = times_by_threads[1]
    parts = [f"{n} threads {t1 / t:.2f}x, efficiency {100 * t1 / (n * t):.0f}%"
             for n, t in sorted(times_by_threads.items()) if n > 1]
    return "; ".join(parts)


def to_markdown(results: Dict) -> str:
    """Every section present in ``results`` as Markdown (meta lines, then tables)."""
    parts = ["## bprop benchmarks", ""]
    parts += [f"- {line}" for line in meta_lines(results.get("meta", {}))]
    sections = (("gemm", "GEMM (GFLOP/s; bprop/NumPy = NumPy time / bprop time)", gemm_table),
                ("ops", "Activations and their backward (GB/s of minimal traffic)", ops_table),
                ("training", "Training (seconds per epoch of 60,000 samples, Adam)",
                 training_table),
                ("forms", "The seed MLP in each form a Keras user writes (s/epoch, each form "
                          "in its own process)", forms_table))
    summary = targets_summary(results)
    if summary:
        parts += ["", "### Targets (issues 5 and 11)", ""] + [f"- {line}" for line in summary]
    scaling = scaling_summary(results)
    if scaling:
        parts += ["", "### Thread scaling of bprop (speedup over 1 thread, parallel efficiency)",
                  ""] + [f"- {line}" for line in scaling]
    for key, title, fmt in sections:
        rows = results.get(key)
        if rows:
            parts += ["", f"### {title}", "", fmt(rows)]
    convnet = results.get("convnet")
    if convnet:
        epochs = convnet[0]["epochs"]
        parts += ["", "### Keras' simple convnet, batch 128, Adam (s/epoch: median of epochs 2.."
                      "%d; test accuracy after %d epochs; %s)" % (epochs, epochs,
                                                                 convnet[0].get("data", "")), "",
                  convnet_table(convnet)]
    if results.get("convnet_layers"):
        parts += ["", "### The convnet's convolutions, ops.conv2d at batch 128", "",
                  convnet_layers_table(results["convnet_layers"])]
    dist = results.get("distributed")
    if dist and dist.get("skipped"):
        parts += ["", "### Data-parallel training over MPI", "", f"Skipped: {dist['skipped']}"]
    elif dist:
        parts += ["", "### Data-parallel training over MPI (weak scaling: each process keeps "
                      "its batch; one thread per process)", "", distributed_table(dist), "",
                  "Expected efficiency t(1) / (t(1) + ring Allreduce(n)), the Allreduce "
                  "2(n-1) alpha + 2(n-1)/n bytes/bandwidth; one node: alpha and bandwidth "
                  "fitted to the 2-process Allreduce times above:", "",
                  distributed_prediction_table(dist)]
    return "\n".join(parts) + "\n"


def default_path(suffix: str, stamp: Optional[str] = None) -> str:
    """``benchmarks/results/bench-<UTC timestamp><suffix>``."""
    stamp = stamp or _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return os.path.join(RESULTS_DIR, f"bench-{stamp}{suffix}")


def _write_atomic(path: str, text: str):
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_json(results: Dict, path: str) -> str:
    """Write ``results`` as indented JSON (parents created, written atomically)."""
    _write_atomic(path, json.dumps(results, indent=2, sort_keys=False, default=str) + "\n")
    return path


def write_markdown(results: Dict, path: str) -> str:
    _write_atomic(path, to_markdown(results))
    return path


def plot(results: Dict, path: str) -> Optional[str]:
    """PNG: GFLOP/s by GEMM size (left), seconds per epoch by implementation (right).

    Returns the path, or None when matplotlib is not installed or there is
    nothing to draw.  GEMM panels (one at the smallest and one at the largest
    thread count measured) show the NN layout, shapes sorted by size, one
    line per implementation and dtype.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    gemm = results.get("gemm") or []
    training = results.get("training") or []
    panels = []
    if gemm:
        counts = sorted({r["threads"] for r in gemm})
        panels += [("gemm", t) for t in sorted({counts[0], counts[-1]})]
    if training:
        panels.append(("training", None))
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.8), squeeze=False)
    for ax, (panel, threads) in zip(axes[0], panels):
        if panel == "gemm":
            _plot_gemm(ax, gemm, threads)
        else:
            _plot_training(ax, training)
    fig.tight_layout()
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_gemm(ax, rows, threads):
    layout = "NN" if any(r["layout"] == "NN" for r in rows) else rows[0]["layout"]
    chosen = [r for r in rows if r["threads"] == threads and r["layout"] == layout]
    shapes = []
    for r in sorted(chosen, key=lambda r: r["m"] * r["k"] * r["n"]):  # by size
        if r["shape"] not in shapes:
            shapes.append(r["shape"])
    for dtype in sorted({r["dtype"] for r in chosen}):
        for impl in ("bprop", "numpy", "torch"):
            values = {r["shape"]: r["results"][impl]["gflops"] for r in chosen
                      if r["dtype"] == dtype and impl in r["results"]}
            if values:
                xs = [i for i, s in enumerate(shapes) if s in values]
                ax.plot(xs, [values[shapes[i]] for i in xs], marker="o",
                        linestyle="-" if dtype == "float32" else "--", label=f"{impl} {dtype}")
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels(shapes, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("GFLOP/s")
    ax.set_title(f"GEMM {layout}, {threads} thread(s)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def _plot_training(ax, rows):
    labels, values = [], []
    for r in rows:
        for impl, res in r["results"].items():
            labels.append(f"{r['model']}\nb={r['batch_size']} t={r['threads']}\n{impl}")
            values.append(res["epoch_s"])
    ax.bar(range(len(values)), values,
           color=["C0" if "core" in lab else "C1" if "numpy" in lab else "C2" for lab in labels])
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(labels, fontsize=6)
    ax.set_ylabel("seconds per epoch")
    ax.set_title("Training, seconds per epoch (lower is better)")
    ax.grid(True, axis="y", alpha=0.3)
