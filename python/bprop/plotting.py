"""Training curves: ``plot_history(history, path=None)``.

matplotlib is an optional dependency (``pip install bprop[plot]``); it is
imported only when a plot is drawn, and a clear ImportError says how to get
it when it is missing.
"""
from __future__ import annotations

import math
import os

__all__ = ["plot_history"]


def _import_matplotlib():
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "bprop.plot_history needs matplotlib, which is not installed; "
            "install it with: pip install 'bprop[plot]' (or pip install matplotlib)"
        ) from exc
    return Figure, MaxNLocator


def _history_dict(history):
    """``{name: list of floats}`` from a History callback or a plain dict."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(
            "history must be a bprop History (model.fit's return value) or a dict of "
            f"lists, got {type(history).__name__}"
        )
    if not logs:
        raise ValueError("history is empty: nothing to plot (was fit run for 0 epochs?)")
    out = {}
    for key, values in logs.items():
        try:
            out[str(key)] = [float(v) for v in values]
        except (TypeError, ValueError):
            raise TypeError(
                f"history[{key!r}] must be a sequence of numbers, got {values!r}"
            ) from None
    return out


def _panels(logs):
    """Metric base names in display order, "loss" first: val_x pairs with x."""
    names = []
    for key in logs:
        base = key[4:] if key.startswith("val_") else key
        if base not in names:
            names.append(base)
    names.sort(key=lambda n: (n != "loss",))  # stable: loss first, then fit's order
    return names


def plot_history(history, path=None, title=None):
    """Draw training (and validation) curves, one panel per metric.

    Args:
        history: the ``History`` returned by ``model.fit`` (uses its
            ``.history`` dict and ``.epoch`` list) or a dict
            ``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}``.
            A ``val_<name>`` series is drawn dashed in the ``<name>`` panel.
        path: if given, the figure is written there (format from the
            extension, e.g. ``.png``, ``.pdf``, ``.svg``) without needing a
            GUI backend; the directory must exist.
        title: optional figure title.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ImportError: matplotlib is not installed.
        TypeError / ValueError: ``history`` is not a History or a non-empty
            dict of number lists.
    """
    Figure, MaxNLocator = _import_matplotlib()
    logs = _history_dict(history)
    epochs_attr = getattr(history, "epoch", None)
    panels = _panels(logs)
    cols = min(len(panels), 2)
    rows = int(math.ceil(len(panels) / cols))
    # Built on Figure directly (not pyplot) so saving works headless and
    # no global pyplot state or backend is touched.
    fig = Figure(figsize=(5.0 * cols, 3.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, panels):
        for key, style, label in ((name, "-", "train"), ("val_" + name, "--", "validation")):
            if key not in logs:
                continue
            values = logs[key]
            if epochs_attr is not None and len(epochs_attr) == len(values):
                x = [int(e) + 1 for e in epochs_attr]
            else:
                x = list(range(1, len(values) + 1))
            ax.plot(x, values, style, marker="o", markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    from . import distributed

    if path is not None and distributed.is_root():  # in a job, rank 0 writes the file
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"plot_history: directory of path={path!r} does not exist")
        fig.savefig(path, dpi=100)
    return fig
