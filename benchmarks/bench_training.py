"""Training speed: seconds per epoch of Keras-style MLPs, core vs NumPy backend.

Two models of issue 5, each trained with Adam on sparse categorical
cross-entropy through ``model.fit`` (the path a user takes):

* ``784-64-64-10``  (relu, relu, softmax), batch 32;
* ``784-256-256-10`` (relu, relu, softmax), batch 128.

The same model (same seed, hence the same initial weights and the same
shuffles) runs with ``backend="core"`` (bprop's C++ kernels) and
``backend="numpy"`` (``bprop.reference``), and beside it the hand-written
NumPy MLP (``numpy_mlp.py``), a plain PyTorch loop when PyTorch is installed,
scikit-learn's MLPClassifier when it is, and Keras itself when an
interpreter with Keras is found (``keras_mlp.py``, in a process of its own:
this one's, or the one ``--keras-python`` / ``BPROP_BENCH_KERAS_PYTHON``
names, which may be another virtual environment).  Data: Fashion-MNIST from
the local copy found by
``bprop.datasets.fashion_mnist.load_data(download=False)`` (Debian's
``dataset-fashion-mnist``), else synthetic data of the same shape (60,000 x
784 in [0, 1), labels from a random linear teacher); every row says which.

An epoch is timed on ``fraction`` of the training set and extrapolated to
the whole set (``fraction=1`` times real epochs); ``--quick`` uses a
fraction and says so.  After timing, the test accuracy of each trained model
is measured (both backends have seen the same samples in the same order).

Targets (issue 5): 784-64-64-10 at most 0.4 s per epoch, at least 4x the
NumPy backend, test accuracy within 0.5 points of it; 784-256-256-10 at
most 1.3 s per epoch.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from benchmarks.timing import SETTLE_S, import_torch, thread_limit


@dataclass(frozen=True)
class MLPSpec:
    """A 784-h1-...-10 MLP (relu hidden layers, softmax output) trained at ``batch_size``."""

    hidden: tuple
    batch_size: int
    target_s: Optional[float] = None         # seconds per full epoch, core backend
    target_speedup: Optional[float] = None  # core vs numpy backend
    target_accuracy_gap: Optional[float] = None  # |core - numpy| test accuracy, points

    @property
    def label(self):
        return "-".join(str(u) for u in (784,) + tuple(self.hidden) + (10,))


MODELS = (
    MLPSpec(hidden=(64, 64), batch_size=32, target_s=0.4, target_speedup=4.0,
            target_accuracy_gap=0.5),
    MLPSpec(hidden=(256, 256), batch_size=128, target_s=1.3),
)
BACKENDS = ("core", "numpy")


def synthetic_data(n_train=60000, n_test=10000, features=784, classes=10, seed=0):
    """Fashion-MNIST-shaped float32 data whose labels a linear model can learn."""
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal((features, classes)).astype(np.float32)

    def make(n):
        x = rng.random((n, features), dtype=np.float32)
        y = np.argmax((x - 0.5) @ teacher, axis=1).astype(np.int64)
        return x, y

    return make(n_train), make(n_test)


def load_data(synthetic=False):
    """``((x_train, y_train), (x_test, y_test), source)``: x float32 (n, 784) in [0, 1].

    Fashion-MNIST when a local copy exists (no download is attempted),
    otherwise (or with ``synthetic=True``) :func:`synthetic_data`.
    """
    if not synthetic:
        try:
            from bprop.datasets import fashion_mnist

            (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(download=False)
        except Exception as exc:  # noqa: BLE001 - any failure: fall back, and say why
            reason = f"{type(exc).__name__}: {exc}"
        else:
            def prep(x):
                return (x.reshape(len(x), -1).astype(np.float32) / np.float32(255.0))

            return ((prep(x_train), y_train.astype(np.int64)),
                    (prep(x_test), y_test.astype(np.int64)), "fashion-mnist")
        train, test = synthetic_data()
        return train, test, f"synthetic (Fashion-MNIST not available: {reason})"
    train, test = synthetic_data()
    return train, test, "synthetic"


def build_model(spec: MLPSpec, backend: str, seed=0):
    """The spec's MLP on ``backend``, compiled with Adam (Keras defaults)."""
    import bprop

    bprop.utils.set_random_seed(seed)
    layers = [bprop.layers.Dense(spec.hidden[0], activation="relu", input_shape=(784,))]
    layers += [bprop.layers.Dense(units, activation="relu") for units in spec.hidden[1:]]
    layers.append(bprop.layers.Dense(10, activation="softmax"))
    model = bprop.Sequential(layers, backend=backend)
    model.compile(optimizer=bprop.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _accuracy(scores, y):
    return float(np.mean(np.argmax(scores, axis=1) == y)) if len(y) else float("nan")


class _BpropTrainer:
    """Runs ``model.fit`` over a slice of the data; evaluates test accuracy."""

    def __init__(self, spec, backend, seed):
        self.spec = spec
        self.seed = seed
        self.calls = 0
        self.model = build_model(spec, backend, seed)

    def train(self, x, y):
        import bprop

        # fit shuffles with the global generator, which the other backend's
        # runs also draw from: reseed per call so both see the same order.
        self.calls += 1
        bprop.utils.set_random_seed(self.seed + self.calls)
        self.model.fit(x, y, batch_size=self.spec.batch_size, epochs=1, verbose=0, shuffle=True)

    def accuracy(self, x, y):
        return _accuracy(self.model.predict(x, batch_size=1024, verbose=0), y)


class _TorchTrainer:
    """The same MLP, optimizer (Adam, Keras' epsilon) and loss as a plain PyTorch loop."""

    def __init__(self, spec, torch, seed):
        self.spec = spec
        self.torch = torch
        torch.manual_seed(seed)
        nn = torch.nn
        units = (784,) + tuple(spec.hidden)
        mods = []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            mods += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        mods.append(nn.Linear(units[-1], 10))  # softmax is inside the loss
        self.model = nn.Sequential(*mods)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-7)
        self.loss = nn.CrossEntropyLoss()

    def train(self, x, y):
        torch = self.torch
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        perm = torch.randperm(len(x))
        bs = self.spec.batch_size
        for start in range(0, len(x), bs):
            idx = perm[start:start + bs]
            self.opt.zero_grad()
            self.loss(self.model(tx[idx]), ty[idx]).backward()
            self.opt.step()

    def accuracy(self, x, y):
        with self.torch.no_grad():
            return _accuracy(self.model(self.torch.from_numpy(x)).numpy(), y)


