"""Optimizers: updates against hand-written textbook/Keras formulas, on both backends.

The oracles below are written out in NumPy in this file (not taken from
bprop.reference), and each update is checked over two steps in float64.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import bprop
from bprop import optimizers
from bprop.optimizers import schedules

BACKENDS = ["core", "numpy"]

P0 = np.array([[0.5, -1.25, 2.0], [0.0, 3.0, -0.75]])
G1 = np.array([[0.1, -0.2, 0.3], [-0.4, 0.5, 0.0]])
G2 = np.array([[-0.3, 0.1, 0.2], [0.6, -0.1, 0.05]])


def run_two_steps(opt, backend):
    opt.set_backend(backend)
    var = bprop.Variable(P0.copy())
    opt.apply_gradients([(G1, var)])
    after1 = var.numpy()
    opt.apply_gradients([(G2, var)])
    return after1, var.numpy()


# ----------------------------------------------------------------- hand-written oracles
def sgd_oracle(lr, momentum=0.0, nesterov=False):
    p, v = P0.copy(), np.zeros_like(P0)
    out = []
    for g in (G1, G2):
        v = momentum * v - lr * g
        p = p + (momentum * v - lr * g if nesterov else v)
        out.append(p.copy())
    return out


def rmsprop_oracle(lr, rho, eps):
    p, s = P0.copy(), np.zeros_like(P0)
    out = []
    for g in (G1, G2):
        s = rho * s + (1 - rho) * g ** 2
        p = p - lr * g / np.sqrt(s + eps)
        out.append(p.copy())
    return out


def adam_oracle(lr, b1, b2, eps, wd=0.0):
    p, m, v = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    out = []
    for t, g in enumerate((G1, G2), start=1):
        p = p - lr * wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p = p - alpha * m / (np.sqrt(v) + eps)
        out.append(p.copy())
    return out


def adagrad_oracle(lr, init, eps):
    p, a = P0.copy(), np.full_like(P0, init)
    out = []
    for g in (G1, G2):
        a = a + g ** 2
        p = p - lr * g / np.sqrt(a + eps)
        out.append(p.copy())
    return out


CASES = [
    ("sgd", lambda: optimizers.SGD(0.1), lambda: sgd_oracle(0.1)),
    ("sgd_momentum", lambda: optimizers.SGD(0.1, momentum=0.9),
     lambda: sgd_oracle(0.1, 0.9)),
    ("sgd_nesterov", lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True),
     lambda: sgd_oracle(0.05, 0.8, True)),
    ("rmsprop", lambda: optimizers.RMSprop(0.01, rho=0.8, epsilon=1e-6),
     lambda: rmsprop_oracle(0.01, 0.8, 1e-6)),
    ("adam", lambda: optimizers.Adam(0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-6),
     lambda: adam_oracle(0.02, 0.8, 0.95, 1e-6)),
    ("adamw", lambda: optimizers.AdamW(0.02, weight_decay=0.1, beta_1=0.8, beta_2=0.95),
     lambda: adam_oracle(0.02, 0.8, 0.95, 1e-7, wd=0.1)),
    ("adagrad", lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.2, epsilon=1e-6),
     lambda: adagrad_oracle(0.1, 0.2, 1e-6)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,make,oracle", CASES, ids=[c[0] for c in CASES])
def test_two_steps_match_formula(name, make, oracle, backend):
    got1, got2 = run_two_steps(make(), backend)
    want1, want2 = oracle()
    np.testing.assert_allclose(got1, want1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got2, want2, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_momentum_by_hand_scalar(backend):
    # p=1, lr=0.1, m=0.9, g=1 then g=2:
    # v1 = -0.1, p1 = 0.9; v2 = 0.9*-0.1 - 0.2 = -0.29, p2 = 0.61.
    var = bprop.Variable(np.array([1.0]))
    opt = optimizers.SGD(0.1, momentum=0.9).set_backend(backend)
    opt.apply_gradients([(np.array([1.0]), var)])
    assert var.value[0] == pytest.approx(0.9, abs=1e-15)
    opt.apply_gradients([(np.array([2.0]), var)])
    assert var.value[0] == pytest.approx(0.61, abs=1e-15)
    assert opt.get_slot(var, "velocity")[0] == pytest.approx(-0.29, abs=1e-15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_adam_first_step_by_hand(backend):
    # Step 1 of Adam: m = 0.1 g, v = 0.001 g^2, bias-corrected ratio = g/|g|,
    # so p moves by lr * g / (|g| + eps / sqrt(1 - b2)) ~ lr * sign(g).
    var = bprop.Variable(np.array([1.0, -1.0]))
    opt = optimizers.Adam(0.5).set_backend(backend)
    opt.apply_gradients([(np.array([4.0, -0.25]), var)])
    eps_hat = 1e-7 / math.sqrt(1 - 0.999)
    np.testing.assert_allclose(var.value, [1.0 - 0.5 * 4 / (4 + eps_hat),
                                           -1.0 + 0.5 * 0.25 / (0.25 + eps_hat)], rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_update_matches_float64_formula(backend):
    var = bprop.Variable(P0.astype(np.float32))
    opt = optimizers.Adam(0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-6).set_backend(backend)
    opt.apply_gradients([(G1.astype(np.float32), var)])
    opt.apply_gradients([(G2.astype(np.float32), var)])
    assert var.dtype == np.float32
    np.testing.assert_allclose(var.value, adam_oracle(0.02, 0.8, 0.95, 1e-6)[1], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_scalar_variable_keeps_its_shape(backend):
    w = bprop.Variable(np.array(2.0))
    opt = optimizers.SGD(0.5, momentum=0.5).set_backend(backend)
    opt.apply_gradients([(np.array(1.0), w)])
    opt.apply_gradients([(np.array(1.0), w)])
    # v1 = -0.5, p1 = 1.5; v2 = -0.25 - 0.5 = -0.75, p2 = 0.75
    assert w.shape == () and opt.get_slot(w, "velocity").shape == ()
    assert float(w.value) == pytest.approx(0.75)


def test_update_is_in_place_and_apply_uses_keras3_order():
    var = bprop.Variable(P0.copy())
    buffer = var.value
    opt = optimizers.SGD(0.1, backend="numpy")
    opt.apply([G1], [var])
    assert var.value is buffer
    np.testing.assert_allclose(buffer, P0 - 0.1 * G1, rtol=1e-15)
    opt.apply([G2])  # variables remembered from the first call
    np.testing.assert_allclose(buffer, P0 - 0.1 * G1 - 0.1 * G2, rtol=1e-15)
    with pytest.raises(ValueError, match="grads: expected one per variable"):
        opt.apply([G1, G2], [var])


def test_iterations_count_steps_and_none_grads_are_skipped():
    a = bprop.Variable(P0.copy())
    b = bprop.Variable(P0.copy())
    opt = optimizers.SGD(0.1, backend="numpy")
    assert opt.iterations == 0
    assert opt.apply_gradients([(G1, a), (None, b)]) == 1
    np.testing.assert_array_equal(b.value, P0)
    np.testing.assert_allclose(a.value, P0 - 0.1 * G1, rtol=1e-15)
    # No gradient at all: nothing happens, not even the step count.
    assert opt.apply_gradients([(None, a)]) == 1
    assert opt.iterations == 1


def test_slots_are_kept_per_variable():
    a = bprop.Variable(np.array([1.0]))
    b = bprop.Variable(np.array([1.0]))
    opt = optimizers.SGD(1.0, momentum=0.5, backend="numpy")
    opt.apply_gradients([(np.array([1.0]), a)])
    opt.apply_gradients([(np.array([1.0]), a), (np.array([1.0]), b)])
    # a: v = -1, then -1.5 -> 1 - 1 - 1.5; b: first step only, v = -1.
    assert a.value[0] == pytest.approx(-1.5)
    assert b.value[0] == pytest.approx(0.0)
    assert opt.tracked_variables == [a, b]


class CountingBackend:
    """A backend that counts kernel calls and delegates to bprop.reference."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        if not name.endswith("_update"):
            raise AttributeError(name)
        fn = getattr(bprop.reference, name)

        def wrapped(*args, **kwargs):
            self.calls.append(name)
            return fn(*args, **kwargs)
        return wrapped


