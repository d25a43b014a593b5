"""Smoke and unit tests of the benchmark harness (benchmarks/): tiny sizes, 1 repeat.

The timer is checked against a fake clock (exact medians and call counts);
the GEMM and ops rows against their defining formulas (GFLOP/s = 2mnk/t,
GB/s = bytes/t, speedup = NumPy time / bprop time); the ulp measure against
results perturbed by a known number of ulps; the command line end to end.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import bprop

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:  # benchmarks/ is a top-level package of the checkout, not installed
    sys.path.insert(0, REPO)

from benchmarks import (bench_forms, bench_gemm, bench_memory, bench_ops, bench_training, report,  # noqa: E402
                        run, timing)

# The harness, not the library: long, so outside the README's quick test run.
pytestmark = pytest.mark.slow


class FakeClock:
    """A clock that only moves when a timed function says how long it 'ran'."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def fake_fn(clock, durations, calls):
    """A function whose i-th call lasts durations[i] (the last value repeats)."""

    def fn():
        i = len(calls)
        calls.append(i)
        clock.now += durations[min(i, len(durations) - 1)]

    return fn


# --------------------------------------------------------------------------- timing
def test_measure_median_of_samples_after_warmup():
    clock, calls = FakeClock(), []
    # warm-up call lasts 5 s (not reported), then samples of 3, 1, 2 s.
    fn = fake_fn(clock, [5.0, 3.0, 1.0, 2.0], calls)
    t = timing.measure(fn, repeats=3, warmup=1, number=1, clock=clock)
    assert t.samples == [3.0, 1.0, 2.0]
    assert t.median == 2.0 and t.min == 1.0 and t.number == 1
    assert len(calls) == 4


def test_measure_divides_a_sample_by_its_number_of_calls():
    clock, calls = FakeClock(), []
    fn = fake_fn(clock, [0.5], calls)
    t = timing.measure(fn, repeats=2, warmup=0, number=4, clock=clock)
    assert t.samples == [0.5, 0.5] and len(calls) == 8


def test_calibrate_reaches_the_minimum_sample_duration():
    clock, calls = FakeClock(), []
    fn = fake_fn(clock, [0.001], calls)
    number = timing.calibrate(fn, warmup=0, min_sample_s=0.01, clock=clock)
    assert 10 <= number <= 24  # at least 10 ms per sample, not wildly more


def test_calibrate_skips_when_one_warmup_call_is_long_enough():
    clock, calls = FakeClock(), []
    fn = fake_fn(clock, [0.05], calls)
    t = timing.measure(fn, repeats=3, warmup=1, min_sample_s=0.01, clock=clock)
    assert t.number == 1 and len(calls) == 4  # 1 warm-up + 3 samples, no calibration


def test_compare_interleaves_the_samples():
    clock, order = FakeClock(), []

    def make(name, seconds):
        def fn():
            order.append(name)
            clock.now += seconds
        return fn

    out = timing.compare({"a": make("a", 1.0), "b": make("b", 3.0)}, repeats=3, warmup=1,
                         number=1, clock=clock)
    assert order[2:] == ["a", "b"] * 3  # after one warm-up call each
    assert out["a"].median == 1.0 and out["b"].median == 3.0


def test_compare_blocks_settle_before_each_implementation(monkeypatch):
    clock, events = FakeClock(), []
    monkeypatch.setattr(timing.time, "sleep", lambda s: events.append(("sleep", s)))

    def make(name):
        def fn():
            events.append(name)
            clock.now += 1.0
        return fn

    timing.compare({"a": make("a"), "b": make("b")}, repeats=2, warmup=1, number=1,
                   interleave=False, settle_s=0.25, clock=clock)
    assert events == [("sleep", 0.25), "a", "a", "a", ("sleep", 0.25), "b", "b", "b"]
    with pytest.raises(ValueError, match="settle_s must be >= 0"):
        timing.compare({"a": make("a")}, settle_s=-1.0, clock=clock)


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"repeats": 0}, ValueError, "repeats must be >= 1, got 0"),
    ({"warmup": -1}, ValueError, "warmup must be >= 0, got -1"),
    ({"number": 1.5}, TypeError, "number must be an int"),
    ({"min_sample_s": -1.0}, ValueError, "min_sample_s must be >= 0"),
])
def test_measure_rejects_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        timing.measure(lambda: None, **kwargs)


