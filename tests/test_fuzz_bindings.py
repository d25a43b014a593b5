"""Fuzzing the binding layer: every public op of ``bprop.ops`` against ``bprop.reference``.

For each op, hypothesis draws a *valid* call (dtype, sizes including zero,
rank 0-4 for the element-wise ops, scalar flags), then 0-3 *mutations* of
its arguments: another dtype (int, uint, bool, complex, object, float16,
big-endian, the other float), a non-array (None, str, list, dict), another
shape, a huge declared shape (a stride-0 broadcast, cheap to build), and
layouts: Fortran order, every-other-element strides, negative strides,
read-only, misaligned (a view of a byte buffer at offset 1), an ``out`` that
aliases or overlaps an input, odd scalars (negative, NaN, inf, wrong type).

The rule checked on every call: the op either returns what the reference
returns on a copy of the same arguments (values and in-place effects,
dtype-appropriate tolerance) or raises TypeError / ValueError (MemoryError
too, for a huge declared shape).  A valid call, or one whose only change is
the layout of a read-only input, must not raise.  Accepting a dtype that is
not the call's one float dtype is a failure (no silent casts).

Ops are fuzzed in a child process (``python test_fuzz_bindings.py OP[,OP..] N``
runs them by hand): a crash or a sanitizer abort fails that op's test with
the last call made, a hang fails it by a watchdog; the other ops go on.

``BPROP_FUZZ_EXAMPLES`` sets the examples per op (default 30; the sanitizer
job runs 250 per op: 7,500 in all).  ``BPROP_FUZZ_SKIP`` leaves mutations
out; ``BPROP_FUZZ_STATS`` names a file that collects the counts per op.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bprop import ops, reference  # noqa: E402

EXAMPLES = int(os.environ.get("BPROP_FUZZ_EXAMPLES", "30"))
# Mutations to leave out, comma-separated kinds or kind:argument pairs (e.g.
# "huge,layout:misaligned" while those crashes are being fixed, to look for
# other problems); empty by default.
SKIP = set(filter(None, os.environ.get("BPROP_FUZZ_SKIP", "").split(",")))

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
BAD_DTYPES = ("int8", "int32", "int64", "uint8", "bool", "complex64", "complex128", "object",
              "float16", ">f8", ">f4", "other_float")
LAYOUTS = ("F", "strided", "negstride", "readonly", "misaligned")
NON_ARRAYS = (None, "abc", {"a": 1}, 3.0, "list")
ODD_SCALARS = (-1.0, 0.0, float("nan"), float("inf"), -float("inf"), 1e300, "x", None, 2)
HUGE_ELEMENTS_LOG2 = 46  # 2**46 elements: 256 TiB as float32, far beyond any machine

# ----------------------------------------------------------------------------- op signatures
# Each op: a builder making a valid call from (rng, dtype, sizes) and the
# roles of its arguments.  Roles: "in" (read only), "out" (result buffer,
# may be None), "inplace" (updated in place), "labels" (int or float),
# "scalar" (a float hyper-parameter), "flag" (bool / str option).
ELEMENTWISE = ("relu", "sigmoid", "tanh", "gelu", "selu", "softplus", "softsign", "silu",
               "exponential", "hard_sigmoid")
ELEMENTWISE_BWD = tuple(n + "_backward" for n in ELEMENTWISE)
# with a parameter, as leaky_relu's slope
ELEMENTWISE_ALPHA = ("leaky_relu", "elu")
ROWWISE = ("softmax", "log_softmax")
ROWWISE_BWD = ("softmax_backward", "log_softmax_backward")
ACTS = (None, "linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "elu", "selu",
        "softplus", "softsign", "silu", "exponential", "hard_sigmoid")
# the activations whose backward reads the pre-activation
READS_INPUT = ("gelu", "elu", "selu", "softplus", "softsign", "silu")
ELEMENTWISE_LOSSES = ("mse", "mae", "binary_cross_entropy", "binary_cross_entropy_from_probs")
ROWWISE_LOSSES = ("softmax_cross_entropy", "cross_entropy_from_probs")


def _normal(rng, shape, dt):
    return rng.standard_normal(shape).astype(dt)


def _unit(rng, shape, dt):
    return rng.uniform(0.05, 0.95, shape).astype(dt)


def _ew_shape(s):
    return tuple(s["dims"][: s["rank"]])


def build(name, rng, dt, s):
    """(names, values, roles) of a valid call of ``name``; ``s`` holds drawn sizes."""
    n, k, m, c = s["n"], s["k"], s["m"], s["c"]
    if name == "matmul":
        return (("a", "b", "out"), [_normal(rng, (n, k), dt), _normal(rng, (k, m), dt), None],
                ("in", "in", "out"))
    if name == "gemm":
        ta, tb = s["flag1"], s["flag2"]
        a = _normal(rng, (k, n) if ta else (n, k), dt)
        b = _normal(rng, (m, k) if tb else (k, m), dt)
        cc = _normal(rng, (n, m), dt) if s["flag3"] else None
        return (("a", "b", "c", "alpha", "beta", "trans_a", "trans_b"),
                [a, b, cc, 1.5, 0.5 if s["flag3"] else 0.0, ta, tb],
                ("in", "in", "out", "scalar", "scalar", "flag", "flag"))
    if name == "add_bias":
        return (("x", "b", "out"), [_normal(rng, (n, m), dt), _normal(rng, (m,), dt), None],
                ("in", "in", "out"))
    if name == "bias_grad":
        return ("dy", "out"), [_normal(rng, (n, m), dt), None], ("in", "out")
    if name in ELEMENTWISE:
        return ("x", "out"), [_normal(rng, _ew_shape(s), dt), None], ("in", "out")
    if name in ELEMENTWISE_ALPHA:
        return (("x", "alpha", "out"), [_normal(rng, _ew_shape(s), dt), 0.1, None],
                ("in", "scalar", "out"))
    if name in ELEMENTWISE_BWD:
        shape = _ew_shape(s)
        outputs_in_unit = ("sigmoid_backward", "tanh_backward", "hard_sigmoid_backward")
        other = _unit(rng, shape, dt) if name in outputs_in_unit else _normal(rng, shape, dt)
        return ("dy", "x", "out"), [_normal(rng, shape, dt), other, None], ("in", "in", "out")
    if name in tuple(n + "_backward" for n in ELEMENTWISE_ALPHA):
        shape = _ew_shape(s)
        return (("dy", "x", "alpha", "out"), [_normal(rng, shape, dt), _normal(rng, shape, dt), 0.1, None],
                ("in", "in", "scalar", "out"))
    if name in ROWWISE:
        shape = _ew_shape(s) if s["rank"] >= 1 else (n, c)
        return ("x", "out"), [_normal(rng, shape, dt) * 3, None], ("in", "out")
    if name in ROWWISE_BWD:
        y = reference.softmax(_normal(rng, (n, c), dt))
        if name == "log_softmax_backward":
            y = reference.log_softmax(_normal(rng, (n, c), dt))
        return ("dy", "y", "out"), [_normal(rng, (n, c), dt), y, None], ("in", "in", "out")
    weights = rng.uniform(0, 2, n) if s["flag3"] else None
    if name in ELEMENTWISE_LOSSES or name[:-len("_backward")] in ELEMENTWISE_LOSSES:
        shape = (n, c) if s["rank"] != 1 else (n,)
        probs = "from_probs" in name
        a = _unit(rng, shape, dt) if probs else _normal(rng, shape, dt) * (4 if "binary" in name else 1)
        b = _unit(rng, shape, dt) if "binary" in name else _normal(rng, shape, dt)
        names = (("y_pred", "y_true") if name.startswith(("mse", "mae")) else
                 ("probs" if probs else "logits", "targets"))
        if name.endswith("_backward"):
            return (names + ("out", "sample_weight"), [a, b, None, weights],
                    ("in", "in", "out", "weights"))
        return names + ("sample_weight",), [a, b, weights], ("in", "in", "weights")
    if name in ROWWISE_LOSSES or name[:-len("_backward")] in ROWWISE_LOSSES:
        probs = name.startswith("cross_entropy_from_probs")
        pred = reference.softmax(_normal(rng, (n, c), dt)) if probs else _normal(rng, (n, c), dt) * 3
        if s["flag1"] and c > 0:
            labels = rng.integers(0, c, n).astype(np.int64 if s["flag2"] else np.int32)
        else:
            labels = reference.softmax(_normal(rng, (n, c), dt))
        first = "probs" if probs else "logits"
        if name.endswith("_backward"):
            return ((first, "labels", "out", "sample_weight"), [pred, labels, None, weights],
                    ("in", "labels", "out", "weights"))
        return (first, "labels", "sample_weight"), [pred, labels, weights], ("in", "labels", "weights")
    if name == "dropout":
        return (("x", "rate", "seed", "counter", "row_offset", "out", "mask"),
                [_normal(rng, _ew_shape(s), dt), 0.3, 7 + s["n"], s["k"], s["m"], None, None],
                ("in", "scalar", "flag", "flag", "flag", "out", "mask_out"))
    if name == "dropout_backward":
        shape = _ew_shape(s)
        mask = (rng.uniform(size=shape) > 0.4).astype(np.uint8)
        return (("dy", "mask", "rate", "out"), [_normal(rng, shape, dt), mask, 0.4, None],
                ("in", "mask_in", "scalar", "out"))
    if name == "l1_l2_penalty":
        return ("x", "l1", "l2"), [_normal(rng, _ew_shape(s), dt), 0.01, 0.02], ("in", "scalar", "scalar")
    if name == "l1_l2_grad":
        shape = _ew_shape(s)
        return (("x", "grad", "l1", "l2"), [_normal(rng, shape, dt), _normal(rng, shape, dt), 0.01, 0.02],
                ("in", "inplace", "scalar", "scalar"))
    if name == "sum_squares":
        return ("x",), [_normal(rng, _ew_shape(s), dt)], ("in",)
    if name == "dense_forward":
        act = ACTS[s["act"]]
        b = _normal(rng, (m,), dt) if s["flag1"] else None
        return (("x", "w", "b", "activation", "out"),
                [_normal(rng, (n, k), dt), _normal(rng, (k, m), dt), b, act, None],
                ("in", "in", "in_opt", "flag", "out"))
    if name == "dense_backward":
        act = ACTS[s["act"]]
        x, w = _normal(rng, (n, k), dt), _normal(rng, (k, m), dt)
        zy = None
        if act not in (None, "linear"):
            z = x @ w
            zy = z if act in READS_INPUT else reference.dense_forward(x, w, None, act)
        return (("dy", "x", "w", "z_or_y", "activation", "dx", "dw", "db", "need_dx", "need_dw",
                 "need_db"),
                [_normal(rng, (n, m), dt), x, w, zy, act, None, None, None, s["flag2"], s["flag1"],
                 s["flag3"]],
                ("in", "in", "in", "in_opt", "flag", "out", "out", "out", "flag", "flag", "flag"))
    if name.startswith(("conv2d", "max_pool2d", "avg_pool2d", "global_average_pool2d")):
        return _build_spatial(name, rng, dt, s)
    p = _normal(rng, _ew_shape(s), dt)
    g = _normal(rng, p.shape, dt)
    if name == "sgd_update":
        mom = 0.9 if s["flag1"] else 0.0
        vel = _normal(rng, p.shape, dt) if s["flag1"] else None
        return (("param", "grad", "lr", "momentum", "nesterov", "velocity"),
                [p, g, 0.01, mom, s["flag2"], vel],
                ("inplace", "in", "scalar", "scalar", "flag", "inplace_opt"))
    if name == "rmsprop_update":
        return (("param", "grad", "sq_avg", "lr", "rho", "eps"),
                [p, g, np.array(np.abs(_normal(rng, p.shape, dt))), 0.01, 0.9, 1e-7],
                ("inplace", "in", "inplace", "scalar", "scalar", "scalar"))
    if name == "adam_update":
        return (("param", "grad", "m", "v", "lr", "step", "beta1", "beta2", "eps", "weight_decay"),
                [p, g, _normal(rng, p.shape, dt), np.array(np.abs(_normal(rng, p.shape, dt))), 0.01, 3, 0.9, 0.999,
                 1e-7, 0.004 if s["flag1"] else 0.0],
                ("inplace", "in", "inplace", "inplace", "scalar", "scalar", "scalar", "scalar", "scalar",
                 "scalar"))
    if name == "adagrad_update":
        return (("param", "grad", "accum", "lr", "eps"),
                [p, g, np.array(np.abs(_normal(rng, p.shape, dt)) + 0.1), 0.01, 1e-7],
                ("inplace", "in", "inplace", "scalar", "scalar"))
    raise AssertionError("no builder for %s" % name)


def _build_spatial(name, rng, dt, s):
    """Convolution and pooling: small NHWC images, a window that fits (or 'same')."""
    n = s["n"]
    h, w = 1 + s["dims"][0], 1 + s["dims"][1]
    c, f = max(s["c"], 1), max(s["m"], 1)
    kh, kw = min(h, 1 + s["dims"][2] % 3), min(w, 1 + s["dims"][3] % 3)
    strides = (1 + s["k"] % 2, 1 + (s["k"] // 2) % 2)
    padding = "same" if s["flag2"] else "valid"
    dilation = 2 if s["flag3"] and padding == "same" and strides == (1, 1) else 1
    x = _normal(rng, (n, h, w, c), dt)
    if name.startswith("conv2d"):
        act = ACTS[s["act"]]
        kernel = _normal(rng, (kh, kw, c, f), dt)
        geo = dict(strides=strides, padding=padding, dilation_rate=dilation)
        if name == "conv2d":
            b = _normal(rng, (f,), dt) if s["flag1"] else None
            return (("x", "kernel", "bias", "strides", "padding", "dilation_rate", "activation", "out"),
                    [x, kernel, b, strides, padding, dilation, act, None],
                    ("in", "in", "in_opt", "flag", "flag", "flag", "flag", "out"))
        z = reference.conv2d(x, kernel, **geo)
        zy = None if act in (None, "linear") else (
            z if act in READS_INPUT else reference.conv2d(x, kernel, activation=act, **geo))
        return (("dy", "x", "kernel", "z_or_y", "activation", "strides", "padding", "dilation_rate",
                 "dx", "dw", "db", "need_dx", "need_dw", "need_db"),
                [_normal(rng, z.shape, dt), x, kernel, zy, act, strides, padding, dilation, None,
                 None, None, s["flag1"], s["flag3"], not s["flag1"]],
                ("in", "in", "in", "in_opt", "flag", "flag", "flag", "flag", "out", "out", "out",
                 "flag", "flag", "flag"))
    if name.startswith("global_average_pool2d"):
        if name == "global_average_pool2d":
            return ("x", "out"), [x, None], ("in", "out")
        return (("dy", "x_shape", "out"), [_normal(rng, (n, c), dt), x.shape, None],
                ("in", "flag", "out"))
    pool = (kh, kw)
    if name == "max_pool2d":
        return (("x", "pool_size", "strides", "padding", "out", "indices"),
                [x, pool, strides, padding, None, None],
                ("in", "flag", "flag", "flag", "out", "mask_out"))
    if name == "avg_pool2d":
        return (("x", "pool_size", "strides", "padding", "out"), [x, pool, strides, padding, None],
                ("in", "flag", "flag", "flag", "out"))
    y, idx = reference.max_pool2d(x, pool, strides, padding)
    dy = _normal(rng, y.shape, dt)
    if name == "max_pool2d_backward":
        return (("dy", "indices", "x_shape", "out"), [dy, idx, x.shape, None],
                ("in", "mask_in", "flag", "out"))
    return (("dy", "x_shape", "pool_size", "strides", "padding", "out"),
            [dy, x.shape, pool, strides, padding, None], ("in", "flag", "flag", "flag", "flag", "out"))


OPS = ("matmul", "gemm", "add_bias", "bias_grad") + ELEMENTWISE + ELEMENTWISE_ALPHA + ELEMENTWISE_BWD + (
    tuple(n + "_backward" for n in ELEMENTWISE_ALPHA)) + ROWWISE + ROWWISE_BWD + tuple(
    n + suffix for n in ELEMENTWISE_LOSSES + ROWWISE_LOSSES for suffix in ("", "_backward")) + (
    "dense_forward", "dense_backward", "dropout", "dropout_backward",
    "conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward", "avg_pool2d",
    "avg_pool2d_backward", "global_average_pool2d", "global_average_pool2d_backward",
    "l1_l2_penalty", "l1_l2_grad", "sum_squares",
    "sgd_update", "rmsprop_update", "adam_update", "adagrad_update")


def test_every_public_op_is_fuzzed():
    public = {n for n in dir(reference) if callable(getattr(reference, n)) and not n.startswith("_")}
    assert public == set(OPS) | set(reference.HELPERS)
    for n in OPS:
        assert callable(getattr(ops, n))


# ----------------------------------------------------------------------------- layouts and mutations
def relayout(x, layout):
    """``x``'s values in another memory layout (rank 0 to 4, zero sizes included)."""
    dt = x.dtype
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "strided" and x.ndim:
        fill = np.nan if dt.kind in "fc" else 0  # NaN between the elements: reading them shows
        big = np.full((2 * x.shape[0],) + x.shape[1:], fill, dtype=dt)
        big[::2] = x
        return big[::2]
    if layout == "negstride" and x.ndim:
        return x[::-1].copy()[::-1]
    if layout == "readonly":
        y = x.copy()
        y.setflags(write=False)
        return y
    if layout == "misaligned":
        buf = np.zeros(x.nbytes + 1, dtype=np.uint8)
        y = buf[1:].view(dt).reshape(x.shape)
        y[...] = x
        assert x.size == 0 or dt.itemsize == 1 or not y.flags.aligned
        return y
    return x.copy()