class _NumpyMLPTrainer:
    """The hand-written NumPy MLP (benchmarks/numpy_mlp.py) on the same data."""

    def __init__(self, spec, seed):
        from benchmarks.numpy_mlp import NumpyMLP

        self.spec = spec
        self.model = NumpyMLP((784,) + tuple(spec.hidden) + (10,), seed=seed)

    def train(self, x, y):
        self.model.train_epoch(x, y, self.spec.batch_size)

    def accuracy(self, x, y):
        return self.model.accuracy(x, y)


class _SklearnTrainer:
    """scikit-learn's MLPClassifier (adam, relu, batch size of the spec), one epoch a call."""

    def __init__(self, spec, seed):
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        self.model = MLPClassifier(hidden_layer_sizes=spec.hidden, batch_size=spec.batch_size,
                                   max_iter=1, solver="adam", random_state=seed)
        self.classes = np.arange(10)

    def train(self, x, y):
        self.model.partial_fit(x, y, classes=self.classes)

    def accuracy(self, x, y):
        return float(np.mean(self.model.predict(x) == y))


KERAS_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_mlp.py")


def keras_python(explicit=None):
    """The interpreter that runs Keras' rows: ``explicit``, else the environment
    variable ``BPROP_BENCH_KERAS_PYTHON``, else this one when it can import
    keras (or tensorflow); None when there is none."""
    chosen = explicit or os.environ.get("BPROP_BENCH_KERAS_PYTHON")
    if chosen:
        return chosen
    if importlib.util.find_spec("keras") or importlib.util.find_spec("tensorflow"):
        return sys.executable
    return None


class KerasFailed(RuntimeError):
    """Keras' process did not give a result (not installed there, or it failed)."""


