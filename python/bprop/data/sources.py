"""Where elements come from: slices of arrays, one element, a range, and
datasets combined side by side (zip) or one after another (concatenate)."""
from __future__ import annotations

import itertools

import numpy as np

from ..autodiff.dtypes import as_dtype
from . import structure
from .dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

__all__ = ["TensorSlices", "Tensors", "Range", "Zip", "Concatenate"]


def _frozen_copy(arr):
    """A private, read-only copy: the dataset is a snapshot, as TensorFlow's constants are,
    and the views iteration hands out cannot be written through."""
    out = np.array(arr, copy=True)
    out.setflags(write=False)
    return out


class TensorSlices(Dataset):
    """Element i: every array of the structure at row i."""

    def __init__(self, tensors):
        data = structure.to_arrays(tensors, "tensors")
        arrays = structure.leaves(data)
        for arr in arrays:
            if arr.ndim == 0:
                raise ValueError("tensors: expected arrays with a first dimension to slice, "
                                 "got a scalar in %s" % structure.describe(data))
        sizes = {arr.shape[0] for arr in arrays}
        if len(sizes) != 1:
            raise ValueError("tensors: expected the same first dimension in every array, got "
                             "%s" % structure.describe(data))
        self._data = structure.map_leaves(_frozen_copy, data)
        self._n = sizes.pop()
        self._source = self

    def _cardinality(self):
        return self._n

    def _row_order(self):
        return iter(range(self._n))

    def _rows_at(self, order):
        """Elements for the row indices ``order`` (views of the frozen arrays)."""
        data = self._data
        for i in order:
            yield structure.map_leaves(lambda a: a[i, ...], data)  # 0-d arrays, not scalars

    def _gather(self, index):
        """A batch: the rows ``index`` (int64 array) of every array, as new arrays."""
        return structure.map_leaves(lambda a: a[index], self._data)


class Tensors(Dataset):
    """One element."""

    def __init__(self, tensors):
        self._element = structure.map_leaves(_frozen_copy, structure.to_arrays(tensors, "tensors"))

    def _cardinality(self):
        return 1

    def _element_iter(self):
        return iter((self._element,))


class Range(Dataset):
    """Python's range, each value a 0-d array of ``output_type``."""

    def __init__(self, args, output_type):
        from .dataset import check_count

        if not 1 <= len(args) <= 3:
            raise TypeError("range: expected 1 to 3 integer arguments (stop; start, stop; "
                            "start, stop, step), got %d" % len(args))
        values = [check_count(a, "range argument %d" % i, -(2 ** 63)) for i, a in enumerate(args)]
        if len(values) == 3 and values[2] == 0:
            raise ValueError("step: expected a non-zero integer, got 0")
        self._range = range(*values)
        self._dtype = as_dtype(output_type, "output_type")
        if self._dtype.kind not in "iuf":
            raise TypeError("output_type: expected an integer or float dtype, got %s"
                            % self._dtype)

    def _cardinality(self):
        return len(self._range)

    def _element_iter(self):
        dtype = self._dtype
        return (np.array(v, dtype=dtype) for v in self._range)


def _combined_cardinality(cards, combine):
    if UNKNOWN_CARDINALITY in cards:
        return UNKNOWN_CARDINALITY
    return combine(cards)


def _shortest(cards):
    finite = [c for c in cards if c != INFINITE_CARDINALITY]
    return min(finite) if finite else INFINITE_CARDINALITY


def _total(cards):
    return INFINITE_CARDINALITY if INFINITE_CARDINALITY in cards else sum(cards)


class Zip(Dataset):
    """A tuple (or dict) of datasets -> elements side by side, as long as the shortest."""

    def __init__(self, datasets):
        if isinstance(datasets, dict):
            items = list(datasets.values())
        elif isinstance(datasets, (tuple, list)):
            items = list(datasets)
        else:
            items = [None]
        if not items or not all(isinstance(d, Dataset) for d in items):
            raise TypeError("datasets: expected Datasets, a tuple or a dict of Datasets, got %r"
                            % (datasets,))
        self._datasets = datasets if isinstance(datasets, dict) else tuple(items)

    def _parts(self):
        d = self._datasets
        return list(d.values()) if isinstance(d, dict) else list(d)

    def _cardinality(self):
        return _combined_cardinality([d._cardinality() for d in self._parts()], _shortest)

    def _element_iter(self):
        iterators = [d._elements() for d in self._parts()]
        keys = list(self._datasets) if isinstance(self._datasets, dict) else None
        for items in zip(*iterators):
            yield dict(zip(keys, items)) if keys is not None else tuple(items)


class Concatenate(Dataset):
    """``first``'s elements, then ``second``'s (their structures must match)."""

    def __init__(self, first, second):
        self._first, self._second = first, second

    def _cardinality(self):
        return _combined_cardinality([self._first._cardinality(), self._second._cardinality()],
                                     _total)

    def _element_iter(self):
        first = None
        for element in itertools.chain(self._first._elements(), self._second._elements()):
            if first is None:
                first = element
            elif not structure.same_structure(first, element):
                raise TypeError("concatenate: the datasets' elements differ in structure: %s "
                                "and %s" % (structure.describe(first), structure.describe(element)))
            yield element
