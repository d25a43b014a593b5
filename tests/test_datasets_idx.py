"""IDX reader/writer: valid files (plain and gzip), truncated and foreign files."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from bprop.datasets import IDXFormatError, read_idx, write_idx


def _hand_made_idx(array, code):
    """IDX bytes built field by field here (independent of write_idx)."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_read_hand_made_uint8_images(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = _hand_made_idx(images, 0x08)
    path = tmp_path / "imgs"
    path.write_bytes(gzip.compress(raw) if gz else raw)
    got = read_idx(path)
    assert got.dtype == np.uint8
    assert got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, images)
    got[0, 0, 0] = 99  # the result is an owned, writable array


@pytest.mark.parametrize("dtype,code", [
    (np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B),
    (np.int32, 0x0C), (np.float32, 0x0D), (np.float64, 0x0E),
])
def test_read_every_dtype_big_endian(tmp_path, dtype, code):
    values = np.array([[-3, 1, 2], [4, 5, 6]]).astype(dtype) if np.dtype(dtype).kind != "u" \
        else np.array([[0, 1, 2], [250, 5, 6]], dtype=dtype)
    path = tmp_path / "x.idx"
    path.write_bytes(_hand_made_idx(values, code))
    got = read_idx(path)
    assert got.dtype == np.dtype(dtype)
    assert got.dtype.isnative
    np.testing.assert_array_equal(got, values)


def test_labels_header_byte_layout(tmp_path):
    # The MNIST label file header, byte for byte: magic 0x00000801, count.
    path = tmp_path / "labels"
    path.write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes([7, 0, 9]))
    np.testing.assert_array_equal(read_idx(path), np.array([7, 0, 9], dtype=np.uint8))


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_write_then_read_round_trip(tmp_path, name):
    values = np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 3, 4)
    path = tmp_path / name
    write_idx(path, values)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    np.testing.assert_array_equal(read_idx(path), values)
    # The writer emits exactly the documented layout.
    content = gzip.decompress(raw) if name.endswith(".gz") else raw
    assert content == _hand_made_idx(values, 0x0D)


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="dtype must be one of.*got int64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


def test_write_rejects_scalar(tmp_path):
    with pytest.raises(ValueError, match="1 to 255 dimensions, got 0"):
        write_idx(tmp_path / "x", np.uint8(3))


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_truncated_data_raises(tmp_path, gz):
    raw = _hand_made_idx(np.zeros((4, 5), dtype=np.uint8), 0x08)[:-3]
    path = tmp_path / "cut"
    path.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(IDXFormatError, match=r"truncated.*shape \(4, 5\).*expected 32 bytes, got 29"):
        read_idx(path)


def test_trailing_bytes_raise(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(_hand_made_idx(np.zeros(3, dtype=np.uint8), 0x08) + b"\x00")
    with pytest.raises(IDXFormatError, match="trailing bytes.*expected 11 bytes, got 12"):
        read_idx(path)


def test_truncated_gzip_stream_raises(tmp_path):
    packed = gzip.compress(_hand_made_idx(np.arange(200, dtype=np.uint8), 0x08))
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(IDXFormatError, match="gzip data is truncated or corrupt"):
        read_idx(path)


def test_truncated_header_raises(tmp_path):
    path = tmp_path / "hdr"
    # Declares 3 dimensions (16-byte header) but stops after 2 of them.
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">II", 2, 2))
    with pytest.raises(IDXFormatError, match="3 dimensions.*16 bytes.*only 12 bytes"):
        read_idx(path)


@pytest.mark.parametrize("content,pattern", [
    (b"", "at least 4 bytes, got 0"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "magic bytes 0x0000.*got 0x8950.*not an IDX"),
    (b"PK\x03\x04" + b"\x00" * 20, "magic bytes 0x0000.*got 0x504b"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown dtype code 0x07"),
    (b"\x00\x00\x08\x00", "at least 1 dimension, got 0"),
], ids=["empty", "png", "zip", "dtype", "ndim0"])
def test_foreign_files_raise(tmp_path, content, pattern):
    path = tmp_path / "foreign"
    path.write_bytes(content)
    with pytest.raises(IDXFormatError, match=pattern):
        read_idx(path)


def test_error_message_names_the_file(tmp_path):
    path = tmp_path / "named-file.idx"
    path.write_bytes(b"hello world")
    with pytest.raises(IDXFormatError, match="named-file.idx"):
        read_idx(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


def test_idx_format_error_is_a_value_error():
    assert issubclass(IDXFormatError, ValueError)


def test_huge_declared_shape_is_truncation_not_memory_error(tmp_path):
    # 3 x 2**32-1 dims would overflow int64 and ask for ~8e28 bytes: reads stay bounded.
    path = tmp_path / "huge"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">III", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
                     + b"\x00" * 10)
    with pytest.raises(IDXFormatError, match="is truncated.*got 26"):
        read_idx(path)


def test_gzip_with_trailing_bytes_counts_them(tmp_path):
    raw = _hand_made_idx(np.zeros(3, dtype=np.uint8), 0x08) + b"\x01" * 5
    path = tmp_path / "long.gz"
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(IDXFormatError, match="trailing bytes.*expected 11 bytes, got 16"):
        read_idx(path)