@pytest.mark.parametrize("name,kernel", [("sgd", "sgd_update"), ("rmsprop", "rmsprop_update"),
                                         ("adam", "adam_update"), ("adamw", "adam_update"),
                                         ("adagrad", "adagrad_update")])
def test_one_kernel_call_per_variable_per_step(name, kernel):
    backend = CountingBackend()
    opt = optimizers.get(name)
    opt.set_backend(backend)
    a, b = bprop.Variable(P0.copy()), bprop.Variable(np.ones(4))
    opt.apply_gradients([(G1, a), (np.ones(4), b)])
    opt.apply_gradients([(G2, a), (np.ones(4), b)])
    assert backend.calls == [kernel] * 4


def test_default_backend_is_core():
    assert optimizers.Adam().backend is bprop.ops
    assert optimizers.Adam(backend="numpy").backend is bprop.reference


# ----------------------------------------------------------------- clipping
@pytest.mark.parametrize("backend", BACKENDS)
def test_clipnorm_scales_each_gradient_to_the_norm(backend):
    a = bprop.Variable(np.array([0.0, 0.0]))
    b = bprop.Variable(np.array([0.0]))
    ga, gb = np.array([3.0, 4.0]), np.array([0.5])
    opt = optimizers.SGD(1.0, clipnorm=1.0).set_backend(backend)
    opt.apply_gradients([(ga, a), (gb, b)])
    np.testing.assert_allclose(a.value, [-0.6, -0.8], rtol=1e-15)
    np.testing.assert_allclose(b.value, [-0.5], rtol=1e-15)  # under the norm: untouched
    np.testing.assert_array_equal(ga, [3.0, 4.0])  # the caller's gradient is not modified


