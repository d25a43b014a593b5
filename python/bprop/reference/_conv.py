"""The convolution and pooling twins (NHWC images, HWIO kernels).

Written the way NumPy code does it: pad, take the k x k strided views of the
padded images, and either stack them into im2col rows (one matmul) or reduce
over them.  The C++ core computes the same sums in tiles.
"""
from __future__ import annotations

import numpy as np

from ._activations import ACT_BACKWARD, ACT_FORWARD, activation_name
from ._common import put as _put


def pair(value, name):
    """An int or a pair of ints >= 1, as ``(a, b)``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    try:
        a, b = value
    except (TypeError, ValueError):
        raise TypeError("%s: expected an int or a pair of ints, got %r" % (name, value)) from None
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= 2 ** 30:
            raise ValueError("%s: expected values in [1, 2**30], got %r" % (name, value))
    return int(a), int(b)


def padding_is_same(padding):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError("padding: expected 'valid' or 'same', got %r" % (padding,))
    return padding.lower() == "same"


def geometry(size, window, stride, dilation, same):
    """``(out, pad_before, pad_after)`` of one spatial axis, as TensorFlow."""
    span = (window - 1) * dilation + 1
    if same:
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        return out, total // 2, total - total // 2
    out = (size - span) // stride + 1 if size >= span else 0
    return out, 0, 0


def _views(xp, oh, ow, kh, kw, sh, sw, dh, dw):
    """The kh*kw strided views (n, oh, ow, c) of padded images, in window order."""
    return [xp[:, ky * dh: ky * dh + (oh - 1) * sh + 1: sh, kx * dw: kx * dw + (ow - 1) * sw + 1: sw, :]
            for ky in range(kh) for kx in range(kw)]


def _conv_setup(x, kernel, strides, padding, dilation_rate):
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    if x.ndim != 4 or kernel.ndim != 4 or kernel.shape[2] != x.shape[3]:
        raise ValueError("x, kernel: expected x (n, h, w, c) and kernel (kh, kw, c, f), got %s and %s"
                         % (x.shape, kernel.shape))
    sh, sw = pair(strides, "strides")
    dh, dw = pair(dilation_rate, "dilation_rate")
    same = padding_is_same(padding)
    kh, kw = kernel.shape[:2]
    oh, pt, pb = geometry(x.shape[1], kh, sh, dh, same)
    ow, pl, pr = geometry(x.shape[2], kw, sw, dw, same)
    if oh == 0 or ow == 0:
        raise ValueError("x: the %dx%d kernel does not fit in the %dx%d input with padding=%r"
                         % (kh, kw, x.shape[1], x.shape[2], padding))
    return x, kernel, (sh, sw, dh, dw, oh, ow, pt, pb, pl, pr)


def _im2col(x, kernel_hw, geo):
    sh, sw, dh, dw, oh, ow, pt, pb, pl, pr = geo
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    views = _views(xp, oh, ow, kernel_hw[0], kernel_hw[1], sh, sw, dh, dw)
    rows, cols = x.shape[0] * oh * ow, kernel_hw[0] * kernel_hw[1] * x.shape[3]
    return np.stack(views, axis=3).reshape(rows, cols)  # columns: (ky, kx, c)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, activation=None,
           out=None):
    """``act(conv(x, kernel) + bias)``: x (n, h, w, c), kernel (kh, kw, c, f) -> (n, oh, ow, f)."""
    x, kernel, geo = _conv_setup(x, kernel, strides, padding, dilation_rate)
    name = activation_name(activation)
    f = kernel.shape[3]
    z = _im2col(x, kernel.shape[:2], geo) @ kernel.reshape(-1, f)
    if bias is not None:
        z = z + np.asarray(bias)
    if name != "linear":
        z = ACT_FORWARD[name](z)
    return _put(z.reshape(x.shape[0], geo[4], geo[5], f), out)


def conv2d_backward(dy, x, kernel, z_or_y=None, activation=None, strides=1, padding="valid",
                    dilation_rate=1, dx=None, dw=None, db=None, need_dx=True, need_dw=True,
                    need_db=True):
    """Backward of :func:`conv2d`: ``(dx, dw, db)`` (z_or_y as in dense_backward)."""
    x, kernel, geo = _conv_setup(x, kernel, strides, padding, dilation_rate)
    sh, sw, dh, dw_, oh, ow, pt, pb, pl, pr = geo
    name = activation_name(activation)
    kh, kw, c, f = kernel.shape
    dz = np.asarray(dy).reshape(-1, f)
    if name != "linear":
        if z_or_y is None:
            raise ValueError("z_or_y: required for activation %r, got None" % name)
        dz = ACT_BACKWARD[name](dz, np.asarray(z_or_y).reshape(-1, f))
    dw_v = db_v = dx_v = None
    if need_dw:
        dw_v = _put((_im2col(x, (kh, kw), geo).T @ dz).reshape(kernel.shape), dw)
    if need_db:
        db_v = _put(dz.sum(axis=0), db)
    if need_dx:
        n, h, w = x.shape[:3]
        dpatch = (dz @ kernel.reshape(-1, f).T).reshape(n, oh, ow, kh, kw, c)
        dxp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=dz.dtype)
        for ky in range(kh):
            for kx in range(kw):
                dxp[:, ky * dh: ky * dh + (oh - 1) * sh + 1: sh,
                    kx * dw_: kx * dw_ + (ow - 1) * sw + 1: sw, :] += dpatch[:, :, :, ky, kx, :]
        dx_v = _put(dxp[:, pt: pt + h, pl: pl + w, :], dx)
    return dx_v, dw_v, db_v


def _pool_setup(x_shape, pool_size, strides, padding):
    if len(x_shape) != 4:
        raise ValueError("x: expected images (n, h, w, c), got shape %s" % (tuple(x_shape),))
    ph, pw = pair(pool_size, "pool_size")
    sh, sw = (ph, pw) if strides is None else pair(strides, "strides")
    same = padding_is_same(padding)
    oh, pt, pb = geometry(x_shape[1], ph, sh, 1, same)
    ow, pl, pr = geometry(x_shape[2], pw, sw, 1, same)
    if oh == 0 or ow == 0:
        raise ValueError("x: the %dx%d pool window does not fit in the %dx%d input with padding=%r"
                         % (ph, pw, x_shape[1], x_shape[2], padding))
    return ph, pw, (sh, sw, 1, 1, oh, ow, pt, pb, pl, pr)


def _windows(a, ph, pw, geo, fill):
    """(n, oh, ow, ph*pw, c): every window of ``a`` padded with ``fill``."""
    sh, sw, _, _, oh, ow, pt, pb, pl, pr = geo
    ap = np.pad(a, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    return np.stack(_views(ap, oh, ow, ph, pw, sh, sw, 1, 1), axis=3)


def max_pool2d(x, pool_size, strides=None, padding="valid", out=None, indices=None):
    """``(y, indices)``: each window's max and where it was, (iy * w + ix) * c + channel
    within its image: the first maximum inside the image, or the first NaN."""
    x = np.asarray(x)
    ph, pw, geo = _pool_setup(x.shape, pool_size, strides, padding)
    n, h, w, c = x.shape
    vals = _windows(x, ph, pw, geo, -np.inf)
    inside = _windows(np.ones((1, h, w, 1), dtype=bool), ph, pw, geo, False)
    flat = _windows(np.arange(h * w * c, dtype=np.int64).reshape(1, h, w, c), ph, pw, geo, -1)
    peak = np.max(np.where(inside, vals, -np.inf), axis=3, keepdims=True)
    hit = inside & ((vals == peak) | (np.isnan(vals) & np.isnan(peak)))
    first = np.argmax(hit, axis=3)[:, :, :, None, :]
    where = np.take_along_axis(np.broadcast_to(flat, vals.shape), first, axis=3)[:, :, :, 0, :]
    y = np.take_along_axis(vals, first, axis=3)[:, :, :, 0, :]
    return _put(y, out), _put(where.astype(np.int32), indices)


def max_pool2d_backward(dy, indices, x_shape, out=None):
    """dx (x_shape): dy added where :func:`max_pool2d`'s indices point."""
    dy = np.asarray(dy)
    n = x_shape[0]
    size = int(np.prod(x_shape[1:]))
    per_image = int(np.prod(dy.shape[1:]))
    idx = np.asarray(indices).reshape(n, per_image).astype(np.int64)
    dx = np.zeros((n, size), dtype=dy.dtype)
    keep = idx >= 0
    rows = np.broadcast_to(np.arange(n)[:, None], idx.shape)
    np.add.at(dx, (rows[keep], idx[keep]), dy.reshape(n, per_image)[keep])
    return _put(dx.reshape(tuple(x_shape)), out)


