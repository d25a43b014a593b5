"""Reader and writer for the IDX format used by MNIST and Fashion-MNIST.

An IDX file is a big-endian header followed by raw array data:

    bytes 0-1   zero
    byte  2     dtype code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64)
    byte  3     number of dimensions ``ndim`` (1..255)
    4*ndim      each dimension as a big-endian uint32
    rest        prod(dims) items of the dtype, big-endian, row-major

Files may be gzip-compressed; compression is detected from the content (the
gzip magic bytes), not from the file name.  Every field is validated and the
data length must match the header exactly, so a truncated download or a file
of another format raises :class:`IDXFormatError` instead of returning a
silently wrong array.
"""
from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

__all__ = ["IDXFormatError", "read_idx", "write_idx", "IDX_DTYPES"]

# dtype code -> big-endian NumPy dtype, as specified by the IDX format.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_DTYPE = {dt.newbyteorder("=").str: code for code, dt in IDX_DTYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """Raised when a file is not a valid, complete IDX file."""


def _read_bytes(path):
    """Whole (decompressed) content of ``path``; gzip detected by magic bytes."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        # gzip raises EOFError for a cut-off stream, BadGzipFile (OSError) or
        # zlib.error for corrupt data: report all as one format error.
        raise IDXFormatError(
            f"IDX file {os.fspath(path)!r}: gzip data is truncated or corrupt ({exc})"
        ) from None


def read_idx(path):
    """Read an IDX file (plain or gzipped) into a native-endian ndarray.

    Args:
        path: file path (str or os.PathLike).

    Returns:
        ndarray with the shape stored in the header, e.g. (n, 28, 28) uint8
        for MNIST images or (n,) uint8 for labels.  Multi-byte dtypes are
        converted to the machine's byte order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        IDXFormatError: bad magic number, unknown dtype code, zero dimensions,
            or a data length that does not match the header (truncated or
            trailing bytes).
    """
    name = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXFormatError(
            f"IDX file {name!r}: expected a header of at least 4 bytes, got {len(data)} bytes"
        )
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0:
        raise IDXFormatError(
            f"IDX file {name!r}: expected magic bytes 0x0000 at offset 0, got "
            f"0x{zero:04x} (not an IDX file)"
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IDXFormatError(
            f"IDX file {name!r}: unknown dtype code 0x{code:02X}, expected one of {known}"
        )
    if ndim == 0:
        raise IDXFormatError(f"IDX file {name!r}: expected at least 1 dimension, got 0")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IDXFormatError(
            f"IDX file {name!r}: header declares {ndim} dimensions ({header_len} bytes) "
            f"but the file has only {len(data)} bytes"
        )
    dims = struct.unpack(">" + "I" * ndim, data[4:header_len])
    dtype = IDX_DTYPES[code]
    expected = header_len + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise IDXFormatError(
            f"IDX file {name!r} is {what}: header says shape {tuple(dims)} of "
            f"{dtype.newbyteorder('=').name}, expected {expected} bytes, got {len(data)}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    # Native byte order and a writable, owned array (frombuffer is read-only).
    return array.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path, array, compress=None):
    """Write ``array`` to ``path`` in IDX format.

    Args:
        path: destination file.
        array: array-like of a dtype IDX supports (uint8, int8, int16, int32,
            float32, float64) with 1 to 255 dimensions.
        compress: gzip the output; ``None`` (default) decides from the file
            name (``.gz`` suffix).

    Raises:
        TypeError: unsupported dtype.
        ValueError: zero or more than 255 dimensions, or a dimension too
            large for the 32-bit header field.
    """
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=").str
    if key not in _CODE_OF_DTYPE:
        raise TypeError(
            "write_idx: array dtype must be one of uint8, int8, int16, int32, "
            f"float32, float64, got {array.dtype}"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: array must have 1 to 255 dimensions, got {array.ndim}")
    if any(d > 0xFFFFFFFF for d in array.shape):
        raise ValueError(f"write_idx: dimensions must fit in 32 bits, got shape {array.shape}")
    code = _CODE_OF_DTYPE[key]
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(
        ">" + "I" * array.ndim, *array.shape
    )
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    if compress:
        # mtime=0 makes the bytes reproducible (stable checksums in tests).
        payload = gzip.compress(payload, mtime=0)
    with open(path, "wb") as f:
        f.write(payload)
