"""``bprop.data.Dataset``: TensorFlow's ``tf.data.Dataset``, in Python over NumPy.

    ds = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
          .shuffle(10000, seed=1).batch(32).prefetch(tf.data.AUTOTUNE))
    model.fit(ds, epochs=5)
    for x, y in ds.take(1): ...

A dataset is a lazy description: every ``iter(ds)`` starts a fresh pass
(a shuffle draws a new order per pass unless ``reshuffle_each_iteration``
is False).  Elements are nested tuples and dicts; iteration yields each
numeric leaf as a ``bprop.Tensor`` (as TensorFlow yields eager tensors),
``as_numpy_iterator`` as NumPy arrays.  Functions given to ``map`` and
``filter`` receive NumPy arrays (a tuple element unpacked into arguments,
as TensorFlow does) and may return arrays, Tensors or Python numbers.

How it runs: a dataset made of the rows of ``from_tensor_slices`` (and
any shuffle, take, skip, repeat, cache or prefetch of it) passes row
*indices* along, and ``batch`` gathers each batch with one NumPy index per
array, so ``from_tensor_slices(...).shuffle(n).batch(32)`` costs no more
than slicing arrays.  Anything else passes elements one by one.
``prefetch`` runs nothing ahead (there are no threads to overlap with) and
``num_parallel_calls`` is accepted and ignored: the results are the same.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autodiff.tensor import Tensor
from . import structure

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY"]

# TensorFlow's values for these constants.
AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


def check_count(value, argname, minimum, allow_none=False):
    """An int >= ``minimum`` (None passes when allowed), else a clear error."""
    if value is None and allow_none:
        return None
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.numpy()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("%s: expected an integer, got %r" % (argname, value))
    if value < minimum:
        raise ValueError("%s: expected an integer >= %d, got %d" % (argname, minimum, value))
    return int(value)


def check_parallel_calls(value, argname="num_parallel_calls"):
    if value is None or value == AUTOTUNE and not isinstance(value, bool):
        return
    check_count(value, argname, 1)


class Dataset:
    """A sequence of elements; build one with :meth:`from_tensor_slices`,
    :meth:`from_tensors` or :meth:`range`, then chain transformations.

    Subclasses describe one step of a pipeline.  Those whose elements are
    rows of a :meth:`from_tensor_slices` dataset set ``_source`` to it and
    implement ``_row_order()`` (an iterator of row indices); the others
    implement ``_element_iter()`` (an iterator of elements, each a structure
    of NumPy arrays).
    """

    _source = None  # the slices dataset whose rows these elements are, if any

    # ------------------------------------------------------------ to override
    def _row_order(self):
        raise NotImplementedError

    def _element_iter(self):
        raise NotImplementedError

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    # ------------------------------------------------------------ iteration
    def _elements(self):
        """A fresh pass over the elements, as structures of NumPy arrays."""
        if self._source is None:
            return self._element_iter()
        return self._source._rows_at(self._row_order())

    def __iter__(self):
        for element in self._elements():
            yield structure.to_user(element)

    def as_numpy_iterator(self):
        """The elements as NumPy arrays (0-d leaves as NumPy scalars), copies to keep."""
        for element in self._elements():
            yield structure.to_numpy(element)

    def cardinality(self):
        """The number of elements as an int64 scalar Tensor; INFINITE_CARDINALITY (-1)
        for a repeat without count, UNKNOWN_CARDINALITY (-2) after a filter."""
        return Tensor._wrap(np.array(self._cardinality(), dtype=np.int64))

    def __len__(self):
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self):
        return True  # not len(): an infinite dataset is a dataset too

    def __repr__(self):
        n = self._cardinality()
        size = {INFINITE_CARDINALITY: "infinite", UNKNOWN_CARDINALITY: "unknown"}.get(n, n)
        return "<%s cardinality=%s>" % (type(self).__name__, size)

    # ------------------------------------------------------------ sources
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """One element per row: ``(x, y)`` gives ``(x[i], y[i])``; every array of the
        structure must have the same first dimension.  The arrays are copied."""
        return sources.TensorSlices(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element: ``tensors`` itself."""
        return sources.Tensors(tensors)

    @staticmethod
    def range(*args, output_type=np.int64, name=None):
        """``range(stop)``, ``range(start, stop[, step])`` as int64 scalars (Python's range)."""
        return sources.Range(args, output_type)

    @staticmethod
    def zip(*datasets, name=None):
        """Elements of several datasets side by side: ``zip(a, b)``, ``zip((a, b))`` or a
        dict of datasets; as long as the shortest."""
        if len(datasets) == 1 and not isinstance(datasets[0], Dataset):
            datasets = datasets[0]
        return sources.Zip(datasets)

    # ------------------------------------------------------------ transformations
    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        """Consecutive elements stacked along a new first axis; the last batch is
        smaller unless ``drop_remainder``."""
        check_parallel_calls(num_parallel_calls)
        return transforms.Batch(self, check_count(batch_size, "batch_size", 1),
                                bool(drop_remainder))

    def unbatch(self, name=None):
        """The rows of each element (the inverse of ``batch``)."""
        return transforms.Unbatch(self)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """``map_func`` on each element (a tuple is passed as separate arguments)."""
        if not callable(map_func):
            raise TypeError("map_func: expected a callable, got %r" % (map_func,))
        check_parallel_calls(num_parallel_calls)
        return transforms.Map(self, map_func)

    def filter(self, predicate, name=None):
        """The elements for which ``predicate`` returns a scalar True."""
        if not callable(predicate):
            raise TypeError("predicate: expected a callable, got %r" % (predicate,))
        return transforms.Filter(self, predicate)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """TensorFlow's buffer shuffle: keep ``buffer_size`` elements, emit a random one
        and refill its place from the input.  ``buffer_size`` >= the number of elements
        is a uniform shuffle; 1 keeps the order."""
        from .shuffle import Shuffle

        return Shuffle(self, check_count(buffer_size, "buffer_size", 1), seed,
                       bool(reshuffle_each_iteration))

    def repeat(self, count=None, name=None):
        """The dataset ``count`` times over (None or -1: forever)."""
        count = check_count(count, "count", -1, allow_none=True)
        return transforms.Repeat(self, None if count == -1 else count)

    def take(self, count, name=None):
        """The first ``count`` elements (-1: all)."""
        return transforms.Take(self, check_count(count, "count", -1))

    def skip(self, count, name=None):
        """All but the first ``count`` elements (-1: skip all)."""
        return transforms.Skip(self, check_count(count, "count", -1))

    def cache(self, filename="", name=None):
        """Keep the elements of the first complete pass in memory and replay them (a
        shuffle before the cache is frozen, as in TensorFlow).  A ``filename`` is
        accepted and the cache kept in memory all the same."""
        if not isinstance(filename, str):
            raise TypeError("filename: expected a str, got %r" % (filename,))
        return transforms.Cache(self)

    def prefetch(self, buffer_size, name=None):
        """The same elements (``buffer_size``: a positive int or AUTOTUNE)."""
        if buffer_size != AUTOTUNE or isinstance(buffer_size, bool):
            check_count(buffer_size, "buffer_size", 0)
        return transforms.Prefetch(self)

    def concatenate(self, dataset, name=None):
        """This dataset's elements, then ``dataset``'s."""
        if not isinstance(dataset, Dataset):
            raise TypeError("dataset: expected a Dataset, got %s" % type(dataset).__name__)
        return sources.Concatenate(self, dataset)

    def enumerate(self, start=0, name=None):
        """``(index, element)`` pairs, the index an int64 scalar counting from ``start``."""
        return transforms.Enumerate(self, check_count(start, "start", -(2 ** 63)))


from . import sources, transforms  # noqa: E402 - they subclass Dataset
