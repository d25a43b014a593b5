"""Batches that ``fit``/``evaluate``/``predict`` read from a ``bprop.data.Dataset``
or a Python generator (any iterator), with Keras' meaning of ``steps``.

* A Dataset without ``steps``: each run (epoch, evaluation) is one fresh
  pass over it; a dataset that repeats forever needs ``steps``.
* With ``steps``: each run takes the next ``steps`` batches of ONE iterator
  that carries on across runs (Keras: "the dataset is not reset at the end
  of each epoch"), so ``ds.repeat()`` with ``steps_per_epoch`` walks through
  the data.  When it runs out, the run ends early and :attr:`ran_out` says
  so (``fit`` then stops training, with Keras' warning); a Dataset starts a
  fresh pass at the next run.
* A generator cannot restart: without ``steps`` it feeds one run, until it
  is exhausted, so a second run (a second epoch) needs ``steps``.
"""
from __future__ import annotations

import inspect

import numpy as np

from ..data.dataset import INFINITE_CARDINALITY, Dataset
from ..variables import ArrayView
from . import data as _data

__all__ = ["is_batch_source", "BatchSource", "unpack"]


def is_batch_source(x):
    """True for a Dataset and for a Python iterator (a generator, ``iter(...)``)."""
    if isinstance(x, Dataset):
        return True
    if isinstance(x, (np.ndarray, ArrayView, list, tuple, dict)):
        return False
    return inspect.isgenerator(x) or (hasattr(x, "__next__") and hasattr(x, "__iter__"))


def unpack(element, argname):
    """Keras' ``unpack_x_y_sample_weight``: a batch is ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)`` (a list counts as a tuple; a dict is ``x``)."""
    if isinstance(element, list):
        element = tuple(element)
    if not isinstance(element, tuple):
        return element, None, None
    if not 1 <= len(element) <= 3:
        raise ValueError("%s: expected batches x, (x,), (x, y) or (x, y, sample_weight), got a "
                         "tuple of %d" % (argname, len(element)))
    return tuple(element) + (None,) * (3 - len(element))


class BatchSource:
    """``x`` (a Dataset or an iterator) read in runs of ``steps`` batches (see the module).

    ``runs``: how many runs will read it (epochs, or validations), to refuse a
    generator without ``steps`` that could only feed the first.
    """

    def __init__(self, x, steps, argname, steps_argname, runs=1):
        self.x = x
        self.argname = argname
        self.steps_argname = steps_argname
        self.is_dataset = isinstance(x, Dataset)
        what = "the Dataset" if self.is_dataset else "the generator"
        self.what = what
        if steps is not None:
            steps = _data.check_positive_int(steps, steps_argname)
        self.steps = steps
        if self.is_dataset:
            size = x._cardinality()
            if steps is None and size == INFINITE_CARDINALITY:
                raise ValueError("%s: %s given as %s repeats forever; give %s, the number of "
                                 "batches to take each time" % (steps_argname, what, argname,
                                                                steps_argname))
            self.known_steps = steps if steps is not None else (size if size >= 0 else None)
        else:
            if steps is None and runs > 1:
                raise ValueError("%s: %s given as %s cannot restart, so it cannot feed %d runs "
                                 "(epochs or validations); give %s, the batches to take each "
                                 "time" % (steps_argname, what, argname, runs, steps_argname))
            self.known_steps = steps
        self._iterator = None
        self.ran_out = False
        self.taken = 0  # batches of the last run

    def _fresh(self):
        # A Dataset's own elements are NumPy structures: no Tensor per leaf.
        return self.x._elements() if self.is_dataset else self.x

    def run(self):
        """The batches of one run (raw elements; see :func:`unpack`)."""
        self.ran_out = False
        self.taken = 0
        if self.steps is None:
            for element in self._fresh():
                self.taken += 1
                yield element
            return
        if self._iterator is None:
            self._iterator = iter(self._fresh())
        for _ in range(self.steps):
            try:
                element = next(self._iterator)
            except StopIteration:
                self._iterator = None  # a Dataset starts a fresh pass next time
                self.ran_out = True
                return
            self.taken += 1
            yield element

    def ran_out_message(self, where, each=None):
        """Keras' warning, with what ran out.  ``each``: what every run is ("epoch",
        "validation") when the one iterator is read on across runs."""
        text = ("Your input ran out of data; %s. %s given as %s gave %d of the %s=%d batches"
                % (where, self.what[0].upper() + self.what[1:], self.argname, self.taken,
                   self.steps_argname, self.steps))
        if each:
            text += ("; it is read on from where the previous %s stopped, so it must yield %s "
                     "batches for every %s (Dataset.repeat() does)"
                     % (each, self.steps_argname, each))
        return text
