"""ops.conv2d / conv2d_backward: against the NumPy twin, the twin against plain
loops, closed forms, float64 central differences, threads, errors."""
import numpy as np
import pytest

import bprop
from bprop import ops, reference

# (h, w, c, kh, kw, f, strides, dilation, padding)
CASES = [
    (7, 9, 3, 3, 2, 4, 1, 1, "valid"),        # odd sizes
    (8, 8, 2, 3, 3, 5, 2, 1, "same"),         # stride 2, even input
    (9, 7, 3, 2, 3, 4, (2, 1), (1, 2), "same"),  # mixed strides and dilations
    (5, 5, 1, 5, 5, 2, 1, 1, "valid"),        # a kernel as large as the input, one channel
    (6, 6, 4, 1, 1, 3, 1, 1, "valid"),        # pointwise (read in place)
    (6, 6, 4, 1, 1, 3, 2, 1, "same"),         # 1x1 strided
    (10, 10, 2, 3, 3, 3, 1, 3, "valid"),      # dilation 3
    (4, 6, 3, 3, 3, 2, 3, 1, "same"),         # stride larger than the overlap
]
IDS = ["%dx%dx%d-k%dx%dx%d-s%s-d%s-%s" % c for c in CASES]


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _naive_conv(x, kernel, bias, strides, dilation, padding):
    """Loops over every output pixel and kernel tap, with TensorFlow's padding."""
    n, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    sh, sw = (strides, strides) if np.isscalar(strides) else strides
    dh, dw = (dilation, dilation) if np.isscalar(dilation) else dilation
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        pt = max((oh - 1) * sh + (kh - 1) * dh + 1 - h, 0) // 2
        pl = max((ow - 1) * sw + (kw - 1) * dw + 1 - w, 0) // 2
    else:
        oh, ow = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1
        pt = pl = 0
    y = np.zeros((n, oh, ow, f))
    for i in range(n):
        for oy in range(oh):
            for ox in range(ow):
                for ky in range(kh):
                    for kx in range(kw):
                        iy, ix = oy * sh - pt + ky * dh, ox * sw - pl + kx * dw
                        if 0 <= iy < h and 0 <= ix < w:
                            y[i, oy, ox] += x[i, iy, ix].astype(np.float64) @ kernel[ky, kx]
    return y + (0 if bias is None else bias)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reference_twin_equals_plain_loops(case):
    h, w, c, kh, kw, f, s, d, pad = case
    rng = np.random.default_rng(1)
    x, k, b = _rand(rng, (2, h, w, c), np.float64), _rand(rng, (kh, kw, c, f), np.float64), \
        _rand(rng, (f,), np.float64)
    want = _naive_conv(x, k, b, s, d, pad)
    got = reference.conv2d(x, k, b, strides=s, padding=pad, dilation_rate=d)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", [None, "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_and_backward_equal_the_numpy_twin(case, act, dtype):
    h, w, c, kh, kw, f, s, d, pad = case
    rng = np.random.default_rng(2)
    x, k, b = _rand(rng, (3, h, w, c), dtype), _rand(rng, (kh, kw, c, f), dtype), \
        _rand(rng, (f,), dtype)
    geo = dict(strides=s, padding=pad, dilation_rate=d)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    y = ops.conv2d(x, k, b, activation=act, **geo)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, reference.conv2d(x, k, b, activation=act, **geo), **tol)
    dy = _rand(rng, y.shape, dtype)
    zy = ops.conv2d(x, k, b, **geo) if act == "gelu" else y
    got = ops.conv2d_backward(dy, x, k, zy, act, **geo)
    want = reference.conv2d_backward(dy, x, k, zy, act, **geo)
    for name, g, r in zip(("dx", "dw", "db"), got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, r, err_msg=name, **tol)