@pytest.mark.parametrize("backend", BACKENDS)
def test_clipvalue_clips_elements(backend):
    a = bprop.Variable(np.zeros(4))
    g = np.array([-3.0, -0.2, 0.4, 7.0])
    optimizers.SGD(1.0, clipvalue=0.5).set_backend(backend).apply_gradients([(g, a)])
    np.testing.assert_allclose(a.value, [0.5, 0.2, -0.4, -0.5], rtol=1e-15)
    np.testing.assert_array_equal(g, [-3.0, -0.2, 0.4, 7.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_global_clipnorm_scales_all_gradients_together(backend):
    a = bprop.Variable(np.zeros(2))
    b = bprop.Variable(np.zeros(1))
    # joint norm sqrt(9 + 16 + 144) = 13 -> scale 2.6 / 13 = 0.2
    opt = optimizers.SGD(1.0, global_clipnorm=2.6).set_backend(backend)
    opt.apply_gradients([(np.array([3.0, 4.0]), a), (np.array([12.0]), b)])
    np.testing.assert_allclose(a.value, [-0.6, -0.8], rtol=1e-14)
    np.testing.assert_allclose(b.value, [-2.4], rtol=1e-14)
    # Under the limit: unchanged gradients.
    opt.apply_gradients([(np.array([0.3, 0.4]), a), (np.array([0.0]), b)])
    np.testing.assert_allclose(a.value, [-0.9, -1.2], rtol=1e-14)


def test_only_one_clipping_option():
    with pytest.raises(ValueError, match="at most one may be set.*clipnorm, clipvalue"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm: expected a value in \\(0.0, inf\\)"):
        optimizers.Adam(clipnorm=0.0)


# ----------------------------------------------------------------- schedules in optimizers
@pytest.mark.parametrize("backend", BACKENDS)
def test_schedule_evaluated_at_iterations_before_the_step(backend):
    sched = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    var = bprop.Variable(np.array([0.0]))
    opt = optimizers.SGD(sched).set_backend(backend)
    assert opt._learning_rate is sched
    # Keras 3: the attribute reads the schedule's value now
    assert opt.learning_rate == opt.current_learning_rate() == pytest.approx(0.1)
    opt.apply_gradients([(np.array([1.0]), var)])  # lr 0.1
    assert opt.learning_rate == opt.current_learning_rate() == pytest.approx(0.05)
    with pytest.raises(TypeError, match="learning_rate: this optimizer was created with the "
                                        "schedule"):
        opt.learning_rate = 0.01
    opt.apply_gradients([(np.array([1.0]), var)])  # lr 0.05
    assert var.value[0] == pytest.approx(-0.15, abs=1e-15)


def test_learning_rate_can_be_set():
    opt = optimizers.SGD(0.1)
    opt.learning_rate = 0.25
    assert opt.learning_rate == 0.25 and opt.current_learning_rate() == 0.25
    opt.learning_rate = np.float32(0.5)
    assert opt.current_learning_rate() == 0.5 and type(opt.learning_rate) is float
    opt.lr = 0.125  # Keras 2 spelling
    assert opt.learning_rate == 0.125
    with pytest.raises(ValueError, match="learning_rate: expected a finite float >= 0, got -1"):
        opt.learning_rate = -1.0


# ----------------------------------------------------------------- defaults and validation
def test_keras_defaults():
    assert optimizers.SGD().get_config() == {
        "name": "sgd", "learning_rate": 0.01, "momentum": 0.0, "nesterov": False,
        "clipnorm": None, "clipvalue": None, "global_clipnorm": None}
    rms = optimizers.RMSprop()
    assert (rms.learning_rate, rms.rho, rms.epsilon) == (0.001, 0.9, 1e-7)
    adam = optimizers.Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (0.001, 0.9, 0.999,
                                                                            1e-7)
    adamw = optimizers.AdamW()
    assert (adamw.learning_rate, adamw.weight_decay, adamw.beta_1, adamw.beta_2,
            adamw.epsilon) == (0.001, 0.004, 0.9, 0.999, 1e-7)
    ada = optimizers.Adagrad()
    assert (ada.learning_rate, ada.initial_accumulator_value, ada.epsilon) == (0.001, 0.1, 1e-7)


@pytest.mark.parametrize("make,message", [
    (lambda: optimizers.SGD(-0.1), "learning_rate: expected a finite float >= 0, got -0.1"),
    (lambda: optimizers.Adam(float("nan")), "learning_rate: expected a finite float >= 0"),
    (lambda: optimizers.SGD(momentum=1.5), r"momentum: expected a value in \[0.0, 1.0\], got 1.5"),
    (lambda: optimizers.SGD(momentum=-0.1), r"momentum: expected a value in \[0.0, 1.0\]"),
    (lambda: optimizers.Adam(beta_1=1.0), r"beta_1: expected a value in \[0.0, 1.0\), got 1.0"),
    (lambda: optimizers.Adam(beta_2=-0.5), r"beta_2: expected a value in \[0.0, 1.0\)"),
    (lambda: optimizers.RMSprop(rho=1.2), r"rho: expected a value in \[0.0, 1.0\)"),
    (lambda: optimizers.Adam(epsilon=-1e-7), r"epsilon: expected a value in \[0.0, inf\)"),
    (lambda: optimizers.AdamW(weight_decay=-0.01), r"weight_decay: expected a value in \[0.0"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-1),
     r"initial_accumulator_value: expected a value in \[0.0"),
])
def test_bad_hyper_parameters_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="learning_rate: expected a non-negative float"):
        optimizers.SGD("fast")
    with pytest.raises(TypeError, match="nesterov: expected a bool"):
        optimizers.SGD(nesterov="yes")


def test_bad_gradients_and_variables():
    var = bprop.Variable(np.zeros((2, 3)))
    opt = optimizers.SGD(backend="numpy")
    with pytest.raises(ValueError, match=r"expected shape \(2, 3\) .*got \(3, 2\)"):
        opt.apply_gradients([(np.zeros((3, 2)), var)])
    with pytest.raises(TypeError, match="expected dtype float64 .*got float32"):
        opt.apply_gradients([(np.zeros((2, 3), np.float32), var)])
    with pytest.raises(TypeError, match=r"grads_and_vars\[0\]\[1\]: expected a bprop.Variable, "
                                        "got ndarray"):
        opt.apply_gradients([(np.zeros((2, 3)), np.zeros((2, 3)))])
    with pytest.raises(TypeError, match=r"grads_and_vars\[0\]: expected a \(gradient, Variable\)"):
        opt.apply_gradients([np.zeros(3)])
    assert opt.iterations == 0


def test_get_by_name_instance_and_config():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("AdamW"), optimizers.AdamW)
    assert isinstance(optimizers.get("SGD"), optimizers.SGD)
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("adagrad"), optimizers.Adagrad)
    opt = optimizers.SGD(0.3)
    assert optimizers.get(opt) is opt
    again = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.3,
                                                           "momentum": 0.5}})
    assert (again.learning_rate, again.momentum) == (0.3, 0.5)
    with pytest.raises(ValueError, match="unknown name 'adamax'; known: adagrad, adam, adamw, "
                                         "rmsprop, sgd"):
        optimizers.get("adamax")
    with pytest.raises(TypeError, match="optimizer: expected a name"):
        optimizers.get(3)


