"""``bprop train`` and ``bprop evaluate``.

train builds the origin MLP -- Flatten, Dense(h, activation) per hidden
size, Dense(classes, softmax) -- or, with ``--model convnet``, Keras' simple
MNIST convnet, compiles it with sparse categorical
cross-entropy and accuracy, fits it with a progress bar, evaluates it on the
held-out test split, saves it, and optionally plots the curves.
"""
from __future__ import annotations

import os
import time

from ._data import load_for_cli
from ._errors import CLIError

__all__ = ["build_mlp", "build_convnet", "cmd_train", "cmd_evaluate"]


def build_mlp(input_shape, hidden, activation, num_classes, backend="core"):
    """The origin MLP: Input, Flatten, Dense(h, activation) for h in hidden, Dense(softmax)."""
    from .. import layers
    from ..models import Sequential

    stack = [layers.Input(shape=tuple(input_shape)), layers.Flatten()]
    stack += [layers.Dense(h, activation=activation) for h in hidden]
    stack.append(layers.Dense(num_classes, activation="softmax"))
    return Sequential(stack, backend=backend)


def build_convnet(input_shape, num_classes, backend="core"):
    """Keras' simple MNIST convnet: Conv2D(32, 3, relu), MaxPooling2D(2), Conv2D(64, 3, relu),
    MaxPooling2D(2), Flatten, Dropout(0.5), Dense(classes, softmax).  Images without a
    channel axis get one; below 10 pixels a side (the 8x8 digits) the convolutions pad
    ('same'), since two valid 3x3 convolutions and two poolings leave nothing of them."""
    from .. import layers
    from ..models import Sequential

    shape = tuple(input_shape)
    stack = [layers.Input(shape=shape)]
    if len(shape) == 2:
        stack.append(layers.Reshape(shape + (1,)))
        shape = shape + (1,)
    if len(shape) != 3:
        raise CLIError(f"--model convnet needs images (height, width[, channels]), got samples "
                       f"of shape {tuple(input_shape)}")
    padding = "valid" if min(shape[:2]) >= 10 else "same"
    stack += [layers.Conv2D(32, kernel_size=(3, 3), activation="relu", padding=padding),
              layers.MaxPooling2D(pool_size=(2, 2)),
              layers.Conv2D(64, kernel_size=(3, 3), activation="relu", padding=padding),
              layers.MaxPooling2D(pool_size=(2, 2)),
              layers.Flatten(), layers.Dropout(0.5),
              layers.Dense(num_classes, activation="softmax")]
    return Sequential(stack, backend=backend)


def _make_optimizer(name, learning_rate):
    from .. import optimizers

    optimizer = optimizers.get(name)
    if learning_rate is not None:
        optimizer.learning_rate = learning_rate
    return optimizer


def _check_writable_target(path, option):
    """Fail before training, not after, when an output cannot be written: a
    device, a FIFO or a directory is refused (a symlink is written through)."""
    from ..models.archive import check_output_path

    try:
        check_output_path(path, option)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _processes():
    from .. import distributed

    return "" if distributed.size() == 1 else f" in each of {distributed.size()} processes"


def _print_test(logs, n):
    parts = [f"test {k}: {float(v):.4f}" for k, v in logs.items()]
    print(f"{' - '.join(parts)} ({n} test images)".capitalize(), flush=True)


def cmd_train(args):
    """Under ``mpiexec -n N`` the run is data-parallel (bprop.distributed): every
    process trains, rank 0 prints and saves."""
    import contextlib

    from .. import distributed

    distributed.init()
    if distributed.is_root():
        return _train(args)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        return _train(args)


def _train(args):
    import bprop

    _check_writable_target(args.output, "--output")
    if args.plot:
        _check_writable_target(args.plot, "--plot")
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError("--plot needs matplotlib: pip install 'bprop[plot]'") from None
    if args.threads is not None:
        bprop.set_num_threads(args.threads)
    data = load_for_cli(args.data, scale=args.scale)
    bprop.utils.set_random_seed(args.seed)
    x_train, y_train = data["x_train"], data["y_train"]
    if args.model == "convnet":
        model = build_convnet(x_train.shape[1:], data["num_classes"], backend=args.backend)
        what = "Keras' simple convnet"
    else:
        model = build_mlp(x_train.shape[1:], args.hidden, args.activation, data["num_classes"],
                          backend=args.backend)
        hidden = ", ".join(str(h) for h in args.hidden) or "none"
        what = f"an MLP (hidden layers: {hidden}; {args.activation})"
    model.compile(optimizer=_make_optimizer(args.optimizer, args.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    print(f"Training {what} on {data['name']}: "
          f"{len(x_train)} training and {len(data['x_test'])} test images of shape "
          f"{tuple(x_train.shape[1:])}, {data['num_classes']} classes; "
          f"{args.optimizer}, {_plural(args.epochs, 'epoch')}, batch size {args.batch_size}, "
          f"{bprop.get_num_threads()} threads{_processes()}", flush=True)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=args.validation_split, verbose=args.verbose,
                        shuffle=True)
    seconds = time.perf_counter() - start
    if model._nonfinite_stop is not None:
        raise CLIError(f"training diverged ({model._nonfinite_stop}); try a smaller "
                       f"--learning-rate; {args.output} was not written")
    print(f"Trained {_plural(len(history.epoch), 'epoch')} in {seconds:.1f} s", flush=True)
    logs = model.evaluate(data["x_test"], data["y_test"], batch_size=256, verbose=0,
                          return_dict=True)
    _print_test(logs, len(data["x_test"]))
    model.save(args.output)
    print(f"Saved the model to {args.output}", flush=True)
    if args.plot:
        from ..plotting import plot_history

        plot_history(history, path=args.plot, title=f"bprop MLP on {data['name']}")
        print(f"Saved the training curves to {args.plot}", flush=True)
    return 0


def load_saved_model(path):
    from ..models import load_model

    if not os.path.isfile(path):
        raise CLIError(f"MODEL {path}: no such file")
    try:
        return load_model(path)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def cmd_evaluate(args):
    import bprop

    if args.threads is not None:
        bprop.set_num_threads(args.threads)
    model = load_saved_model(args.model)
    if not getattr(model, "compiled", False):
        raise CLIError(f"MODEL {args.model}: saved without a loss (not compiled), cannot evaluate")
    data = load_for_cli(args.data, scale=args.scale)
    expected = tuple(model.input_shape[1:]) if getattr(model, "input_shape", None) else None
    if expected is not None and tuple(data["x_test"].shape[1:]) != expected:
        raise CLIError(
            f"--data {args.data}: images of shape {tuple(data['x_test'].shape[1:])} do not fit "
            f"the model's input shape {expected}"
        )
    logs = model.evaluate(data["x_test"], data["y_test"], batch_size=args.batch_size,
                          verbose=0, return_dict=True)
    _print_test(logs, len(data["x_test"]))
    return 0