class KerasRunner:
    """Times the spec's MLP in Keras (``keras_mlp.py``) under ``python``, one
    fresh process per row, on the data written once to a temporary folder."""

    def __init__(self, python, data):
        self.python = python
        self._dir = tempfile.TemporaryDirectory(prefix="bprop-bench-keras-")
        (x, y), (x_test, y_test), _ = data
        for name, arr in (("x_train", x), ("y_train", y), ("x_test", x_test),
                          ("y_test", y_test)):
            np.save(os.path.join(self._dir.name, name + ".npy"), arr)

    def run(self, spec, threads, timed_samples, warm_samples, repeats, seed):
        job = {"hidden": list(spec.hidden), "batch_size": spec.batch_size, "threads": threads,
               "timed_samples": timed_samples, "warm_samples": warm_samples,
               "repeats": repeats, "seed": seed}
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), TF_CPP_MIN_LOG_LEVEL="2")
        command = f"{self.python} {KERAS_SCRIPT}"
        try:
            out = subprocess.run([self.python, KERAS_SCRIPT, self._dir.name, json.dumps(job)],
                                 capture_output=True, text=True, timeout=3600, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:  # no such interpreter, or it hung
            raise KerasFailed(f"{command}: {exc}") from None
        if out.returncode != 0:
            raise KerasFailed(f"{command} exited with {out.returncode}: "
                              + out.stderr.strip()[-1500:])
        lines = out.stdout.strip().splitlines()
        try:
            return json.loads(lines[-1])
        except (IndexError, ValueError):
            raise KerasFailed(f"{command} printed no result line: {out.stdout.strip()[-500:]!r}") \
                from None

    def close(self):
        self._dir.cleanup()


def sklearn_available():
    try:
        import sklearn.neural_network  # noqa: F401
    except ImportError:
        return False
    return True


def _timed_result(seconds, scale, test_accuracy):
    """One implementation's entry: the median of its timed calls, scaled to an epoch."""
    median = float(np.median(seconds))
    return {"median_s": median, "epoch_s": median * scale, "samples": [t * scale for t in seconds],
            "test_accuracy": test_accuracy}


def bench_model(spec: MLPSpec, data, threads, fraction=1.0, repeats=1, impls=BACKENDS,
                torch=None, seed=0, clock=None, keras: Optional[KerasRunner] = None) -> Dict:
    """Seconds per epoch of ``spec`` for each implementation at ``threads`` threads.

    ``data`` is ``((x_train, y_train), (x_test, y_test), source)``.  Each
    implementation first trains on a few batches (untimed warm-up: building
    layers, allocating buffers), then ``repeats`` times on the first
    ``fraction`` of the training set; the median time is scaled by
    ``1 / fraction``.  ``keras`` (a :class:`KerasRunner`) adds Keras' row,
    timed the same way in its own process after the others.
    """
    import time

    clock = clock or time.perf_counter
    (x_train, y_train), (x_test, y_test), source = data
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    n = max(spec.batch_size, int(round(len(x_train) * fraction)))
    n = min(n, len(x_train))
    x_part, y_part = x_train[:n], y_train[:n]
    n_warm = min(n, 10 * spec.batch_size)
    scale = len(x_train) / n

    trainers = {}
    for impl in impls:
        if impl == "torch":
            if torch is not None:
                trainers[impl] = _TorchTrainer(spec, torch, seed)
        elif impl == "numpy_mlp":
            trainers[impl] = _NumpyMLPTrainer(spec, seed)
        elif impl == "sklearn":
            if sklearn_available():
                trainers[impl] = _SklearnTrainer(spec, seed)
        elif impl in BACKENDS:
            trainers[impl] = _BpropTrainer(spec, impl, seed)
        else:
            raise ValueError(f"impls must name {BACKENDS + ('torch', 'numpy_mlp', 'sklearn')}, "
                             f"got {impl!r}")
    times = {impl: [] for impl in trainers}

    def timed(impl):
        t0 = clock()
        trainers[impl].train(x_part, y_part)
        times[impl].append(clock() - t0)

    with thread_limit(threads, torch=torch):
        if threads == 1:
            # Repeats take turns between implementations (fair under shared load).
            for trainer in trainers.values():
                trainer.train(x_part[:n_warm], y_part[:n_warm])
            for _ in range(repeats):
                for impl in trainers:
                    timed(impl)
        else:
            # One implementation at a time, right after its warm-up: the
            # thread pool of the previous one (OpenBLAS spins after a call)
            # must not compete with this one's threads for the cores, hence
            # also the pause before each block.
            for impl, trainer in trainers.items():
                time.sleep(SETTLE_S)
                trainer.train(x_part[:n_warm], y_part[:n_warm])
                for _ in range(repeats):
                    timed(impl)
        results = {impl: _timed_result(times[impl], scale, trainer.accuracy(x_test, y_test))
                   for impl, trainer in trainers.items()}
    keras_error = None
    try:
        out = keras.run(spec, threads, n, n_warm, repeats, seed) if keras is not None else None
    except KerasFailed as exc:
        out, keras_error = None, str(exc)
    if out is not None:
        results["keras"] = dict(_timed_result(out["seconds"], scale, out["test_accuracy"]),
                                version="Keras %s / %s %s" % (out["keras_version"], out["backend"],
                                                              out["backend_version"] or ""))

    row = {
        "bench": "training", "model": spec.label, "batch_size": spec.batch_size,
        "threads": threads, "data": source, "train_samples": len(x_train),
        "timed_samples": n, "fraction": n / len(x_train), "extrapolated": n < len(x_train),
        "repeats": repeats, "results": results,
        "target_epoch_s": spec.target_s, "target_speedup": spec.target_speedup,
        "keras_error": keras_error,
    }
    core, numpy_ = results.get("core"), results.get("numpy")
    row["speedup"] = (numpy_["epoch_s"] / core["epoch_s"]) if core and numpy_ else None
    if core and numpy_:
        row["accuracy_gap_points"] = 100.0 * abs(core["test_accuracy"] - numpy_["test_accuracy"])
    if core and "torch" in results:
        row["torch_ratio"] = results["torch"]["epoch_s"] / core["epoch_s"]
    if core and "numpy_mlp" in results:
        row["numpy_mlp_ratio"] = results["numpy_mlp"]["epoch_s"] / core["epoch_s"]
    if core and "sklearn" in results:
        row["sklearn_ratio"] = results["sklearn"]["epoch_s"] / core["epoch_s"]
    if core and "keras" in results:
        row["keras_ratio"] = results["keras"]["epoch_s"] / core["epoch_s"]
    met = []
    if core and spec.target_s is not None:
        met.append(core["epoch_s"] <= spec.target_s)
    if row["speedup"] is not None and spec.target_speedup is not None:
        met.append(row["speedup"] >= spec.target_speedup)
    if row.get("accuracy_gap_points") is not None and spec.target_accuracy_gap is not None:
        met.append(row["accuracy_gap_points"] <= spec.target_accuracy_gap)
    row["target_accuracy_gap"] = spec.target_accuracy_gap
    row["meets_target"] = bool(all(met)) if met else None
    return row


def run(models: Sequence[MLPSpec] = MODELS, threads: Sequence[int] = (1, 2), fraction=1.0,
        repeats=1, use_torch=True, synthetic=False, data=None, log=None, use_keras=True,
        keras_interpreter=None) -> List[Dict]:
    """Every model x thread count; one row each (core, numpy, the NumPy MLP, and
    torch, sklearn and Keras where found, side by side)."""
    torch = import_torch() if use_torch else None
    if data is None:
        data = load_data(synthetic=synthetic)
    impls = BACKENDS + ("numpy_mlp",) + (("torch",) if torch is not None else ()) + (
        ("sklearn",) if sklearn_available() else ())
    python = keras_python(keras_interpreter) if use_keras else None
    keras = KerasRunner(python, data) if python else None
    rows = []
    try:
        for spec in models:
            for n_threads in threads:
                row = bench_model(spec, data, n_threads, fraction=fraction, repeats=repeats,
                                  impls=impls, torch=torch, keras=keras)
                rows.append(row)
                if row.get("keras_error") and keras is not None:
                    keras.close()  # the later rows go on without it
                    keras = None
                if log is not None:
                    r = row["results"]
                    log(f"training {spec.label} b={spec.batch_size} t={n_threads}: "
                        + ", ".join(f"{k} {v['epoch_s']:.3f} s/epoch" for k, v in r.items())
                        + (f" (Keras left out: {row['keras_error']})"
                           if row.get("keras_error") else ""))
    finally:
        if keras is not None:
            keras.close()
    return rows
