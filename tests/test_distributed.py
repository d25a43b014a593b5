"""bprop.distributed: data-parallel fit over MPI equals one process.

The multi-process tests launch ``mpiexec -n N python tests/mpi_scenarios.py``
in subprocesses (OMP_NUM_THREADS=1, with timeouts) and compare every rank's
final weights and history with the same scenario run alone; they skip where
mpi4py or mpiexec is missing (``pip install ".[mpi]"``).  The single-process
behaviour (a no-op job, the warm-up schedule) is tested in this process.
"""
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import bprop
import bprop.distributed as dist
from bprop import layers

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "mpi_scenarios.py")


def _mpiexec():
    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return local if os.access(local, os.X_OK) else shutil.which("mpiexec")


def _have_mpi():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return _mpiexec() is not None


needs_mpi = pytest.mark.skipif(not _have_mpi(), reason="needs mpi4py and mpiexec: "
                                                       "pip install \".[mpi]\"")


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    for var in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "HYDRA_CONTROL_FD"):
        env.pop(var, None)
    return env


def _run(ranks, args, timeout=120, expect_ok=True):
    """Run a scenario under mpiexec (ranks > 0) or alone (ranks == 0)."""
    cmd = [sys.executable, SCENARIOS] + [str(a) for a in args]
    if ranks:
        cmd = [_mpiexec(), "-n", str(ranks)] + cmd
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env())
    proc.seconds = time.monotonic() - start
    if expect_ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _load(directory, rank):
    with np.load(os.path.join(directory, "rank%d.npz" % rank)) as f:
        return {k: f[k] for k in f.files}


def _said(directory, ranks):
    """The line each process wrote (to its own file: their stdout lines interleave)."""
    return [(directory / ("said-rank%d.txt" % r)).read_text() for r in range(ranks)]


# ------------------------------------------------------------------ one process
def test_without_mpiexec_everything_is_a_no_op(monkeypatch):
    for var in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS",
                "HYDRA_CONTROL_FD"):
        monkeypatch.delenv(var, raising=False)
    dist.shutdown()
    dist.init()
    try:
        assert dist.is_initialized() and dist.job() is None
        assert (dist.rank(), dist.size(), dist.local_rank(), dist.local_size()) == (0, 1, 0, 1)
        assert dist.is_root()
        value = np.array([1.5, -2.0])
        total = dist.allreduce(value)
        np.testing.assert_array_equal(total, value)
        assert total is not value
        assert dist.allreduce(3.0, op="mean") == 3.0
        assert dist.broadcast({"a": 1}) == {"a": 1}
        dist.barrier()
        assert dist.scale_learning_rate(0.01) == 0.01
    finally:
        dist.shutdown()


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match=r"timeout: expected a number of seconds > 0, got -1"):
        dist.init(timeout=-1)
    with pytest.raises(ValueError, match=r"op: expected 'sum' or 'mean', got 'max'"):
        dist.allreduce(1.0, op="max")
    with pytest.raises(TypeError, match=r"value: expected numbers, got dtype <U1"):
        dist.allreduce(np.array(["a"]))
    with pytest.raises(TypeError, match=r"optimizer: expected a bprop.optimizers.Optimizer"):
        dist.DistributedOptimizer("adam")
    with pytest.raises(ValueError, match=r"warmup_epochs: expected a number >= 0, got -1"):
        dist.LearningRateWarmup(warmup_epochs=-1)
    with pytest.raises(ValueError, match=r"initial_factor: expected a value in \(0, 1\], got 0"):
        dist.LearningRateWarmup(initial_factor=0)


def test_distributed_optimizer_alone_is_the_optimizer_inside():
    """One process: DistributedOptimizer applies exactly what the wrapped one would."""
    def train(wrap):
        w = bprop.Variable(np.array([0.5, -1.0]))
        opt = bprop.optimizers.Adam(learning_rate=0.1)
        opt = dist.DistributedOptimizer(opt) if wrap else opt
        for step in range(5):
            opt.apply_gradients(zip([np.array([0.3, -0.2]) * (step + 1)], [w]))
        return w.numpy(), opt.iterations

    (a, ia), (b, ib) = train(False), train(True)
    np.testing.assert_array_equal(a, b)
    assert ia == ib == 5


