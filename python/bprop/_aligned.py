"""Arrays whose data starts on a 64-byte (cache-line) boundary.

The core's team step (csrc/core/plan/train_plan_team.cpp) gives each thread
its own columns of every weight matrix and of the optimizer's slots.  A row
that starts mid-line would put two threads' columns in one cache line, and
their writes would bounce it between the cores every step; NumPy only
promises 16-byte alignment.  Variables and slots are allocated with this.
"""
import numpy as np

CACHE_LINE = 64


def aligned_copy(value, dtype):
    """A C-contiguous copy of ``value`` as ``dtype``, its data 64-byte aligned."""
    src = np.asarray(value, dtype=dtype)
    dtype = src.dtype
    nbytes = max(src.size, 1) * dtype.itemsize
    raw = np.empty(nbytes + CACHE_LINE, dtype=np.uint8)
    offset = (-raw.ctypes.data) % CACHE_LINE
    out = raw[offset:offset + src.size * dtype.itemsize].view(dtype).reshape(src.shape)
    out[...] = src
    return out
