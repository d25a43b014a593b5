"""The job's communicator: mpi4py behind a few collectives that never hang.

Every collective is posted non-blocking and waited for with a deadline
(``init(timeout=...)``): a process that died, hangs or took another path
makes the others abort the whole job with a message naming the operation,
instead of waiting forever (what Horovod users meet most).  An exception
that reaches the top of any process ends the job the same way
(``sys.excepthook`` aborts the communicator), so ``mpiexec`` returns
non-zero within seconds.  A process whose program ends while the others
still wait in a collective tells them so (a "goodbye" message on a
communicator of its own, sent at exit), and they abort at once instead of
waiting for the timeout.
"""
from __future__ import annotations

import atexit
import os
import pickle
import sys
import time
import traceback

import numpy as np

__all__ = ["Job", "launched_by_mpiexec"]

_GOODBYE_TAG = 7
# After a goodbye, how long a pending collective may still complete: the
# leaving process may have finished its part of it just before leaving.
_GOODBYE_GRACE_S = 2.0
_FORWARD_GRACE_S = 0.3
# How a collective waits (see Job._wait).
_SPIN_S = 0.002
_YIELD_UNTIL_S = 0.02
_MAX_NAP_S = 0.001

# Environment variables a process started by mpiexec has (MPICH/Hydra, Open MPI, PMIx, Slurm).
_LAUNCH_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS",
                "HYDRA_CONTROL_FD")


def launched_by_mpiexec():
    """True when this process was started by an MPI launcher."""
    return any(v in os.environ for v in _LAUNCH_VARS)


