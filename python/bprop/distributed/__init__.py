"""``bprop.distributed``: data-parallel training over MPI, Horovod's way.

    import bprop.distributed as dist
    dist.init()                  # under `mpiexec -n N python train.py`
    model.fit(x, y, batch_size=256, epochs=5)   # now data-parallel, unchanged

After :func:`init`, ``model.fit`` runs on every process with the global
batch ``batch_size`` (Keras 3's DataParallel meaning): every process draws
the same shuffled order, takes its own contiguous slice of each global
batch, and the compiled step sums the gradients, the loss and the metric
counts of all processes in one Allreduce per step, each process's part
weighted by its rows, so the result is the global batch's mean exactly
(uneven slices included) and every process makes the same update.  The
weights, the optimizer's slots and its step count are broadcast from rank 0
when training begins.  Logs are global; progress output, saving,
``ModelCheckpoint``, ``CSVLogger`` and ``plot_history`` act on rank 0 only.

Without ``mpiexec`` (or with one process) everything here is a no-op:
``rank() == 0``, ``size() == 1``.  mpi4py is imported only under an MPI
launcher (``pip install "bprop[mpi]"`` brings mpi4py and MPICH's wheels).

Scaling recipe (as Horovod's): scale the learning rate with the number of
processes, ``lr * dist.size()``, and warm it up over the first epochs with
:class:`LearningRateWarmup`.
"""
from __future__ import annotations

import numpy as np

from .comm import Job, launched_by_mpiexec
from .optimizer import DistributedOptimizer
from .warmup import LearningRateWarmup

__all__ = ["init", "shutdown", "is_initialized", "rank", "size", "local_rank", "local_size",
           "is_root", "allreduce", "broadcast", "barrier", "DistributedOptimizer",
           "LearningRateWarmup", "scale_learning_rate"]

DEFAULT_TIMEOUT = 300.0

_job = None          # the Job of a multi-process run
_initialized = False


def init(timeout=DEFAULT_TIMEOUT, comm=None):
    """Join the job.  ``timeout`` (seconds): how long a collective waits for the
    other processes before aborting the job with a message naming it.
    ``comm``: an mpi4py communicator (default ``COMM_WORLD``).  Idempotent."""
    global _job, _initialized
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError("timeout: expected a number of seconds > 0, got %r" % (timeout,))
    if _initialized:
        return
    _initialized = True
    if comm is None and not launched_by_mpiexec():
        return  # one process: nothing to join
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError("bprop.distributed: this process was started by mpiexec but mpi4py "
                          "is not installed: pip install \"bprop[mpi]\"") from None
    comm = MPI.COMM_WORLD if comm is None else comm
    if comm.Get_size() == 1:
        return
    _job = Job(comm, timeout)
    # The same random stream in every process (shuffles, dropout seeds,
    # initial weights): rank 0's, whatever each seeded before.
    from .. import utils

    state = _job.bcast_object(utils.get_rng().bit_generator.state, what="init")
    utils.get_rng().bit_generator.state = state


def shutdown():
    """Leave the job (the excepthook is restored); init may be called again."""
    global _job, _initialized
    if _job is not None:
        _job.close()
    _job = None
    _initialized = False


def is_initialized():
    return _initialized


def job():
    """The multi-process Job, or None (one process)."""
    return _job


def rank():
    return 0 if _job is None else _job.rank


def size():
    return 1 if _job is None else _job.size


def local_rank():
    return 0 if _job is None else _job.local_rank


def local_size():
    return 1 if _job is None else _job.local_size


def is_root():
    """True on rank 0 (and in a single process): the one that writes files and prints."""
    return _job is None or _job.rank == 0


def allreduce(value, op="sum"):
    """The sum (``op="sum"``) or mean (``"mean"``) of ``value`` over the processes, as a
    new array (a float for a Python number)."""
    if op not in ("sum", "mean"):
        raise ValueError("op: expected 'sum' or 'mean', got %r" % (op,))
    scalar = np.isscalar(value)
    arr = np.array(value, copy=True)
    if arr.dtype.kind not in "fiub":
        raise TypeError("value: expected numbers, got dtype %s" % arr.dtype)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    buf = np.ascontiguousarray(arr)
    if _job is not None:
        _job.allreduce_inplace(buf.reshape(-1), what="allreduce")
    if op == "mean":
        buf = buf / size()
    return buf.item() if scalar else buf


def broadcast(value, root=0):
    """Rank ``root``'s ``value`` on every process: an ndarray is copied in place
    (same shape and dtype everywhere); anything else is sent as an object."""
    if _job is None:
        return value
    if isinstance(value, np.ndarray):
        if not value.flags.c_contiguous:
            raise ValueError("value: expected a C-contiguous array to broadcast in place")
        _job.bcast_inplace(value.reshape(-1), root=root, what="broadcast")
        return value
    return _job.bcast_object(value, root=root, what="broadcast")


def barrier():
    if _job is not None:
        _job.barrier()


def scale_learning_rate(learning_rate):
    """Horovod's recipe: the single-process rate times the number of processes."""
    return learning_rate * size()