@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.2, momentum=0.7, nesterov=True, clipnorm=2.0, name="opt"),
    lambda: optimizers.RMSprop(0.01, rho=0.5, epsilon=1e-5, clipvalue=0.1),
    lambda: optimizers.Adam(0.003, beta_1=0.5, beta_2=0.9, epsilon=1e-8, global_clipnorm=1.0),
    lambda: optimizers.AdamW(0.003, weight_decay=0.1),
    lambda: optimizers.Adagrad(0.05, initial_accumulator_value=0.3),
    lambda: optimizers.Adam(schedules.ExponentialDecay(0.01, 100, 0.9, staircase=True)),
])
def test_config_round_trip(make):
    opt = make()
    config = opt.get_config()
    clone = type(opt).from_config(config)
    assert clone.get_config() == config
    via = optimizers.deserialize(optimizers.serialize(opt))
    assert type(via) is type(opt) and via.get_config() == config


# ----------------------------------------------------------------- state (saving)
@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam", "adamw", "adagrad"])
def test_state_round_trip_continues_identically(name):
    def fresh():
        opt = optimizers.get({"class_name": name, "config": {"learning_rate": 0.05}})
        if name == "sgd":
            opt = optimizers.SGD(0.05, momentum=0.9)
        return opt.set_backend("numpy")

    a1, b1 = bprop.Variable(P0.copy()), bprop.Variable(np.ones(3))
    opt1 = fresh()
    for g in (G1, G2):
        opt1.apply_gradients([(g, a1), (g[0], b1)])
    state = opt1.get_state()
    assert int(state[0]) == 2

    # Restored before the variables are known: applied at the first step.
    a2, b2 = bprop.Variable(a1.value), bprop.Variable(b1.value)
    opt2 = fresh()
    opt2.set_state(state)
    # Restored after build().
    a3, b3 = bprop.Variable(a1.value), bprop.Variable(b1.value)
    opt3 = fresh().build([a3, b3])
    opt3.set_state(state)
    assert opt2.iterations == opt3.iterations == 2

    for opt, a, b in ((opt1, a1, b1), (opt2, a2, b2), (opt3, a3, b3)):
        opt.apply_gradients([(G1 * 2, a), (G2[1], b)])
    np.testing.assert_array_equal(a2.value, a1.value)
    np.testing.assert_array_equal(a3.value, a1.value)
    np.testing.assert_array_equal(b3.value, b1.value)


