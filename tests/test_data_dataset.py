"""bprop.data.Dataset (tf.data): every op against a hand-computed expectation."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
import bprop as tf
from bprop.data import Dataset


def values(ds):
    """A dataset's elements as plain Python values (lists of numbers / tuples)."""
    def plain(e):
        if isinstance(e, tuple):
            return tuple(plain(v) for v in e)
        if isinstance(e, dict):
            return {k: plain(v) for k, v in e.items()}
        return np.asarray(e).tolist()
    return [plain(e) for e in ds.as_numpy_iterator()]


def numbers(n):
    return Dataset.from_tensor_slices(np.arange(n))


# --------------------------------------------------------------------------- sources
def test_from_tensor_slices_yields_rows_as_tensors_in_order():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    ds = Dataset.from_tensor_slices(x)
    rows = list(ds)
    assert len(rows) == 6 and len(ds) == 6 and int(ds.cardinality()) == 6
    assert all(isinstance(r, bprop.Tensor) and r.dtype == np.float32 and r.shape == (2,)
               for r in rows)
    np.testing.assert_array_equal(np.stack([r.numpy() for r in rows]), x)


def test_from_tensor_slices_tuples_and_dicts_keep_their_structure():
    x = np.arange(6).reshape(3, 2)
    y = np.array([10, 20, 30])
    w = np.array([0.5, 1.0, 2.0])
    assert values(Dataset.from_tensor_slices((x, y))) == [([0, 1], 10), ([2, 3], 20),
                                                          ([4, 5], 30)]
    assert values(Dataset.from_tensor_slices((x, y, w)))[2] == ([4, 5], 30, 2.0)
    assert values(Dataset.from_tensor_slices({"a": x, "b": y}))[1] == {"a": [2, 3], "b": 20}
    for xi, yi in Dataset.from_tensor_slices((x, y)).take(1):
        assert isinstance(xi, bprop.Tensor) and isinstance(yi, bprop.Tensor)
        assert yi.dtype == np.int64 and int(yi) == 10


def test_python_values_take_tf_constant_dtypes():
    (a,) = list(Dataset.from_tensor_slices([1.5, 2.5]).take(1))
    (b,) = list(Dataset.from_tensor_slices([[1, 2], [3, 4]]).take(1))
    assert a.dtype == np.float32 and b.dtype == np.int32 and b.numpy().tolist() == [1, 2]


def test_from_tensor_slices_is_a_snapshot_and_its_views_are_read_only():
    x = np.arange(4.0)
    ds = Dataset.from_tensor_slices(x)
    x[:] = -1
    assert values(ds) == [0.0, 1.0, 2.0, 3.0]
    first = next(iter(ds))
    with pytest.raises(ValueError):
        np.asarray(first)[...] = 7  # a Tensor is immutable


@pytest.mark.parametrize("bad, message", [
    ((np.zeros((3, 2)), np.zeros(4)), "same first dimension"),
    ((np.zeros(3), 5.0), "scalar"),
])
def test_from_tensor_slices_refuses_unsliceable_input(bad, message):
    with pytest.raises(ValueError, match="tensors: .*" + message):
        Dataset.from_tensor_slices(bad)


def test_from_tensors_is_one_element():
    ds = Dataset.from_tensors((np.arange(3), 7))
    assert len(ds) == 1 and values(ds) == [([0, 1, 2], 7)]


def test_range_zip_concatenate_enumerate():
    assert values(Dataset.range(5)) == [0, 1, 2, 3, 4]
    assert values(Dataset.range(2, 9, 3)) == [2, 5, 8] and len(Dataset.range(2, 9, 3)) == 3
    assert next(iter(Dataset.range(1))).dtype == np.int64
    zipped = Dataset.zip(Dataset.range(3), Dataset.range(10, 20))
    assert values(zipped) == [(0, 10), (1, 11), (2, 12)] and len(zipped) == 3
    assert values(Dataset.zip({"a": Dataset.range(2), "b": Dataset.range(5, 7)})) == [
        {"a": 0, "b": 5}, {"a": 1, "b": 6}]
    both = Dataset.range(2).concatenate(Dataset.range(7, 9))
    assert values(both) == [0, 1, 7, 8] and len(both) == 4
    assert values(Dataset.range(10, 12).enumerate(start=5)) == [(5, 10), (6, 11)]
    with pytest.raises(TypeError, match="concatenate: .*structure"):
        list(Dataset.range(1).concatenate(Dataset.from_tensor_slices((np.arange(2),) * 2)))
    with pytest.raises(ValueError, match="step: "):
        Dataset.range(0, 5, 0)