class Job:
    """A data-parallel job of ``size`` processes (mpi4py's communicator inside)."""

    def __init__(self, comm, timeout):
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank = local.Get_rank()
        self.local_size = local.Get_size()
        local.Free()
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else (os.cpu_count() or 1)
        self.spin_s = _SPIN_S if self.local_size <= cores else 0.0
        self.timeout = float(timeout)
        self._goodbyes = comm.Dup()  # apart from the collectives' traffic
        self._previous_hook = sys.excepthook
        sys.excepthook = self._abort_on_exception
        atexit.register(self.close)

    # ------------------------------------------------------------------ failure
    def _abort_on_exception(self, kind, value, tb):
        sys.stderr.write("bprop.distributed: rank %d of %d failed; ending the job\n"
                         % (self.rank, self.size))
        sys.stderr.write("".join(traceback.format_exception(kind, value, tb)))
        self._end_job()

    def abort(self, message):
        sys.stderr.write("bprop.distributed: rank %d of %d: %s; ending the job\n"
                         % (self.rank, self.size, message))
        self._end_job()

    def _end_job(self):
        sys.stderr.flush()
        # mpiexec forwards each process's output through a proxy that the
        # abort kills: give it a moment to pass the message on first.
        time.sleep(_FORWARD_GRACE_S)
        self.comm.Abort(1)

    def _wait(self, request, what):
        """Wait for a non-blocking request, aborting the job past the timeout or
        soon after another process's program ended.

        A step's Allreduce usually completes within microseconds of the last
        process arriving, so the wait polls without sleeping for a while
        (``self.spin_s``: a sleep costs a timer tick, more than the step),
        then yields the core, then sleeps in growing naps.  With more
        processes than cores on a node the spin is skipped: it would take
        the core from a process that still computes."""
        start = time.monotonic()
        deadline = start + self.timeout
        polls = 0
        nap = 0.0
        left = None
        while True:
            done, value = request.test()
            if done:
                return value
            polls += 1
            if polls & 63:
                continue
            now = time.monotonic()
            waited = now - start
            if waited < self.spin_s:
                continue
            if waited < _YIELD_UNTIL_S:
                time.sleep(0)  # let another runnable process have the core
            else:
                nap = min(_MAX_NAP_S, max(50e-6, 2 * nap))
                time.sleep(nap)
            if left is not None and now > left[1]:
                self.abort("%s waits for rank %d, whose program has ended (it took another "
                           "path)" % (what, left[0]))
            if now > deadline:
                self.abort("%s waited more than %g s for the other processes (one failed, "
                           "hangs or took another path)" % (what, self.timeout))
            if left is None:
                rank = self._who_left()
                if rank is not None:
                    left = (rank, now + _GOODBYE_GRACE_S)

    def _who_left(self):
        """The rank of a process whose program has ended, or None."""
        status = self.MPI.Status()
        if self._goodbyes.Iprobe(source=self.MPI.ANY_SOURCE, tag=_GOODBYE_TAG, status=status):
            return status.Get_source()
        return None

    # ------------------------------------------------------------------ collectives
    def allreduce_inplace(self, buf, what="allreduce"):
        """``buf`` = the sum of every process's ``buf`` (a contiguous array, in place)."""
        req = self.comm.Iallreduce(self.MPI.IN_PLACE, buf, op=self.MPI.SUM)
        self._wait(_Request(req), what)
        return buf

    def bcast_inplace(self, buf, root=0, what="broadcast"):
        """Every process's ``buf`` = the root's (a contiguous array, in place)."""
        req = self.comm.Ibcast(buf, root=root)
        self._wait(_Request(req), what)
        return buf

    def bcast_object(self, obj, root=0, what="broadcast"):
        """The root's ``obj`` (pickled; its length first, then its bytes)."""
        data = np.frombuffer(pickle.dumps(obj), dtype=np.uint8) if self.rank == root else None
        length = np.array([0 if data is None else data.size], dtype=np.int64)
        self.bcast_inplace(length, root, what)
        buf = data.copy() if data is not None else np.empty(int(length[0]), dtype=np.uint8)
        self.bcast_inplace(buf, root, what)
        return obj if self.rank == root else pickle.loads(buf.tobytes())

    def allgather_object(self, obj, what="allgather"):
        """Every process's ``obj``, in rank order (small objects: a few KB)."""
        data = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
        sizes = np.zeros(self.size, dtype=np.int64)
        sizes[self.rank] = data.size
        self.allreduce_inplace(sizes, what)
        buf = np.zeros(int(sizes.sum()), dtype=np.uint8)
        start = int(sizes[:self.rank].sum())
        buf[start:start + data.size] = data
        self.allreduce_inplace(buf, what)  # disjoint parts: the sum is the concatenation
        out, pos = [], 0
        for n in sizes.tolist():
            out.append(pickle.loads(buf[pos:pos + n].tobytes()))
            pos += n
        return out

    def barrier(self, what="barrier"):
        self._wait(_Request(self.comm.Ibarrier()), what)

    def any(self, flag, what="a decision"):
        """True on every process when ``flag`` is true on any."""
        buf = np.array([1 if flag else 0], dtype=np.int64)
        return bool(self.allreduce_inplace(buf, what)[0])

    def close(self):
        """Leave the job: say goodbye to every other process and wait for theirs
        (what MPI_Finalize would wait for anyway), without spinning a core."""
        if self._goodbyes is None:
            return
        atexit.unregister(self.close)
        sys.excepthook = self._previous_hook
        others = [r for r in range(self.size) if r != self.rank]
        note = np.zeros(1, dtype=np.uint8)
        sends = [self._goodbyes.Isend(note, dest=r, tag=_GOODBYE_TAG) for r in others]
        inbox = np.zeros(len(others), dtype=np.uint8)
        recvs = [self._goodbyes.Irecv(inbox[i:i + 1], source=r, tag=_GOODBYE_TAG)
                 for i, r in enumerate(others)]
        pending = sends + recvs
        while not self.MPI.Request.Testall(pending):
            time.sleep(0.001)
        self._goodbyes.Free()
        self._goodbyes = None


class _Request:
    """A buffer request with the (done, value) ``test()`` of mpi4py's object requests."""

    def __init__(self, request):
        self.request = request

    def test(self):
        return self.request.Test(), None
