"""Every tensor op: its value against a NumPy formula and its tape gradient
against central differences (``bprop.testing.gradcheck``) in float64,
including broadcasting.  Kernel-backed ops run on both backends."""
from __future__ import annotations

import math

import numpy as np
import pytest

import bprop
from bprop import autodiff
from bprop.testing import gradcheck


def tape_gradients(fn, wrt):
    """``analytic(g, *xs)`` for gradcheck: the tape's gradient of sum(g * fn(xs))."""

    def analytic(g, *xs):
        args = []
        for i, x in enumerate(xs):
            if i in wrt and i % 2 == 0:
                args.append(bprop.Variable(x))  # a Variable, watched automatically
            elif i in wrt:
                args.append(bprop.constant(x))  # a Tensor, watched explicitly
            else:
                args.append(x)
        with bprop.GradientTape() as tape:
            for i in wrt:
                if isinstance(args[i], bprop.Tensor):
                    tape.watch(args[i])
            y = fn(*args)
        og = np.asarray(g, dtype=np.float64).reshape(y.shape)
        grads = tape.gradient(y, [args[i] for i in wrt], output_gradients=og)
        for i, gr in zip(wrt, grads):
            assert gr is not None, "no gradient for input %d" % i
            assert gr.dtype == np.float64 and gr.shape == np.shape(xs[i])
        return [np.asarray(gr) for gr in grads]

    return analytic


def check(fn, ref, xs, wrt=None, rtol=1e-6, atol=1e-8):
    xs = [np.asarray(x, dtype=np.float64) if np.asarray(x).dtype.kind == "f" else x for x in xs]
    if wrt is None:
        wrt = [i for i, x in enumerate(xs) if isinstance(x, np.ndarray) and x.dtype.kind == "f"]
    got = fn(*[bprop.constant(x) if i in wrt else x for i, x in enumerate(xs)])
    assert isinstance(got, bprop.Tensor) and got.dtype == np.float64
    np.testing.assert_allclose(np.asarray(got), ref(*xs), rtol=1e-12, atol=1e-12)
    gradcheck(lambda *a: np.asarray(fn(*a)), xs, tape_gradients(fn, wrt), wrt=wrt,
              rtol=rtol, atol=atol)


R = np.random.default_rng(7)


def normal(*shape):
    return R.standard_normal(shape)


def positive(*shape):
    return R.uniform(0.5, 2.0, shape)


def away_from_zero(*shape):
    x = R.uniform(0.2, 2.0, shape)
    return x * R.choice([-1.0, 1.0], shape)


def distinct(*shape):
    n = int(np.prod(shape))
    return (R.permutation(n) * 0.37 - n * 0.15).reshape(shape)


# name -> (fn, numpy oracle, inputs)
ELEMENTWISE = {
    "add_bias_row": (bprop.add, np.add, [normal(3, 4), normal(4)]),
    "add_outer": (lambda a, b: a + b, np.add, [normal(3, 1), normal(1, 4)]),
    "add_scalar_tensor": (bprop.add, np.add, [normal(), normal(2, 3)]),
    "radd_python": (lambda a: 2.5 + a, lambda a: 2.5 + a, [normal(2, 3)]),
    "subtract_3d": (lambda a, b: a - b, np.subtract, [normal(2, 3, 4), normal(3, 1)]),
    "rsub_array": (lambda a: np.ones((2, 3)) - a, lambda a: np.ones((2, 3)) - a, [normal(3)]),
    "multiply_col": (lambda a, b: a * b, np.multiply, [normal(3, 4), normal(3, 1)]),
    "multiply_scalar": (bprop.multiply, np.multiply, [normal(), normal(5)]),
    "divide": (lambda a, b: a / b, np.divide, [normal(2, 3), positive(3)]),
    "rtruediv": (lambda a: 3.0 / a, lambda a: 3.0 / a, [positive(2, 2)]),
    "negative": (lambda a: -a, np.negative, [normal(4)]),
    "pow_int": (lambda a: a ** 3, lambda a: a ** 3, [normal(3, 2)]),
    "pow_half": (lambda a: bprop.pow(a, 0.5), np.sqrt, [positive(4)]),
    "pow_tensor_exponent": (bprop.pow, np.power, [positive(2, 3), normal(3)]),
    "rpow": (lambda a: 2.0 ** a, lambda a: 2.0 ** a, [normal(3)]),
    "square": (bprop.square, np.square, [normal(2, 3)]),
    "sqrt": (bprop.sqrt, np.sqrt, [positive(5)]),
    "exp": (bprop.exp, np.exp, [normal(2, 2)]),
    "log": (bprop.log, np.log, [positive(3, 2)]),
    "abs": (bprop.abs, np.abs, [away_from_zero(6)]),
    "maximum": (bprop.maximum, np.maximum, [distinct(3, 4), distinct(4) + 0.1]),
    "minimum": (bprop.minimum, np.minimum, [distinct(3, 4), distinct(3, 1) + 0.1]),
    "clip_by_value": (lambda a: bprop.clip_by_value(a, -0.5, 0.5),
                      lambda a: np.clip(a, -0.5, 0.5), [distinct(4, 3) * 0.3 + 0.01]),
    "identity": (bprop.identity, lambda a: a, [normal(3)]),
    "floormod": (lambda a, b: a % b, np.mod, [distinct(2, 3) + 0.05, positive(3) + 0.3]),
    "cast_float64_to_float64": (lambda a: bprop.cast(a, bprop.float64), lambda a: a, [normal(3)]),
    "where_xy": (lambda a, b: bprop.where(np.array([[True, False, True]]), a, b),
                 lambda a, b: np.where([[True, False, True]], a, b), [normal(2, 3), normal(2, 1)]),
    "softplus": (bprop.math.softplus, lambda a: np.log1p(np.exp(a)), [normal(3, 2) * 3]),
}

