"""What tests/test_distributed.py runs under ``mpiexec -n N`` (and alone, as the
one-process reference): ``python mpi_scenarios.py SCENARIO OUT_DIR [options]``.

Every process writes what it ended with to ``OUT_DIR/rank<r>.npz`` (weights,
history, step count), or a line the test reads to ``OUT_DIR/said-rank<r>.txt``.
Not a test module: pytest collects only ``test_*.py``.
"""
import argparse
import os
import sys
import time

import numpy as np

import bprop
import bprop.distributed as dist
from bprop import layers


def seed_mlp(dtype, dropout, hidden=(64, 64)):
    """The origin MLP on the bundled 8x8 digits (with a Dropout after each hidden layer)."""
    stack = [layers.Input(shape=(8, 8)), layers.Flatten()]
    for h in hidden:
        stack.append(layers.Dense(h, activation="relu"))
        if dropout:
            stack.append(layers.Dropout(0.25))
    stack.append(layers.Dense(10, activation="softmax"))
    return bprop.Sequential(stack, dtype=dtype)


def digits(n, dtype):
    (x, y), _ = bprop.datasets.digits.load_data()
    return (x[:n] / 16.0).astype(dtype), y[:n]


OPTIMIZERS = {
    "sgd": lambda: bprop.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "adam": lambda: bprop.optimizers.Adam(learning_rate=0.002),
    "rmsprop": lambda: bprop.optimizers.RMSprop(learning_rate=0.001),
}


def say(args, line):
    """One line from this process, to its own file (lines on a shared stdout interleave)."""
    with open(os.path.join(args.out, "said-rank%d.txt" % dist.rank()), "w") as f:
        f.write(line)


def save_state(out, model, history, extra=None):
    arrays = {"w%d" % i: w for i, w in enumerate(model.get_weights())}
    for key, values in history.items():
        arrays["h_" + key] = np.asarray(values, dtype=np.float64)
    arrays["iterations"] = np.array(model.optimizer.iterations)
    arrays.update(extra or {})
    np.savez(os.path.join(out, "rank%d.npz" % dist.rank()), **arrays)


def fit(args):
    """model.fit of the seed MLP; after it every rank tries to save (rank 0 only may)."""
    # Seeded differently per process after init: fit must still shuffle alike.
    bprop.utils.set_random_seed(args.seed + 1000 * dist.rank())
    model = seed_mlp(args.dtype, args.dropout,
                     hidden=(args.hidden_rank1 if dist.rank() == 1 and args.hidden_rank1
                             else 64, 64))
    model._plan_executor = args.executor
    model.compile(optimizer=OPTIMIZERS[args.optimizer](),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = digits(args.n, args.dtype)
    callbacks = []
    if args.warmup_factor:
        callbacks.append(dist.LearningRateWarmup(warmup_epochs=1,
                                                 initial_factor=args.warmup_factor))
    callbacks.append(bprop.callbacks.CSVLogger(os.path.join(args.out, "log-rank%d.csv"
                                                            % dist.rank())))
    try:
        history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
                            shuffle=True, callbacks=callbacks)
    except ValueError as exc:
        say(args, "rank %d ValueError: %s" % (dist.rank(), exc))
        return
    model.save(os.path.join(args.out, "model-rank%d.bprop" % dist.rank()))
    save_state(args.out, model, history.history)


def custom_loop(args):
    """The origin linear regression, each process on its own quarter of the data,
    with DistributedOptimizer; alone, the same loop on all the data."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, 400)
    y = 3.0 * x + 2.0 + rng.normal(0, 0.1, 400)
    shard = slice(None) if dist.size() == 1 else slice(dist.rank() * 400 // dist.size(),
                                                       (dist.rank() + 1) * 400 // dist.size())
    x, y = x[shard], y[shard]
    w = bprop.Variable(np.float64(0.5 + dist.rank()))  # rank 0's start is broadcast below
    b = bprop.Variable(np.float64(0.0))
    for v in (w, b):
        dist.broadcast(v.value)
    opt = dist.DistributedOptimizer(bprop.optimizers.SGD(learning_rate=0.1))
    for _ in range(50):
        with bprop.GradientTape() as tape:
            loss = bprop.reduce_mean(bprop.square(w * x + b - y))
        grads = tape.gradient(loss, [w, b])
        opt.apply_gradients(zip(grads, [w, b]))
    np.savez(os.path.join(args.out, "rank%d.npz" % dist.rank()), w=w.numpy(), b=b.numpy(),
             iterations=np.array(opt.iterations))


def collectives(args):
    """allreduce / broadcast / barrier / local ranks, printed."""
    total = dist.allreduce(np.arange(3) + dist.rank())
    mean = dist.allreduce(float(dist.rank()), op="mean")
    value = dist.broadcast({"from": dist.rank()})
    arr = dist.broadcast(np.full(4, float(dist.rank())))
    dist.barrier()
    say(args, "rank %d size %d local %d/%d sum %s mean %r bcast %r arr %s"
        % (dist.rank(), dist.size(), dist.local_rank(), dist.local_size(), total.tolist(),
           mean, value, arr.tolist()))


def rank_raises(args):
    """Rank 1 raises while rank 0 trains: the job must end at once, not at the timeout."""
    if dist.rank() == 1:
        time.sleep(0.5)
        raise RuntimeError("boom on rank 1")
    model = seed_mlp("float32", False)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = digits(1437, "float32")
    model.fit(x, y, batch_size=32, epochs=10_000, verbose=0)


def rank_exits(args):
    """Rank 1 leaves cleanly before fit: rank 0 must not wait past the timeout."""
    if dist.rank() == 1:
        return
    fit(args)


def rank_hangs(args):
    """Rank 1 neither reaches fit nor ends (for a minute): rank 0 must give up at the timeout."""
    if dist.rank() == 1:
        time.sleep(60)
        return
    fit(args)


SCENARIOS = {"fit": fit, "custom_loop": custom_loop, "collectives": collectives,
             "rank_raises": rank_raises, "rank_exits": rank_exits, "rank_hangs": rank_hangs}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("out")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS))
    parser.add_argument("--executor", default="auto", choices=["auto", "ops"])
    parser.add_argument("--dropout", action="store_true")
    parser.add_argument("--n", type=int, default=1437)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--hidden-rank1", type=int, default=0)
    parser.add_argument("--warmup-factor", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    bprop.utils.set_random_seed(args.seed)
    dist.init(timeout=args.timeout)
    SCENARIOS[args.scenario](args)


if __name__ == "__main__":
    sys.exit(main())
