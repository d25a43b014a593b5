"""Model files that lie or are damaged, and where files are written (issue 12).

A forged architecture must fail on the stored shapes before anything is
allocated; every damaged file raises ValueError naming the file (or loads
exactly what was saved); saves honour the umask, write through symlinks,
refuse devices and FIFOs, name the file on a full disk, and leave no
temporary file behind (and clean those of a killed save)."""
from __future__ import annotations

import errno
import json
import os
import resource
import stat
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import bprop
from bprop.layers import Dense, Dropout, Flatten
from bprop.models import archive, saving


def _model():
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([Flatten(input_shape=(4, 4)), Dense(8, activation="relu"),
                              Dropout(0.2), Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((32, 4, 4)), rng.integers(0, 3, 32), epochs=1, verbose=0)
    return model


def _rewrite(src, dst, change):
    """Copy the zip ``src`` to ``dst`` with ``change(name, bytes) -> bytes`` applied."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change(info.filename, zin.read(info)))


def _with_architecture(src, dst, edit):
    def change(name, data):
        if name != "architecture.npy":
            return data
        arr = np.lib.format.read_array(__import__("io").BytesIO(data))
        cfg = json.loads(arr.tobytes().decode())
        edit(cfg)
        out = __import__("io").BytesIO()
        np.save(out, np.frombuffer(json.dumps(cfg).encode(), dtype=np.uint8))
        return out.getvalue()
    _rewrite(src, dst, change)


@pytest.mark.parametrize("units", [100000000, 10 ** 12])
def test_a_forged_huge_layer_fails_on_the_shapes_before_allocating(tmp_path, units):
    src, dst = tmp_path / "m.npz", tmp_path / "forged.npz"
    _model().save(src)

    def edit(cfg):
        cfg["config"]["layers"][1]["config"]["units"] = units
    _with_architecture(src, dst, edit)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"forged\.npz.*weight 0 .*stored as float32 "
                                         r"\(16, 8\).*asks for shape \(16, %d\)" % units):
        bprop.load_model(dst)
    assert time.perf_counter() - start < 5
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mib < 100, grown_mib


def test_a_forged_npy_header_is_refused_without_allocating(tmp_path):
    src, dst = tmp_path / "m.npz", tmp_path / "forged.npz"
    _model().save(src)

    def change(name, data):
        if name == "weight_00000.npy":
            return data.replace(b"'shape': (16, 8)", b"'shape': (10**12,)".ljust(16))
        return data
    _rewrite(src, dst, change)
    with pytest.raises(ValueError, match=r"forged\.npz.*weight_00000\.npy"):
        bprop.load_model(dst)


def test_a_list_in_the_compile_config_is_a_value_error(tmp_path):
    src, dst = tmp_path / "m.npz", tmp_path / "bad.npz"
    _model().save(src)

    def change(name, data):
        if name != "compile.npy":
            return data
        out = __import__("io").BytesIO()
        np.save(out, np.frombuffer(b'{"optimizer": ["adam"], "loss": null, "metrics": [1]}',
                                   dtype=np.uint8))
        return out.getvalue()
    _rewrite(src, dst, change)
    with pytest.raises(ValueError, match=r"bad\.npz.*compile configuration"):
        bprop.load_model(dst)


def test_every_single_bit_flip_is_a_value_error_naming_the_file_or_harmless(tmp_path):
    src = tmp_path / "m.npz"
    model = _model()
    model.save(src)
    data = src.read_bytes()
    rng = np.random.default_rng(1)
    flipped = tmp_path / "flipped.npz"
    refused = harmless = 0
    for _ in range(400):
        d = bytearray(data)
        pos = int(rng.integers(0, len(d)))
        d[pos] ^= 1 << int(rng.integers(0, 8))
        flipped.write_bytes(bytes(d))
        try:
            loaded = bprop.load_model(flipped)
        except ValueError as exc:
            assert str(flipped) in str(exc), exc
            refused += 1
            continue
        # accepted: then it is exactly what was saved (a flip in a timestamp)
        assert loaded.get_config() == model.get_config()
        for a, b in zip(loaded.get_weights() + loaded.optimizer.get_state(),
                        model.get_weights() + model.optimizer.get_state()):
            np.testing.assert_array_equal(a, b)
        harmless += 1
    assert refused > 300 and refused + harmless == 400


def test_entries_missing_from_the_zip_directory_are_caught(tmp_path):
    src, dst = tmp_path / "m.npz", tmp_path / "short.npz"
    _model().save(src)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename != "optimizer_00003.npy":
                zout.writestr(info, zin.read(info))
    with pytest.raises(ValueError, match=r"short\.npz.*not those its header lists"):
        bprop.load_model(dst)


# ---------------------------------------------------------------- where files go
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        _model().save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode) == mode


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    _model().save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_symlink_is_written_through_to_its_target(tmp_path):
    target, link = tmp_path / "real.npz", tmp_path / "link.npz"
    target.write_bytes(b"old")
    os.symlink(target, link)
    model = _model()
    model.save(link)
    assert os.path.islink(link) and os.readlink(link) == str(target)
    np.testing.assert_array_equal(bprop.load_model(target).get_weights()[0],
                                  model.get_weights()[0])


@pytest.mark.parametrize("kind", ["directory", "fifo", "chardev", "empty"])
def test_a_destination_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    if kind == "directory":
        path, what = tmp_path, "a directory"
    elif kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        what = "a FIFO"
    elif kind == "chardev":
        path, what = "/dev/null", "a character device"
    else:
        path, what = "", "an empty string"
    with pytest.raises(ValueError, match="filepath: .*%s" % what):
        _model().save(path)
    if kind == "chardev":
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_read_only_directory_is_refused_naming_the_path(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    if os.geteuid() == 0:  # root writes anywhere: make access() answer as for a user
        real = os.access
        monkeypatch.setattr(archive.os, "access",
                            lambda p, mode: False if os.fspath(p) == str(ro) else real(p, mode))
    try:
        with pytest.raises(ValueError, match=r"filepath: .*ro/m\.npz.*not writable"):
            _model().save(ro / "m.npz")
    finally:
        os.chmod(ro, 0o700)


def test_a_full_disk_names_the_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(archive.os, "fsync", no_space)
    path = tmp_path / "m.npz"
    with pytest.raises(OSError, match=r"cannot write .*m\.npz.*No space left") as info:
        _model().save(path)
    assert info.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []


def test_an_error_mid_save_leaves_no_temporary_and_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    path.write_bytes(b"previous")

    def fail(*args, **kwargs):
        raise RuntimeError("interrupted")
    monkeypatch.setattr(archive.np, "savez", fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        _model().save(path)
    assert os.listdir(tmp_path) == ["m.npz"] and path.read_bytes() == b"previous"


def test_a_killed_saves_temporary_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "m.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / (".m.npz.%s.abc123.tmp" % dead.stdout.strip())
    stale.write_bytes(b"x" * 1000)
    mine = tmp_path / (".m.npz.%d.def456.tmp" % os.getpid())  # a live save of this process
    mine.write_bytes(b"y")
    other = tmp_path / ".other.npz.1.abc.tmp"                 # another file's: not touched
    other.write_bytes(b"z")
    _model().save(path)
    assert sorted(os.listdir(tmp_path)) == sorted([mine.name, other.name, "m.npz"])