def test_measure_rejects_a_non_callable():
    with pytest.raises(TypeError, match="fn must be callable, got int"):
        timing.measure(3)


def test_thread_limit_sets_and_restores_thread_counts():
    before = bprop.get_num_threads()
    with timing.thread_limit(1) as controlled:
        assert bprop.get_num_threads() == 1
        tpc = timing.numpy_thread_control()
        assert controlled["numpy"] == (tpc is not None)
        if tpc is not None:
            blas = [i for i in tpc.threadpool_info() if i["user_api"] == "blas"]
            assert all(i["num_threads"] == 1 for i in blas)
    assert bprop.get_num_threads() == before
    with pytest.raises(ValueError, match="threads must be >= 1, got 0"):
        with timing.thread_limit(0):
            pass


# --------------------------------------------------------------------------- GEMM
@pytest.mark.parametrize("layout, a_shape, b_shape", [
    ("NN", (5, 7), (7, 3)), ("NT", (5, 7), (3, 7)), ("TN", (7, 5), (7, 3))])
def test_make_operands_stores_transposed_operands_as_views(layout, a_shape, b_shape):
    case = bench_gemm.GemmCase(5, 7, 3)
    a, b, av, bv, c = bench_gemm.make_operands(case, "float32", layout)
    assert a.shape == a_shape and b.shape == b_shape
    assert av.shape == (5, 7) and bv.shape == (7, 3) and c.shape == (5, 3)
    assert np.shares_memory(a, av) and np.shares_memory(b, bv)  # views, not copies
    assert av.flags.f_contiguous == (layout == "TN")
    assert bv.flags.f_contiguous == (layout == "NT")


def test_make_operands_rejects_bad_layout_and_dtype():
    case = bench_gemm.GemmCase(2, 2, 2)
    with pytest.raises(ValueError, match=r"layout must be one of .*got 'TT'"):
        bench_gemm.make_operands(case, "float32", "TT")
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int32"):
        bench_gemm.make_operands(case, "int32", "NN")


@pytest.mark.parametrize("dtype, layout", [("float32", "NT"), ("float64", "TN")])
def test_bench_case_row(dtype, layout):
    case = bench_gemm.GemmCase(6, 9, 4, "small")
    row = bench_gemm.bench_case(case, dtype, layout, threads=1, repeats=1, min_sample_s=0.0)
    assert (row["shape"], row["dtype"], row["layout"], row["threads"]) == (
        "6x9x4", dtype, layout, 1)
    for impl in ("bprop", "numpy"):
        res = row["results"][impl]
        assert res["gflops"] == pytest.approx(2 * 6 * 9 * 4 / res["median_s"] / 1e9)
    assert row["speedup"] == pytest.approx(
        row["results"]["numpy"]["median_s"] / row["results"]["bprop"]["median_s"])
    assert row["target_speedup"] == 1.5
    assert row["meets_target"] == (row["speedup"] >= 1.5)
    assert row["max_rel_err"] < (1e-5 if dtype == "float32" else 1e-12)


def test_gemm_run_covers_every_combination():
    rows = bench_gemm.run(cases=[bench_gemm.GemmCase(3, 4, 5)], threads=(1,), repeats=1,
                          min_sample_s=0.0, use_torch=False)
    combos = {(r["dtype"], r["layout"]) for r in rows}
    assert len(rows) == 6 and combos == {(d, lay) for d in bench_gemm.DTYPES
                                         for lay in bench_gemm.LAYOUTS}
    assert all(r["meets_target"] is None for r in rows)  # custom shapes have no target


def test_default_cases_hold_the_issue_shapes():
    labels = {c.label: c.group for c in bench_gemm.default_cases()}
    for s in (256, 512, 1024, 2048):
        assert labels[f"{s}x{s}x{s}"] == "square"
    for shape in ("128x784x256", "256x1024x1024", "60000x784x64"):
        assert labels[shape] == "mlp"
    for shape in ("32x784x64", "32x64x64", "32x64x10", "128x256x10"):
        assert labels[shape] == "small"
    assert len(bench_gemm.default_cases(quick=True)) < len(labels)


def test_parse_shape():
    assert bench_gemm.parse_shape("2048") == (2048, 2048, 2048)
    assert bench_gemm.parse_shape("32x784x64") == (32, 784, 64)
    with pytest.raises(ValueError, match="'MxKxN' or 'S', got '3x4'"):
        bench_gemm.parse_shape("3x4")


