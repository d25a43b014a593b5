"""MNIST-format loaders (search order, download into the cache) and the bundled digits."""
from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

from bprop import datasets
from bprop.datasets import ChecksumError, IDXFormatError, _idx_dataset, digits, fashion_mnist, mnist
from bprop.datasets.idx import write_idx

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _write_tiny_set(directory, marker, gz=True, n_train=5, n_test=3):
    """Four IDX files whose labels all equal ``marker`` (tells which copy was read)."""
    os.makedirs(directory, exist_ok=True)
    suffix = ".gz" if gz else ""
    rng = np.random.default_rng(marker)
    arrays = [
        rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        np.full(n_train, marker, dtype=np.uint8),
        rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        np.full(n_test, marker, dtype=np.uint8),
    ]
    for name, array in zip(NAMES, arrays):
        write_idx(os.path.join(directory, name + suffix), array)
    return arrays


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real data directories: cache and system dir under tmp_path, no BPROP_DATA."""
    monkeypatch.delenv("BPROP_DATA", raising=False)
    monkeypatch.setenv("BPROP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_idx_dataset, "SYSTEM_DATA_DIR", str(tmp_path / "system"))
    return tmp_path


def _marker(result):
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.shape[1:] == (28, 28) and x_test.shape[1:] == (28, 28)
    assert len(x_train) == len(y_train) and len(x_test) == len(y_test)
    return int(y_train[0])


def test_explicit_path_plain_files(isolated):
    arrays = _write_tiny_set(isolated / "mine", marker=1, gz=False)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=isolated / "mine")
    np.testing.assert_array_equal(x_train, arrays[0])
    np.testing.assert_array_equal(y_test, arrays[3])
    assert x_test.shape == (3, 28, 28)


def test_search_order_path_env_cache_system(isolated, monkeypatch):
    _write_tiny_set(isolated / "explicit", marker=1)
    _write_tiny_set(isolated / "env" / "mnist", marker=2)
    _write_tiny_set(isolated / "cache" / "mnist", marker=3)
    _write_tiny_set(isolated / "system" / "mnist", marker=4)
    monkeypatch.setenv("BPROP_DATA", str(isolated / "env"))
    assert _marker(mnist.load_data(path=isolated / "explicit")) == 1
    assert _marker(mnist.load_data(download=False)) == 2
    monkeypatch.delenv("BPROP_DATA")
    assert _marker(mnist.load_data(download=False)) == 3
    monkeypatch.setenv("BPROP_CACHE_DIR", str(isolated / "empty-cache"))
    assert _marker(mnist.load_data(download=False)) == 4


def test_data_sets_are_kept_apart_by_name(isolated):
    _write_tiny_set(isolated / "system" / "fashion-mnist", marker=7)
    assert _marker(fashion_mnist.load_data(download=False)) == 7
    with pytest.raises(FileNotFoundError, match="mnist not found in .*download=False"):
        mnist.load_data(download=False)


def test_explicit_path_is_authoritative(isolated):
    _write_tiny_set(isolated / "cache" / "mnist", marker=3)
    partial = isolated / "partial"
    _write_tiny_set(partial, marker=1)
    os.remove(partial / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte.gz"):
        mnist.load_data(path=partial)
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        mnist.load_data(path=isolated / "does-not-exist")


def test_corrupt_local_file_is_reported(isolated):
    _write_tiny_set(isolated / "cache" / "mnist", marker=3)
    path = isolated / "cache" / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-10]))
    with pytest.raises(IDXFormatError, match="train-images-idx3-ubyte.gz.*truncated"):
        mnist.load_data(download=False)


def test_mismatched_counts_and_bad_labels_are_reported(isolated):
    d = isolated / "bad"
    _write_tiny_set(d, marker=1)
    write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8))
    with pytest.raises(IDXFormatError, match="holds 4 labels but .* holds 5 images"):
        mnist.load_data(path=d)
    write_idx(d / "train-labels-idx1-ubyte.gz", np.full(5, 10, dtype=np.uint8))
    with pytest.raises(IDXFormatError, match=r"labels must lie in \[0, 10\), got max 10"):
        mnist.load_data(path=d)
    write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    write_idx(d / "train-images-idx3-ubyte.gz", np.zeros((5, 8, 8), dtype=np.uint8))
    with pytest.raises(IDXFormatError, match=r"shape \(n, 28, 28\), got uint8 \(5, 8, 8\)"):
        mnist.load_data(path=d)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(isolated, monkeypatch):
    """A local HTTP mirror of a tiny MNIST; mnist.DATASET points at it with the right digests."""
    root = isolated / "www"
    arrays = _write_tiny_set(root, marker=5)
    digests = {n + ".gz": hashlib.sha256((root / (n + ".gz")).read_bytes()).hexdigest()
               for n in NAMES}
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    monkeypatch.setattr(mnist.DATASET, "mirrors", [base + "dead/", base])
    monkeypatch.setattr(mnist.DATASET, "sha256", digests)
    try:
        yield arrays, digests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_download_into_cache_then_reuse(mirror, isolated, capsys):
    arrays, digests = mirror
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays[0])
    np.testing.assert_array_equal(x_test, arrays[2])
    cached = isolated / "cache" / "mnist"
    assert sorted(os.listdir(cached)) == sorted(digests)
    for name, digest in digests.items():
        assert hashlib.sha256((cached / name).read_bytes()).hexdigest() == digest
    assert "Downloading mnist" in capsys.readouterr().err
    # Second call: served from the cache, no download message.
    assert _marker(mnist.load_data(download=False)) == 5
    assert "Downloading" not in capsys.readouterr().err


def test_download_with_bad_checksum_caches_nothing(mirror, isolated, monkeypatch, capsys):
    _, digests = mirror
    wrong = dict(digests, **{"train-labels-idx1-ubyte.gz": "f" * 64})
    monkeypatch.setattr(mnist.DATASET, "sha256", wrong)
    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte.gz"):
        mnist.load_data()
    cached = isolated / "cache" / "mnist"
    assert os.listdir(cached) == ["train-images-idx3-ubyte.gz"]  # verified before the failure
    # A retry with the right digests fetches only what is missing.
    monkeypatch.setattr(mnist.DATASET, "sha256", digests)
    capsys.readouterr()
    assert _marker(mnist.load_data()) == 5
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz into" not in err
    assert err.count("Downloading mnist") == 3


def test_published_digests_are_well_formed():
    for module in (mnist, fashion_mnist):
        assert sorted(module.DATASET.sha256) == sorted(n + ".gz" for n in NAMES)
        for digest in module.DATASET.sha256.values():
            assert len(digest) == 64 and int(digest, 16) >= 0


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_real_fashion_mnist_from_system_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("BPROP_DATA", raising=False)
    monkeypatch.setenv("BPROP_CACHE_DIR", str(tmp_path))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(download=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    # Fashion-MNIST is exactly balanced: 6000 / 1000 images per class.
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    assert x_train.max() == 255 and x_train.min() == 0


# --- bundled digits ---------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _csv_rows():
    """The bundled CSV parsed with the csv module (independent of digits.py)."""
    with gzip.open(digits.DATA_FILE, "rt") as f:
        return [list(map(int, row)) for row in csv.reader(f)]


def test_digits_shapes_dtypes_and_ranges():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and y_train.shape == (1437,)
    assert x_test.shape == (360, 8, 8) and y_test.shape == (360,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert x_train.min() == 0 and x_train.max() == 16
    assert set(np.unique(y_train)) == set(range(10))


def test_digits_split_is_a_partition_of_the_file():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    got = np.concatenate([
        np.column_stack([x_train.reshape(-1, 64), y_train]),
        np.column_stack([x_test.reshape(-1, 64), y_test]),
    ]).astype(np.int64)
    expected = np.array(_csv_rows(), dtype=np.int64)
    assert expected.shape == (1797, 65)
    order = np.lexsort(got.T[::-1])
    order_e = np.lexsort(expected.T[::-1])
    np.testing.assert_array_equal(got[order], expected[order_e])


def test_digits_first_file_row_is_a_zero():
    # Hand-read first line of the CSV: a "0" whose top row is 0 0 5 13 9 1 0 0.
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.0)
    perm = np.random.default_rng(digits.DEFAULT_SEED).permutation(1797)
    where = int(np.nonzero(perm == 0)[0][0])
    assert y_train[where] == 0
    np.testing.assert_array_equal(x_train[where, 0], [0, 0, 5, 13, 9, 1, 0, 0])
    assert x_test.shape == (0, 8, 8)


def test_digits_split_fixed_by_seed():
    a = digits.load_data(seed=3)
    b = digits.load_data(seed=3)
    c = digits.load_data(seed=4)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[1][1], b[1][1])
    assert not np.array_equal(a[1][0], c[1][0])
    (x_train, _), (x_test, _) = digits.load_data(test_split=0.5)
    assert len(x_test) == 899 and len(x_train) == 898


def test_digits_returns_copies():
    (x_train, _), _ = digits.load_data()
    x_train[...] = 0
    (again, _), _ = digits.load_data()
    assert again.max() == 16


@pytest.mark.parametrize("kwargs,error,pattern", [
    ({"test_split": 1.0}, ValueError, r"test_split must be a number in \[0, 1\), got 1.0"),
    ({"test_split": -0.1}, ValueError, "test_split"),
    ({"test_split": "0.2"}, ValueError, "test_split"),
    ({"seed": 1.5}, TypeError, "seed must be an int, got float 1.5"),
])
def test_digits_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        digits.load_data(**kwargs)


def test_digits_licence_ships_with_the_data():
    with open(digits.LICENSE_FILE, encoding="utf-8") as f:
        text = f.read()
    assert "CC BY 4.0" in text and "Alpaydin" in text and "Kaynak" in text


def test_load_by_name():
    (x_train, _), _ = datasets.load("digits")
    assert x_train.shape == (1437, 8, 8)
    with pytest.raises(ValueError, match="unknown data set 'cifar'; expected one of digits"):
        datasets.load("cifar")