def huge(x):
    """A stride-0 array of x's dtype and rank whose declared size is 2**46+ elements."""
    per_axis = -(-HUGE_ELEMENTS_LOG2 // x.ndim)
    return np.broadcast_to(np.zeros((), dtype=x.dtype), (2 ** per_axis,) * x.ndim)


def other_shape(x, how):
    """x's values (and more or fewer) under another shape: the size or the rank changes."""
    if x.ndim == 0:
        return np.ones(2, x.dtype)                    # 0-d -> (2,)
    if how == 0:
        return x.reshape(-1)                          # rank -> 1 (same size)
    if how == 1:
        return x[..., None]                           # one more axis of length 1
    if how == 2:
        return x.reshape(-1)[: max(x.size - 1, 0)]    # 1-D, one element short
    axis = how % x.ndim                               # one more row/column on `axis`
    extra = np.ones(x.shape[:axis] + (1,) + x.shape[axis + 1:], x.dtype)
    return np.concatenate([x, extra], axis=axis)


def to_dtype(x, dt_name, base):
    with warnings.catch_warnings():  # complex -> real and NaN -> int casts are the point here
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return _to_dtype(x, dt_name, base)


def _to_dtype(x, dt_name, base):
    if dt_name == "other_float":
        return x.astype(FLOATS[1] if base == FLOATS[0] else FLOATS[0])
    if dt_name == "object":
        return x.astype(object)
    return x.astype(np.dtype(dt_name))


MUTATIONS = st.one_of(
    st.tuples(st.just("dtype"), st.sampled_from(BAD_DTYPES)),
    st.tuples(st.just("layout"), st.sampled_from(LAYOUTS)),
    st.tuples(st.just("nonarray"), st.sampled_from(range(len(NON_ARRAYS)))),
    st.tuples(st.just("shape"), st.integers(0, 5)),
    st.tuples(st.just("huge"), st.just(0)),
    st.tuples(st.just("out_alias"), st.integers(0, 3)),
    st.tuples(st.just("out_layout"), st.sampled_from(LAYOUTS + ("overlap",))),
    st.tuples(st.just("scalar"), st.sampled_from(range(len(ODD_SCALARS)))),
)

SIZES = st.fixed_dictionaries({
    "n": st.integers(0, 6), "k": st.integers(0, 6), "m": st.integers(0, 6), "c": st.integers(0, 6),
    "rank": st.integers(0, 4), "dims": st.lists(st.integers(0, 4), min_size=4, max_size=4),
    "flag1": st.booleans(), "flag2": st.booleans(), "flag3": st.booleans(),
    "act": st.integers(0, len(ACTS) - 1),
})


def _result_shape_out(name, names, values, dt):
    """A correctly shaped, writeable, C-contiguous out buffer for the op (None if unknown)."""
    if any(isinstance(v, np.ndarray) and v.size > 2 ** 30 for v in values):
        return None  # the reference would grind through a huge declared shape
    try:
        res = getattr(reference, name)(*copy_args(values))
    except Exception:
        return None
    if isinstance(res, tuple):
        res = res[1]
    return None if not isinstance(res, np.ndarray) else np.zeros(res.shape, dt)


def mutate(name, names, values, roles, dt, muts, pick):
    """Apply the mutations; returns (values, kinds): kinds tells what the oracle may accept."""
    values = list(values)
    kinds = set()
    arrays = [i for i, v in enumerate(values) if isinstance(v, np.ndarray)]
    reads = [i for i in arrays if roles[i] in ("in", "in_opt", "labels", "weights", "mask_in")]
    outs = [i for i, r in enumerate(roles) if r in ("out", "inplace", "inplace_opt", "mask_out")]
    scalars = [i for i, r in enumerate(roles) if r == "scalar"]
    for (kind, arg), j in zip(muts, pick):
        if kind in SKIP or "%s:%s" % (kind, arg) in SKIP:
            continue
        if kind in ("dtype", "nonarray", "shape", "huge", "layout") and arrays:
            i = arrays[j % len(arrays)]
            x = values[i]
            if not isinstance(x, np.ndarray) or x.size > 2 ** 30:  # already replaced / huge
                continue
            if kind == "dtype":
                values[i] = to_dtype(np.ascontiguousarray(x), arg, dt)
                kinds.add("labels_dtype" if roles[i] in ("labels", "weights") else "dtype")
            elif kind == "nonarray":
                values[i] = x.tolist() if NON_ARRAYS[arg] == "list" else NON_ARRAYS[arg]
                if NON_ARRAYS[arg] != "list":
                    kinds.add("nonarray")
                elif x.dtype == np.float64 and x.size:
                    kinds.add("list")  # np.asarray gives back the same array
                else:  # a float32 array's list reads as float64, an empty one loses its shape
                    kinds.add("list_lossy")
            elif kind == "shape":
                values[i] = other_shape(x, arg)
                kinds.add("shape")
            elif kind == "huge" and x.ndim:
                values[i] = huge(x)
                kinds.add("huge")
            elif kind == "layout":
                values[i] = relayout(x, arg)
                kinds.add("layout_in" if i in reads else "layout_out")
        elif kind == "out_alias" and outs and reads:
            i = outs[j % len(outs)]
            src = reads[arg % len(reads)]
            values[i] = values[src]
            kinds.add("alias")
        elif kind == "out_layout" and outs:
            i = outs[j % len(outs)]
            if isinstance(values[i], np.ndarray) and values[i].size > 2 ** 30:
                continue
            if values[i] is None:
                values[i] = _result_shape_out(name, names, values, dt)
            if isinstance(values[i], np.ndarray):
                if arg == "overlap" and reads and isinstance(values[reads[0]], np.ndarray) \
                        and values[reads[0]].dtype == values[i].dtype and values[reads[0]].size:
                    src = values[reads[0]]
                    flat = np.concatenate([src.reshape(-1), np.zeros(values[i].size, dt)])
                    values[reads[0]] = flat[: src.size].reshape(src.shape)
                    values[i] = flat[1: 1 + values[i].size].reshape(values[i].shape)
                elif arg != "overlap":
                    values[i] = relayout(values[i], arg)
                kinds.add("layout_out")
        elif kind == "scalar" and scalars:
            i = scalars[j % len(scalars)]
            values[i] = ODD_SCALARS[arg]
            kinds.add("scalar")
    return values, kinds


# ----------------------------------------------------------------------------- the oracle
def _float_dtypes(values, roles):
    dts = set()
    for v, r in zip(values, roles):
        if r in ("scalar", "flag", "weights", "mask_in", "mask_out") or v is None:
            continue
        a = np.asarray(v) if not isinstance(v, (dict, str)) else None
        if a is None:
            return None
        if r == "labels" and a.dtype.kind in "iu":
            continue
        dts.add(a.dtype)
    return dts


def _tol(dt):
    return {"rtol": 2e-4, "atol": 2e-5} if dt == np.float32 else {"rtol": 1e-9, "atol": 1e-11}


def _assert_same(got, want, dt, what):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), what
        for g, w in zip(got, want):
            _assert_same(g, w, dt, what)
        return
    if want is None:
        assert got is None, what
        return
    if isinstance(want, np.generic):  # NumPy returns scalars where ops returns 0-d arrays
        want = np.asarray(want)
    if isinstance(want, float):
        assert isinstance(got, float), "%s: expected a Python float, got %r" % (what, type(got))
        np.testing.assert_allclose(got, want, equal_nan=True, err_msg=what, **_tol(dt))
        return
    assert isinstance(got, np.ndarray), "%s: expected ndarray, got %r" % (what, type(got))
    assert got.shape == want.shape, "%s: shape %s != %s" % (what, got.shape, want.shape)
    if want.dtype == np.uint8 or want.dtype.kind in "iu":  # dropout's mask, max_pool2d's indices
        assert got.dtype == want.dtype, "%s: dtype %s != %s" % (what, got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    assert got.dtype == dt, "%s: dtype %s != %s" % (what, got.dtype, dt)
    np.testing.assert_allclose(got, want.astype(dt), equal_nan=True, err_msg=what, **_tol(dt))


def copy_args(values):
    """Independent copies of the arguments; an object passed twice stays one object
    (identity aliasing is kept, partial overlap is not).  Huge stride-0 arrays
    are read-only views and are passed through uncopied."""
    memo = {}
    out = []
    for v in values:
        if id(v) in memo:
            out.append(memo[id(v)])
            continue
        if isinstance(v, np.ndarray):
            c = v if v.size > 2 ** 30 else np.array(v, copy=True)
        else:
            c = copy.deepcopy(v)
        memo[id(v)] = c
        out.append(c)
    return out


def _describe(v):
    if isinstance(v, np.ndarray):
        flags = "".join(f for f, on in (("C", v.flags.c_contiguous), ("F", v.flags.f_contiguous),
                                         ("A", v.flags.aligned), ("W", v.flags.writeable)) if on)
        return "array(%s %s strides=%s %s)" % (v.dtype, v.shape, v.strides, flags)
    return repr(v)[:40]


def check_call(name, names, values, roles, dt, kinds):
    fn = getattr(ops, name)
    ref_values = copy_args(values)
    snapshot = copy_args(values)
    # One line per call on stderr: if the call crashes the child, the last
    # line says which call it was.
    sys.stderr.write("call %s(%s) mutations %s\n" % (name, ", ".join(
        "%s=%s" % (k, _describe(v)) for k, v in zip(names, values)), sorted(kinds)))
    sys.stderr.flush()
    try:
        got = fn(*values)
    except (TypeError, ValueError) as e:
        assert str(e), "%s raised %s with an empty message" % (name, type(e).__name__)
        must_accept = not (kinds - {"layout_in", "list"})
        assert not must_accept, "%s rejected a valid call (mutations %s): %s: %s" % (
            name, sorted(kinds), type(e).__name__, e)
        return "rejected"
    except (MemoryError, OverflowError):
        assert any(isinstance(v, np.ndarray) and v.size > 2 ** 30 for v in values), (
            "%s raised MemoryError without a huge argument" % name)
        return "rejected"
    # The op accepted the call: it must be a call the contract allows...
    assert not any(isinstance(v, np.ndarray) and v.size > 2 ** 30 for v in values), (
        "%s accepted a huge declared shape" % name)
    dts = _float_dtypes(values, roles)
    assert dts is not None and len(dts) <= 1 and dts <= set(FLOATS), (
        "%s accepted arguments of dtypes %s (one float dtype expected): silent cast" % (name, dts))
    if dts:  # a mutation may have moved the whole call to the other float dtype
        dt = dts.pop()
    # ...and give the reference's answer on a copy of the same arguments.
    with np.errstate(all="ignore"):
        try:
            want = getattr(reference, name)(*ref_values)
        except Exception as e:  # the reference refuses what ops accepted
            raise AssertionError("%s accepted a call the reference rejects (%s: %s), mutations %s"
                                 % (name, type(e).__name__, e, sorted(kinds))) from None
    what = "%s(%s) mutations %s" % (name, ", ".join(names), sorted(kinds))
    _assert_same(got, want, dt, what)
    for i, r in enumerate(roles):  # in-place effects and untouched inputs
        v = values[i]
        if not isinstance(v, np.ndarray):
            continue
        aliased_out = any(values[j] is v for j, rr in enumerate(roles)
                          if rr.startswith(("out", "inplace", "mask_out")))
        if r.startswith(("out", "inplace", "mask_out")) or aliased_out:
            _assert_same(v, np.asarray(ref_values[i]), dt, what + " [argument %s]" % names[i])
        elif "layout_out" not in kinds:
            np.testing.assert_array_equal(v, snapshot[i], err_msg=what + " modified input " + names[i])
    return "accepted"


def fuzz_op(name, examples):
    """Run ``examples`` hypothesis examples of ``name``; returns counts of outcomes."""
    counts = {"examples": 0, "mutated": 0, "accepted": 0, "rejected": 0}

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(dt=st.sampled_from(FLOATS), sizes=SIZES, seed=st.integers(0, 2 ** 32 - 1),
           muts=st.lists(MUTATIONS, min_size=1, max_size=3), pristine=st.integers(0, 4),
           pick=st.lists(st.integers(0, 9), min_size=3, max_size=3))
    def run(dt, sizes, seed, muts, pristine, pick):
        if pristine == 0:  # one call in five stays valid
            muts = []
        rng = np.random.default_rng(seed)
        names, values, roles = build(name, rng, dt, sizes)
        values, kinds = mutate(name, names, values, roles, dt, muts, pick)
        outcome = check_call(name, names, values, roles, dt, kinds)
        counts["examples"] += 1
        counts["mutated"] += bool(kinds)
        counts[outcome] += 1

    run()
    return counts


# Ops are fuzzed in child processes: a crash (segfault, sanitizer abort) or a
# hang then fails that op's test with the child's output instead of killing
# the test session.  One child fuzzes all the selected ops in turn (starting
# an interpreter per op would cost more than the fuzzing); when it dies on
# an op, that op is charged with the failure and a new child takes the rest.
OP_TIMEOUT = 60 + 2 * EXAMPLES  # seconds per op before the child declares a hang
_RESULTS = {}  # op -> (ok, counts or failure message)


def _failure(name, returncode, stderr):
    lines = stderr.splitlines()
    mine = lines
    for i, ln in enumerate(lines):  # keep the output of the failing op only
        if ln.startswith("begin "):
            mine = lines[i + 1:]
    calls = [ln for ln in mine if ln.startswith("call ")]
    rest = [ln for ln in mine if not ln.startswith("call ")]
    reports = [ln for ln in rest if "runtime error" in ln or "ERROR:" in ln or "SUMMARY" in ln
               or "Error" in ln or "hang" in ln]
    return ("fuzzing %s: child exited with %s (negative = signal)\nlast call: %s\n%s\n--- tail ---\n%s"
            % (name, returncode, calls[-1] if calls else "(none)", "\n".join(reports[:20]),
               "\n".join(rest)[-4000:]))


def _fuzz_in_children(names):
    todo = list(names)
    while todo:
        cmd = [sys.executable, os.path.abspath(__file__), ",".join(todo), str(EXAMPLES)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  timeout=30 + OP_TIMEOUT * len(todo))
            out, err, code = proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as e:  # the in-child watchdog should come first
            out, err, code = e.stdout or "", e.stderr or "", "timeout"
            out = out.decode() if isinstance(out, bytes) else out
            err = err.decode() if isinstance(err, bytes) else err
        for line in out.splitlines():
            if line.startswith("done "):
                _, op, counts = line.split(" ", 2)
                _RESULTS[op] = (True, json.loads(counts))
        todo = [op for op in todo if op not in _RESULTS]
        if todo and code == 0:
            raise AssertionError("fuzz child exited 0 without finishing %s" % todo)
        if todo:
            _RESULTS[todo[0]] = (False, _failure(todo[0], code, err))
            todo = todo[1:]


@pytest.mark.parametrize("name", OPS)
def test_fuzz_op_matches_reference_or_raises(name, request):
    if name not in _RESULTS:
        # this op and the ones selected after it, in one go
        selected = [item.callspec.params["name"] for item in request.session.items
                    if getattr(item, "originalname", None) == "test_fuzz_op_matches_reference_or_raises"]
        later = selected[selected.index(name):] if name in selected else [name]
        _fuzz_in_children([op for op in later if op not in _RESULTS])
    ok, result = _RESULTS[name]
    assert ok, result
    assert result["examples"] >= min(EXAMPLES, 10), result
    stats = os.environ.get("BPROP_FUZZ_STATS")
    if stats:
        with open(stats, "a") as f:
            f.write(json.dumps(dict(result, op=name)) + "\n")


def _child_main(names, examples):
    import faulthandler

    for name in names:
        sys.stderr.write("begin %s\n" % name)
        sys.stderr.flush()
        # a hang inside a kernel: dump the stacks and exit, charging this op
        faulthandler.dump_traceback_later(OP_TIMEOUT, exit=True)
        counts = fuzz_op(name, examples)
        faulthandler.cancel_dump_traceback_later()
        sys.stdout.write("done %s %s\n" % (name, json.dumps(counts)))
        sys.stdout.flush()


if __name__ == "__main__":
    _child_main(sys.argv[1].split(","), int(sys.argv[2]))


# ----------------------------------------------------------------------------- info functions
@pytest.mark.parametrize("bad", [0, -1, 4097, 2 ** 40, 1.5, "2", None, True, [2]])
def test_set_num_threads_rejects_bad_counts(bad):
    before = ops.get_num_threads()
    with pytest.raises((TypeError, ValueError),
                       match=r"^n: expected (an int, got <class|a thread count in \[1, 4096\], "
                             r"got %s$)" % bad if isinstance(bad, int) and not isinstance(bad, bool)
                       else r"^n: expected an int, got <class '%s'>$" % type(bad).__name__):
        ops.set_num_threads(bad)
    assert ops.get_num_threads() == before


@pytest.mark.parametrize("bad", ["", "neon", "AVX2", None, 3, ["avx2"]])
def test_set_isa_rejects_bad_names(bad):
    before = ops.get_isa()
    with pytest.raises((TypeError, ValueError)):
        ops.set_isa(bad)
    assert ops.get_isa() == before


def test_info_functions_take_no_arguments():
    for fn in (ops.get_num_threads, ops.get_isa, ops.build_info):
        with pytest.raises(TypeError):
            fn(1)
    info = ops.build_info()
    assert info["num_threads"] == ops.get_num_threads() and info["simd"] == ops.get_isa()
