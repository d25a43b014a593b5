"""Downloading data files: SHA-256 verified, written atomically.

A file is streamed into a temporary file in the destination directory while
its SHA-256 is computed; only when the digest matches is the temporary file
renamed onto the destination (``os.replace`` is atomic on one filesystem), so
a crash, a cut connection or a tampered mirror never leaves a half-written or
wrong file where the loaders would find it.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request

__all__ = ["DownloadError", "ChecksumError", "sha256_file", "download", "download_first"]

_CHUNK = 1 << 16


class DownloadError(OSError):
    """No mirror could deliver a file."""


class ChecksumError(DownloadError):
    """A downloaded file did not have the expected SHA-256 digest."""


def sha256_file(path):
    """Hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha256(sha256):
    if not (isinstance(sha256, str) and len(sha256) == 64
            and all(c in "0123456789abcdef" for c in sha256.lower())):
        raise ValueError(f"sha256 must be a 64-character hex string, got {sha256!r}")
    return sha256.lower()


def download(url, dest, sha256, timeout=60.0, progress=None):
    """Download ``url`` to ``dest`` if its SHA-256 is ``sha256``.

    Args:
        url: http(s):// or file:// URL.
        dest: destination path; its directory is created if needed.
        sha256: expected hex digest of the downloaded bytes.
        timeout: socket timeout in seconds.
        progress: optional callable ``progress(bytes_done, bytes_total_or_None)``.

    Returns:
        ``dest`` as a str.

    Raises:
        ChecksumError: the bytes do not have the expected digest (``dest`` is
            left untouched).
        DownloadError: the URL could not be read.
    """
    expected = _check_sha256(sha256)
    dest = os.fspath(dest)
    directory = os.path.dirname(os.path.abspath(dest))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=directory)
    try:
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
                total = int(total) if total and total.isdigit() else None
                done = 0
                for chunk in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
                out.flush()
                os.fsync(out.fileno())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DownloadError(f"could not download {url}: {exc}") from None
        actual = digest.hexdigest()
        if actual != expected:
            raise ChecksumError(
                f"checksum mismatch for {url}: expected sha256 {expected}, got {actual}"
            )
        os.replace(tmp, dest)
        tmp = None
        return dest
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def download_first(urls, dest, sha256, timeout=60.0, progress=None):
    """Try each URL in ``urls`` in turn until one downloads with the right digest.

    Raises:
        DownloadError: every mirror failed; the message lists each failure.
    """
    errors = []
    any_checksum = False
    for url in urls:
        try:
            return download(url, dest, sha256, timeout=timeout, progress=progress)
        except DownloadError as exc:
            errors.append(str(exc))
            any_checksum = any_checksum or isinstance(exc, ChecksumError)
    if not errors:
        raise ValueError("urls must name at least one mirror, got none")
    # A mirror that served bytes with the wrong digest is the failure worth
    # flagging by type (corrupt or tampered data), not just "unreachable".
    error_type = ChecksumError if any_checksum else DownloadError
    raise error_type(
        f"could not fetch {os.path.basename(os.fspath(dest))} from any mirror:\n  "
        + "\n  ".join(errors)
    )