def avg_pool2d(x, pool_size, strides=None, padding="valid", out=None):
    """Each window's mean over the positions inside the image."""
    x = np.asarray(x)
    ph, pw, geo = _pool_setup(x.shape, pool_size, strides, padding)
    sums = _windows(x, ph, pw, geo, 0).sum(axis=3)
    counts = _windows(np.ones((1,) + x.shape[1:3] + (1,), dtype=x.dtype), ph, pw, geo, 0).sum(axis=3)
    return _put(sums / counts, out)


def avg_pool2d_backward(dy, x_shape, pool_size, strides=None, padding="valid", out=None):
    """Backward of :func:`avg_pool2d`: each window's share back to its positions."""
    dy = np.asarray(dy)
    ph, pw, geo = _pool_setup(x_shape, pool_size, strides, padding)
    sh, sw, _, _, oh, ow, pt, pb, pl, pr = geo
    n, h, w, c = x_shape
    counts = _windows(np.ones((1, h, w, 1), dtype=dy.dtype), ph, pw, geo, 0).sum(axis=3)
    share = dy / counts
    dxp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=dy.dtype)
    for ky in range(ph):
        for kx in range(pw):
            dxp[:, ky: ky + (oh - 1) * sh + 1: sh, kx: kx + (ow - 1) * sw + 1: sw, :] += share
    return _put(dxp[:, pt: pt + h, pl: pl + w, :], out)


def global_average_pool2d(x, out=None):
    """The mean over the spatial axes: (n, h, w, c) -> (n, c)."""
    x = np.asarray(x)
    return _put(x.sum(axis=(1, 2)) / x.dtype.type(x.shape[1] * x.shape[2]), out)


def global_average_pool2d_backward(dy, x_shape, out=None):
    dy = np.asarray(dy)
    n, h, w, c = x_shape
    dx = np.broadcast_to((dy / dy.dtype.type(h * w))[:, None, None, :], (n, h, w, c))
    return _put(np.array(dx), out)