def test_set_state_validates_before_changing_anything():
    a = bprop.Variable(np.zeros(3))
    opt = optimizers.Adam(backend="numpy").build([a])
    with pytest.raises(ValueError, match=r"expected 2 slot arrays \(1 variables x 2 slots"):
        opt.set_state([np.array(1), np.zeros(3)])
    with pytest.raises(ValueError, match=r"state\[2\]: expected shape \(3,\) .*got \(4,\)"):
        opt.set_state([np.array(5), np.ones(3), np.zeros(4)])
    assert opt.iterations == 0
    np.testing.assert_array_equal(opt.get_slot(a, "m"), np.zeros(3))
    with pytest.raises(ValueError, match="iteration count"):
        opt.set_state([np.array(-1), np.ones(3), np.ones(3)])


# ----------------------------------------------------------------- minimize
class FakeTape:
    """Stands in for a GradientTape: d(sum w^2)/dw = 2 w."""

    def gradient(self, target, sources):
        self.target = target
        return [2 * v.numpy() for v in sources]


def test_minimize_with_a_given_tape():
    w = bprop.Variable(np.array([1.0, -2.0]))
    tape = FakeTape()
    opt = optimizers.SGD(0.25, backend="numpy")
    assert opt.minimize("loss-tensor", [w], tape=tape) == "loss-tensor"
    assert tape.target == "loss-tensor"
    np.testing.assert_allclose(w.value, [0.5, -1.0], rtol=1e-15)
    opt.minimize("loss-tensor", lambda: [w], tape=tape)  # var_list may be a callable
    np.testing.assert_allclose(w.value, [0.25, -0.5], rtol=1e-15)


