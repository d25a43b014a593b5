"""The transformations of a dataset, one class each (``shuffle`` is in shuffle.py).

Steps that select or reorder whole elements (repeat, take, skip, cache,
prefetch) derive from :class:`Passthrough` and work the same on row
indices as on elements; the others produce new elements.
"""
from __future__ import annotations

import itertools

import numpy as np

from . import structure
from .dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

__all__ = ["Passthrough", "Batch", "Unbatch", "Map", "Filter", "Repeat", "Take", "Skip",
           "Cache", "Prefetch", "Enumerate"]


def _call(fn, element):
    """TensorFlow's calling convention: a plain tuple is unpacked into arguments."""
    return fn(*element) if type(element) is tuple else fn(element)


class Passthrough(Dataset):
    """A step over its input's items: row indices when the input is rows of a
    slices dataset, elements otherwise (``_stream`` sees only items)."""

    def __init__(self, child):
        self._child = child
        self._source = child._source

    def _input(self):
        """A fresh pass over the child's items."""
        if self._source is not None:
            return self._child._row_order()
        return self._child._elements()

    def _stream(self):
        raise NotImplementedError

    def _row_order(self):
        return self._stream()

    def _element_iter(self):
        return self._stream()


class Prefetch(Passthrough):
    def _cardinality(self):
        return self._child._cardinality()

    def _stream(self):
        return self._input()


class Repeat(Passthrough):
    def __init__(self, child, count):
        super().__init__(child)
        self._count = count  # None: forever

    def _cardinality(self):
        n, count = self._child._cardinality(), self._count
        if count is None:
            return 0 if n == 0 else INFINITE_CARDINALITY
        if count == 0 or n == 0:
            return 0
        return n if n in (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY) else n * count

    def _stream(self):
        done = 0
        while self._count is None or done < self._count:
            empty = True
            for item in self._input():
                empty = False
                yield item
            if empty:  # repeating nothing forever is still nothing
                return
            done += 1


class Take(Passthrough):
    def __init__(self, child, count):
        super().__init__(child)
        self._count = count  # -1: all

    def _cardinality(self):
        n, count = self._child._cardinality(), self._count
        if count == -1 or n == UNKNOWN_CARDINALITY:
            return n
        return count if n == INFINITE_CARDINALITY else min(n, count)

    def _stream(self):
        items = self._input()
        return items if self._count == -1 else itertools.islice(items, self._count)


class Skip(Passthrough):
    def __init__(self, child, count):
        super().__init__(child)
        self._count = count  # -1: all

    def _cardinality(self):
        n, count = self._child._cardinality(), self._count
        if count == -1:
            return 0
        if n in (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY):
            return n
        return max(n - count, 0)

    def _stream(self):
        if self._count == -1:
            return iter(())
        return itertools.islice(self._input(), self._count, None)


class Cache(Passthrough):
    """Replays the items of the first pass that ran to its end."""

    def __init__(self, child):
        super().__init__(child)
        self._items = None

    def _cardinality(self):
        return self._child._cardinality()

    def _stream(self):
        items = self._items
        return iter(items) if items is not None else self._fill()

    def _fill(self):
        items = []
        for item in self._input():
            items.append(item)
            yield item
        self._items = items  # only a complete pass: a partial one would drop elements


class Batch(Dataset):
    def __init__(self, child, batch_size, drop_remainder):
        self._child = child
        self._size = batch_size
        self._drop = drop_remainder

    def _cardinality(self):
        n = self._child._cardinality()
        if n in (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY):
            return n
        return n // self._size if self._drop else -(-n // self._size)

    def _element_iter(self):
        child, size = self._child, self._size
        if child._source is not None:  # rows: one gather per array per batch
            source, order = child._source, child._row_order()
            while True:
                index = np.fromiter(itertools.islice(order, size), dtype=np.int64)
                if index.size == 0 or (self._drop and index.size < size):
                    return
                yield source._gather(index)
        elements = child._elements()
        while True:
            group = list(itertools.islice(elements, size))
            if not group or (self._drop and len(group) < size):
                return
            yield _stack(group)


def _stack(group):
    """Elements of one structure, shapes and dtypes stacked along a new first axis."""
    first = group[0]
    columns = [structure.leaves(first)]
    for i, element in enumerate(group[1:], 1):
        if not structure.same_structure(first, element):
            raise TypeError("batch: elements differ in structure: %s and %s"
                            % (structure.describe(first), structure.describe(element)))
        columns.append(structure.leaves(element))
    stacked = []
    for j, column in enumerate(zip(*columns)):
        a = column[0]
        for b in column[1:]:
            if b.shape != a.shape or b.dtype != a.dtype:
                raise ValueError(
                    "batch: elements of different shapes or dtypes cannot be stacked: %s %s "
                    "and %s %s (array %d of the element); give every element one shape"
                    % (a.shape, a.dtype, b.shape, b.dtype, j))
        stacked.append(np.stack(column))
    return structure.pack_as(first, stacked)


class Unbatch(Dataset):
    def __init__(self, child):
        self._child = child

    def _element_iter(self):
        for element in self._child._elements():
            arrays = structure.leaves(element)
            sizes = {a.shape[0] if a.ndim else None for a in arrays}
            if None in sizes or len(sizes) != 1:
                raise ValueError("unbatch: expected arrays with one common first dimension, "
                                 "got %s" % structure.describe(element))
            for i in range(sizes.pop()):
                yield structure.pack_as(element, [a[i, ...] for a in arrays])


def _result(value):
    if isinstance(value, list):  # as TensorFlow: a returned list is a tuple of results
        value = tuple(value)
    return structure.to_arrays(value, "map_func's result")


class Map(Dataset):
    def __init__(self, child, fn):
        self._child = child
        self._fn = fn

    def _cardinality(self):
        return self._child._cardinality()

    def _element_iter(self):
        fn = self._fn
        for element in self._child._elements():
            yield _result(_call(fn, element))


class Filter(Dataset):
    def __init__(self, child, predicate):
        self._child = child
        self._predicate = predicate

    def _element_iter(self):
        for element in self._child._elements():
            keep = np.asarray(_call(self._predicate, element))
            if keep.dtype != np.bool_ or keep.shape != ():
                raise TypeError("predicate: expected a scalar bool (a Python bool or a bool "
                                "Tensor of shape ()), got dtype %s shape %s"
                                % (keep.dtype, keep.shape))
            if keep:
                yield element


class Enumerate(Dataset):
    def __init__(self, child, start):
        self._child = child
        self._start = start

    def _cardinality(self):
        return self._child._cardinality()

    def _element_iter(self):
        for i, element in enumerate(self._child._elements(), self._start):
            yield (np.array(i, dtype=np.int64), element)
