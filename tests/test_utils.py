"""bprop.utils: the global seed and backend lookup."""
from __future__ import annotations

import random

import numpy as np
import pytest

import bprop
from bprop import utils


def test_same_seed_same_draws_everywhere():
    utils.set_random_seed(1234)
    first = (utils.get_rng().random(5), np.random.rand(3), random.random())
    utils.get_rng().random(100)  # move on
    utils.set_random_seed(1234)
    second = (utils.get_rng().random(5), np.random.rand(3), random.random())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]
    utils.set_random_seed(1235)
    assert not np.array_equal(utils.get_rng().random(5), first[0])


def test_get_rng_is_a_generator_replaced_by_seeding():
    utils.set_random_seed(7)
    rng = utils.get_rng()
    assert isinstance(rng, np.random.Generator)
    assert utils.get_rng() is rng
    np.testing.assert_array_equal(rng.random(4), np.random.default_rng(7).random(4))


def test_large_and_numpy_integer_seeds():
    utils.set_random_seed(2 ** 40 + 3)  # beyond the legacy 32-bit range
    a = utils.get_rng().random()
    utils.set_random_seed(np.int64(2 ** 40 + 3))
    assert utils.get_rng().random() == a


@pytest.mark.parametrize("seed,error,message", [
    (-1, ValueError, "seed: expected a non-negative integer, got -1"),
    (1.5, TypeError, "seed: expected a non-negative integer, got 1.5"),
    ("42", TypeError, "seed: expected a non-negative integer, got '42'"),
    (True, TypeError, "seed: expected a non-negative integer, got True"),
])
def test_bad_seeds(seed, error, message):
    with pytest.raises(error, match=message):
        utils.set_random_seed(seed)


def test_get_backend():
    assert utils.get_backend(None) is bprop.ops
    assert utils.get_backend("core") is bprop.ops
    assert utils.get_backend("NumPy") is bprop.reference
    assert utils.get_backend(bprop.reference) is bprop.reference
    assert utils.backend_name(bprop.reference) == "numpy"
    assert utils.backend_name(bprop.ops) == "core"
    with pytest.raises(ValueError, match="backend: expected 'core' or 'numpy'.*got 'torch'"):
        utils.get_backend("torch")
    with pytest.raises(TypeError, match="backend: expected 'core', 'numpy'"):
        utils.get_backend(3)


def test_to_categorical():
    got = utils.to_categorical([2, 0, 1])
    np.testing.assert_array_equal(got, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert got.dtype == np.float32
    assert utils.to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)
    assert utils.to_categorical(np.array([[1, 0], [0, 1]])).shape == (2, 2, 2)
    np.testing.assert_array_equal(utils.to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"x: expected labels in \[0, 2\), got values in \[0, 3\]"):
        utils.to_categorical([0, 3], num_classes=2)
    with pytest.raises(ValueError, match="x: expected integer class labels"):
        utils.to_categorical([0.5])
    with pytest.raises(ValueError, match="num_classes: expected a non-negative int"):
        utils.to_categorical([0], num_classes=-1)


def test_normalize():
    got = utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(got, [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize([[1.0, 3.0]], order=1), [[0.25, 0.75]])