# --------------------------------------------------------------------------- batch / unbatch
def test_batch_keeps_order_and_the_smaller_last_batch():
    ds = Dataset.from_tensor_slices((np.arange(10), np.arange(10) * 2)).batch(4)
    got = values(ds)
    assert [b[0] for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert got[2][1] == [16, 18] and len(ds) == 3
    dropped = Dataset.from_tensor_slices(np.arange(10)).batch(4, drop_remainder=True)
    assert values(dropped) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(dropped) == 2


def test_batch_of_elements_equals_batch_of_rows():
    # map() turns the row path into the element path: both must batch alike.
    x = np.arange(14, dtype=np.float64).reshape(7, 2)
    rows = Dataset.from_tensor_slices(x).batch(3)
    elements = Dataset.from_tensor_slices(x).map(lambda v: v).batch(3)
    for a, b in zip(rows.as_numpy_iterator(), elements.as_numpy_iterator()):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype == np.float64
    assert len(list(elements)) == 3


def test_batch_refuses_elements_of_different_shapes():
    ragged = Dataset.range(1, 4).map(lambda n: np.zeros(int(n)))
    with pytest.raises(ValueError, match="batch: .*different shapes"):
        list(ragged.batch(2))


def test_unbatch_inverts_batch():
    ds = Dataset.from_tensor_slices((np.arange(7), np.arange(7) + 100))
    assert values(ds.batch(3).unbatch()) == values(ds)
    assert int(ds.batch(3).unbatch().cardinality()) == tf.data.UNKNOWN_CARDINALITY
    with pytest.raises(ValueError, match="unbatch: "):
        list(Dataset.range(3).unbatch())


# --------------------------------------------------------------------------- map / filter
def test_map_unpacks_tuples_and_passes_numpy():
    seen = []

    def scale(x, y):
        seen.append((type(x), type(y)))
        return x * 10, [y, y + 1]  # a nested list is one array

    ds = Dataset.from_tensor_slices((np.arange(3), np.arange(3))).map(scale)
    assert values(ds) == [(0, [0, 1]), (10, [1, 2]), (20, [2, 3])]
    assert seen[0] == (np.ndarray, np.ndarray) and len(ds) == 3


def test_map_takes_dicts_whole_and_lists_back_as_tuples():
    ds = Dataset.from_tensor_slices({"a": np.arange(2), "b": np.arange(2) + 5})
    assert values(ds.map(lambda d: [d["a"] + d["b"], 2.5])) == [(5, 2.5), (7, 2.5)]
    (first,) = list(ds.map(lambda d: (bprop.cast(d["a"], bprop.float32) / 2, 3)).take(1))
    assert first[0].dtype == np.float32 and first[1].dtype == np.int32


def test_filter_keeps_matching_elements_and_makes_the_length_unknown():
    ds = numbers(10).filter(lambda v: v % 3 == 0)
    assert values(ds) == [0, 3, 6, 9]
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="length is unknown"):
        len(ds)
    assert values(numbers(4).filter(lambda v: bprop.greater(v, 1))) == [2, 3]
    with pytest.raises(TypeError, match="predicate: expected a scalar bool"):
        list(numbers(3).filter(lambda v: v + 1))


# --------------------------------------------------------------------------- shuffle
def test_shuffle_is_a_reproducible_permutation():
    first = values(numbers(50).shuffle(50, seed=4))
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert values(numbers(50).shuffle(50, seed=4)) == first
    assert values(numbers(50).shuffle(50, seed=5)) != first


def test_shuffle_reshuffles_each_pass_unless_told_not_to():
    ds = numbers(30).shuffle(30, seed=1)
    a, b = values(ds), values(ds)
    assert a != b and sorted(a) == sorted(b)
    fixed = numbers(30).shuffle(30, seed=1, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)


def test_shuffle_without_seed_follows_the_global_seed():
    bprop.random.set_seed(11)
    a = values(numbers(20).shuffle(20))
    bprop.random.set_seed(11)
    assert values(numbers(20).shuffle(20)) == a


def test_shuffle_buffer_bounds_how_far_an_element_moves():
    assert values(numbers(10).shuffle(1, seed=0)) == list(range(10))
    outs = [values(numbers(40).shuffle(5, seed=seed)) for seed in range(60)]
    for out in outs:
        assert sorted(out) == list(range(40))
        # Output j is drawn from a buffer of inputs j .. j + 4 at most.
        assert all(v <= j + 4 for j, v in enumerate(out))
    # ... uniformly: every input of the first buffer comes first for some seed, and
    # mid-stream the picks still vary (P(an input never first in 60) = 5 * 0.8^60 ~ 1e-5).
    assert {out[0] for out in outs} == {0, 1, 2, 3, 4}
    assert len({out[20] for out in outs}) >= 4


