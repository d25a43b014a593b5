"""ops.max_pool2d / avg_pool2d / global_average_pool2d and their backward:
against the NumPy twins, the twins against plain loops, float64 central
differences, threads, forged indices, errors."""
import numpy as np
import pytest

import bprop
from bprop import ops, reference

# (h, w, pool, strides, padding)
CASES = [(6, 6, 2, None, "valid"), (7, 5, 3, 2, "same"), (7, 6, (2, 3), 1, "same"),
         (5, 5, 3, 3, "same"), (9, 4, (3, 1), (2, 1), "valid"), (4, 4, 4, None, "valid"),
         (5, 7, 2, 3, "valid")]
IDS = ["%dx%d-p%s-s%s-%s" % c for c in CASES]


def _pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def _windows(h, w, pool, strides, padding):
    """For every output pixel, the list of input positions of its window (plain loops)."""
    ph, pw = _pair(pool)
    sh, sw = _pair(pool if strides is None else strides)
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        pt = max((oh - 1) * sh + ph - h, 0) // 2
        pl = max((ow - 1) * sw + pw - w, 0) // 2
    else:
        oh, ow, pt, pl = (h - ph) // sh + 1, (w - pw) // sw + 1, 0, 0
    return {(oy, ox): [(oy * sh - pt + a, ox * sw - pl + b) for a in range(ph) for b in range(pw)
                       if 0 <= oy * sh - pt + a < h and 0 <= ox * sw - pl + b < w]
            for oy in range(oh) for ox in range(ow)}, oh, ow


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_twins_equal_plain_loops(case):
    h, w, pool, strides, padding = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, h, w, 3))
    wins, oh, ow = _windows(h, w, pool, strides, padding)
    want_max = np.zeros((2, oh, ow, 3))
    want_avg = np.zeros((2, oh, ow, 3))
    for (oy, ox), pos in wins.items():
        vals = np.stack([x[:, iy, ix, :] for iy, ix in pos])
        want_max[:, oy, ox] = vals.max(axis=0)
        want_avg[:, oy, ox] = vals.mean(axis=0)
    y, idx = reference.max_pool2d(x, pool, strides, padding)
    np.testing.assert_array_equal(y, want_max)
    np.testing.assert_array_equal(x.reshape(2, -1)[np.arange(2)[:, None], idx.reshape(2, -1)],
                                  y.reshape(2, -1))
    np.testing.assert_allclose(reference.avg_pool2d(x, pool, strides, padding), want_avg,
                               rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_ops_equal_the_numpy_twins(case, dtype):
    h, w, pool, strides, padding = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, h, w, 4)).astype(dtype)
    x[0, 0, 0, :] = x[0, 0, 1, :]  # a tie: the first one wins
    y, idx = ops.max_pool2d(x, pool, strides, padding)
    yr, ir = reference.max_pool2d(x, pool, strides, padding)
    np.testing.assert_array_equal(y, yr)
    np.testing.assert_array_equal(idx, ir)
    assert idx.dtype == np.int32 and y.dtype == dtype
    dy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_array_equal(ops.max_pool2d_backward(dy, idx, x.shape),
                                  reference.max_pool2d_backward(dy, ir, x.shape))
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(ops.avg_pool2d(x, pool, strides, padding),
                               reference.avg_pool2d(x, pool, strides, padding), **tol)
    np.testing.assert_allclose(ops.avg_pool2d_backward(dy, x.shape, pool, strides, padding),
                               reference.avg_pool2d_backward(dy, x.shape, pool, strides, padding),
                               **tol)
    np.testing.assert_allclose(ops.global_average_pool2d(x), reference.global_average_pool2d(x),
                               **tol)
    g = rng.standard_normal((3, 4)).astype(dtype)
    np.testing.assert_allclose(ops.global_average_pool2d_backward(g, x.shape),
                               reference.global_average_pool2d_backward(g, x.shape), **tol)


