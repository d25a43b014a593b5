"""Weight initializers, Keras-style: ``init(shape, dtype=None) -> ndarray``.

Names and defaults follow Keras 3: ``glorot_uniform`` (the default kernel
initializer of Dense), ``glorot_normal``, ``he_uniform``, ``he_normal``,
``lecun_uniform``, ``lecun_normal``, ``random_normal``, ``random_uniform``,
``truncated_normal``, ``variance_scaling``, ``zeros``, ``ones``,
``constant``.

Unseeded initializers draw from :func:`bprop.utils.get_rng`, so
``bprop.utils.set_random_seed(n)`` makes initialization repeatable.  An
initializer built with its own ``seed`` uses a fresh Generator seeded with
it on every call and therefore returns the same values each time (Keras 3's
rule for seeded initializers).

Fans (Keras' ``compute_fans``): a 2-D kernel (fan_in, fan_out); a 1-D shape
(n,) has fan_in = fan_out = n; a scalar has 1 and 1; a convolution kernel
(..., in, out) multiplies both by the receptive field size.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import _registry, utils
from .variables import float_dtype

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal",
    "HeUniform", "HeNormal", "LecunUniform", "LecunNormal",
    "get", "serialize", "deserialize", "compute_fans",
]

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it
# gives the truncated draw the variance asked for (as Keras does).
_TRUNCATED_STD = 0.87962566103423978


def _check_shape(shape):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError("shape: expected a tuple of non-negative ints, got %r" % (shape,)) from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0:
            raise ValueError("shape: expected a tuple of non-negative ints, got %r" % (shape,))
    return tuple(int(d) for d in dims)


def _check_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError("seed: expected None or a non-negative int, got %r" % (seed,))
    return int(seed)


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a weight shape, as Keras computes them."""
    shape = _check_shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer(_registry.Configurable):
    """Base class: subclasses implement ``_generate(shape, dtype, rng)``."""

    def __call__(self, shape, dtype=None):
        shape = _check_shape(shape)
        dtype = float_dtype(np.float32 if dtype is None else dtype)
        out = self._generate(shape, dtype, self._rng())
        # np.asarray keeps a 0-d shape (ascontiguousarray would make it (1,))
        return np.asarray(out, dtype=dtype, order="C")

    def _rng(self):
        seed = getattr(self, "seed", None)
        return utils.get_rng() if seed is None else np.random.default_rng(seed)

    def _generate(self, shape, dtype, rng):
        raise NotImplementedError("%s must implement _generate" % type(self).__name__)

    def get_config(self):
        return {}


class Zeros(Initializer):
    """All zeros."""

    def _generate(self, shape, dtype, rng):
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    """All ones."""

    def _generate(self, shape, dtype, rng):
        return np.ones(shape, dtype=dtype)


class Constant(Initializer):
    """``value`` everywhere: a real scalar, or an array broadcast to the weight's shape
    (Keras accepts both)."""

    def __init__(self, value=0.0):
        if isinstance(value, (bool, np.bool_)):
            raise TypeError("value: expected a real scalar or array, got %r" % (value,))
        if isinstance(value, numbers.Real):
            self.value = float(value)
            return
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiu" or not np.all(np.isfinite(arr)):
            raise TypeError("value: expected a real scalar or an array of finite reals, got %r"
                            % (value,))
        self.value = arr.astype(np.float64)

    def _generate(self, shape, dtype, rng):
        if isinstance(self.value, float):
            return np.full(shape, self.value, dtype=dtype)
        try:
            return np.array(np.broadcast_to(self.value, tuple(shape)), dtype=dtype)
        except ValueError:
            raise ValueError("value: an array of shape %s cannot fill a weight of shape %s"
                             % (self.value.shape, tuple(shape))) from None

    def get_config(self):
        return {"value": self.value if isinstance(self.value, float) else self.value.tolist()}