def test_a_delta_kernel_shifts_the_image():
    """A kernel with one 1 at (ky, kx) copies the input shifted by that tap."""
    rng = np.random.default_rng(3)
    x = _rand(rng, (2, 6, 7, 3), np.float64)
    k = np.zeros((3, 3, 3, 3))
    for ch in range(3):
        k[2, 0, ch, ch] = 1.0  # tap (2, 0): output (oy, ox) reads input (oy + 2, ox)
    np.testing.assert_array_equal(ops.conv2d(x, k), x[:, 2:6, 0:5, :])
    # 'same' pads 1 on each side: the tap reads (oy + 1, ox - 1), zero outside.
    want = np.zeros_like(x)
    want[:, :5, 1:, :] = x[:, 1:, :6, :]
    np.testing.assert_array_equal(ops.conv2d(x, k, padding="same"), want)


def test_output_sizes_are_kerass():
    x = np.zeros((1, 28, 28, 1), np.float32)
    assert ops.conv2d(x, np.zeros((3, 3, 1, 32), np.float32)).shape == (1, 26, 26, 32)
    assert ops.conv2d(x, np.zeros((5, 5, 1, 2), np.float32), strides=2,
                      padding="same").shape == (1, 14, 14, 2)
    assert ops.conv2d(x, np.zeros((3, 3, 1, 2), np.float32), strides=3).shape == (1, 9, 9, 2)
    assert ops.conv2d(x, np.zeros((3, 3, 1, 2), np.float32), dilation_rate=2).shape == \
        (1, 24, 24, 2)


def _central_difference(f, array, eps=1e-6):
    grad = np.zeros_like(array)
    flat, g = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        g[i] = (up - down) / (2 * eps)
    return grad


GRAD_CASES = [
    (1, 5, 4, 2, 3, 2, 3, 1, 1, "valid", "tanh"),    # batch 1, odd sizes
    (2, 6, 5, 1, 3, 3, 2, 2, 1, "same", "sigmoid"),  # one channel, stride 2
    (2, 7, 7, 2, 3, 3, 2, 1, 2, "valid", None),      # dilation 2
    (2, 4, 4, 2, 4, 4, 3, 1, 1, "valid", "gelu"),    # kernel as large as the input
    (1, 5, 6, 3, 2, 2, 2, (2, 1), (1, 2), "same", "relu"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[str(i) for i in range(len(GRAD_CASES))])
def test_backward_equals_central_differences_float64(case):
    n, h, w, c, kh, kw, f, s, d, pad, act = case
    rng = np.random.default_rng(4)
    x, k, b = rng.standard_normal((n, h, w, c)), rng.standard_normal((kh, kw, c, f)), \
        rng.standard_normal(f)
    geo = dict(strides=s, padding=pad, dilation_rate=d)
    y = ops.conv2d(x, k, b, activation=act, **geo)
    r = rng.standard_normal(y.shape)

    def loss():
        return float(np.sum(ops.conv2d(x, k, b, activation=act, **geo) * r))

    zy = ops.conv2d(x, k, b, **geo) if act == "gelu" else y
    dx, dw, db = ops.conv2d_backward(r, x, k, zy, act, **geo)
    for name, got, arr in (("dx", dx, x), ("dw", dw, k), ("db", db, b)):
        np.testing.assert_allclose(got, _central_difference(loss, arr), rtol=1e-6, atol=1e-7,
                                   err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 14, 14, 8, 3, 3, 16, "same"), (5, 30, 30, 3, 5, 5, 8, "valid"),
                                   (40, 8, 8, 16, 1, 1, 32, "valid"),
                                   # several tiles per image range, the packed GEMM inside
                                   # each thread's tile loop (it once shared its loops with
                                   # the enclosing team)
                                   (256, 6, 6, 32, 3, 3, 64, "same")])
def test_the_same_bits_at_1_2_and_4_threads(shape, dtype):
    n, h, w, c, kh, kw, f, pad = shape
    rng = np.random.default_rng(5)
    x, k, b = _rand(rng, (n, h, w, c), dtype), _rand(rng, (kh, kw, c, f), dtype), _rand(rng, (f,), dtype)
    before = bprop.get_num_threads()
    results = []
    try:
        for t in (1, 2, 4):
            bprop.set_num_threads(t)
            y = ops.conv2d(x, k, b, padding=pad, activation="relu")
            grads = ops.conv2d_backward(np.ones_like(y) * 0.5 + y, x, k, y, "relu", padding=pad)
            results.append((y,) + grads)
    finally:
        bprop.set_num_threads(before)
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            np.testing.assert_array_equal(a, b_)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(results[0][0], reference.conv2d(x, k, b, padding=pad,
                                                               activation="relu"), **tol)