def test_minimize_with_gradient_tape():
    autodiff = pytest.importorskip("bprop.autodiff")
    w = bprop.Variable(np.array([1.0, -2.0, 3.0]))
    target = np.array([0.5, 0.5, 0.5])

    def loss():
        return bprop.autodiff.mean_squared_error(target, w)

    assert hasattr(autodiff, "GradientTape")
    opt = optimizers.SGD(0.3, backend="numpy")
    opt.minimize(loss, [w])
    # d/dw mean((w - t)^2) = 2 (w - t) / 3
    want = np.array([1.0, -2.0, 3.0]) - 0.3 * 2 * (np.array([1.0, -2.0, 3.0]) - target) / 3
    np.testing.assert_allclose(w.value, want, rtol=1e-12)
    with pytest.raises(TypeError, match="loss: expected a callable when tape is None"):
        opt.minimize(1.0, [w])


@pytest.mark.parametrize("clip", [{}, {"clipnorm": 0.1}, {"clipvalue": 0.01},
                                  {"global_clipnorm": 0.1}], ids=["none", "norm", "value",
                                                                 "global"])
@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam", "adamw", "adagrad"])
def test_steady_state_step_allocates_no_arrays(name, clip):
    import tracemalloc

    opt = optimizers.deserialize({"class_name": name, "config": dict(clip)})
    if name == "sgd":
        opt = optimizers.SGD(0.01, momentum=0.9, **clip)
    variables = [bprop.Variable(np.ones((128, 128), np.float32)),
                 bprop.Variable(np.ones(128, np.float32))]
    grads = [np.full((128, 128), 0.5, np.float32), np.full(128, 0.5, np.float32)]
    opt.apply_gradients(zip(grads, variables))  # slots and clip buffers are made here
    tracemalloc.start()
    try:
        for _ in range(5):
            opt.apply_gradients(zip(grads, variables))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16_384  # one gradient is 65,536 bytes: no array-sized allocation