# --------------------------------------------------------------------------- ops
def test_max_ulp_error_counts_ulps():
    x, y, dy = bench_ops.make_inputs("tanh", (4, 8))
    exact32 = np.tanh(x.astype(np.float64)).astype(np.float32)  # correctly rounded
    assert bench_ops.max_ulp_error(exact32, x, y, dy, "tanh", "forward") <= 0.5
    off = np.nextafter(np.nextafter(exact32, np.float32(np.inf)), np.float32(np.inf))
    err = bench_ops.max_ulp_error(off, x, y, dy, "tanh", "forward")
    assert 1.5 <= err <= 2.5  # two ulps up, from a value at most half an ulp off


def test_bench_op_forward_row():
    row = bench_ops.bench_op("sigmoid", "forward", (4, 8), threads=1, repeats=1,
                             min_sample_s=0.0)
    assert row["kernel"] == "sigmoid" and row["shape"] == "4x8" and row["bytes"] == 2 * 32 * 4
    for impl in ("bprop", "numpy"):
        res = row["results"][impl]
        assert res["gbps"] == pytest.approx(row["bytes"] / res["median_s"] / 1e9)
    assert row["target_speedup"] == 5.0 and row["meets_target"] == (row["speedup"] >= 5.0)
    assert 0 <= row["max_ulp"] <= 4 and row["numpy_max_ulp"] >= 0


def test_bench_op_backward_row():
    row = bench_ops.bench_op("relu", "backward", (3, 5), threads=1, repeats=1,
                             min_sample_s=0.0)
    assert row["kernel"] == "relu_backward" and row["bytes"] == 3 * 15 * 4
    assert row["target_speedup"] is None and row["meets_target"] is None
    assert row["max_ulp"] == 0.0  # relu's gradient is exact


def test_bench_op_rejects_unknown_op_and_direction():
    with pytest.raises(ValueError, match="op must be one of .*got 'swish'"):
        bench_ops.bench_op("swish", "forward", (2, 2), threads=1)
    with pytest.raises(ValueError, match="direction must be one of .*got 'sideways'"):
        bench_ops.bench_op("relu", "sideways", (2, 2), threads=1)


# --------------------------------------------------------------------------- training
def tiny_data():
    return bench_training.synthetic_data(n_train=64, n_test=16, seed=1) + ("synthetic",)


def test_synthetic_data_shapes_and_labels():
    (x, y), (xt, yt) = bench_training.synthetic_data(n_train=50, n_test=20)
    assert x.shape == (50, 784) and x.dtype == np.float32 and xt.shape == (20, 784)
    assert 0.0 <= x.min() and x.max() < 1.0
    assert y.shape == (50,) and set(np.unique(y)) <= set(range(10))


def test_bench_model_extrapolates_a_fraction_of_an_epoch():
    spec = bench_training.MLPSpec(hidden=(4,), batch_size=8, target_s=100.0)
    row = bench_training.bench_model(spec, tiny_data(), threads=1, fraction=0.5, repeats=1)
    assert row["model"] == "784-4-10" and row["timed_samples"] == 32
    assert row["extrapolated"] is True and row["fraction"] == 0.5
    assert set(row["results"]) == {"core", "numpy"}
    for res in row["results"].values():
        assert res["epoch_s"] == pytest.approx(2 * res["median_s"])
        assert 0.0 <= res["test_accuracy"] <= 1.0
    assert row["speedup"] == pytest.approx(
        row["results"]["numpy"]["epoch_s"] / row["results"]["core"]["epoch_s"])
    assert row["meets_target"] == (row["results"]["core"]["epoch_s"] <= 100.0)


def test_bench_model_rejects_bad_fraction():
    spec = bench_training.MLPSpec(hidden=(4,), batch_size=8)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\], got 0"):
        bench_training.bench_model(spec, tiny_data(), threads=1, fraction=0)


# --------------------------------------------------------------------------- report
def test_markdown_table_aligns_and_checks_widths():
    text = report.markdown_table(["name", "value"], [["a", "1.5"], ["bb", "10.25"]])
    lines = text.splitlines()
    assert lines[0] == "| name | value |"
    assert lines[1] == "|------|------:|"
    assert lines[2] == "| a    |   1.5 |"
    with pytest.raises(ValueError, match="row 0 has 1 cells, headers have 2"):
        report.markdown_table(["a", "b"], [["x"]])