REDUCTIONS = {
    "sum_all": (bprop.reduce_sum, np.sum, [normal(3, 4)]),
    "sum_axis0": (lambda a: bprop.reduce_sum(a, axis=0), lambda a: a.sum(0), [normal(3, 4)]),
    "sum_axes_keep": (lambda a: bprop.reduce_sum(a, axis=[0, 2], keepdims=True),
                      lambda a: a.sum((0, 2), keepdims=True), [normal(2, 3, 4)]),
    "mean_all": (bprop.reduce_mean, np.mean, [normal(3, 4)]),
    "mean_neg_axis": (lambda a: bprop.reduce_mean(a, axis=-1), lambda a: a.mean(-1),
                      [normal(2, 3, 4)]),
    "max_axis1": (lambda a: bprop.reduce_max(a, axis=1), lambda a: a.max(1), [distinct(3, 5)]),
    "min_all_keep": (lambda a: bprop.reduce_min(a, keepdims=True),
                     lambda a: a.min(keepdims=True), [distinct(2, 3)]),
    "prod_axis1": (lambda a: bprop.reduce_prod(a, axis=1), lambda a: a.prod(1),
                   [normal(3, 4)]),
    "prod_with_a_zero": (lambda a: bprop.reduce_prod(a, axis=[0, 2], keepdims=True),
                         lambda a: a.prod((0, 2), keepdims=True),
                         [np.where(np.arange(24).reshape(2, 3, 4) == 5, 0.0, normal(2, 3, 4))]),
    "prod_all": (bprop.reduce_prod, np.prod, [positive(2, 3)]),
}

SHAPES = {
    "reshape": (lambda a: bprop.reshape(a, (4, -1)), lambda a: a.reshape(4, -1), [normal(2, 6)]),
    "transpose_2d": (bprop.transpose, np.transpose, [normal(3, 4)]),
    "transpose_perm": (lambda a: bprop.transpose(a, [1, 2, 0]),
                       lambda a: np.transpose(a, (1, 2, 0)), [normal(2, 3, 4)]),
    "expand_dims": (lambda a: bprop.expand_dims(a, 1), lambda a: a[:, None], [normal(3, 2)]),
    "squeeze": (bprop.squeeze, np.squeeze, [normal(3, 1, 2)]),
    "concat": (lambda a, b: bprop.concat([a, b], axis=1),
               lambda a, b: np.concatenate([a, b], 1), [normal(2, 3), normal(2, 2)]),
    "stack_axis1": (lambda a, b: bprop.stack([a, b], axis=1),
                    lambda a, b: np.stack([a, b], 1), [normal(2, 3), normal(2, 3)]),
    "stack_last": (lambda a, b: bprop.stack([a, b], axis=-1),
                   lambda a, b: np.stack([a, b], -1), [normal(3), normal(3)]),
    "linspace": (lambda a, b: bprop.linspace(a, b, 5), lambda a, b: np.linspace(a, b, 5),
                 [normal(2), normal(2)]),
    "linspace_axis1_broadcast": (lambda a, b: bprop.linspace(a, b, 4, axis=1),
                                 lambda a, b: np.linspace(a, np.broadcast_to(b, a.shape), 4,
                                                          axis=1), [normal(3), normal()]),
    "getitem_slice": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], [normal(3, 4)]),
    "getitem_repeated_rows": (lambda a: a[[0, 2, 0]], lambda a: a[[0, 2, 0]], [normal(3, 2)]),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise(name):
    fn, ref, xs = ELEMENTWISE[name]
    check(fn, ref, xs)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name):
    fn, ref, xs = REDUCTIONS[name]
    check(fn, ref, xs)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_ops(name):
    fn, ref, xs = SHAPES[name]
    check(fn, ref, xs)


@pytest.fixture(params=["core", "numpy"])
def backend(request):
    previous = autodiff.set_backend(request.param)
    yield request.param
    autodiff.set_backend(previous)


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


