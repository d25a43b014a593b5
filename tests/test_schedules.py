"""Learning-rate schedules: values at given steps against closed forms."""
from __future__ import annotations

import math

import numpy as np
import pytest

from bprop.optimizers import schedules


def test_exponential_decay_continuous_and_staircase():
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == pytest.approx(0.1, rel=1e-15)
    assert s(10) == pytest.approx(0.05, rel=1e-15)
    assert s(5) == pytest.approx(0.1 / math.sqrt(2), rel=1e-15)
    assert s(25) == pytest.approx(0.1 * 0.5 ** 2.5, rel=1e-15)
    st = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [st(k) for k in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert s(np.array(10)) == pytest.approx(0.05)  # a 0-d array counter works too


def test_inverse_time_decay():
    s = schedules.InverseTimeDecay(1.0, decay_steps=4, decay_rate=0.5)
    assert [s(k) for k in (0, 2, 4, 8)] == pytest.approx([1.0, 1 / 1.25, 1 / 1.5, 1 / 2.0])
    st = schedules.InverseTimeDecay(1.0, decay_steps=4, decay_rate=0.5, staircase=True)
    assert [st(k) for k in (3, 4, 7, 8)] == pytest.approx([1.0, 1 / 1.5, 1 / 1.5, 0.5])


def test_piecewise_constant_boundaries_are_inclusive_on_the_left_interval():
    s = schedules.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    assert [s(k) for k in (0, 100, 101, 200, 201, 10_000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


def test_cosine_decay_without_and_with_warmup():
    s = schedules.CosineDecay(0.2, decay_steps=100, alpha=0.1)
    assert s(0) == pytest.approx(0.2)
    assert s(50) == pytest.approx(0.2 * (0.9 * 0.5 + 0.1))
    assert s(100) == pytest.approx(0.2 * 0.1)
    assert s(500) == pytest.approx(0.02)  # held at the end value
    assert s(25) == pytest.approx(0.2 * (0.9 * 0.5 * (1 + math.cos(math.pi / 4)) + 0.1))
    w = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    assert [w(k) for k in (0, 1, 2, 4)] == pytest.approx([0.0, 0.25, 0.5, 1.0])
    assert w(9) == pytest.approx(0.5)          # half-way through the cosine from 1.0
    assert w(14) == pytest.approx(0.0, abs=1e-15)
    assert w(30) == pytest.approx(0.0, abs=1e-15)


def test_polynomial_decay():
    s = schedules.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.1, power=2.0)
    assert s(0) == pytest.approx(1.0)
    assert s(5) == pytest.approx(0.9 * 0.25 + 0.1)
    assert s(10) == pytest.approx(0.1)
    assert s(50) == pytest.approx(0.1)
    c = schedules.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0, cycle=True)
    assert c(15) == pytest.approx(1 - 15 / 20)  # horizon grown to 20


@pytest.mark.parametrize("make,error,message", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), ValueError, "decay_steps: expected > 0.0"),
    (lambda: schedules.ExponentialDecay(-0.1, 10, 0.5), ValueError,
     "initial_learning_rate: expected >= 0.0, got -0.1"),
    (lambda: schedules.ExponentialDecay("a", 10, 0.5), TypeError,
     "initial_learning_rate: expected a real number"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [1.0]), ValueError,
     "values: expected len\\(boundaries\\) \\+ 1 = 3 values, got 1"),
    (lambda: schedules.PiecewiseConstantDecay([2, 1], [1.0, 0.5, 0.1]), ValueError,
     "boundaries: expected strictly increasing"),
    (lambda: schedules.CosineDecay(0.1, 10, alpha=2.0), ValueError,
     "alpha: expected in \\[0, 1\\]"),
])
def test_validation(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_negative_step_is_an_error():
    with pytest.raises(ValueError, match="step: expected >= 0, got -1"):
        schedules.ExponentialDecay(0.1, 10, 0.5)(-1)


@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
    schedules.InverseTimeDecay(0.1, 10, 0.5),
    schedules.PiecewiseConstantDecay([10, 20], [0.3, 0.2, 0.1]),
    schedules.CosineDecay(0.1, 10, alpha=0.2, warmup_target=0.5, warmup_steps=3),
    schedules.PolynomialDecay(0.1, 10, power=0.5),
])
def test_config_round_trip(schedule):
    clone = schedules.deserialize(schedules.serialize(schedule))
    assert type(clone) is type(schedule)
    assert clone.get_config() == schedule.get_config()
    for step in (0, 3, 11, 25):
        assert clone(step) == schedule(step)
