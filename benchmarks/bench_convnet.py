"""Keras' simple convnet (issue 14): bprop against PyTorch CPU and bprop's NumPy backend.

The network of keras.io's "simple MNIST convnet": Conv2D(32, 3, relu),
MaxPooling2D(2), Conv2D(64, 3, relu), MaxPooling2D(2), Flatten, Dropout(0.5),
Dense(10, softmax); Adam (Keras' defaults), sparse cross-entropy, batch 128,
on Fashion-MNIST (or synthetic data of its shape).  Each framework trains
in its own fresh process (``python -m benchmarks.bench_convnet --child ...``)
at a fixed thread count and reports its seconds per epoch (the median of
the epochs after the first, which builds the plan and warms the caches),
its images per second and its test accuracy after the same epochs.  The
NumPy backend is too slow for whole epochs: it is timed on ``numpy_steps``
steps and extrapolated (no accuracy).

PyTorch runs the same network (Xavier-uniform weights, zero biases, Adam
with Keras' epsilon 1e-7) in a plain training loop; its convolutions run on
oneDNN.  Targets of issue 14, at 2 threads: bprop's epoch at least 1.5x
faster than PyTorch's, test accuracy within 0.5 points of it.

``layer_rates`` also times ``ops.conv2d`` forward and backward for the two
convolutions at batch 128 in GFLOP/s (2 * multiply-adds per second).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

BATCH = 128
TARGET_SPEEDUP = 1.5
TARGET_ACCURACY_GAP = 0.5  # points
# (name, input image (h, w, c), kernel (kh, kw, c, f)) of the two convolutions
LAYERS = (("conv 1: 28x28x1 -> 26x26x32", (28, 28, 1), (3, 3, 1, 32)),
          ("conv 2: 13x13x32 -> 11x11x64", (13, 13, 32), (3, 3, 32, 64)))


def _images(synthetic):
    from benchmarks import bench_training

    (x, y), (x_test, y_test), source = bench_training.load_data(synthetic=synthetic)
    return (x.reshape(-1, 28, 28, 1), y), (x_test.reshape(-1, 28, 28, 1), y_test), source


def build_bprop(backend="core", seed=0):
    import bprop
    from bprop import layers

    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([
        layers.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ], backend=backend)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _bprop_child(threads, epochs, synthetic, backend, numpy_steps):
    import bprop

    bprop.set_num_threads(threads)
    (x, y), (x_test, y_test), source = _images(synthetic)
    model = build_bprop(backend)
    if backend == "numpy":  # a few steps, extrapolated to an epoch
        rows = BATCH * (numpy_steps + 1)
        model.fit(x[:BATCH], y[:BATCH], batch_size=BATCH, epochs=1, verbose=0)
        start = time.perf_counter()
        model.fit(x[BATCH:rows], y[BATCH:rows], batch_size=BATCH, epochs=1, verbose=0,
                  shuffle=False)
        per_step = (time.perf_counter() - start) / numpy_steps
        return {"epoch_seconds": [per_step * -(-len(x) // BATCH)], "accuracy": None,
                "data": source, "extrapolated_from_steps": numpy_steps}
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - start)
    probs = model.predict(x_test, batch_size=1000, verbose=0)
    return {"epoch_seconds": seconds, "accuracy": float(np.mean(probs.argmax(1) == y_test)),
            "data": source, "in_core": model._train_plan().in_core}


def _torch_child(threads, epochs, synthetic):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    (x, y), (x_test, y_test), source = _images(synthetic)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5),
                        nn.Linear(1600, 10))
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    ys = torch.from_numpy(y.astype(np.int64))
    seconds = []
    for _ in range(epochs):
        net.train()
        start = time.perf_counter()
        order = torch.randperm(len(xs))
        for i in range(0, len(xs), BATCH):
            idx = order[i:i + BATCH]
            opt.zero_grad()
            loss_fn(net(xs[idx]), ys[idx]).backward()
            opt.step()
        seconds.append(time.perf_counter() - start)
    net.eval()
    with torch.no_grad():
        logits = net(torch.from_numpy(np.ascontiguousarray(x_test.transpose(0, 3, 1, 2))))
    return {"epoch_seconds": seconds, "data": source, "torch_version": torch.__version__,
            "accuracy": float(np.mean(logits.argmax(1).numpy() == y_test))}


def child(framework, threads, epochs, synthetic, numpy_steps=20):
    if framework == "torch":
        return _torch_child(threads, epochs, synthetic)
    return _bprop_child(threads, epochs, synthetic, "numpy" if framework == "numpy" else "core",
                        numpy_steps)


def _child_run(framework, threads, epochs, synthetic, numpy_steps):
    cmd = [sys.executable, "-m", "benchmarks.bench_convnet", "--child", framework, str(threads),
           str(epochs), str(numpy_steps)] + (["--synthetic"] if synthetic else [])
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=3600, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(values):
    return float(np.median(values))


def torch_available() -> bool:
    from benchmarks.timing import import_torch

    return import_torch() is not None


def run(threads: Sequence[int] = (1, 2), epochs: int = 3, synthetic: bool = False,
        use_torch: bool = True, numpy_steps: int = 20, log=None) -> List[Dict]:
    """One row per thread count: s/epoch, images/s and accuracy of each framework."""
    frameworks = ["bprop"] + (["torch"] if use_torch and torch_available() else []) + ["numpy"]
    rows = []
    for n in threads:
        row = {"threads": n, "epochs": epochs, "results": {}}
        for fw in frameworks:
            res = _child_run(fw, n, epochs, synthetic, numpy_steps)
            timed = res["epoch_seconds"][1:] or res["epoch_seconds"]
            res["epoch_s"] = _median(timed)
            res["images_per_s"] = 60000 / res["epoch_s"] if not synthetic else None
            row["results"][fw] = res
            row["data"] = res["data"]
            if log is not None:
                acc = "" if res["accuracy"] is None else ", test accuracy %.4f" % res["accuracy"]
                log(f"convnet {fw} t={n}: {res['epoch_s']:.2f} s/epoch{acc}")
        b = row["results"]["bprop"]
        t = row["results"].get("torch")
        row["speedup_vs_torch"] = t["epoch_s"] / b["epoch_s"] if t else None
        row["speedup_vs_numpy"] = row["results"]["numpy"]["epoch_s"] / b["epoch_s"]
        row["accuracy_gap_points"] = (100 * abs(b["accuracy"] - t["accuracy"]) if t else None)
        row["meets_target"] = (None if t is None else
                               row["speedup_vs_torch"] >= TARGET_SPEEDUP
                               and row["accuracy_gap_points"] <= TARGET_ACCURACY_GAP)
        rows.append(row)
    return rows


def layer_rates(threads: Sequence[int] = (1, 2), repeats: int = 5) -> List[Dict]:
    """GFLOP/s of ops.conv2d forward and backward (dx, dw, db) for the convnet's layers."""
    import bprop
    from bprop import ops

    rng = np.random.default_rng(0)
    out = []
    before = bprop.get_num_threads()
    try:
        for n in threads:
            bprop.set_num_threads(n)
            for name, image, kshape in LAYERS:
                x = rng.random((BATCH,) + image, dtype=np.float32)
                k = (rng.standard_normal(kshape) * 0.1).astype(np.float32)
                b = np.zeros(kshape[3], np.float32)
                y = ops.conv2d(x, k, b, activation="relu")
                dy = rng.standard_normal(y.shape).astype(np.float32)
                macs = y.size * kshape[0] * kshape[1] * kshape[2]
                first = name.startswith("conv 1")  # the first layer needs no dx

                def fwd():
                    ops.conv2d(x, k, b, activation="relu", out=y)

                def bwd():
                    ops.conv2d_backward(dy, x, k, y, "relu", need_dx=not first)

                row = {"layer": name, "threads": n}
                for what, fn, flops in (("forward", fwd, 2 * macs),
                                        ("backward", bwd, (2 if first else 4) * macs)):
                    fn()
                    times = []
                    for _ in range(repeats):
                        start = time.perf_counter()
                        fn()
                        times.append(time.perf_counter() - start)
                    row[what + "_gflops"] = flops / _median(times) / 1e9
                out.append(row)
    finally:
        bprop.set_num_threads(before)
    return out


if __name__ == "__main__":
    if len(sys.argv) >= 6 and sys.argv[1] == "--child":
        result = child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), "--synthetic" in sys.argv,
                       int(sys.argv[5]))
        print(json.dumps(result))
    else:
        for r in run(log=lambda line: print(line, file=sys.stderr)):
            print(json.dumps(r))
        for r in layer_rates():
            print(json.dumps(r))
