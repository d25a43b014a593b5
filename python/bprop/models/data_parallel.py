"""What ``fit`` does differently in a data-parallel job (bprop.distributed).

* Before training: every process checks that all agree on what they train
  (weight shapes, dtype, samples, batch size, epochs), and rank 0's random
  state (the shuffles, Dropout's seeds), weights, optimizer slots and step
  count are broadcast.
* Each step: every process takes its contiguous slice of the global batch
  (``slices``); the compiled step reduces (engine: ``allreduce=``).
* At each epoch's end: ``stop_training`` is OR-ed over the processes.
"""
from __future__ import annotations

import numpy as np

__all__ = ["check_agreement", "share_random_state", "broadcast_state", "slices"]


def check_agreement(job, model, n, batch_size, epochs):
    """Raise the same ValueError on every process when they would train differently."""
    mine = {"weights": [tuple(w.shape) for w in model.weights], "dtype": model.dtype,
            "samples": n, "batch_size": batch_size, "epochs": epochs,
            "input_shape": tuple(model._sample_shape)}
    everyone = job.allgather_object(mine, what="fit: agreement check")
    differ = sorted({key for other in everyone for key in mine if other[key] != everyone[0][key]})
    if differ:
        detail = "; ".join("%s: %s" % (key, ", ".join("rank %d %r" % (r, e[key])
                                                      for r, e in enumerate(everyone)))
                           for key in differ)
        raise ValueError("fit: the processes of the job disagree on %s (%s); every process "
                         "must train the same model on the same data"
                         % (", ".join(differ), detail))


def share_random_state(job):
    """Rank 0's global random state everywhere: the same shuffled order on every
    process even when a program seeded each one differently after ``init``."""
    from .. import utils

    rng = utils.get_rng()
    rng.bit_generator.state = job.bcast_object(rng.bit_generator.state,
                                               what="fit: broadcast of the random state")


def broadcast_state(job, model, trainable):
    """Rank 0's weights, optimizer slots and step count, on every process."""
    for var in model.weights:
        job.bcast_inplace(var.value.reshape(-1), what="fit: broadcast of the weights")
    opt = model.optimizer
    for var in trainable:
        for slot in opt._ensure_slots(var):
            job.bcast_inplace(slot.reshape(-1), what="fit: broadcast of the optimizer state")
    opt.iterations = int(job.bcast_object(opt.iterations, what="fit: broadcast of the step count"))


def slices(order, bounds, rank, size):
    """This process's rows of the global batches ``bounds`` (of ``order``), and per
    batch: its row count, its first row's offset in the global batch, the batch's rows."""
    rows, counts, offsets, totals = [], [], [], []
    for lo, hi in bounds:
        g = hi - lo
        base, extra = divmod(g, size)
        start = rank * base + min(rank, extra)
        count = base + (1 if rank < extra else 0)
        rows.append(order[lo + start:lo + start + count])
        counts.append(count)
        offsets.append(start)
        totals.append(g)
    return (np.concatenate(rows) if rows else np.zeros(0, np.int64),
            np.array(counts, np.int64), np.array(offsets, np.int64), np.array(totals, np.int64))