def test_max_propagates_nan_and_ignores_padding():
    x = np.full((1, 3, 3, 1), -np.inf)
    y, idx = ops.max_pool2d(x, 2, 2, "same")  # padding is never chosen, even over -inf
    np.testing.assert_array_equal(y, -np.inf)
    assert idx.ravel().tolist() == [0, 2, 6, 8]
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    x[0, 1, 0, 0] = np.nan
    y, idx = ops.max_pool2d(x, 2)
    assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 4
    assert y[0, 1, 1, 0] == 15.0


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_equals_central_differences_float64(case):
    h, w, pool, strides, padding = case
    rng = np.random.default_rng(2)
    x = rng.permutation(2 * h * w * 2).reshape(2, h, w, 2) * 0.01  # distinct: max is smooth
    y, idx = ops.max_pool2d(x, pool, strides, padding)
    r = rng.standard_normal(y.shape)
    eps = 1e-6
    for name, fwd, bwd in (
            ("max", lambda a: ops.max_pool2d(a, pool, strides, padding)[0],
             lambda: ops.max_pool2d_backward(r, idx, x.shape)),
            ("avg", lambda a: ops.avg_pool2d(a, pool, strides, padding),
             lambda: ops.avg_pool2d_backward(r, x.shape, pool, strides, padding)),
            ("global", lambda a: ops.global_average_pool2d(a),
             lambda: ops.global_average_pool2d_backward(r2, x.shape))):
        r2 = r[:, 0, 0, :] if name == "global" else None
        weights = r2 if name == "global" else r
        num = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[i] += eps
            down[i] -= eps
            num[i] = (np.sum(fwd(up) * weights) - np.sum(fwd(down) * weights)) / (2 * eps)
        np.testing.assert_allclose(bwd(), num, rtol=1e-6, atol=1e-8, err_msg=name)


def test_the_same_bits_at_1_2_and_4_threads():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 26, 26, 32)).astype(np.float32)
    before = bprop.get_num_threads()
    runs = []
    try:
        for t in (1, 2, 4):
            bprop.set_num_threads(t)
            y, idx = ops.max_pool2d(x, 2)
            a = ops.avg_pool2d(x, 3, 2, "same")
            runs.append((y, idx, ops.max_pool2d_backward(y, idx, x.shape), a,
                         ops.avg_pool2d_backward(a, x.shape, 3, 2, "same"),
                         ops.global_average_pool2d(x)))
    finally:
        bprop.set_num_threads(before)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


def test_forged_indices_are_refused_before_anything_is_written():
    dy = np.ones((1, 2, 2, 1))
    for bad in (16, -2, 2 ** 31 - 1):
        idx = np.zeros((1, 2, 2, 1), np.int32)
        idx[0, 1, 1, 0] = bad
        with pytest.raises(ValueError, match=r"indices: expected values in \[-1, 16\) \(from "
                                             r"max_pool2d of x_shape \(1, 4, 4, 1\)\), got %d at "
                                             r"flat position 3" % bad):
            ops.max_pool2d_backward(dy, idx, (1, 4, 4, 1))


def test_empty_batches():
    x = np.zeros((0, 4, 4, 2), np.float32)
    y, idx = ops.max_pool2d(x, 2)
    assert y.shape == idx.shape == (0, 2, 2, 2)
    assert ops.max_pool2d_backward(y, idx, x.shape).shape == x.shape
    assert ops.avg_pool2d_backward(ops.avg_pool2d(x, 2), x.shape, 2).shape == x.shape
    assert ops.global_average_pool2d(x).shape == (0, 2)


@pytest.mark.parametrize("call,error,message", [
    (lambda: ops.max_pool2d(np.zeros((1, 3, 3, 1)), 4), ValueError,
     r"x: the 4x4 pool window does not fit in the 3x3 input with padding='valid'"),
    (lambda: ops.avg_pool2d(np.zeros((3, 3, 1)), 2), ValueError, r"x: expected a 4-D array"),
    (lambda: ops.max_pool2d(np.zeros((1, 4, 4, 1)), 2, padding="causal"), ValueError,
     r"padding: expected 'valid' or 'same', got 'causal'"),
    (lambda: ops.max_pool2d(np.zeros((1, 4, 4, 1)), (2, True)), TypeError,
     r"pool_size: expected an int or a pair of ints"),
    (lambda: ops.max_pool2d_backward(np.zeros((1, 2, 2, 1)), np.zeros((1, 2, 2, 1), np.int64),
                                     (1, 4, 4, 1)), TypeError,
     r"indices: expected dtype int32 \(from max_pool2d\), got int64"),
    (lambda: ops.max_pool2d_backward(np.zeros((1, 2, 2, 1)), np.zeros((1, 2, 2, 1), np.int32),
                                     (1, 4, 4)), TypeError,
     r"x_shape: expected a sequence of 4 ints \(n, h, w, c\)"),
    (lambda: ops.avg_pool2d_backward(np.zeros((1, 3, 3, 1)), (1, 4, 4, 1), 2), ValueError,
     r"dy: expected shape \(1, 2, 2, 1\) \(avg_pool2d's output for x_shape \(1, 4, 4, 1\)\), "
     r"got \(1, 3, 3, 1\)"),
    (lambda: ops.global_average_pool2d_backward(np.zeros((2, 3)), (2, 4, 4, 1)), ValueError,
     r"dy: expected shape \(2, 1\) \(n, c\) for x_shape \(2, 4, 4, 1\), got \(2, 3\)"),
])
def test_bad_arguments_raise_naming_them(call, error, message):
    with pytest.raises(error, match=message):
        call()