class _MeanStddev(Initializer):
    """The ``(mean, stddev, seed)`` arguments of RandomNormal and TruncatedNormal."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        if not stddev >= 0:
            raise ValueError("stddev: expected >= 0, got %r" % (stddev,))
        self.mean = float(mean)
        self.stddev = float(stddev)
        self.seed = _check_seed(seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomNormal(_MeanStddev):
    """Normal(mean, stddev) draws."""

    def _generate(self, shape, dtype, rng):
        return rng.normal(self.mean, self.stddev, size=shape)


class RandomUniform(Initializer):
    """Uniform draws in [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        if not maxval >= minval:
            raise ValueError(
                "maxval: expected >= minval (%r), got %r" % (minval, maxval)
            )
        self.minval = float(minval)
        self.maxval = float(maxval)
        self.seed = _check_seed(seed)

    def _generate(self, shape, dtype, rng):
        return rng.uniform(self.minval, self.maxval, size=shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_standard_normal(rng, shape):
    """Unit normal draws, redrawn until all lie in [-2, 2]."""
    z = rng.standard_normal(size=shape)
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(z) > 2.0
    return z


class TruncatedNormal(_MeanStddev):
    """Normal(mean, stddev) draws, those beyond 2 stddev redrawn."""

    def _generate(self, shape, dtype, rng):
        return self.mean + self.stddev * _truncated_standard_normal(rng, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(Initializer):
    """Draws with variance ``scale / n``, n = fan_in, fan_out or their mean.

    ``uniform``: U(-limit, limit), limit = sqrt(3 scale / n);
    ``truncated_normal``: stddev sqrt(scale / n) / 0.8796 truncated at 2 stddev;
    ``untruncated_normal``: stddev sqrt(scale / n).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if not scale > 0:
            raise ValueError("scale: expected > 0, got %r" % (scale,))
        if mode not in _MODES:
            raise ValueError("mode: expected one of %s, got %r" % (", ".join(_MODES), mode))
        if distribution == "normal":  # Keras' alias
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(
                "distribution: expected one of %s, got %r"
                % (", ".join(_DISTRIBUTIONS), distribution)
            )
        self.scale = float(scale)
        self.mode = mode
        self.distribution = distribution
        self.seed = _check_seed(seed)

    def _fan(self, shape):
        fan_in, fan_out = compute_fans(shape)
        if self.mode == "fan_in":
            n = fan_in
        elif self.mode == "fan_out":
            n = fan_out
        else:
            n = (fan_in + fan_out) / 2.0
        return max(1.0, float(n))

    def _generate(self, shape, dtype, rng):
        var = self.scale / self._fan(shape)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            return rng.uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return math.sqrt(var) * rng.standard_normal(size=shape)
        return (math.sqrt(var) / _TRUNCATED_STD) * _truncated_standard_normal(rng, shape)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self.seed}


class _FixedVarianceScaling(VarianceScaling):
    """A named VarianceScaling whose scale/mode/distribution are fixed."""

    _SCALE = 1.0
    _MODE = "fan_in"
    _DISTRIBUTION = "truncated_normal"

    def __init__(self, seed=None):
        super().__init__(self._SCALE, self._MODE, self._DISTRIBUTION, seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)).  Dense's default."""
    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "uniform"


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal, stddev sqrt(2 / (fan_in + fan_out))."""
    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_FixedVarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / fan_in)."""
    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "uniform"


class HeNormal(_FixedVarianceScaling):
    """Truncated normal, stddev sqrt(2 / fan_in)."""
    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_FixedVarianceScaling):
    """U(-limit, limit), limit = sqrt(3 / fan_in)."""
    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "uniform"


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal, stddev sqrt(1 / fan_in)."""
    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "truncated_normal"


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values()}


def serialize(initializer):
    """``{"class_name": ..., "config": ...}`` of an initializer instance."""
    return _registry.serialize(initializer, Initializer, "initializer",
                               "a bprop.initializers.Initializer")


def deserialize(config):
    """Inverse of :func:`serialize`."""
    return _registry.deserialize(
        config, lambda name: _BY_CLASS_NAME.get(name) or _BY_NAME.get(name),
        "initializer", lambda: sorted(_BY_CLASS_NAME))


def get(identifier):
    """An initializer from a name, an instance, a config dict or a callable.

    ``None`` returns None (as Keras does).  Names are Keras' snake_case names
    ("glorot_uniform") or class names ("GlorotUniform").
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = _registry.class_for_name(
            identifier, lambda name: _BY_NAME.get(name.lower()) or _BY_CLASS_NAME.get(name),
            "initializer", lambda: sorted(_BY_NAME))
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(
        "initializer: expected a name, an Initializer, a config dict or a callable, got %r"
        % (identifier,)
    )
