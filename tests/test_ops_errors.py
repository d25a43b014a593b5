"""Bad input to every op: the exception type and what its message names.

The contract (bindings' checks.hpp): dtype errors are TypeError naming the
argument and either "float32 or float64" or "expected <dtype>" with the
actual dtype; shape and rank errors are ValueError naming the argument(s)
and printing the shapes like "(3, 4)"; out= buffers are checked for dtype
(TypeError), shape and contiguity (ValueError).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from bprop import ops

A34 = (3, 4)


def f(shape, dtype=np.float64, fill=0.5):
    return np.full(shape, fill, dtype)


# op -> (positional float arguments in order: (name, shape)), extra kwargs
SPECS = {
    "matmul": ([("a", (3, 4)), ("b", (4, 2))], {}),
    "gemm": ([("a", (3, 4)), ("b", (4, 2)), ("c", (3, 2))], {}),
    "add_bias": ([("x", (3, 4)), ("b", (4,))], {}),
    "bias_grad": ([("dy", (3, 4))], {}),
    "relu": ([("x", A34)], {}),
    "relu_backward": ([("dy", A34), ("x", A34)], {}),
    "leaky_relu": ([("x", A34)], {}),
    "leaky_relu_backward": ([("dy", A34), ("x", A34)], {}),
    "sigmoid": ([("x", A34)], {}),
    "sigmoid_backward": ([("dy", A34), ("y", A34)], {}),
    "tanh": ([("x", A34)], {}),
    "tanh_backward": ([("dy", A34), ("y", A34)], {}),
    "gelu": ([("x", A34)], {}),
    "gelu_backward": ([("dy", A34), ("x", A34)], {}),
    "elu": ([("x", A34)], {}),
    "elu_backward": ([("dy", A34), ("x", A34)], {}),
    "softplus": ([("x", A34)], {}),
    "softplus_backward": ([("dy", A34), ("x", A34)], {}),
    "silu": ([("x", A34)], {}),
    "silu_backward": ([("dy", A34), ("x", A34)], {}),
    "exponential": ([("x", A34)], {}),
    "exponential_backward": ([("dy", A34), ("y", A34)], {}),
    "hard_sigmoid": ([("x", A34)], {}),
    "hard_sigmoid_backward": ([("dy", A34), ("y", A34)], {}),
    "softmax": ([("x", A34)], {}),
    "softmax_backward": ([("dy", A34), ("y", A34)], {}),
    "log_softmax": ([("x", A34)], {}),
    "log_softmax_backward": ([("dy", A34), ("y", A34)], {}),
    "mse": ([("y_pred", A34), ("y_true", A34)], {}),
    "mse_backward": ([("y_pred", A34), ("y_true", A34)], {}),
    "softmax_cross_entropy": ([("logits", A34), ("labels", A34)], {}),
    "softmax_cross_entropy_backward": ([("logits", A34), ("labels", A34)], {}),
    "binary_cross_entropy": ([("logits", A34), ("targets", A34)], {}),
    "binary_cross_entropy_backward": ([("logits", A34), ("targets", A34)], {}),
    "dense_forward": ([("x", (3, 4)), ("w", (4, 2)), ("b", (2,))], {"activation": "relu"}),
    "dense_backward": ([("dy", (3, 2)), ("x", (3, 4)), ("w", (4, 2)), ("z_or_y", (3, 2))],
                       {"activation": "relu"}),
    "sgd_update": ([("param", (5,)), ("grad", (5,))], {"lr": 0.1}),
    "rmsprop_update": ([("param", (5,)), ("grad", (5,)), ("sq_avg", (5,))], {"lr": 0.1}),
    "adam_update": ([("param", (5,)), ("grad", (5,)), ("m", (5,)), ("v", (5,))],
                    {"lr": 0.1, "step": 1}),
    "adagrad_update": ([("param", (5,)), ("grad", (5,)), ("accum", (5,))], {"lr": 0.1}),
}
# (op, argument) pairs: every float argument of every op (integer labels are
# valid for the cross-entropies, so "labels" has its own tests)
ARGS = [(op, name) for op, (args, _) in sorted(SPECS.items()) for name, _ in args
        if name != "labels"]
# ops with two or more float arguments, where dtypes can be mixed
MIXABLE = [(op, name) for op, name in ARGS if len(SPECS[op][0]) > 1]


def call(op, dtype=np.float64, replace=None):
    """Call ``op`` with valid arguments of ``dtype``, except those in ``replace``."""
    args, kwargs = SPECS[op]
    values = {name: f(shape, dtype) for name, shape in args}
    values.update(replace or {})
    return getattr(ops, op)(**values, **kwargs)


def named(name, msg):
    """``name`` appears in ``msg`` as a word (so "b" is not found inside "bias")."""
    return re.search(r"(?<![A-Za-z_])%s(?![A-Za-z_])" % re.escape(name), msg) is not None


@pytest.mark.parametrize("op", sorted(SPECS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_valid_call_succeeds(op, dtype):
    # the baseline every error test below departs from
    call(op, dtype)


@pytest.mark.parametrize("bad", ["int64", "int32", "complex128", "bool", "<U3"])
@pytest.mark.parametrize("op,arg", ARGS)
def test_non_float_dtype_raises_type_error(op, arg, bad):
    shape = dict(SPECS[op][0])[arg]
    value = np.zeros(shape, dtype=bad)
    with pytest.raises(TypeError) as info:
        call(op, replace={arg: value})
    msg = str(info.value)
    assert named(arg, msg), msg
    assert np.dtype(bad).name in msg or str(np.dtype(bad)) in msg, msg
    assert "float32 or float64" in msg or "expected float64" in msg or \
        "expected dtype float64" in msg, msg


@pytest.mark.parametrize("op,arg", MIXABLE)
def test_mixed_float_dtypes_raise_type_error(op, arg):
    args = SPECS[op][0]
    first = args[0][0]
    shape = dict(args)[arg]
    if arg == first:
        # the first argument sets the dtype: the mismatch is blamed on another one
        with pytest.raises(TypeError) as info:
            call(op, np.float64, replace={arg: f(shape, np.float32)})
        msg = str(info.value)
        others = [name for name, _ in args[1:]]
        assert any(named(o, msg) for o in others) or named(arg, msg), msg
    else:
        with pytest.raises(TypeError) as info:
            call(op, np.float32, replace={arg: f(shape, np.float64)})
        msg = str(info.value)
        assert named(arg, msg), msg
    assert "float32" in msg and "float64" in msg, msg
    assert "expected" in msg, msg


# (op, replacements, names that must appear, shapes that must appear)
SHAPE_ERRORS = [
    ("matmul", {"b": f((5, 2))}, ["a", "b"], ["(3, 4)", "(5, 2)"]),
    ("gemm", {"b": f((5, 2))}, ["a", "b"], ["(3, 4)", "(5, 2)"]),
    ("gemm", {"c": f((3, 3))}, ["c"], ["(3, 2)", "(3, 3)"]),
    ("add_bias", {"b": f((5,))}, ["b", "x"], ["(3, 4)", "(5,)"]),
    ("relu_backward", {"x": f((3, 5))}, ["x", "dy"], ["(3, 4)", "(3, 5)"]),
    ("leaky_relu_backward", {"x": f((4, 3))}, ["x", "dy"], ["(3, 4)", "(4, 3)"]),
    ("sigmoid_backward", {"y": f((3, 5))}, ["y", "dy"], ["(3, 4)", "(3, 5)"]),
    ("tanh_backward", {"dy": f((12,))}, ["y", "dy"], ["(3, 4)", "(12,)"]),
    ("gelu_backward", {"x": f((3, 5))}, ["x", "dy"], ["(3, 4)", "(3, 5)"]),
    ("softplus_backward", {"x": f((3, 5))}, ["x", "dy"], ["(3, 4)", "(3, 5)"]),
    ("hard_sigmoid_backward", {"y": f((3, 5))}, ["y", "dy"], ["(3, 4)", "(3, 5)"]),
    ("softmax_backward", {"y": f((3, 5))}, ["y", "dy"], ["(3, 4)", "(3, 5)"]),
    ("log_softmax_backward", {"y": f((3, 5))}, ["y", "dy"], ["(3, 4)", "(3, 5)"]),
    ("mse", {"y_true": f((4, 3))}, ["y_true", "y_pred"], ["(3, 4)", "(4, 3)"]),
    ("mse_backward", {"y_true": f((3, 5))}, ["y_true", "y_pred"], ["(3, 4)", "(3, 5)"]),
    ("softmax_cross_entropy", {"labels": f((3, 5))}, ["labels", "logits"], ["(3, 4)", "(3, 5)"]),
    ("softmax_cross_entropy_backward", {"labels": f((2, 4))}, ["labels", "logits"],
     ["(3, 4)", "(2, 4)"]),
    ("binary_cross_entropy", {"targets": f((3, 5))}, ["targets", "logits"], ["(3, 4)", "(3, 5)"]),
    ("binary_cross_entropy_backward", {"targets": f((4, 3))}, ["targets", "logits"],
     ["(3, 4)", "(4, 3)"]),
    ("dense_forward", {"w": f((5, 2))}, ["x", "w"], ["(3, 4)", "(5, 2)"]),
    ("dense_forward", {"b": f((3,))}, ["b"], ["(2,)", "(3,)"]),
    ("dense_backward", {"dy": f((3, 3))}, ["dy"], ["(3, 2)", "(3, 3)"]),
    ("dense_backward", {"z_or_y": f((3, 3))}, ["z_or_y", "dy"], ["(3, 2)", "(3, 3)"]),
    ("sgd_update", {"grad": f((6,))}, ["grad", "param"], ["(5,)", "(6,)"]),
    ("rmsprop_update", {"sq_avg": f((5, 1))}, ["sq_avg", "param"], ["(5,)", "(5, 1)"]),
    ("adam_update", {"v": f((4,))}, ["v", "param"], ["(5,)", "(4,)"]),
    ("adagrad_update", {"accum": f((6,))}, ["accum", "param"], ["(5,)", "(6,)"]),
]


@pytest.mark.parametrize("op,replace,names,shapes", SHAPE_ERRORS,
                         ids=["%s-%s" % (e[0], "-".join(e[1])) for e in SHAPE_ERRORS])
def test_mismatched_shapes_raise_value_error(op, replace, names, shapes):
    with pytest.raises(ValueError) as info:
        call(op, replace=replace)
    msg = str(info.value)
    for name in names:
        assert named(name, msg), (name, msg)
    for shape in shapes:
        assert shape in msg, (shape, msg)


RANK_ERRORS = [
    ("matmul", {"a": f((3,))}, "a", "(3,)"),
    ("matmul", {"b": f((4, 2, 1))}, "b", "(4, 2, 1)"),
    ("gemm", {"a": f((12,))}, "a", "(12,)"),
    ("add_bias", {"x": f((4,))}, "x", "(4,)"),
    ("add_bias", {"b": f((1, 4))}, "b", "(1, 4)"),
    ("bias_grad", {"dy": f((4,))}, "dy", "(4,)"),
    ("dense_forward", {"x": f((4,))}, "x", "(4,)"),
    ("softmax_cross_entropy", {"logits": f((4,)), "labels": f((4,))}, "logits", "(4,)"),
]


@pytest.mark.parametrize("op,replace,name,shape", RANK_ERRORS,
                         ids=["%s-%s" % (e[0], e[2]) for e in RANK_ERRORS])
def test_wrong_rank_raises_value_error(op, replace, name, shape):
    with pytest.raises(ValueError) as info:
        call(op, replace=replace)
    msg = str(info.value)
    assert named(name, msg) and shape in msg, msg


# ----------------------------------------------------------------- out=
OUT_OPS = {
    "matmul": ((3, 2), lambda out: ops.matmul(f((3, 4)), f((4, 2)), out=out)),
    "add_bias": ((3, 4), lambda out: ops.add_bias(f((3, 4)), f((4,)), out=out)),
    "bias_grad": ((4,), lambda out: ops.bias_grad(f((3, 4)), out=out)),
    "relu": ((3, 4), lambda out: ops.relu(f((3, 4)), out=out)),
    "gelu_backward": ((3, 4), lambda out: ops.gelu_backward(f((3, 4)), f((3, 4)), out=out)),
    "softmax": ((3, 4), lambda out: ops.softmax(f((3, 4)), out=out)),
    "mse_backward": ((3, 4), lambda out: ops.mse_backward(f((3, 4)), f((3, 4)), out=out)),
    "dense_forward": ((3, 2), lambda out: ops.dense_forward(f((3, 4)), f((4, 2)), out=out)),
    "dense_backward.dw": ((4, 2), lambda out: ops.dense_backward(f((3, 2)), f((3, 4)), f((4, 2)),
                                                                 dw=out)),
}


def _out_name(op):
    return op.split(".")[1] if "." in op else "out"


@pytest.mark.parametrize("op", sorted(OUT_OPS))
def test_out_with_wrong_shape_raises(op):
    shape, fn = OUT_OPS[op]
    bad = f(tuple(s + 1 for s in shape))
    with pytest.raises(ValueError) as info:
        fn(bad)
    msg = str(info.value)
    assert named(_out_name(op), msg), msg
    assert str(shape) in msg and str(bad.shape) in msg, msg


@pytest.mark.parametrize("op", sorted(OUT_OPS))
def test_out_with_wrong_dtype_raises(op):
    shape, fn = OUT_OPS[op]
    for bad in (np.float32, np.int64):
        with pytest.raises(TypeError) as info:
            fn(np.zeros(shape, bad))
        msg = str(info.value)
        assert named(_out_name(op), msg) and np.dtype(bad).name in msg, msg


@pytest.mark.parametrize("op", sorted(set(OUT_OPS) - {"matmul"}))  # matmul: see test_ops_gemm
def test_out_non_contiguous_raises(op):
    shape, fn = OUT_OPS[op]
    big = np.zeros((2 * shape[0],) + shape[1:])
    with pytest.raises(ValueError) as info:
        fn(big[::2])
    msg = str(info.value)
    assert named(_out_name(op), msg) and "contiguous" in msg, msg


@pytest.mark.parametrize("op", sorted(OUT_OPS))
def test_out_not_an_array_raises(op):
    shape, fn = OUT_OPS[op]
    with pytest.raises(TypeError) as info:
        fn(np.zeros(shape).tolist())
    assert named(_out_name(op), str(info.value)), str(info.value)


def test_out_read_only_raises():
    out = np.zeros((3, 4))
    out.setflags(write=False)
    with pytest.raises(ValueError, match="out"):
        ops.relu(f((3, 4)), out=out)


def test_out_partially_overlapping_an_input_raises():
    # exact in-place aliasing is fine for elementwise ops; a shifted view is a hazard
    buf = np.arange(13, dtype=np.float64)
    with pytest.raises(ValueError, match="out.*overlap"):
        ops.relu(buf[:12], out=buf[1:])
    a = np.ones((4, 4))
    with pytest.raises(ValueError, match="out.*overlap"):
        ops.matmul(a, np.ones((4, 4)), out=a)


# ----------------------------------------------------------------- other arguments
def test_none_and_garbage_arrays_raise_type_error():
    with pytest.raises(TypeError, match="x"):
        ops.relu(None)
    with pytest.raises(TypeError, match=r"^a: "):
        ops.matmul("abc", f((3, 2)))
    with pytest.raises(TypeError, match=r"^b: "):
        ops.matmul(f((2, 3)), [[object()]])


def test_gemm_c_must_be_an_array():
    with pytest.raises(TypeError, match=r"^c: "):
        ops.gemm(f((3, 4)), f((4, 2)), [[0.0, 0.0]] * 3)


def test_array_likes_are_accepted():
    np.testing.assert_array_equal(ops.relu([[-1.0, 2.0]]), [[0.0, 2.0]])
    np.testing.assert_array_equal(ops.add_bias([[1.0, 2.0]], (0.5, 0.5)), [[1.5, 2.5]])


def test_unknown_activation_raises():
    with pytest.raises(ValueError, match="activation") as info:
        ops.dense_forward(f((3, 4)), f((4, 2)), activation="Relu")
    assert "Relu" in str(info.value)
    with pytest.raises(TypeError, match="activation"):
        ops.dense_forward(f((3, 4)), f((4, 2)), activation=3)


def test_labels_errors():
    z = f((3, 4))
    with pytest.raises(ValueError, match="labels"):
        ops.softmax_cross_entropy(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="labels"):
        ops.softmax_cross_entropy_backward(z, np.array([-1, 1, 2]))
    with pytest.raises(ValueError, match=r"labels.*\(3,\).*\(2,\)|labels.*\(2,\).*\(3,\)"):
        ops.softmax_cross_entropy(z, np.array([0, 1]))


@pytest.mark.parametrize("bad", ["complex128", "bool", "<U3"])
@pytest.mark.parametrize("fn", ["softmax_cross_entropy", "softmax_cross_entropy_backward"])
def test_labels_of_a_non_numeric_dtype_raise_type_error(fn, bad):
    with pytest.raises(TypeError) as info:
        getattr(ops, fn)(f((3, 4)), np.zeros(3, dtype=bad))
    msg = str(info.value)
    assert named("labels", msg) and str(np.dtype(bad)) in msg and "expected" in msg, msg


@pytest.mark.parametrize("fn", ["softmax_cross_entropy", "softmax_cross_entropy_backward"])
def test_float_targets_of_the_other_dtype_raise_type_error(fn):
    with pytest.raises(TypeError) as info:
        getattr(ops, fn)(f((3, 4), np.float32), f((3, 4), np.float64))
    msg = str(info.value)
    assert named("labels", msg) and "float32" in msg and "float64" in msg, msg


# ----------------------------------------------------------------- signatures
def _reference_functions():
    import inspect

    from bprop import reference as ref

    return {n: v for n, v in vars(ref).items() if inspect.isfunction(v)
            and not n.startswith("_") and v.__module__.startswith(ref.__name__ + ".")
            and n not in ref.HELPERS}


def _signature_of(fn):
    """[(name, default or inspect.Parameter.empty)] of a Python or pybind11 function."""
    import ast
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # pybind11: "name(a: object, b: float = 1.0) -> ..."
        head = fn.__doc__.splitlines()[0]
        inner = head[head.index("(") + 1:head.rindex(")")]
        params = []
        for part in filter(None, (p.strip() for p in inner.split(","))):
            name, _, rest = part.partition(":")
            default = rest.partition("=")[2].strip()
            params.append((name.strip(), ast.literal_eval(default) if default
                           else inspect.Parameter.empty))
        return params
    return [(p.name, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize("name", sorted(_reference_functions()))
def test_ops_mirrors_the_reference_signature(name):
    """Same names, same parameters, same defaults: the two backends are interchangeable."""
    assert hasattr(ops, name), "bprop.ops lacks %s" % name
    want = _signature_of(_reference_functions()[name])
    assert _signature_of(getattr(ops, name)) == want


def test_read_only_inputs_are_fine():
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    x.setflags(write=False)
    np.testing.assert_array_equal(ops.relu(x), np.maximum(x, 0))
    np.testing.assert_allclose(ops.matmul(x, x.T), x @ x.T, rtol=1e-14)


def test_gemm_c_overlapping_an_input_raises():
    a = np.ones((4, 4))
    with pytest.raises(ValueError, match=r"^c: .*overlap"):
        ops.gemm(a, np.ones((4, 4)), a, beta=1.0)
    with pytest.raises(ValueError, match=r"^c: .*overlap"):
        ops.gemm(np.ones((4, 4)), a, a.T, beta=1.0)


def test_huge_unsigned_label_is_out_of_range():
    # 2**63 does not fit int64: it must be refused, not wrapped into range
    with pytest.raises(ValueError, match="labels"):
        ops.softmax_cross_entropy(f((3, 4)), np.array([0, 1, 2**63], np.uint64))
