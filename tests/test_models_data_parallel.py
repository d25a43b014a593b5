"""The data-parallel step of ``fit`` without MPI: N "processes" simulated by N
threads of this process, each training its own copy of a model, joined by a
communicator of barriers (``ThreadJob``).  Their weights after fit must equal
one model trained alone on the whole batches.  This runs the core's parallel
step, its Python collective callback and fit's slicing everywhere the suite
runs (the sanitizer build included), where tests/test_distributed.py needs
mpiexec.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import bprop
import bprop.distributed as dist
from bprop import layers
from bprop.models import data_parallel


class ThreadJob:
    """The Job interface fit uses, for ``size`` threads sharing ``board``."""

    def __init__(self, rank, size, board):
        self.rank, self.size, self.board = rank, size, board

    def _exchange(self, value):
        """Every thread's ``value``, in rank order (two barriers: all posted, all read)."""
        slots, barrier = self.board
        slots[self.rank] = value
        barrier.wait(timeout=60)
        everyone = list(slots)
        barrier.wait(timeout=60)
        return everyone

    def allreduce_inplace(self, buf, what="allreduce"):
        parts = self._exchange(buf.copy())
        total = parts[0].copy()
        for part in parts[1:]:  # the same order on every thread: the same bits
            total += part
        buf[...] = total
        return buf

    def bcast_inplace(self, buf, root=0, what="broadcast"):
        buf[...] = self._exchange(buf.copy())[root]
        return buf

    def bcast_object(self, obj, root=0, what="broadcast"):
        return self._exchange(obj)[root]

    def allgather_object(self, obj, what="allgather"):
        return self._exchange(obj)

    def any(self, flag, what="a decision"):
        return any(self._exchange(bool(flag)))


def _model(dtype, optimizer, executor, hidden=16):
    bprop.utils.set_random_seed(11)
    model = bprop.Sequential([layers.Input(shape=(12,)),
                              layers.Dense(hidden, activation="relu"),
                              layers.Dropout(0.3, seed=5),
                              layers.Dense(4, activation="softmax")], dtype=dtype)
    model._plan_executor = executor
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(n, dtype):
    rng = np.random.default_rng(3)
    return rng.standard_normal((n, 12)).astype(dtype), rng.integers(0, 4, n)


def _fit_in_threads(monkeypatch, size, build, fit_kwargs):
    board = ([None] * size, threading.Barrier(size))
    local = threading.local()
    monkeypatch.setattr(dist, "job", lambda: getattr(local, "job", None))
    # Built here, one after the other: building draws initial weights from the
    # global generator, which concurrent threads would interleave.
    models, histories, errors = [build(r) for r in range(size)], [None] * size, []

    def worker(rank):
        local.job = ThreadJob(rank, size, board)
        try:
            histories[rank] = models[rank].fit(**fit_kwargs).history
        except BaseException as exc:  # reported below
            errors.append((rank, repr(exc)))
            board[1].abort()

    threads = [threading.Thread(target=worker, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return models, histories


CASES = [("float64", "adam", "auto", 2, 203, 1e-12),
         ("float64", "rmsprop", "auto", 3, 193, 1e-12),  # last batch of 1 row: empty slices
         ("float64", "sgd", "ops", 3, 203, 1e-12),       # the op-by-op executor's step
         ("float32", "adam", "auto", 2, 203, 1e-5)]


@pytest.mark.parametrize("dtype,opt,executor,size,n,rtol", CASES,
                         ids=["-".join(map(str, c[:5])) for c in CASES])
def test_threads_as_processes_train_the_model_one_process_trains(monkeypatch, dtype, opt,
                                                                 executor, size, n, rtol):
    x, y = _data(n, dtype)
    make_opt = {"adam": lambda: bprop.optimizers.Adam(0.01),
                "rmsprop": lambda: bprop.optimizers.RMSprop(0.01),
                "sgd": lambda: bprop.optimizers.SGD(0.05, momentum=0.9)}[opt]
    fit_kwargs = dict(x=x, y=y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    alone = _model(dtype, make_opt(), executor)
    ref = alone.fit(**fit_kwargs).history
    # Built here, not in the threads: set_random_seed and the initializers share
    # bprop's global generator, and threads seeding it at once drew different weights.
    prebuilt = [_model(dtype, make_opt(), executor) for _ in range(size)]
    models, histories = _fit_in_threads(monkeypatch, size, lambda r: prebuilt[r], fit_kwargs)
    for model in models[1:]:
        for a, b in zip(model.get_weights(), models[0].get_weights()):
            np.testing.assert_array_equal(a, b)
    assert models[0].optimizer.iterations == alone.optimizer.iterations == 3 * -(-n // 16)
    for a, b in zip(models[0].get_weights(), alone.get_weights()):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * float(np.abs(b).max()))
    for hist in histories:
        assert hist.keys() == ref.keys()
        for key in ref:
            np.testing.assert_allclose(hist[key], ref[key], rtol=max(rtol, 1e-10))


def test_threads_that_disagree_on_the_model_all_raise_the_same_error(monkeypatch):
    x, y = _data(40, "float64")
    board = ([None] * 2, threading.Barrier(2))
    local = threading.local()
    monkeypatch.setattr(dist, "job", lambda: getattr(local, "job", None))
    messages = [None, None]

    models = [_model("float64", bprop.optimizers.SGD(0.1), "auto", hidden=16 + 8 * rank)
              for rank in range(2)]

    def worker(rank):
        local.job = ThreadJob(rank, 2, board)
        model = models[rank]
        try:
            model.fit(x, y, batch_size=8 + rank, epochs=1, verbose=0)
        except ValueError as exc:
            messages[rank] = str(exc)

    threads = [threading.Thread(target=worker, args=(r,)) for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert messages[0] == messages[1] == (
        "fit: the processes of the job disagree on batch_size, weights (batch_size: rank 0 8, "
        "rank 1 9; weights: rank 0 [(12, 16), (16,), (16, 4), (4,)], rank 1 [(12, 24), (24,), "
        "(24, 4), (4,)]); every process must train the same model on the same data")


@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("batch", [1, 2, 7, 16])
def test_slices_partition_every_global_batch_in_rank_order(size, batch):
    order = np.random.default_rng(0).permutation(37)
    bounds = [(lo, min(lo + batch, 37)) for lo in range(0, 37, batch)]
    parts = [data_parallel.slices(order, bounds, r, size) for r in range(size)]
    for step, (lo, hi) in enumerate(bounds):
        pieces, start = [], 0
        for rows, counts, offsets, totals in parts:
            assert totals[step] == hi - lo
            assert offsets[step] == start  # contiguous, in rank order
            first = int(counts[:step].sum())
            pieces.append(rows[first:first + counts[step]])
            start += int(counts[step])
            assert abs(int(counts[step]) - (hi - lo) / size) < 1  # balanced to one row
        np.testing.assert_array_equal(np.concatenate(pieces), order[lo:hi])
