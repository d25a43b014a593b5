"""Arrays whose data starts on a 64-byte (cache-line) boundary.

NumPy only promises 16-byte alignment.  On an array that starts mid-line,
every 64-byte vector load of the core's update loops straddles two cache
lines, and the shares that the team step's threads update
(csrc/core/plan/train_plan_team.cpp, whole lines each) meet inside a line
both threads write.  When the team split the update by weight columns,
that line was on every row and the update phase took 75 us per step of the
seed MLP instead of about 35.  Variables and optimizer slots are allocated
with this.
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