def tiny_config(**overrides):
    cfg = run.Config(
        sections=("gemm", "ops", "training"), threads=(1,), repeats=1, min_sample_s=0.0,
        gemm_cases=[bench_gemm.GemmCase(4, 5, 3, "small")], gemm_dtypes=("float32",),
        gemm_layouts=("NN",), ops_names=("relu", "softmax"), ops_shapes=((3, 4),),
        train_models=(bench_training.MLPSpec(hidden=(4,), batch_size=8),),
        train_fraction=0.5, train_data=tiny_data(), use_torch=False, command="test")
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


def test_run_benchmarks_structure_json_markdown_and_plot(tmp_path):
    results = run.run_benchmarks(tiny_config())
    assert results["meta"]["training_data"] == "synthetic"
    assert results["meta"]["bprop_build_info"] == run._jsonable(bprop.build_info())
    assert len(results["gemm"]) == 1 and len(results["ops"]) == 4
    assert len(results["training"]) == 1
    md = report.to_markdown(results)
    for title in ("### GEMM", "### Activations", "### Training", "4x5x3", "softmax_backward",
                  "784-4-10", "50% of an epoch, extrapolated", "### Targets (issues 5 and 11)",
                  "GEMM small shapes, bprop/NumPy >= x1.5: met in"):
        assert title in md
    path = report.write_json(results, str(tmp_path / "sub" / "r.json"))
    with open(path, encoding="utf-8") as f:
        assert json.load(f)["gemm"][0]["shape"] == "4x5x3"
    pytest.importorskip("matplotlib")
    png = report.plot(results, str(tmp_path / "r.png"))
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS comes from /proc")
def test_memory_section_measures_a_fresh_process():
    """One synthetic epoch in a child: the peak holds at least the data, and the
    target line compares it with data + 80 MiB."""
    row = bench_memory.run(epochs=1, synthetic=True)
    data_bytes = 60000 * (784 * 4 + 8) + 10000 * (784 * 4 + 8)
    assert row["data_mib"] == pytest.approx(data_bytes / 2 ** 20)
    assert row["source"] == "synthetic" and row["epochs"] == 1
    assert row["peak_rss_mib"] >= row["rss_before_fit_mib"] >= row["data_mib"]
    assert row["overhead_mib"] == pytest.approx(row["peak_rss_mib"] - row["data_mib"])
    assert row["met"] == (row["overhead_mib"] <= 80.0)
    line = report.targets_summary({"memory": row})[0]
    assert line.startswith("Memory, 1-epoch fit of 784-64-64-10 (synthetic): peak RSS ")
    assert line.endswith("met")


# --------------------------------------------------------------------------- command line
def test_make_config_quick_and_options():
    cfg = run.make_config(["--quick", "--only", "training,gemm", "--threads", "1,2,4"])
    assert cfg.quick and cfg.sections == ["gemm", "training"] and cfg.threads == [1, 2, 4]
    assert 0 < cfg.train_fraction < 1 and cfg.repeats <= 3
    assert cfg.gemm_cases == bench_gemm.default_cases(quick=True)
    cfg = run.make_config(["--gemm-shapes", "2048,32x64x10,60000x784x64,100"])
    assert [(c.label, c.group) for c in cfg.gemm_cases] == [
        ("2048x2048x2048", "square"), ("32x64x10", "small"), ("60000x784x64", "mlp"),
        ("100x100x100", "custom")]
    assert not cfg.quick and cfg.train_fraction == 1.0


