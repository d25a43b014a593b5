"""``DistributedOptimizer``: averages gradients over the processes before applying them.

For custom training loops (``tape.gradient`` then ``apply_gradients``):
every process computes gradients on its own data; ``apply_gradients``
first averages them over the processes (one Allreduce of one flat buffer),
then applies the same update everywhere.  ``model.fit`` needs no wrapper:
its compiled step already reduces; compiling with a wrapped optimizer uses
the optimizer inside.
"""
from __future__ import annotations

import numpy as np

__all__ = ["DistributedOptimizer"]


class DistributedOptimizer:
    """``DistributedOptimizer(optimizer)``: the optimizer, with averaged gradients."""

    def __init__(self, optimizer):
        from ..optimizers import Optimizer

        if not isinstance(optimizer, Optimizer):
            raise TypeError("optimizer: expected a bprop.optimizers.Optimizer, got %r"
                            % (optimizer,))
        self._wrapped_optimizer = optimizer

    def apply_gradients(self, grads_and_vars):
        from . import job

        pairs = list(grads_and_vars)
        current = job()
        present = [(i, np.asarray(g)) for i, (g, _) in enumerate(pairs) if g is not None]
        if current is not None and present:
            dtype = np.result_type(*[g.dtype for _, g in present])
            flat = np.concatenate([g.reshape(-1).astype(dtype) for _, g in present])
            current.allreduce_inplace(flat, what="DistributedOptimizer.apply_gradients")
            flat /= flat.dtype.type(current.size)
            pos = 0
            for i, g in present:
                pairs[i] = (flat[pos:pos + g.size].reshape(g.shape).astype(g.dtype), pairs[i][1])
                pos += g.size
        return self._wrapped_optimizer.apply_gradients(pairs)

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            trainable_variables = self._wrapped_optimizer.tracked_variables
        return self.apply_gradients(zip(grads, trainable_variables))

    def __getattr__(self, name):
        return getattr(self._wrapped_optimizer, name)

    def __repr__(self):
        return "DistributedOptimizer(%r)" % (self._wrapped_optimizer,)