def test_custom_training_loop_matches_fit():
    """tf.keras-style loop (GradientTape + apply_gradients) == two steps of fit."""
    def make():
        bprop.utils.set_random_seed(3)
        return bprop.Sequential([bprop.layers.Dense(4, activation="tanh", input_shape=(3,)),
                                 bprop.layers.Dense(2, activation="softmax")], backend="numpy")

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.integers(0, 2, 8)
    fitted = make()
    fitted.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    fitted.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)

    looped = make()
    opt = optimizers.Adam(0.01, backend="numpy")
    loss_fn = bprop.losses.SparseCategoricalCrossentropy()
    for _ in range(2):
        with bprop.GradientTape() as tape:
            loss = loss_fn(y, looped(x, training=True))
        grads = tape.gradient(loss, looped.trainable_variables)
        opt.apply_gradients(zip(grads, looped.trainable_variables))
    assert opt.iterations == 2
    for a, b in zip(fitted.get_weights(), looped.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # and the weights did move
    assert not np.allclose(make().get_weights()[0], looped.get_weights()[0])


# ---------------------------------------------------------------- hyper-parameters, one check
HYPER_CASES = [
    (optimizers.Adam, "beta_1", 1.0), (optimizers.Adam, "beta_2", float("nan")),
    (optimizers.Adam, "epsilon", -1.0), (optimizers.AdamW, "weight_decay", -0.1),
    (optimizers.RMSprop, "rho", 1.0), (optimizers.RMSprop, "epsilon", float("inf")),
    (optimizers.SGD, "momentum", 1.5), (optimizers.Adagrad, "epsilon", -1e-7),
    (optimizers.Adam, "clipnorm", -1.0), (optimizers.SGD, "clipvalue", float("inf")),
]


@pytest.mark.parametrize("cls,attr,bad", HYPER_CASES)
def test_bad_hyperparameters_raise_on_every_path(cls, attr, bad):
    """The bug of issue 11: the fused step skipped the checks, so beta_1=1 or
    epsilon=-1 set after construction trained into non-finite weights."""
    from bprop import _core
    from bprop.engine.core_executor import core_spec

    with pytest.raises(ValueError, match="^%s: " % attr):
        cls(**{attr: bad})
    opt = cls()
    before = getattr(opt, attr)
    with pytest.raises(ValueError, match="^%s: " % attr):
        setattr(opt, attr, bad)
    assert getattr(opt, attr) == before  # the refused value was not kept
    # the compiled step checks the same ranges when handed a spec by hand
    model = bprop.Sequential([bprop.layers.Dense(2, input_shape=(3,))])
    model.compile(opt, "mse")
    spec = core_spec(model._train_plan())
    spec["optimizer"][attr] = bad
    with pytest.raises(ValueError, match="^%s: " % attr):
        _core.TrainPlan(spec)


def test_hyperparameters_set_after_construction_are_what_training_uses():
    """A hyper-parameter set after compile, or between two fits, is the one the
    compiled step uses (the plan is rebuilt for it)."""
    x = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    y = np.random.default_rng(1).normal(size=(16, 2)).astype(np.float32)

    def train(opt, change=None):
        bprop.utils.set_random_seed(0)
        model = bprop.Sequential([bprop.layers.Dense(2, input_shape=(3,))])
        model.compile(opt, "mse")
        model.fit(x, y, epochs=1, verbose=0, batch_size=8, shuffle=False)
        if change is not None:
            change(opt)
        model.fit(x, y, epochs=1, verbose=0, batch_size=8, shuffle=False)
        return model.get_weights()

    def set_beta(opt):
        opt.beta_1 = 0.5

    changed = train(optimizers.Adam(), set_beta)
    unchanged = train(optimizers.Adam())
    assert not all(np.array_equal(a, b) for a, b in zip(changed, unchanged))
    # the same run op by op (which reads the attribute at each step) agrees
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([bprop.layers.Dense(2, input_shape=(3,))])
    model._plan_executor = "ops"
    opt = optimizers.Adam()
    model.compile(opt, "mse")
    model.fit(x, y, epochs=1, verbose=0, batch_size=8, shuffle=False)
    opt.beta_1 = 0.5
    model.fit(x, y, epochs=1, verbose=0, batch_size=8, shuffle=False)
    for a, b in zip(changed, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------- RMSprop momentum / centered
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("momentum,centered", [(0.0, True), (0.9, False), (0.5, True)])
def test_rmsprop_momentum_and_centered_follow_keras_formula(momentum, centered, backend):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    var = bprop.Variable(p0.copy())
    opt = optimizers.RMSprop(learning_rate=0.01, rho=0.8, momentum=momentum, epsilon=1e-7,
                             centered=centered).set_backend(backend)
    for g in grads:
        opt.apply_gradients([(g, var)])
    # Keras 3's update, written out
    p, sq, avg, vel = p0.copy(), np.zeros(5), np.zeros(5), np.zeros(5)
    for g in grads:
        sq = 0.8 * sq + 0.2 * g * g
        if centered:
            avg = 0.8 * avg + 0.2 * g
            denom = sq - avg * avg + 1e-7
        else:
            denom = sq + 1e-7
        inc = 0.01 * g / np.sqrt(denom)
        if momentum:
            vel = momentum * vel + inc
            p -= vel
        else:
            p -= inc
    np.testing.assert_allclose(var.numpy(), p, rtol=1e-12)
    assert opt.get_config()["momentum"] == momentum and opt.get_config()["centered"] == centered
    names = ("sq_avg",) + (("velocity",) if momentum else ()) + (("average_grad",) if centered
                                                                else ())
    assert opt._slot_names == names


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rmsprop_with_momentum_and_centered_trains_in_the_core(dtype):
    x = np.random.default_rng(1).standard_normal((40, 3)).astype(dtype)
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype)
    runs = []
    for executor, backend in (("auto", "core"), ("ops", "core"), ("ops", "numpy")):
        bprop.utils.set_random_seed(0)
        model = bprop.Sequential([bprop.layers.Dense(4, activation="tanh", input_shape=(3,)),
                                  bprop.layers.Dense(1)], dtype=dtype, backend=backend)
        model.compile(optimizers.RMSprop(0.01, momentum=0.9, centered=True), "mse")
        model._plan_executor = executor
        hist = model.fit(x, y, batch_size=8, epochs=20, verbose=0).history
        assert model._train_plan().in_core == (executor == "auto")
        runs.append((hist["loss"], model.get_weights()))
    (loss, weights), (ops_loss, ops_weights), (np_loss, np_weights) = runs
    assert loss[-1] < 0.1 * loss[0]
    for a, b, c in zip(weights, ops_weights, np_weights):
        np.testing.assert_array_equal(a, b)  # the core's step and op by op: one kernel
        np.testing.assert_allclose(a, c, rtol=1e-3 if dtype == "float32" else 1e-10, atol=1e-5)
    with pytest.raises(ValueError, match=r"centered: expected True or False, got 'yes'"):
        optimizers.RMSprop(centered="yes")
