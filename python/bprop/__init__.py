"""bprop: neural networks trained by error backpropagation on the CPU.

A C++17/OpenMP kernel core (``bprop.ops``, twin of the pure-NumPy
``bprop.reference``) under a Keras-style Python package.
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import reference
from . import ops
from .ops import build_info, get_num_threads, set_num_threads
from .variables import Variable

# --- exports added by the package's areas (one block each) -----------------
from . import testing  # H-ops-tests: gradcheck, numeric_gradient
from . import utils, initializers, optimizers, metrics, callbacks  # H-train-support
