"""The files bprop writes: an ``.npz`` archive read without trust and written
atomically.

Reading (:func:`read_archive`) never unpickles and never allocates what a
file merely declares: every entry must be a stored (or deflated) ``.npy``
whose header's shape and dtype account exactly for its bytes, the zip's
CRC-32 is checked, and anything else about the file (a foreign or truncated
zip, an encrypted or oddly compressed entry, a bit flip) raises ValueError
naming the file and what is wrong.

Writing (:func:`write_archive`; :func:`write_atomically` for Keras' files)
goes to a temporary file beside the target,
named ``.NAME.PID.XXXX.tmp``, moved into place with ``os.replace`` (so a
crash never leaves a half-written file under the final name), and removed
on any error; a later save to the same path removes the temporaries of
processes that no longer exist.  The file gets the permissions a new file
gets under the umask (or keeps those of the file it replaces); a symlink is
written through to its target.  :func:`check_output_path` refuses, before
any long work, a destination that is not a regular file or cannot be
written.
"""
from __future__ import annotations

import errno
import glob
import io
import os
import stat
import tempfile
import threading
import zipfile

import numpy as np

__all__ = ["read_archive", "write_archive", "write_atomically", "check_output_path",
           "check_zip_entry"]

_MAX_ENTRIES = 100000
_DEFLATE_MAX_RATIO = 1100  # deflate cannot expand beyond ~1032:1
_umask_lock = threading.Lock()


class _Corrupt(Exception):
    """A reason a file cannot be read (turned into ValueError naming the file)."""


# ------------------------------------------------------------------ reading
def _parse_npy(data, name):
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise _Corrupt("entry %r has .npy version %r" % (name, version))
    except _Corrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed header
        raise _Corrupt("entry %r has a malformed .npy header (%s)" % (name, exc)) from None
    if dtype.hasobject:
        raise _Corrupt("entry %r holds Python objects (refused: never unpickled)" % name)
    count = 1
    for d in shape:
        count *= int(d)
    payload = len(data) - f.tell()
    if count * dtype.itemsize != payload:
        raise _Corrupt("entry %r declares shape %s of %s (%d bytes) but holds %d bytes"
                       % (name, tuple(shape), dtype, count * dtype.itemsize, payload))
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=f.tell())
    return arr.reshape(shape, order="F" if fortran else "C").copy()


def check_zip_entry(info, archive_size, error=ValueError):
    """Refuse (raising ``error``) a zip entry that is encrypted, compressed other
    than stored/deflated, or declares more bytes than it can hold: a stored entry
    no more than the whole archive, a deflated one no more than deflate expands."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise error("entry %r is encrypted" % name)
    if info.compress_type == zipfile.ZIP_STORED:
        limit = archive_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        limit = max(info.compress_size, 1) * _DEFLATE_MAX_RATIO
    else:
        raise error("entry %r uses compression method %d" % (name, info.compress_type))
    if info.file_size > limit:
        raise error("entry %r declares %d bytes" % (name, info.file_size))


def read_archive(path):
    """``{name: array}`` of an ``.npz`` file; ValueError naming ``path`` when it is
    not a sound archive of plain arrays (FileNotFoundError when it does not exist)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError("filepath: no such file %r" % (path,))
    try:
        size = os.path.getsize(path)
        arrays = {}
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > _MAX_ENTRIES:
                raise _Corrupt("%d entries" % len(infos))
            for info in infos:
                name = info.filename
                check_zip_entry(info, size, _Corrupt)
                if not name.endswith(".npy"):
                    raise _Corrupt("entry %r is not a .npy array" % name)
                arrays[name[:-4]] = _parse_npy(zf.read(info), name)  # zf.read checks the CRC
        return arrays
    except _Corrupt as exc:
        raise ValueError("filepath: %r is not a readable bprop file (%s)" % (path, exc)) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            RuntimeError, NotImplementedError, OverflowError, MemoryError, KeyError) as exc:
        raise ValueError("filepath: %r is not a readable bprop file (foreign, truncated or "
                         "damaged: %s: %s)" % (path, type(exc).__name__, exc)) from None


# ------------------------------------------------------------------ writing
def _file_kind(mode):
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def check_output_path(filepath, argname="filepath"):
    """The path to write (a symlink's target), after checking it can be written:
    empty, a non-regular file, a missing or read-only directory are refused
    with ValueError naming ``argname`` and the path."""
    path = os.fspath(filepath)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    if not path:
        raise ValueError("%s: expected a file path, got an empty string" % argname)
    target = os.path.realpath(path)  # write through a symlink to its target
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise ValueError("%s: %r is %s, expected a regular file (or a path that does not "
                         "exist yet)" % (argname, path, _file_kind(st.st_mode)))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise ValueError("%s: %r: directory %r does not exist" % (argname, path, directory))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError("%s: %r: directory %r is not writable" % (argname, path, directory))
    if st is not None and not os.access(target, os.W_OK):
        raise ValueError("%s: %r is not writable" % (argname, path))
    return target


def _new_file_mode():
    with _umask_lock:  # os.umask reads only by setting: keep other threads out
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def _remove_stale_temporaries(target):
    """Temporaries ``.NAME.PID.*.tmp`` of saves whose process no longer exists."""
    directory, base = os.path.split(target)
    for tmp in glob.glob(os.path.join(directory, ".%s.*.tmp" % glob.escape(base))):
        parts = os.path.basename(tmp)[len(base) + 2:].split(".")
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        pid = int(parts[0])
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        except OSError:
            pass  # alive (another user's): not ours to remove


def write_archive(filepath, entries, argname="filepath"):
    """Write ``entries`` ({name: array}) as an .npz archive at ``filepath``, atomically."""
    # a file object: savez adds no ".npz" suffix
    write_atomically(filepath, lambda f: np.savez(f, **entries), argname)


def write_atomically(filepath, write, argname="filepath"):
    """Call ``write(f)`` on a temporary binary file beside ``filepath`` and move it
    into place (see the module's docstring); the other file formats (Keras'
    ``.keras`` and ``.h5``) are written through this too."""
    path = os.fspath(filepath)
    target = check_output_path(path, argname)
    _remove_stale_temporaries(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = _new_file_mode()
    directory, base = os.path.split(target)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".%s.%d." % (base, os.getpid()), suffix=".tmp",
                                   dir=directory)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise OSError(exc.errno or errno.EIO,
                      "%s: cannot write %r: %s" % (argname, path, reason)) from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
