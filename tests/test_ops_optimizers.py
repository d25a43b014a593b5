"""In-place optimizer updates: sgd (momentum, Nesterov), rmsprop (momentum, centered),
adam (AdamW), adagrad.

Several steps of each kernel against bprop.reference run on copies of the
same state (conftest.TOLERANCES, scaled by the step count), closed forms of
the first step, the in-place contract (the param object is returned and
updated, slots too), and the argument checks.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from bprop import ops
from bprop import reference as ref

# name -> (slot names, kwargs)
CASES = {
    "sgd": ("sgd_update", [], {"lr": 0.1}),
    "sgd_momentum": ("sgd_update", ["velocity"], {"lr": 0.05, "momentum": 0.9}),
    "sgd_nesterov": ("sgd_update", ["velocity"], {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    "rmsprop": ("rmsprop_update", ["sq_avg"], {"lr": 0.01, "rho": 0.9, "eps": 1e-7}),
    "rmsprop_momentum": ("rmsprop_update", ["sq_avg", "velocity"],
                         {"lr": 0.01, "rho": 0.8, "momentum": 0.9}),
    "rmsprop_centered": ("rmsprop_update", ["sq_avg", "average_grad"],
                         {"lr": 0.01, "centered": True}),
    "rmsprop_both": ("rmsprop_update", ["sq_avg", "velocity", "average_grad"],
                     {"lr": 0.01, "rho": 0.7, "momentum": 0.5, "centered": True, "eps": 1e-3}),
    "adam": ("adam_update", ["m", "v"], {"lr": 0.01}),
    "adamw": ("adam_update", ["m", "v"], {"lr": 0.01, "beta1": 0.8, "beta2": 0.99,
                                          "eps": 1e-6, "weight_decay": 0.01}),
    "adagrad": ("adagrad_update", ["accum"], {"lr": 0.1, "eps": 1e-7}),
}


def state(rng, shape, dtype, slots, fn):
    p = rng.standard_normal(shape).astype(dtype)
    s = {}
    for name in slots:
        # adagrad's accumulator starts positive (Keras: initial_accumulator_value)
        s[name] = np.full(shape, 0.1, dtype) if fn == "adagrad_update" else np.zeros(shape, dtype)
    return p, s


def run(module, fn, p, grads, slots, kwargs):
    for step, g in enumerate(grads, start=1):
        kw = dict(kwargs, **slots)
        if fn == "adam_update":
            kw["step"] = step
        got = getattr(module, fn)(p, g, **kw)
        assert got is p
    return p, slots


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (5, 3), (300, 70)], ids=str)
@pytest.mark.parametrize("case", sorted(CASES))
def test_steps_match_reference(rng, dtype, tol, case, shape):
    fn, slot_names, kw = CASES[case]
    p, s = state(rng, shape, dtype, slot_names, fn)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    p_ops, s_ops = run(ops, fn, p.copy(), grads, {k: v.copy() for k, v in s.items()}, kw)
    p_ref, s_ref = run(ref, fn, p.copy(), grads, {k: v.copy() for k, v in s.items()}, kw)
    # each step adds a few roundings; 10x the single-op tolerance covers three steps
    np.testing.assert_allclose(p_ops, p_ref, rtol=10 * tol["rtol"], atol=10 * tol["atol"])
    for k in slot_names:
        np.testing.assert_allclose(s_ops[k], s_ref[k], rtol=10 * tol["rtol"],
                                   atol=10 * tol["atol"], err_msg=k)
    if p.size:
        assert not np.array_equal(p_ops, p)  # the update did happen in place


def test_sgd_closed_form():
    p = np.array([1.0, -2.0, 3.0])
    g = np.array([0.5, 0.5, -1.0])
    ops.sgd_update(p, g, 0.1)
    np.testing.assert_allclose(p, [0.95, -2.05, 3.1], rtol=1e-15)


def test_sgd_momentum_closed_form():
    # Keras: v = m v - lr g; p += v.  Two steps with g = 1, lr = 0.1, m = 0.9:
    # v1 = -0.1, p1 = -0.1; v2 = -0.19, p2 = -0.29.  Nesterov: p += m v - lr g:
    # p1 = -0.09 - 0.1 = -0.19; p2 = -0.19 + 0.9 * -0.19 - 0.1 = -0.461
    p, v = np.zeros(1), np.zeros(1)
    for _ in range(2):
        ops.sgd_update(p, np.ones(1), 0.1, momentum=0.9, velocity=v)
    np.testing.assert_allclose([p[0], v[0]], [-0.29, -0.19], rtol=1e-14)
    p, v = np.zeros(1), np.zeros(1)
    for _ in range(2):
        ops.sgd_update(p, np.ones(1), 0.1, momentum=0.9, nesterov=True, velocity=v)
    np.testing.assert_allclose(p[0], -0.461, rtol=1e-14)


def test_adam_first_step_closed_form(rng):
    # step 1: m = (1-b1) g, v = (1-b2) g^2, lr_t = lr sqrt(1-b2) / (1-b1)
    # => p -= lr sqrt(1-b2) g / (sqrt(1-b2) |g| + eps)   (Keras' eps placement)
    g = rng.standard_normal(6)
    p0 = rng.standard_normal(6)
    p, m, v = p0.copy(), np.zeros(6), np.zeros(6)
    lr, eps = 0.01, 1e-3  # a large eps makes its placement visible
    ops.adam_update(p, g, m, v, lr, 1, eps=eps)
    s = math.sqrt(1 - 0.999)
    np.testing.assert_allclose(p, p0 - lr * s * g / (s * np.abs(g) + eps), rtol=1e-13)
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-14)
    np.testing.assert_allclose(v, 0.001 * g * g, rtol=1e-13)


def test_adamw_decays_weights_before_the_step():
    # zero gradient: only the decoupled decay p -= lr * wd * p acts
    p = np.array([2.0, -4.0])
    ops.adam_update(p, np.zeros(2), np.zeros(2), np.zeros(2), 0.1, 1, weight_decay=0.5)
    np.testing.assert_allclose(p, [1.9, -3.8], rtol=1e-15)


def test_rmsprop_momentum_centered_closed_form():
    # g = 2, rho = 0.5, lr = 0.1, eps = 0, momentum = 0.5, two steps:
    # s1 = 2, a1 = 1, d1 = 2 - 1 = 1, inc1 = 0.2, v1 = 0.2, p1 = -0.2;
    # s2 = 3, a2 = 1.5, d2 = 0.75, inc2 = 0.2 / sqrt(0.75), v2 = 0.1 + inc2.
    p, s, v, a = np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1)
    for _ in range(2):
        ops.rmsprop_update(p, np.full(1, 2.0), s, 0.1, rho=0.5, eps=0.0, momentum=0.5,
                           centered=True, velocity=v, average_grad=a)
    inc2 = 0.2 / math.sqrt(0.75)
    np.testing.assert_allclose([s[0], a[0], v[0], p[0]], [3.0, 1.5, 0.1 + inc2, -0.3 - inc2],
                               rtol=1e-14)


@pytest.mark.parametrize("kw,words", [
    ({"momentum": 0.9}, r"velocity: required when momentum > 0, got None"),
    ({"centered": True}, r"average_grad: required when centered=True, got None"),
    ({"momentum": 1.0, "velocity": np.zeros(3)}, r"momentum: expected a value in \[0, 1\), got 1"),
])
def test_rmsprop_options_check_their_slots(kw, words):
    with pytest.raises(ValueError, match=words):
        ops.rmsprop_update(np.zeros(3), np.ones(3), np.zeros(3), 0.1, **kw)


def test_rmsprop_slots_must_not_share_memory():
    s = np.zeros(3)
    with pytest.raises(ValueError, match="average_grad: must not overlap the other slots"):
        ops.rmsprop_update(np.zeros(3), np.ones(3), s, 0.1, centered=True, average_grad=s)
    v = np.zeros(3)
    with pytest.raises(ValueError, match="average_grad: must not overlap the other slots"):
        ops.rmsprop_update(np.zeros(3), np.ones(3), s, 0.1, momentum=0.5, velocity=v,
                           centered=True, average_grad=v)


def test_rmsprop_and_adagrad_closed_forms():
    p, s = np.array([1.0]), np.zeros(1)
    ops.rmsprop_update(p, np.array([2.0]), s, 0.01, rho=0.9, eps=1e-7)
    np.testing.assert_allclose(s, [0.4], rtol=1e-15)
    np.testing.assert_allclose(p, [1.0 - 0.01 * 2.0 / math.sqrt(0.4 + 1e-7)], rtol=1e-15)
    p, a = np.array([1.0]), np.full(1, 0.1)
    ops.adagrad_update(p, np.array([3.0]), a, 0.1, eps=1e-7)
    np.testing.assert_allclose(a, [9.1], rtol=1e-15)
    np.testing.assert_allclose(p, [1.0 - 0.1 * 3.0 / math.sqrt(9.1 + 1e-7)], rtol=1e-15)


def _tiny(dtype):
    return np.finfo(dtype).tiny  # the smallest normal number


def _is_denormal(a, dtype):
    return (a != 0) & (np.abs(a) < _tiny(dtype))


@pytest.mark.parametrize("case", ["adam", "sgd_momentum", "rmsprop"])
def test_slots_decaying_below_the_normal_range_are_never_stored_denormal(dtype, case):
    # A zero gradient decays the slots geometrically (Adam's m by beta1, the
    # velocity by momentum, RMSprop's average by rho).  The updates run with
    # denormals flushed to zero, as TensorFlow's CPU kernels do
    # (csrc/core/flush_denormals.hpp): a slot never holds a denormal (whose
    # arithmetic takes a microcode assist on every later step).  Where the
    # exact result is 0.945 of the smallest normal it becomes 0, or stays at
    # its old value when the flushed term is the decrement (Adam's
    # m += (g - m)(1 - b1) without a fused multiply-add); values well in the
    # normal range are exact to rounding.
    fn, slot_names, kw = CASES[case]
    tiny = _tiny(dtype)
    start = np.array([tiny * 1000, tiny * 1.05, 1.0], dtype)
    p = np.array([1.0, 1.0, 1.0], dtype)
    slots = {name: start.copy() for name in slot_names}
    if case == "rmsprop":
        kw = dict(kw, rho=0.9)
    if fn == "adam_update":
        kw = dict(kw, step=1)
    getattr(ops, fn)(p, np.zeros(3, dtype), **slots, **kw)
    first = slots[slot_names[0]]
    np.testing.assert_allclose(first[[0, 2]], 0.9 * start[[0, 2]].astype(np.float64), rtol=1e-6)
    assert first[1] in (0.0, start[1])
    for arr in (p, *slots.values()):
        assert not _is_denormal(arr, dtype).any()
    assert np.all(np.isfinite(p))


def test_a_denormal_gradient_counts_as_zero(dtype):
    # Exactly 2 tiny - tiny / 4 would be normal; the flushed gradient leaves p.
    tiny = _tiny(dtype)
    p = np.array([2 * tiny, -2.0], dtype)
    ops.sgd_update(p, np.array([tiny / 4, 0.0], dtype), 1.0)
    np.testing.assert_array_equal(p, np.array([2 * tiny, -2.0], dtype))


def test_the_threads_float_mode_is_restored_after_an_update(dtype):
    # The flush is scoped to the update: NumPy's arithmetic afterwards (on
    # this thread) still produces denormals.
    ops.adam_update(np.ones(64, dtype), np.ones(64, dtype), np.zeros(64, dtype),
                    np.zeros(64, dtype), 0.01, 1)
    tiny = np.array([_tiny(dtype)], dtype)
    assert (tiny / 4)[0] > 0.0
    assert (tiny / 4)[0] == _tiny(dtype) / 4


def test_grad_may_be_any_layout(rng, dtype, tol, relayout, layout):
    p = rng.standard_normal((9, 4)).astype(dtype)
    g = rng.standard_normal((9, 4)).astype(dtype)
    m, v = np.zeros_like(p), np.zeros_like(p)
    want = ref.adam_update(p.copy(), g, m.copy(), v.copy(), 0.01, 1)
    got = ops.adam_update(p, relayout(g, layout), m, v, 0.01, 1)
    np.testing.assert_allclose(got, want, **tol)


def test_non_contiguous_param_is_refused(dtype):
    # an in-place update of a copy would be silently lost
    base = np.zeros((6, 4), dtype)
    with pytest.raises(ValueError, match=r"^param: .*contiguous"):
        ops.sgd_update(base[::2], np.ones((3, 4), dtype), 0.1)
    np.testing.assert_array_equal(base, 0)
    with pytest.raises(ValueError, match=r"^m: .*contiguous"):
        ops.adam_update(np.zeros(3, dtype), np.ones(3, dtype), base[0, :3][::-1],
                        np.zeros(3, dtype), 0.1, 1)


def test_param_must_be_an_ndarray():
    with pytest.raises(TypeError, match="param"):
        ops.sgd_update([1.0, 2.0], np.ones(2), 0.1)


def test_read_only_param_is_refused():
    p = np.zeros(3)
    p.setflags(write=False)
    with pytest.raises(ValueError, match="param"):
        ops.sgd_update(p, np.ones(3), 0.1)


def test_dtype_and_shape_mismatches_raise():
    p = np.zeros((3, 2), np.float32)
    with pytest.raises(TypeError, match=r"grad: expected float32.*float64"):
        ops.sgd_update(p, np.ones((3, 2)), 0.1)
    with pytest.raises(TypeError, match=r"param: expected float32 or float64, got int64"):
        ops.sgd_update(np.zeros(3, np.int64), np.ones(3), 0.1)
    with pytest.raises(ValueError, match=r"grad: .*\(3, 2\).*\(2, 3\)"):
        ops.sgd_update(p, np.ones((2, 3), np.float32), 0.1)
    with pytest.raises(ValueError, match=r"sq_avg: .*\(3, 2\).*\(6,\)"):
        ops.rmsprop_update(p, np.ones((3, 2), np.float32), np.zeros(6, np.float32), 0.1)
    with pytest.raises(TypeError, match=r"v: expected float32.*float64"):
        ops.adam_update(p, np.ones((3, 2), np.float32), np.zeros((3, 2), np.float32),
                        np.zeros((3, 2)), 0.1, 1)


def test_hyper_parameters_are_validated():
    p, g = np.zeros(2), np.ones(2)
    with pytest.raises(ValueError, match="lr"):
        ops.sgd_update(p, g, -0.1)
    with pytest.raises(ValueError, match="velocity"):
        ops.sgd_update(p, g, 0.1, momentum=0.9)
    with pytest.raises(ValueError, match="step"):
        ops.adam_update(p, g, np.zeros(2), np.zeros(2), 0.1, 0)
    with pytest.raises(ValueError, match="rho"):
        ops.rmsprop_update(p, g, np.zeros(2), 0.1, rho=1.5)


def test_slot_aliasing_param_is_refused():
    p = np.zeros(4)
    with pytest.raises(ValueError, match="overlap"):
        ops.adam_update(p, np.ones(4), p, np.zeros(4), 0.1, 1)
