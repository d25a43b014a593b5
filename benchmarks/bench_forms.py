"""The forms a Keras user writes, each trained on the one engine (issue 11).

The seed MLP 784-64-64-10 (relu, relu), batch 32, on Fashion-MNIST (or
synthetic data of its shape), written in each form of the table of issue 11
and a few more; each form runs in its own fresh process (``python -m
benchmarks.bench_forms --child FORM THREADS EPOCHS``), trains ``epochs``
epochs through ``model.fit`` and reports the seconds of each.  The forms
take turns ``rounds`` times (so that background load hits them alike), and
a row keeps the median of its epochs after each process's first (which
builds the plan and warms the caches).

The target of issue 11: every form within 1.25x of the first form's time
(softmax + sparse cross-entropy + Adam, the form the old fused path ran);
the table also gives each form against the fastest one.
"""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Dict, List, Sequence

TARGET_RATIO = 1.25

# form -> what a user writes differently from the first form
FORMS = {
    "softmax": "softmax + sparse_categorical_crossentropy + Adam, verbose=0",
    "logits": "Dense(10) + SparseCategoricalCrossentropy(from_logits=True)",
    "rmsprop": 'optimizer="rmsprop"',
    "dropout": "Dropout(0.2) between the hidden layers",
    "progress_bar": 'the default verbose="auto" progress bar',
    "categorical": "categorical_crossentropy on one-hot targets",
    "adagrad": 'optimizer="adagrad"',
    "sgd_momentum": "SGD(momentum=0.9)",
    "rmsprop_centered": "RMSprop(momentum=0.9, centered=True)",
    "top_k": 'metrics=["accuracy", "sparse_top_k_categorical_accuracy"]',
}


def build(form: str, seed: int = 0):
    """``(model, fit keyword arguments, one_hot)`` of ``form``."""
    import bprop
    from bprop import layers

    bprop.utils.set_random_seed(seed)
    stack = [layers.Dense(64, activation="relu", input_shape=(784,))]
    if form == "dropout":
        stack.append(layers.Dropout(0.2))
    stack += [layers.Dense(64, activation="relu"),
              layers.Dense(10, activation="linear" if form == "logits" else "softmax")]
    model = bprop.Sequential(stack)
    loss = "sparse_categorical_crossentropy"
    if form == "logits":
        loss = bprop.losses.SparseCategoricalCrossentropy(from_logits=True)
    elif form == "categorical":
        loss = "categorical_crossentropy"
    optimizer = {"rmsprop": "rmsprop", "adagrad": "adagrad",
                 "sgd_momentum": bprop.optimizers.SGD(0.01, momentum=0.9),
                 "rmsprop_centered": bprop.optimizers.RMSprop(momentum=0.9, centered=True),
                 }.get(form, "adam")
    metrics = ["accuracy"] + (["sparse_top_k_categorical_accuracy"] if form == "top_k" else [])
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    fit_kw = {"verbose": "auto" if form == "progress_bar" else 0}
    return model, fit_kw, form == "categorical"


def child(form: str, threads: int, epochs: int, synthetic: bool) -> Dict:
    """Runs in the child process: times ``epochs`` epochs of ``form``."""
    import contextlib
    import io
    import time

    import bprop
    from benchmarks import bench_training

    bprop.set_num_threads(threads)
    (x, y), _, source = bench_training.load_data(synthetic=synthetic)
    model, fit_kw, one_hot = build(form)
    targets = bprop.utils.to_categorical(y, 10) if one_hot else y
    plan_in_core = None
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the bar is drawn, not shown
            model.fit(x, targets, batch_size=32, epochs=1, **fit_kw)
        seconds.append(time.perf_counter() - start)
        plan_in_core = model._train_plan().in_core
    return {"form": form, "threads": threads, "epoch_seconds": seconds, "data": source,
            "in_core": plan_in_core}


def _median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])


def _child_run(form, n_threads, epochs, synthetic):
    cmd = [sys.executable, "-m", "benchmarks.bench_forms", "--child", form, str(n_threads),
           str(epochs)] + (["--synthetic"] if synthetic else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(forms: Sequence[str] = tuple(FORMS), threads: Sequence[int] = (1, 2), epochs: int = 3,
        rounds: int = 2, synthetic: bool = False, log=None) -> List[Dict]:
    """One row per form x thread count, with its ratio to the first form and to the fastest."""
    rows = []
    for n_threads in threads:
        block = {form: None for form in forms}
        for _ in range(rounds):
            for form in forms:
                result = _child_run(form, n_threads, epochs, synthetic)
                timed = result["epoch_seconds"][1:] or result["epoch_seconds"]
                if block[form] is None:
                    result.update(bench="forms", description=FORMS[form], timed=[])
                    block[form] = result
                block[form]["timed"] += timed
        for row in block.values():
            row["epoch_s"] = _median(row["timed"])
            if log is not None:
                log(f"forms {row['form']} t={n_threads}: {row['epoch_s']:.3f} s/epoch")
        reference = block[forms[0]]["epoch_s"]
        fastest = min(r["epoch_s"] for r in block.values())
        for r in block.values():
            r["ratio_to_first"] = r["epoch_s"] / reference
            r["ratio_to_fastest"] = r["epoch_s"] / fastest
            r["meets_target"] = r["ratio_to_first"] <= TARGET_RATIO
        rows.extend(block.values())
    return rows


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--child":
        result = child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), "--synthetic" in sys.argv)
        print(json.dumps(result))
    else:
        for r in run(log=lambda line: print(line, file=sys.stderr)):
            print("%-14s t=%d %.3f s/epoch (%.2fx the first form, %.2fx the fastest)"
                  % (r["form"], r["threads"], r["epoch_s"], r["ratio_to_first"],
                     r["ratio_to_fastest"]))