@pytest.mark.parametrize("argv, words", [
    (["--only", "gemm,bogus"],
     "--only takes a comma-separated subset of gemm,ops,training,forms,convnet,memory,distributed"),
    (["--threads", "0"], "--threads must be integers >= 1, got '0'"),
    (["--threads", "two"], "--threads must be comma-separated integers, got 'two'"),
    (["--gemm-shapes", "1x2"], "'MxKxN' or 'S', got '1x2'"),
])
def test_make_config_rejects_bad_options(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        run.make_config(argv)
    assert info.value.code == 2
    assert words in capsys.readouterr().err


def test_main_writes_json_markdown_and_prints_tables(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert run.main(["--only", "gemm", "--gemm-shapes", "8", "--threads", "1", "--repeats",
                     "1", "--json", str(out), "--plot", str(tmp_path / "c.png")]) == 0
    data = json.loads(out.read_text())
    assert len(data["gemm"]) == 6 and "ops" not in data and "training" not in data
    assert (tmp_path / "bench.md").read_text().startswith("## bprop benchmarks")
    printed = capsys.readouterr().out
    assert "| 8x8x8" in printed and "bprop/NumPy" in printed


def test_script_entry_point_runs_from_any_directory(tmp_path):
    # `python benchmarks/run.py` must find its package without `-m`.
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "benchmarks", "run.py"), "--only", "gemm",
         "--gemm-shapes", "4", "--threads", "1", "--repeats", "1", "--no-torch",
         "--json", str(tmp_path / "s.json"), "--plot", str(tmp_path / "s.png")],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| 4x4x4" in proc.stdout
    assert json.loads((tmp_path / "s.json").read_text())["meta"]["threads"] == [1]


def test_scaling_summary_computes_parallel_efficiency():
    def gemm_row(threads, seconds, shape=(64, 64, 64)):
        m, k, n = shape
        return {"shape": f"{m}x{k}x{n}", "m": m, "k": k, "n": n, "dtype": "float32",
                "layout": "NN", "threads": threads, "results": {"bprop": {"median_s": seconds}}}

    results = {
        "gemm": [gemm_row(1, 4.0), gemm_row(2, 2.5), gemm_row(4, 2.0),
                 gemm_row(1, 1.0, (8, 8, 8)), gemm_row(2, 0.1, (8, 8, 8))],
        "training": [{"model": "784-4-10", "threads": t, "results": {"core": {"epoch_s": s}}}
                     for t, s in ((1, 3.0), (2, 3.0))],
    }
    lines = report.scaling_summary(results)
    # Only the largest GEMM shape is summarised: 4/2.5 = 1.6x (80%), 4/2 = 2x (50%).
    assert lines[0] == ("GEMM 64x64x64 float32 NN: 2 threads 1.60x, efficiency 80%; "
                        "4 threads 2.00x, efficiency 50%")
    assert lines[1] == "Training 784-4-10 (core): 2 threads 1.00x, efficiency 50%"
    assert report.scaling_summary({"gemm": [gemm_row(2, 1.0)]}) == []  # no 1-thread baseline


