"""The ``bprop`` command line (``python -m bprop`` or the ``bprop`` script).

    bprop train [--data digits|mnist|fashion-mnist|PATH] [--epochs N] ...
    bprop evaluate MODEL [--data ...]
    bprop predict MODEL FILE
    bprop bench [--builtin]
    bprop info

A mistake the user can make (bad option value, missing file, unknown data
set, unreadable model) prints one line ``bprop <cmd>: error: ...`` on stderr
and exits with status 2, without a traceback.  Set ``BPROP_DEBUG=1`` to see
the traceback instead.
"""
from __future__ import annotations

import argparse
import os
import sys

from ._errors import CLIError

__all__ = ["main", "build_parser", "CLIError"]

DEFAULT_EPOCHS = 30
DEFAULT_OUTPUT = "bprop-model.npz"
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu", "linear")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "adagrad")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage dump) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number_type(convert, accept, expected, out_of_range=None):
    """An argparse ``type``: ``convert(text)`` when ``accept`` takes it, else an
    ArgumentTypeError "expected <expected>, got ..." (``out_of_range`` replaces
    ``expected`` for a number that parses but is refused).  Integers are shown
    as parsed, other numbers as typed."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            shown = value if convert is int else text
            raise argparse.ArgumentTypeError(f"expected {out_of_range or expected}, got {shown}")
        return value

    return parse


_positive_int = _number_type(int, lambda v: v > 0, "a positive integer")
# Upper bounds that keep a typo from asking for terabytes.
MAX_BATCH_SIZE = 1 << 20
MAX_HIDDEN_UNITS = 1 << 16
MAX_EPOCHS = 1_000_000
_batch_size = _number_type(int, lambda v: 0 < v <= MAX_BATCH_SIZE, "a positive integer",
                           f"an integer in [1, {MAX_BATCH_SIZE}]")
_epochs = _number_type(int, lambda v: 0 < v <= MAX_EPOCHS, "a positive integer",
                       f"an integer in [1, {MAX_EPOCHS}]")
_hidden_units = _number_type(int, lambda v: 0 < v <= MAX_HIDDEN_UNITS, "a positive integer",
                             f"an integer in [1, {MAX_HIDDEN_UNITS}]")
_positive_float = _number_type(float, lambda v: v > 0 and v != float("inf"),
                               "a positive number", "a positive finite number")
_fraction = _number_type(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")
_seed = _number_type(int, lambda v: v >= 0, "a non-negative integer")


def _hidden_sizes(text):
    """'64,64' -> [64, 64]; '' or 'none' -> [] (a linear softmax classifier)."""
    if text.strip().lower() in ("", "none"):
        return []
    sizes = []
    for part in text.split(","):
        try:
            sizes.append(_hidden_units(part.strip()))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated layer sizes in [1, {MAX_HIDDEN_UNITS}] such as 64,64, "
                f"got {text!r}") from None
    return sizes


def _add_common(p, data_default="digits"):
    p.add_argument("--data", default=data_default, metavar="DATA",
                   help="digits (bundled, default), mnist, fashion-mnist, or a PATH: an .npz "
                        "with x_train/y_train/x_test/y_test or a directory of MNIST IDX files")
    p.add_argument("--scale", type=_positive_float, default=None,
                   help="divide integer pixels by this (default: 16 for digits, 255 otherwise)")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="OpenMP threads of the C++ core (default: all cores)")


def build_parser():
    parser = _Parser(prog="bprop", description="Train and use neural networks trained by "
                     "backpropagation on the CPU (C++/OpenMP core, Keras-style API).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("train", help="train the MLP (or the convnet) on a data set, report test "
                       "accuracy, save it",
                       description="Train Flatten + Dense(h, activation) per hidden size + "
                       "Dense(classes, softmax) (--model mlp), or Keras' simple convnet "
                       "(--model convnet), with sparse categorical cross-entropy.")
    _add_common(t)
    t.add_argument("--model", choices=("mlp", "convnet"), default="mlp",
                   help="mlp (default): the origin MLP (--hidden, --activation); convnet: "
                   "Keras' simple MNIST convnet, Conv2D(32)-pool-Conv2D(64)-pool-Dropout-Dense")
    t.add_argument("--epochs", type=_epochs, default=DEFAULT_EPOCHS,
                   help=f"training epochs (default {DEFAULT_EPOCHS})")
    t.add_argument("--batch-size", type=_batch_size, default=32, help="default 32")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="default adam")
    t.add_argument("--learning-rate", type=_positive_float, default=None,
                   help="default: the optimizer's Keras default (adam 0.001)")
    t.add_argument("--hidden", type=_hidden_sizes, default=[64, 64],
                   help="hidden layer sizes, comma-separated (default 64,64; 'none' for none)")
    t.add_argument("--activation", choices=ACTIVATIONS, default="relu", help="default relu")
    t.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    t.add_argument("--validation-split", type=_fraction, default=0.1,
                   help="fraction of the training data held out for validation (default 0.1)")
    t.add_argument("--output", "-o", default=DEFAULT_OUTPUT,
                   help=f"where to save the trained model (default {DEFAULT_OUTPUT})")
    t.add_argument("--plot", default=None, metavar="PNG",
                   help="write loss/accuracy curves to this image (needs matplotlib)")
    t.add_argument("--backend", choices=("core", "numpy"), default="core",
                   help="core: the C++ kernels (default); numpy: the pure-NumPy reference")
    t.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                   help="1: progress bar (default), 2: one line per epoch, 0: quiet")

    e = sub.add_parser("evaluate", help="loss and accuracy of a saved model on a test set")
    e.add_argument("model", metavar="MODEL", help="a model file written by bprop train / model.save")
    _add_common(e)
    e.add_argument("--batch-size", type=_batch_size, default=256, help="default 256")

    p = sub.add_parser("predict", help="predicted classes of the images in FILE")
    p.add_argument("model", metavar="MODEL", help="a model file written by bprop train / model.save")
    p.add_argument("file", metavar="FILE",
                   help=".npy (one image or a batch), .pgm (P5/P2), or .png (with Pillow)")
    p.add_argument("--scale", type=_positive_float, default=None,
                   help="divide pixels by this (default: PGM maxval; .npy integers: 16 for "
                        "8x8 models, else 255; floats unscaled)")
    p.add_argument("--names", default=None,
                   help="comma-separated class names to print next to the class numbers")

    b = sub.add_parser("bench", help="time bprop's kernels against pure NumPy")
    b.add_argument("--builtin", action="store_true",
                   help="use the small built-in benchmark even in a checkout with benchmarks/")
    b.add_argument("--repeat", type=_positive_int, default=5, help="best of N runs (default 5)")
    b.add_argument("--threads", type=_positive_int, default=None, help="OpenMP threads")

    sub.add_parser("info", help="version, build of the C++ core (compiler, OpenMP, SIMD), threads")
    return parser


def _dispatch(args):
    if args.command == "train":
        from ._train import cmd_train
        return cmd_train(args)
    if args.command == "evaluate":
        from ._train import cmd_evaluate
        return cmd_evaluate(args)
    if args.command == "predict":
        from ._predict import cmd_predict
        return cmd_predict(args)
    if args.command == "bench":
        from ._bench import cmd_bench
        return cmd_bench(args)
    from ._info import cmd_info
    return cmd_info(args)


def main(argv=None):
    """Run the command line; returns the exit status (0 ok, 2 user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"bprop {args.command}"
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`, which closed early: not an error to
        # report.  Point stdout at devnull so the flush at exit stays quiet
        # (the recipe of the Python docs, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (CLIError, OSError, ValueError, ImportError) as exc:
        # The errors a user can cause: missing/corrupt files, failed downloads
        # (OSError), malformed data (ValueError, e.g. IDXFormatError), a
        # missing optional dependency.  One line, no traceback.
        if os.environ.get("BPROP_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        sys.stderr.write(f"{prog}: error: {message}\n")
        return 2
