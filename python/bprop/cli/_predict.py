"""``bprop predict MODEL FILE``: class predictions for images in a file.

FILE may be
* ``.npy``: one image shaped like the model's input, or a batch (n, ...);
  integer pixels are divided by ``--scale`` (default 16 for 8x8 inputs --
  the bundled digits' range 0..16 -- and 255 otherwise), floats used as is;
* ``.pgm`` (Netpbm grayscale, binary P5 or ASCII P2): one image, pixels
  divided by the file's maxval (so any PGM lands in [0, 1]);
* ``.png``: read with Pillow when it is installed (bprop does not depend on
  it; convert to PGM or .npy otherwise).
"""
from __future__ import annotations

import os

import numpy as np

from ._data import scale_images
from ._errors import CLIError
from ._train import load_saved_model

__all__ = ["read_pgm", "read_input_file", "cmd_predict"]


def _pgm_tokens(data, count, start):
    """``count`` whitespace-separated header tokens from ``start``; skips # comments."""
    tokens, i = [], start
    while len(tokens) < count:
        while i < len(data) and data[i:i + 1].isspace():
            i += 1
        if data[i:i + 1] == b"#":
            while i < len(data) and data[i:i + 1] not in (b"\n", b"\r"):
                i += 1
            continue
        j = i
        while j < len(data) and not data[j:j + 1].isspace() and data[j:j + 1] != b"#":
            j += 1
        if j == i:
            raise CLIError("PGM header ends early")
        tokens.append(data[i:j])
        i = j
    return tokens, i


def read_pgm(path):
    """A PGM image as (pixels (h, w) uint8/uint16, maxval).  P5 (binary) and P2 (ASCII)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:2]
    if magic not in (b"P5", b"P2"):
        raise CLIError(f"FILE {path}: not a PGM image (magic {magic!r}, expected b'P5' or b'P2')")
    try:
        (w, h, maxval), end = _pgm_tokens(data, 3, 2)
        width, height, maxval = int(w), int(h), int(maxval)
    except (ValueError, CLIError) as exc:
        raise CLIError(f"FILE {path}: malformed PGM header ({exc})") from None
    if width <= 0 or height <= 0 or not 0 < maxval < 65536:
        raise CLIError(f"FILE {path}: PGM header has width {width}, height {height}, "
                       f"maxval {maxval}; expected positive sizes and 0 < maxval < 65536")
    dtype = np.dtype(">u2") if maxval > 255 else np.dtype(np.uint8)
    if magic == b"P5":
        body = data[end + 1:]  # exactly one whitespace byte after maxval
        need = width * height * dtype.itemsize
        if len(body) < need:
            raise CLIError(f"FILE {path}: PGM data truncated: expected {need} bytes, "
                           f"got {len(body)}")
        pixels = np.frombuffer(body[:need], dtype=dtype).reshape(height, width)
    else:
        try:
            values = [int(t) for t in data[end:].split()]
        except ValueError:
            raise CLIError(f"FILE {path}: ASCII PGM holds a non-integer pixel") from None
        if len(values) < width * height:
            raise CLIError(f"FILE {path}: PGM data truncated: expected {width * height} "
                           f"pixels, got {len(values)}")
        pixels = np.array(values[:width * height], dtype=np.int64).reshape(height, width)
    if int(pixels.max(initial=0)) > maxval:
        raise CLIError(f"FILE {path}: PGM pixel {int(pixels.max())} exceeds maxval {maxval}")
    return pixels.astype(np.uint16 if maxval > 255 else np.uint8), maxval


def _read_png(path):
    try:
        from PIL import Image
    except ImportError:
        raise CLIError(f"FILE {path}: reading PNG needs Pillow (pip install pillow); "
                       "or pass the image as .pgm or .npy") from None
    try:
        with Image.open(path) as img:
            gray = img.convert("L")
            return np.asarray(gray, dtype=np.uint8).copy()
    except OSError as exc:
        raise CLIError(f"FILE {path}: unreadable PNG ({exc})") from None


def read_input_file(path, input_shape, scale=None):
    """float32 batch (n, *input_shape) from ``path`` (see the module docstring)."""
    if not os.path.isfile(path):
        raise CLIError(f"FILE {path}: no such file")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CLIError(f"FILE {path}: not a readable .npy array ({exc})") from None
        if x.dtype.kind not in "uif":
            raise CLIError(f"FILE {path}: expected numeric pixels, got dtype {x.dtype}")
        default = 16.0 if tuple(input_shape) == (8, 8) else 255.0
        x = scale_images(x, default if scale is None else scale)
    elif ext in (".pgm", ".pnm"):
        pixels, maxval = read_pgm(path)
        x = pixels.astype(np.float32) / np.float32(maxval if scale is None else scale)
    elif ext == ".png":
        pixels = _read_png(path)
        x = pixels.astype(np.float32) / np.float32(255.0 if scale is None else scale)
    else:
        raise CLIError(f"FILE {path}: unsupported extension {ext or '(none)'!r}; "
                       "expected .npy, .pgm or .png")
    shape = tuple(input_shape)
    if x.shape == shape:
        x = x[None]
    elif x.shape[1:] != shape:
        raise CLIError(f"FILE {path}: image shape {x.shape} does not fit the model's input "
                       f"shape {shape} (one image) or (n,) + {shape} (a batch)")
    return np.ascontiguousarray(x, dtype=np.float32)


def cmd_predict(args):
    model = load_saved_model(args.model)
    if not getattr(model, "input_shape", None):
        raise CLIError(f"MODEL {args.model}: has no input shape")
    x = read_input_file(args.file, model.input_shape[1:], scale=args.scale)
    probs = np.asarray(model.predict(x, batch_size=256, verbose=0))
    classes = probs.argmax(axis=-1)
    if args.names:
        names = [s.strip() for s in args.names.split(",")]
        if len(names) != probs.shape[-1]:
            raise CLIError(f"--names: expected {probs.shape[-1]} names, got {len(names)}")
    else:
        names = None
    for i, (c, p) in enumerate(zip(classes, probs)):
        label = f"{c}" if names is None else f"{c} ({names[c]})"
        top = np.argsort(p)[::-1][:3]
        runner_up = ", ".join(f"{k}: {p[k]:.3f}" for k in top[1:])
        print(f"{os.path.basename(args.file)}[{i}]: class {label}, probability "
              f"{p[c]:.3f} (next: {runner_up})")
    return 0
