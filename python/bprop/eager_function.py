"""``tf.function`` and ``tf.autograph``: decorators that run the function as written.

bprop runs everything eagerly (the training step is compiled by the step
plan, not by tracing), so ``@tf.function``, ``@tf.function(jit_compile=True)``
and ``tf.function(f)`` return ``f`` wrapped unchanged in behaviour: same
arguments, same results, Python side effects on every call.  The tracing
options are accepted and have nothing to act on.
"""
from __future__ import annotations

import functools
import types

__all__ = ["function", "autograph"]


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_implements=None,
             experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None,
             experimental_follow_type_hints=None):
    """``tf.function``: ``func`` itself, run eagerly on every call (see the module)."""
    if input_signature is not None and not isinstance(input_signature, (list, tuple)):
        raise TypeError("input_signature: expected a list or tuple of specs, got %s"
                        % type(input_signature).__name__)
    if func is None:  # @tf.function(...) with arguments: the decorator
        return functools.partial(function, input_signature=input_signature,
                                 autograph=autograph, jit_compile=jit_compile)
    if not callable(func):
        raise TypeError("func: expected a callable to decorate, got %r" % (func,))

    @functools.wraps(func)
    def eager(*args, **kwargs):
        return func(*args, **kwargs)

    eager.python_function = func  # as tf.function's result exposes it
    return eager


def do_not_convert(func=None):
    """``tf.autograph.experimental.do_not_convert``: nothing is converted anyway."""
    if func is None:
        return do_not_convert
    if not callable(func):
        raise TypeError("func: expected a callable, got %r" % (func,))
    return func


autograph = types.SimpleNamespace(
    experimental=types.SimpleNamespace(do_not_convert=do_not_convert))