_erf = np.vectorize(math.erf)

KERNEL_OPS = {
    "matmul": (bprop.matmul, np.matmul, [normal(3, 4), normal(4, 2)]),
    "matmul_operator_ndarray_left": (lambda b: np.ones((2, 3)) @ b, lambda b: np.ones((2, 3)) @ b,
                                     [normal(3, 4)]),
    "matmul_transpose_a": (lambda a, b: bprop.matmul(a, b, transpose_a=True),
                           lambda a, b: a.T @ b, [normal(4, 3), normal(4, 2)]),
    "matmul_transpose_b": (lambda a, b: bprop.matmul(a, b, transpose_b=True),
                           lambda a, b: a @ b.T, [normal(3, 4), normal(2, 4)]),
    "matmul_transpose_both": (lambda a, b: bprop.matmul(a, b, transpose_a=True, transpose_b=True),
                              lambda a, b: a.T @ b.T, [normal(4, 3), normal(2, 4)]),
    "matmul_batched_broadcast": (lambda a, b: a @ b, np.matmul, [normal(2, 3, 4), normal(4, 5)]),
    "relu": (bprop.nn.relu, lambda a: np.maximum(a, 0), [away_from_zero(3, 4)]),
    "leaky_relu": (lambda a: bprop.nn.leaky_relu(a, alpha=0.1),
                   lambda a: np.where(a > 0, a, 0.1 * a), [away_from_zero(2, 5)]),
    "sigmoid": (bprop.nn.sigmoid, lambda a: 1 / (1 + np.exp(-a)), [normal(3, 3)]),
    "tanh": (bprop.nn.tanh, np.tanh, [normal(4)]),
    "gelu_tanh": (bprop.nn.gelu, _gelu_tanh, [normal(2, 3)]),
    "gelu_exact": (lambda a: bprop.nn.gelu(a, approximate=False),
                   lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2))), [normal(2, 3)]),
    "softmax": (bprop.nn.softmax, _softmax, [normal(3, 4)]),
    "softmax_axis0_3d": (lambda a: bprop.nn.softmax(a, axis=0), lambda a: _softmax(a, 0),
                         [normal(3, 2, 2)]),
    "log_softmax": (bprop.nn.log_softmax, lambda a: np.log(_softmax(a)), [normal(2, 5)]),
    "softmax_xent_with_logits": (
        lambda t, z: bprop.nn.softmax_cross_entropy_with_logits(t, z),
        lambda t, z: -(t * np.log(_softmax(z))).sum(-1), [_softmax(normal(3, 4)), normal(3, 4)]),
    "sparse_softmax_xent_with_logits": (
        lambda z: bprop.nn.sparse_softmax_cross_entropy_with_logits(np.array([2, 0, 1]), z),
        lambda z: -np.log(_softmax(z))[np.arange(3), [2, 0, 1]], [normal(3, 4)]),
    "sigmoid_xent_with_logits": (
        bprop.nn.sigmoid_cross_entropy_with_logits,
        lambda t, z: -(t * np.log(1 / (1 + np.exp(-z))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-z)))),
        [R.uniform(0, 1, (2, 3)), normal(2, 3)]),
}


@pytest.mark.parametrize("name", sorted(KERNEL_OPS))
def test_kernel_backed_ops(name, backend):
    fn, ref, xs = KERNEL_OPS[name]
    check(fn, ref, xs)


def test_matmul_forward_and_backward_call_the_backend_kernels():
    calls = []

    class Spy:
        def __getattr__(self, name):
            fn = getattr(bprop.reference, name)

            def wrapped(*args, **kwargs):
                calls.append(name)
                return fn(*args, **kwargs)
            return wrapped

    spy = Spy()
    spy.sgd_update = spy.adam_update = bprop.reference.sgd_update  # passes utils.get_backend
    previous = autodiff.set_backend(spy)
    try:
        w = bprop.Variable(np.ones((3, 2)))
        with bprop.GradientTape() as tape:
            y = bprop.reduce_sum(bprop.nn.relu(np.ones((4, 3)) @ w))
        tape.gradient(y, w)
    finally:
        autodiff.set_backend(previous)
    assert calls == ["matmul", "relu", "relu_backward", "gemm"]


def test_cast_is_the_explicit_way_to_mix_dtypes():
    x = bprop.Variable(np.array([1.0, 2.0], dtype=np.float32))
    with bprop.GradientTape() as tape:
        y = bprop.reduce_sum(bprop.cast(x, "float64") * np.array([3.0, 4.0]))
    assert y.dtype == np.float64
    g = tape.gradient(y, x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(g), [3.0, 4.0])


def test_stop_gradient_blocks_the_gradient():
    x = bprop.Variable(2.0)
    with bprop.GradientTape() as tape:
        y = x * bprop.stop_gradient(x)  # d/dx = stop(x) = 2, not 2x = 4
    assert float(tape.gradient(y, x)) == 2.0