def test_backends_train_on_the_same_shuffles_when_interleaved():
    # Interleaved runs share the global generator; each trainer must still see
    # the same sample order, so core and NumPy weights stay together.
    (x, y), _, _ = tiny_data()
    spec = bench_training.MLPSpec(hidden=(4,), batch_size=8)
    core = bench_training._BpropTrainer(spec, "core", seed=3)
    ref = bench_training._BpropTrainer(spec, "numpy", seed=3)
    for _ in range(2):
        core.train(x, y)
        ref.train(x, y)
    for a, b in zip(core.model.get_weights(), ref.model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_compare_without_interleaving_runs_each_function_in_a_block():
    clock, order = FakeClock(), []

    def make(name):
        def fn():
            order.append(name)
            clock.now += 1.0
        return fn

    timing.compare({"a": make("a"), "b": make("b")}, repeats=2, warmup=1, number=1,
                   interleave=False, clock=clock)
    assert order == ["a", "a", "a", "b", "b", "b"]  # warm-up then samples, per function


def test_full_epoch_rows_are_not_extrapolated():
    spec = bench_training.MLPSpec(hidden=(3,), batch_size=16)
    row = bench_training.bench_model(spec, tiny_data(), threads=1, fraction=1.0, repeats=1)
    assert row["extrapolated"] is False and row["timed_samples"] == 64
    for res in row["results"].values():
        assert res["epoch_s"] == res["median_s"]
    assert "| full epoch, median of 1 |" in report.training_table([row])


# --------------------------------------------------------------------------- forms (issue 11)
@pytest.mark.parametrize("form", sorted(bench_forms.FORMS))
def test_each_form_builds_the_model_a_user_would_write(form):
    model, fit_kw, one_hot = bench_forms.build(form)
    plan = model._train_plan() if model._sample_shape else None
    assert plan is not None and plan.in_core
    assert fit_kw["verbose"] == ("auto" if form == "progress_bar" else 0)
    assert one_hot == (form == "categorical")
    assert any(type(l).__name__ == "Dropout" for l in model.layers) == (form == "dropout")
    assert plan.loss_kind == "softmax_xent"  # probabilities fused, or logits


def test_forms_child_times_epochs_and_the_report_compares_them():
    result = bench_forms.child("softmax", 1, 2, synthetic=True)
    assert result["form"] == "softmax" and result["in_core"] and result["data"] == "synthetic"
    assert len(result["epoch_seconds"]) == 2 and all(t > 0 for t in result["epoch_seconds"])
    rows = [dict(result, bench="forms", description=bench_forms.FORMS[f], epoch_s=t,
                 ratio_to_first=t / 0.4, ratio_to_fastest=t / 0.3,
                 meets_target=t / 0.4 <= 1.25, form=f)
            for f, t in (("softmax", 0.4), ("rmsprop", 0.55), ("sgd_momentum", 0.3))]
    md = report.to_markdown({"meta": {}, "forms": rows})
    assert "### The seed MLP in each form" in md and "x1.38" in md
    assert ("within x1.25 of the first form (0.400 s/epoch) in 2/3 forms; slowest rmsprop x1.38"
            in md)


# --------------------------------------------------------------------------- distributed (issue 15)
def test_ring_allreduce_model_closed_form():
    from benchmarks import bench_distributed as bd

    assert bd.ring_allreduce_s(1, 1e6, 1e-5, 1e9) == 0.0
    # 4 processes: 6 messages of latency, 2 * 3/4 of the bytes over the link
    assert bd.ring_allreduce_s(4, 1e6, 1e-5, 1e9) == pytest.approx(6e-5 + 1.5e-3, rel=1e-12)
    assert bd.parameter_count((64, 64)) == 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10 == 55050
    alpha, bw = bd.fit_alpha_bandwidth([(1e5, 2 * 3e-5 + 1e5 / 2e9), (1e6, 2 * 3e-5 + 1e6 / 2e9)])
    assert alpha == pytest.approx(3e-5, rel=1e-9) and bw == pytest.approx(2e9, rel=1e-9)
    # a negative intercept (noise) puts all of the time on the bandwidth
    assert bd.fit_alpha_bandwidth([(1e5, 1e-4), (1e6, 1.2e-3)]) == (0.0, pytest.approx(1.1e6 / 1.3e-3))


def test_distributed_prediction_and_report_from_measured_rows():
    from benchmarks import bench_distributed as bd

    rows = [{"model": "784-64-64-10", "ranks": 1, "batch_per_rank": 32, "step_s": 2e-4,
             "allreduce_s": 0.0, "allreduce_floats": 55054, "efficiency": 1.0},
            {"model": "784-64-64-10", "ranks": 2, "batch_per_rank": 32, "step_s": 3e-4,
             "allreduce_s": 1e-4, "allreduce_floats": 55054, "efficiency": 2 / 3},
            {"model": "784-64-64-10", "ranks": 4, "batch_per_rank": 32, "step_s": 8e-4,
             "allreduce_s": 5e-4, "allreduce_floats": 55054, "efficiency": 0.25,
             "oversubscribed": True}]
    predicted = bd.predict(rows)
    assert [p["network"] for p in predicted] == ["one node (fitted)", "10 GbE", "25 GbE"]
    one_node = predicted[0]
    # one 2-process point: no latency, bandwidth = bytes / time
    assert one_node["alpha_s"] == 0.0
    assert one_node["bandwidth"] == pytest.approx(4 * 55054 / 1e-4)
    expected_16 = 2e-4 / (2e-4 + 2 * 15 / 16 * 4 * 55054 / one_node["bandwidth"])
    assert one_node["efficiency"][16] == pytest.approx(expected_16)
    md = report.to_markdown({"meta": {}, "distributed": {"rows": rows, "predicted": predicted,
                                                         "cores": 2}})
    assert "| 784-64-64-10 |         2 |                32 |   0.300 | 100 (55054)" in md
    assert "oversubscribed: 4 processes on 2 cores" in md
    assert "| 784-64-64-10 | 10 GbE" in md


# --------------------------------------------------------------------------- convnet (issue 14)
def test_convnet_report_rows_and_targets():
    row = {"threads": 2, "epochs": 3, "data": "synthetic",
           "results": {"bprop": {"epoch_s": 10.0, "images_per_s": 6000.0, "accuracy": 0.901},
                       "torch": {"epoch_s": 20.0, "images_per_s": 3000.0, "accuracy": 0.899},
                       "numpy": {"epoch_s": 200.0, "images_per_s": 300.0, "accuracy": None,
                                 "extrapolated_from_steps": 20}},
           "speedup_vs_torch": 2.0, "speedup_vs_numpy": 20.0, "accuracy_gap_points": 0.2,
           "meets_target": True}
    md = report.to_markdown({"meta": {}, "convnet": [row]})
    import re

    assert re.search(r"\|\s*2\s*\|\s*PyTorch\s*\|\s*20\.00\s*\|\s*3000\s*\|\s*0\.8990\s*\|\s*x2\.00\s*\|",
                     md), md
    assert re.search(r"\|\s*2\s*\|\s*bprop NumPy backend\s*\|\s*200\.00 \(from 20 steps\)\s*\|"
                     r"\s*300\s*\|\s*-\s*\|\s*x20\.00\s*\|", md), md
    assert ("Convnet (issue 14), t=2: 10.00 s/epoch, x2.00 PyTorch's (target >= x1.5), accuracy "
            "gap 0.20 points (target <= 0.5); met") in md


def test_convnet_layer_rates_are_positive_gflops():
    from benchmarks import bench_convnet

    rows = bench_convnet.layer_rates(threads=(1,), repeats=1)
    assert [r["layer"] for r in rows] == [name for name, _, _ in bench_convnet.LAYERS]
    assert all(r["forward_gflops"] > 0 and r["backward_gflops"] > 0 for r in rows)
    md = report.to_markdown({"meta": {}, "convnet_layers": rows})
    assert "conv 2: 13x13x32 -> 11x11x64" in md


# --------------------------------------------------------------------------- issue 16 baseline
def test_numpy_mlp_gradients_are_central_differences_and_it_learns():
    from benchmarks.numpy_mlp import NumpyMLP

    rng = np.random.default_rng(0)
    mlp = NumpyMLP((6, 5, 4, 3), seed=1)
    mlp.params = [p.astype(np.float64) for p in mlp.params]  # float64 for the check
    x, y = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    loss, grads = mlp.gradients(x, y)
    for p, g in zip(mlp.params, grads):
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + 1e-6
            up = mlp.gradients(x, y)[0]
            p[i] = old - 1e-6
            down = mlp.gradients(x, y)[0]
            p[i] = old
            num[i] = (up - down) / 2e-6
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)
    teach = rng.standard_normal((6, 3))
    xs = rng.standard_normal((300, 6)).astype(np.float32)
    ys = np.argmax(xs @ teach, axis=1)
    model = NumpyMLP((6, 16, 3), seed=2)
    before = model.gradients(xs, ys)[0]
    for _ in range(80):
        model.train_epoch(xs, ys, 32)
    assert model.gradients(xs, ys)[0] < 0.3 * before and model.accuracy(xs, ys) > 0.9


