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


_CHUNK = 1 << 20


class _Reader:
    """Bounded reads from a plain or gzipped file (gzip detected by magic bytes).

    Reads go in chunks, so a header that declares a huge shape costs memory
    only for the bytes really present, and gzip errors become IDXFormatError.
    """

    def __init__(self, path):
        self.name = os.fspath(path)
        self._file = open(path, "rb")
        self.gzipped = self._file.read(2) == _GZIP_MAGIC
        self._file.seek(0)
        self._stream = gzip.GzipFile(fileobj=self._file, mode="rb") if self.gzipped else self._file

    def close(self):
        if self._stream is not self._file:
            self._stream.close()
        self._file.close()

    def read(self, n):
        """Up to ``n`` bytes (fewer only at the end of the data)."""
        parts, got = [], 0
        try:
            while got < n:
                chunk = self._stream.read(min(_CHUNK, n - got))
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
        except (EOFError, OSError, zlib.error) as exc:
            if not self.gzipped:
                raise
            # gzip raises EOFError for a cut-off stream, BadGzipFile (OSError)
            # or zlib.error for corrupt data: one format error for all.
            raise IDXFormatError(
                f"IDX file {self.name!r}: gzip data is truncated or corrupt ({exc})"
            ) from None
        return b"".join(parts)

    def count_rest(self):
        """Number of bytes left (read and discarded chunk by chunk)."""
        total = 0
        while True:
            chunk = self.read(_CHUNK)
            if not chunk:
                return total
            total += len(chunk)


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
            a corrupt gzip stream, or a data length that does not match the
            header (truncated or trailing bytes).
    """
    reader = _Reader(path)
    try:
        return _parse(reader)
    finally:
        reader.close()


def _parse(reader):
    name = reader.name
    head = reader.read(4)
    if len(head) < 4:
        raise IDXFormatError(
            f"IDX file {name!r}: expected a header of at least 4 bytes, got {len(head)} bytes"
        )
    zero, code, ndim = struct.unpack(">HBB", head)
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
    raw_dims = reader.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise IDXFormatError(
            f"IDX file {name!r}: header declares {ndim} dimensions ({header_len} bytes) "
            f"but the file has only {4 + len(raw_dims)} bytes"
        )
    dims = struct.unpack(">" + "I" * ndim, raw_dims)
    dtype = IDX_DTYPES[code]
    count = 1
    for d in dims:  # Python ints: no overflow for absurd declared shapes
        count *= d
    expected = header_len + count * dtype.itemsize
    data = reader.read(count * dtype.itemsize)
    actual = header_len + len(data)
    if actual == expected:
        actual += reader.count_rest()
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise IDXFormatError(
            f"IDX file {name!r} is {what}: header says shape {tuple(dims)} of "
            f"{dtype.newbyteorder('=').name}, expected {expected} bytes, got {actual}"
        )
    array = np.frombuffer(data, dtype=dtype).reshape(dims)
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
