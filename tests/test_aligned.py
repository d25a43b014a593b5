"""Variables and optimizer slots start on a cache line (bprop/_aligned.py)."""
import numpy as np
import pytest

import bprop
from bprop._aligned import aligned_copy


@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (784, 64), (3, 0, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_aligned_copy_keeps_values_shape_and_dtype(shape, dtype):
    src = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * 0.5
    out = aligned_copy(src, dtype)
    if out.size:  # an empty array's data pointer is NumPy's own placeholder
        assert out.ctypes.data % 64 == 0
    assert out.shape == shape and out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out, src.astype(dtype))
    out[...] = 1  # a copy: the source is untouched
    assert not np.shares_memory(out, src)


def test_variables_and_slots_are_aligned():
    v = bprop.Variable(np.ones((784, 64), np.float32)[:, 3:])  # a non-contiguous start
    assert v.value.ctypes.data % 64 == 0
    np.testing.assert_array_equal(v.value, np.ones((784, 61), np.float32))
    opt = bprop.optimizers.Adam(0.01)
    opt.apply_gradients([(np.full(v.shape, 0.1, np.float32), v)])
    for name in ("m", "v"):
        slot = opt.get_slot(v, name)
        assert slot.ctypes.data % 64 == 0 and slot.shape == v.shape
    np.testing.assert_allclose(v.value, 1 - 0.01, rtol=1e-5)  # Adam's first step is lr