# --------------------------------------------------------------------------- Keras' rows
def _fake_keras_python(tmp_path, body):
    """An 'interpreter' that runs ``body`` as Python with argv of keras_mlp.py."""
    script = tmp_path / "fake-python"
    script.write_text("#!%s\nimport json, os, sys\nimport numpy as np\n"
                      "data_dir, job = sys.argv[2], json.loads(sys.argv[3])\n%s\n"
                      % (sys.executable, body))
    script.chmod(0o755)
    return str(script)


def test_keras_rows_come_from_a_process_of_their_own(tmp_path):
    # The fake child writes down the data and job it was handed, and reports
    # three call times.
    python = _fake_keras_python(tmp_path, (
        "x = np.load(os.path.join(data_dir, 'x_train.npy'))\n"
        "open(os.path.join(%r, 'calls'), 'a').write(json.dumps([x.shape, job]) + '\\n')\n"
        "print(json.dumps({'seconds': [0.5, 0.1, 0.3], 'test_accuracy': 0.75,\n"
        "    'keras_version': '9.9', 'backend': 'fake', 'backend_version': None}))")
        % str(tmp_path))
    spec = bench_training.MLPSpec(hidden=(4,), batch_size=8)
    data = tiny_data()
    runner = bench_training.KerasRunner(python, data)
    try:
        row = bench_training.bench_model(spec, data, threads=1, fraction=0.5, repeats=3,
                                         keras=runner)
    finally:
        runner.close()
    keras = row["results"]["keras"]
    assert keras["median_s"] == 0.3 and keras["epoch_s"] == pytest.approx(0.6)  # half an epoch
    assert keras["samples"] == pytest.approx([1.0, 0.2, 0.6])
    assert keras["test_accuracy"] == 0.75 and keras["version"] == "Keras 9.9 / fake "
    assert row["keras_ratio"] == pytest.approx(0.6 / row["results"]["core"]["epoch_s"])
    assert row["keras_error"] is None
    calls = (tmp_path / "calls").read_text().splitlines()
    assert len(calls) == 1
    shape, job = json.loads(calls[0])
    assert shape == [64, 784]  # the whole training set; the child times the first 32 rows
    assert job == {"hidden": [4], "batch_size": 8, "threads": 1, "timed_samples": 32,
                   "warm_samples": 32, "repeats": 3, "seed": 0}
    md = report.training_table([row])
    assert "Keras s/epoch" in md and re.search(r"\|\s+0\.600 \|", md)