def test_compiling_with_a_distributed_optimizer_trains_with_the_one_inside():
    inner = bprop.optimizers.SGD(learning_rate=0.1)
    model = bprop.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    model.compile(optimizer=dist.DistributedOptimizer(inner), loss="mse")
    assert model.optimizer is inner


def test_learning_rate_warmup_ramps_linearly_then_restores_the_rate():
    """Over warmup_epochs * steps steps the rate rises from initial_factor * lr to lr."""
    seen = []

    class Record(bprop.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            opt = self.model.optimizer
            seen.append(float(opt.learning_rate))

    x = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = bprop.Sequential([layers.Input(shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=bprop.optimizers.SGD(learning_rate=0.08), loss="mse")
    model.fit(x, y, batch_size=10, epochs=3, verbose=0,
              callbacks=[dist.LearningRateWarmup(warmup_epochs=2, initial_factor=0.25), Record()])
    # 4 steps per epoch, 8 warm-up steps: factor 0.25 + 0.75 * step / 8, then 1.
    expected = [0.08 * (0.25 + 0.75 * min(1.0, s / 8)) for s in range(12)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12)
    assert model.optimizer.learning_rate == 0.08
    assert model.optimizer.get_config()["learning_rate"] == 0.08


# ------------------------------------------------------------------ under mpiexec
FIT_CASES = [
    # ranks, extra arguments, rtol against one process
    (2, ["--dtype", "float64", "--optimizer", "adam"], 1e-12),
    (2, ["--dtype", "float32", "--optimizer", "adam"], 1e-5),
    (3, ["--dtype", "float64", "--optimizer", "sgd", "--dropout", "--n", "1409"], 1e-12),
    (3, ["--dtype", "float64", "--optimizer", "rmsprop", "--dropout", "--n", "1409"], 1e-12),
    (2, ["--dtype", "float64", "--optimizer", "adam", "--dropout", "--executor", "ops"], 1e-12),
    (4, ["--dtype", "float64", "--optimizer", "adam", "--n", "1409", "--batch-size", "16"],
     1e-12),
    (2, ["--dtype", "float64", "--optimizer", "sgd", "--warmup-factor", "0.5"], 1e-12),
]


@needs_mpi
@pytest.mark.parametrize("ranks,extra,rtol", FIT_CASES,
                         ids=["-".join([str(c[0])] + [a.lstrip("-") for a in c[1]])
                              for c in FIT_CASES])
def test_fit_on_n_processes_equals_one_process(tmp_path, ranks, extra, rtol):
    """n=1409 at batch 32: the last global batch has 1 row, so with 3 ranks two
    slices are empty; 1437 leaves uneven slices (29 rows over 2 or 3)."""
    alone, job = tmp_path / "alone", tmp_path / "job"
    alone.mkdir()
    job.mkdir()
    _run(0, ["fit", alone] + extra)
    _run(ranks, ["fit", job] + extra)
    ref = _load(alone, 0)
    states = [_load(job, r) for r in range(ranks)]
    for state in states[1:]:  # every process holds the same bits
        assert state.keys() == states[0].keys()
        for key in state:
            np.testing.assert_array_equal(state[key], states[0][key], err_msg=key)
    got = states[0]
    assert got.keys() == ref.keys()
    assert int(got["iterations"]) == int(ref["iterations"]) > 0
    weights = sorted(k for k in ref if k.startswith("w"))
    assert weights
    for key in weights:
        assert got[key].dtype == ref[key].dtype
        # rtol, and for weights near 0 the same fraction of the largest weight
        np.testing.assert_allclose(got[key], ref[key], rtol=rtol,
                                   atol=rtol * float(np.abs(ref[key]).max()), err_msg=key)
    for key in ref:
        if key.startswith("h_"):
            np.testing.assert_allclose(got[key], ref[key], rtol=max(rtol, 1e-10), err_msg=key)
    # Rank 0 alone writes files: the model it saved and its CSV log.
    assert sorted(p.name for p in job.iterdir() if not p.name.endswith(".npz")) == \
        ["log-rank0.csv", "model-rank0.bprop"]
    loaded = bprop.models.load_model(str(job / "model-rank0.bprop"))
    for i, w in enumerate(loaded.get_weights()):
        np.testing.assert_array_equal(w, got["w%d" % i])


@needs_mpi
def test_distributed_optimizer_averages_a_custom_loops_gradients(tmp_path):
    """4 processes on a quarter of the data each, averaged gradients = one process on all."""
    alone, job = tmp_path / "alone", tmp_path / "job"
    alone.mkdir()
    job.mkdir()
    _run(0, ["custom_loop", alone])
    _run(4, ["custom_loop", job])
    ref = _load(alone, 0)
    for r in range(4):
        got = _load(job, r)
        np.testing.assert_allclose(got["w"], ref["w"], rtol=1e-12)
        np.testing.assert_allclose(got["b"], ref["b"], rtol=1e-12)
        assert int(got["iterations"]) == 50
    assert abs(float(ref["w"]) - 3.0) < 0.2 and abs(float(ref["b"]) - 2.0) < 0.2


@needs_mpi
def test_collectives_on_three_processes(tmp_path):
    _run(3, ["collectives", tmp_path])
    lines = _said(tmp_path, 3)
    assert lines == ["rank %d size 3 local %d/3 sum [3, 6, 9] mean 1.0 bcast {'from': 0} "
                     "arr [0.0, 0.0, 0.0, 0.0]" % (r, r) for r in range(3)]


@needs_mpi
def test_a_rank_that_raises_ends_the_job_at_once(tmp_path):
    proc = _run(2, ["rank_raises", tmp_path, "--timeout", "120"], timeout=90, expect_ok=False)
    assert proc.returncode != 0
    assert proc.seconds < 30, "the job took %.1f s to end" % proc.seconds
    assert "rank 1 of 2 failed; ending the job" in proc.stderr
    assert "RuntimeError: boom on rank 1" in proc.stderr


@needs_mpi
def test_a_rank_whose_program_ends_early_does_not_leave_the_others_waiting(tmp_path):
    proc = _run(2, ["rank_exits", tmp_path, "--timeout", "120"], timeout=90, expect_ok=False)
    assert proc.returncode != 0
    assert proc.seconds < 30, "the job took %.1f s to end" % proc.seconds
    assert ("rank 0 of 2: fit: agreement check waits for rank 1, whose program has ended"
            in proc.stderr)


@needs_mpi
def test_a_collective_past_the_timeout_aborts_naming_it(tmp_path):
    """Rank 1 never reaches fit and never ends: rank 0 gives up after the timeout."""
    proc = _run(2, ["rank_hangs", tmp_path, "--timeout", "2"], timeout=90, expect_ok=False)
    assert proc.returncode != 0
    assert proc.seconds < 30
    assert ("rank 0 of 2: fit: agreement check waited more than 2 s for the other processes"
            in proc.stderr)


@needs_mpi
def test_ranks_that_would_train_different_models_all_raise_the_same_error(tmp_path):
    _run(2, ["fit", tmp_path, "--hidden-rank1", "32"])
    lines = _said(tmp_path, 2)
    message = ("fit: the processes of the job disagree on weights (weights: rank 0 [(64, 64), "
               "(64,), (64, 64), (64,), (64, 10), (10,)], rank 1 [(64, 32), (32,), (32, 64), "
               "(64,), (64, 10), (10,)]); every process must train the same model on the same "
               "data")
    assert lines == ["rank 0 ValueError: " + message, "rank 1 ValueError: " + message]
    assert not list(tmp_path.glob("*.npz"))


@needs_mpi
def test_cli_train_under_mpiexec_trains_the_model_one_process_trains(tmp_path):
    def train(ranks, out):
        cmd = [sys.executable, "-m", "bprop", "train", "--epochs", "2", "--verbose", "0",
               "--output", str(out)]
        cmd = ([_mpiexec(), "-n", str(ranks)] if ranks else []) + cmd
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=_env())
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    stdout = train(2, tmp_path / "job.bprop")
    assert stdout.count("Trained 2 epochs in") == 1  # rank 0 prints
    assert "1 threads in each of 2 processes" in stdout
    assert stdout.count("Saved the model to %s" % (tmp_path / "job.bprop")) == 1
    train(0, tmp_path / "alone.bprop")
    job = bprop.models.load_model(str(tmp_path / "job.bprop"))
    alone = bprop.models.load_model(str(tmp_path / "alone.bprop"))
    assert job.optimizer.iterations == alone.optimizer.iterations == 2 * 41
    for a, b in zip(job.get_weights(), alone.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
