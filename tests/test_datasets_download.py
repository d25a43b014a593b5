"""Downloader: a local HTTP server and file:// URLs, good and bad checksums. No network."""
from __future__ import annotations

import functools
import hashlib
import http.server
import os
import threading

import pytest

from bprop.datasets import ChecksumError, DownloadError, download, sha256_file
from bprop.datasets._download import download_first

PAYLOAD = bytes(range(256)) * 1000  # 256 kB: several read chunks
GOOD = hashlib.sha256(PAYLOAD).hexdigest()
BAD = "0" * 64


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server(tmp_path):
    """Serves ``tmp_path/www`` on 127.0.0.1; yields the base URL."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "blob.bin").write_bytes(PAYLOAD)
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_sha256_file_matches_hashlib(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(PAYLOAD)
    assert sha256_file(path) == GOOD


def test_http_download_good_checksum(server, tmp_path):
    dest = tmp_path / "cache" / "sub" / "blob.bin"  # directories are created
    seen = []
    got = download(server + "blob.bin", dest, GOOD, progress=lambda d, t: seen.append((d, t)))
    assert got == str(dest)
    assert dest.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    # No temporary file is left next to the result.
    assert os.listdir(dest.parent) == ["blob.bin"]


def test_http_download_bad_checksum_leaves_nothing(server, tmp_path):
    dest = tmp_path / "cache" / "blob.bin"
    with pytest.raises(ChecksumError, match=f"expected sha256 {BAD}, got {GOOD}"):
        download(server + "blob.bin", dest, BAD)
    assert not dest.exists()
    assert os.listdir(dest.parent) == []


def test_bad_checksum_keeps_existing_file(server, tmp_path):
    # Atomic write: a failed download never clobbers what was there.
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"previous")
    with pytest.raises(ChecksumError):
        download(server + "blob.bin", dest, BAD)
    assert dest.read_bytes() == b"previous"


def test_http_404_raises_download_error(server, tmp_path):
    with pytest.raises(DownloadError, match="could not download .*missing.bin.*404"):
        download(server + "missing.bin", tmp_path / "out" / "x", GOOD)
    assert os.listdir(tmp_path / "out") == []


def test_file_url_good_and_bad(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "copy.bin"
    download(src.as_uri(), dest, GOOD)
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(ChecksumError):
        download(src.as_uri(), tmp_path / "out" / "other.bin", BAD)
    assert sorted(os.listdir(dest.parent)) == ["copy.bin"]


def test_download_first_falls_back_to_next_mirror(server, tmp_path):
    dest = tmp_path / "blob.bin"
    download_first([server + "nope/", server + "blob.bin"], dest, GOOD)
    assert dest.read_bytes() == PAYLOAD


def test_download_first_all_mirrors_fail_lists_each(server, tmp_path):
    urls = [server + "a.bin", server + "b.bin"]
    with pytest.raises(DownloadError) as info:
        download_first(urls, tmp_path / "blob.bin", GOOD)
    assert not isinstance(info.value, ChecksumError)
    assert "a.bin" in str(info.value) and "b.bin" in str(info.value)


def test_download_first_all_bad_checksums_is_checksum_error(server, tmp_path):
    with pytest.raises(ChecksumError, match="from any mirror"):
        download_first([server + "blob.bin"], tmp_path / "blob.bin", BAD)


@pytest.mark.parametrize("digest", ["abc", "g" * 64, None])
def test_malformed_sha256_rejected(tmp_path, digest):
    with pytest.raises(ValueError, match="sha256 must be a 64-character hex string"):
        download("file:///nonexistent", tmp_path / "x", digest)