def test_a_failing_keras_process_leaves_keras_out_of_the_later_rows(tmp_path):
    python = _fake_keras_python(tmp_path, (
        "open(os.path.join(%r, 'calls'), 'a').write('1')\n"
        "sys.exit('ModuleNotFoundError: No module named keras')") % str(tmp_path))
    spec = bench_training.MLPSpec(hidden=(4,), batch_size=8)
    rows = bench_training.run(models=(spec,), threads=(1, 1), fraction=0.5, repeats=1,
                              use_torch=False, data=tiny_data(), keras_interpreter=python)
    assert "No module named keras" in rows[0]["keras_error"]
    assert "exited with 1" in rows[0]["keras_error"]
    assert rows[1]["keras_error"] is None
    assert all("keras" not in r["results"] and "core" in r["results"] for r in rows)
    assert (tmp_path / "calls").read_text() == "1"


def test_keras_python_is_the_one_named_else_this_one_with_keras(monkeypatch):
    monkeypatch.setenv("BPROP_BENCH_KERAS_PYTHON", "/opt/tf/bin/python")
    assert bench_training.keras_python("/x/bin/python") == "/x/bin/python"
    assert bench_training.keras_python() == "/opt/tf/bin/python"
    monkeypatch.delenv("BPROP_BENCH_KERAS_PYTHON")
    found = {"keras": None, "tensorflow": None}
    monkeypatch.setattr(bench_training.importlib.util, "find_spec", lambda name: found[name])
    assert bench_training.keras_python() is None
    found["keras"] = object()
    assert bench_training.keras_python() == sys.executable


def test_the_keras_child_trains_keras_itself(tmp_path):
    pytest.importorskip("keras")
    from benchmarks import keras_mlp

    # Ten well-separated clusters: Keras' Adam (lr 1e-3) gets past chance (0.1)
    # within the 100 steps of the four calls (0.54 in a run of Keras 3.15).
    rng = np.random.default_rng(0)
    y, yt = rng.integers(0, 10, 1024), rng.integers(0, 10, 256)
    x = (0.1 * rng.random((1024, 784)) + np.eye(784)[y]).astype(np.float32)
    xt = (0.1 * rng.random((256, 784)) + np.eye(784)[yt]).astype(np.float32)
    for name, arr in (("x_train", x), ("y_train", y), ("x_test", xt), ("y_test", yt)):
        np.save(tmp_path / (name + ".npy"), arr)
    out = keras_mlp.main(str(tmp_path), {"hidden": [16], "batch_size": 32, "threads": 1,
                                         "timed_samples": 1024, "warm_samples": 64,
                                         "repeats": 3, "seed": 0})
    assert len(out["seconds"]) == 3 and all(t > 0 for t in out["seconds"])
    assert out["test_accuracy"] > 0.3


@pytest.mark.parametrize("python,words", [
    ("/nonexistent/bin/python", "No such file"),
    (None, "printed no result line"),  # an interpreter that prints nothing
])
def test_a_keras_interpreter_that_gives_no_result_is_left_out(tmp_path, python, words):
    python = python or _fake_keras_python(tmp_path, "print('hello')")
    spec = bench_training.MLPSpec(hidden=(4,), batch_size=8)
    rows = bench_training.run(models=(spec,), threads=(1,), fraction=0.5, repeats=1,
                              use_torch=False, data=tiny_data(), keras_interpreter=python)
    assert words in rows[0]["keras_error"] and "keras" not in rows[0]["results"]