def test_shuffle_then_batch_batches_the_shuffled_order():
    order = values(numbers(11).shuffle(4, seed=9))
    batches = values(numbers(11).shuffle(4, seed=9).batch(3))
    assert batches == [order[0:3], order[3:6], order[6:9], order[9:11]]


# --------------------------------------------------------------------------- repeat / take / skip
def test_repeat_take_skip_counts():
    assert values(numbers(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert len(numbers(3).repeat(2)) == 6 and len(numbers(3).repeat(0)) == 0
    forever = numbers(3).repeat()
    assert int(forever.cardinality()) == tf.data.INFINITE_CARDINALITY
    with pytest.raises(TypeError, match="infinite"):
        len(forever)
    assert values(forever.take(7)) == [0, 1, 2, 0, 1, 2, 0] and len(forever.take(7)) == 7
    assert values(Dataset.range(0).repeat()) == []  # nothing, forever, is nothing
    assert values(numbers(5).take(2)) == [0, 1] and values(numbers(5).take(9)) == list(range(5))
    assert values(numbers(5).take(-1)) == list(range(5)) and len(numbers(5).take(9)) == 5
    assert values(numbers(5).skip(3)) == [3, 4] and len(numbers(5).skip(3)) == 2
    assert values(numbers(5).skip(-1)) == [] and len(numbers(5).skip(8)) == 0
    assert values(numbers(4).batch(3).repeat(2)) == [[0, 1, 2], [3], [0, 1, 2], [3]]
    assert len(numbers(10).repeat(3).batch(4)) == 8
    assert values(numbers(10).skip(2).take(5).batch(2)) == [[2, 3], [4, 5], [6]]


# --------------------------------------------------------------------------- cache / prefetch
def test_cache_replays_the_first_complete_pass():
    calls = []

    def count(v):
        calls.append(int(v))
        return v

    ds = numbers(4).map(count).cache()
    assert values(ds.take(2)) == [0, 1]  # a partial pass fills no cache
    assert values(ds) == values(ds) == [0, 1, 2, 3]
    assert calls == [0, 1, 0, 1, 2, 3]
    frozen = numbers(20).shuffle(20, seed=2).cache()
    assert values(frozen) == values(frozen)


def test_prefetch_accepts_autotune_and_changes_nothing():
    ds = numbers(5).batch(2).prefetch(tf.data.AUTOTUNE)
    assert values(ds) == [[0, 1], [2, 3], [4]] and len(ds) == 3
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE == -1
    assert int(tf.data.experimental.cardinality(ds)) == 3
    with pytest.raises(ValueError, match="buffer_size: "):
        numbers(2).prefetch(-5)


def test_as_numpy_iterator_gives_copies_and_numpy_scalars():
    ds = Dataset.from_tensor_slices((np.arange(6).reshape(3, 2), np.arange(3)))
    x, y = next(ds.as_numpy_iterator())
    assert isinstance(x, np.ndarray) and isinstance(y, np.integer) and int(y) == 0
    x[...] = 99
    assert values(ds)[0] == ([0, 1], 0)


@pytest.mark.parametrize("make, exc, message", [
    (lambda: numbers(3).batch(0), ValueError, "batch_size: expected an integer >= 1, got 0"),
    (lambda: numbers(3).batch(2.0), TypeError, "batch_size: expected an integer"),
    (lambda: numbers(3).shuffle(0), ValueError, "buffer_size: expected an integer >= 1"),
    (lambda: numbers(3).shuffle(3, seed=-1), ValueError, "seed: "),
    (lambda: numbers(3).repeat(-2), ValueError, "count: expected an integer >= -1"),
    (lambda: numbers(3).take(-3), ValueError, "count: "),
    (lambda: numbers(3).map(5), TypeError, "map_func: expected a callable"),
    (lambda: numbers(3).filter(None), TypeError, "predicate: expected a callable"),
    (lambda: numbers(3).map(lambda v: v, num_parallel_calls=0), ValueError,
     "num_parallel_calls: "),
    (lambda: Dataset.zip(3), TypeError, "datasets: "),
])
def test_bad_arguments_name_themselves(make, exc, message):
    with pytest.raises(exc, match=message):
        make()


def test_matches_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)

    def pipeline(data):
        ds = data.Dataset.from_tensor_slices((x, y)).skip(1).take(8)
        ds = ds.filter(lambda a, b: b % 3 != 0).map(lambda a, b: (a * 2, b))
        return ds.repeat(2).batch(3)

    ours = list(pipeline(tf.data).as_numpy_iterator())
    theirs = list(pipeline(tf_real.data).as_numpy_iterator())
    assert len(ours) == len(theirs)
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