def test_an_empty_batch_gives_empty_outputs_and_zero_weight_gradients():
    x = np.zeros((0, 5, 5, 2), np.float32)
    k = np.ones((3, 3, 2, 4), np.float32)
    y = ops.conv2d(x, k, np.ones(4, np.float32), activation="relu")
    assert y.shape == (0, 3, 3, 4)
    dx, dw, db = ops.conv2d_backward(y, x, k, y, "relu")
    assert dx.shape == (0, 5, 5, 2)
    np.testing.assert_array_equal(dw, 0)
    np.testing.assert_array_equal(db, 0)


def test_out_receives_the_result():
    rng = np.random.default_rng(6)
    x, k = _rand(rng, (2, 5, 5, 2), np.float32), _rand(rng, (3, 3, 2, 3), np.float32)
    out = np.empty((2, 3, 3, 3), np.float32)
    assert ops.conv2d(x, k, out=out) is out
    np.testing.assert_allclose(out, reference.conv2d(x, k), rtol=1e-5, atol=1e-6)
    dx, dw, db = np.empty_like(x), np.empty_like(k), np.empty(3, np.float32)
    got = ops.conv2d_backward(out, x, k, dx=dx, dw=dw, db=db)
    assert got[0] is dx and got[1] is dw and got[2] is db
    assert ops.conv2d_backward(out, x, k, need_dx=False, need_db=False)[::2] == (None, None)


@pytest.mark.parametrize("call,error,message", [
    (lambda: ops.conv2d(np.zeros((1, 5, 5)), np.zeros((3, 3, 1, 1))), ValueError,
     r"x: expected a 4-D array, got shape \(1, 5, 5\)"),
    (lambda: ops.conv2d(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 3, 1))), ValueError,
     r"x, kernel: x has 2 channels but the kernel takes 3"),
    (lambda: ops.conv2d(np.zeros((1, 5, 5, 2), np.float32), np.zeros((3, 3, 2, 1))), TypeError,
     r"kernel: expected float32 \(the dtype of x\), got float64"),
    (lambda: ops.conv2d(np.zeros((1, 2, 2, 1)), np.zeros((3, 3, 1, 1))), ValueError,
     r"x: the 3x3 kernel does not fit in the 2x2 input with padding='valid'"),
    (lambda: ops.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), dilation_rate=3),
     ValueError, r"x: the 3x3 kernel \(dilated to 7x7\) does not fit in the 5x5 input"),
    (lambda: ops.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), padding="full"),
     ValueError, r"padding: expected 'valid' or 'same', got 'full'"),
    (lambda: ops.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), strides=0), ValueError,
     r"strides: expected values in \[1, 2\*\*30\], got 0"),
    (lambda: ops.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), strides=(1, 2, 3)),
     TypeError, r"strides: expected an int or a pair of ints, got \(1, 2, 3\)"),
    (lambda: ops.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 2)), np.zeros(3)), ValueError,
     r"bias: expected shape \(2,\) \(one per filter\), got \(3,\)"),
    (lambda: ops.conv2d(np.zeros((1, 5, 5, 0)), np.zeros((3, 3, 0, 2))), ValueError,
     r"x: expected at least one channel"),
    (lambda: ops.conv2d_backward(np.zeros((1, 2, 2, 1)), np.zeros((1, 5, 5, 1)),
                                 np.zeros((3, 3, 1, 1))), ValueError,
     r"dy: expected shape \(1, 3, 3, 1\) \(conv2d's output\), got \(1, 2, 2, 1\)"),
    (lambda: ops.conv2d_backward(np.zeros((1, 3, 3, 1)), np.zeros((1, 5, 5, 1)),
                                 np.zeros((3, 3, 1, 1)), activation="relu"), ValueError,
     r"z_or_y: required for activation 'relu', got None"),
])
def test_bad_arguments_raise_naming_them(call, error, message):
    with pytest.raises(error, match=message):
        call()
