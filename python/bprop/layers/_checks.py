"""Argument checks shared by the activation and normalization layers: a bad
value raises naming the argument, what was expected and what was given."""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["real_arg", "int_arg", "bool_arg", "none_only"]


def real_arg(value, name, minimum=None, maximum=None):
    """``value`` as a float: a finite real number within [minimum, maximum]."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value)
          and (minimum is None or value >= minimum) and (maximum is None or value <= maximum))
    if not ok:
        bounds = ""
        if minimum is not None and maximum is not None:
            bounds = " in [%g, %g]" % (minimum, maximum)
        elif minimum is not None:
            bounds = " >= %g" % minimum
        raise ValueError("%s: expected a finite number%s, got %r" % (name, bounds, value))
    return float(value)


def int_arg(value, name):
    """``value`` as an int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("%s: expected an int, got %r" % (name, value))
    return int(value)


def bool_arg(value, name):
    """``value`` as a bool: True/False (NumPy's too) or the ints 0 and 1."""
    if not isinstance(value, (bool, numbers.Integral, np.bool_)) or value not in (0, 1):
        raise TypeError("%s: expected True or False, got %r" % (name, value))
    return bool(value)


def none_only(value, name, why="not supported"):
    """Refuse an argument bprop does not implement (constraints, ...)."""
    if value is not None:
        raise ValueError("%s: %s (None only), got %r" % (name, why, value))
