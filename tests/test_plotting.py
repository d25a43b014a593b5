"""bprop.plot_history: panels, curves, files written, clear errors."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from bprop.plotting import plot_history

HISTORY = {
    "loss": [1.0, 0.5, 0.25],
    "accuracy": [0.5, 0.75, 0.875],
    "val_loss": [1.1, 0.6, 0.4],
    "val_accuracy": [0.45, 0.7, 0.8],
}


class _FakeHistory:
    """Stands in for bprop.callbacks.History: ``.history`` and ``.epoch``."""

    def __init__(self, history, epoch):
        self.history = history
        self.epoch = epoch


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_panels_and_curves_from_dict():
    pytest.importorskip("matplotlib")
    fig = plot_history(HISTORY)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["loss", "accuracy"]
    loss = _lines(visible[0])
    np.testing.assert_array_equal(loss["train"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(loss["train"].get_ydata(), HISTORY["loss"])
    np.testing.assert_array_equal(loss["validation"].get_ydata(), HISTORY["val_loss"])
    assert loss["validation"].get_linestyle() == "--"
    acc = _lines(visible[1])
    np.testing.assert_array_equal(acc["validation"].get_ydata(), HISTORY["val_accuracy"])


def test_history_object_uses_its_epochs():
    pytest.importorskip("matplotlib")
    # After initial_epoch=4, fit's History.epoch holds 4, 5 -> plotted as epochs 5, 6.
    fig = plot_history(_FakeHistory({"loss": [0.3, 0.2]}, epoch=[4, 5]))
    (ax,) = [ax for ax in fig.axes if ax.get_visible()]
    line = _lines(ax)["train"]
    np.testing.assert_array_equal(line.get_xdata(), [5, 6])
    assert "validation" not in _lines(ax)


def test_loss_panel_first_even_if_listed_later():
    pytest.importorskip("matplotlib")
    fig = plot_history({"mae": [1.0, 0.5], "loss": [2.0, 1.0], "val_mae": [1.2, 0.7]})
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["loss", "mae"]


def test_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    plot_history(HISTORY, path=path, title="digits")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5000


def test_missing_directory_raises(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(FileNotFoundError, match="directory of path=.*does not exist"):
        plot_history(HISTORY, path=tmp_path / "no" / "x.png")


@pytest.mark.parametrize("history,error,pattern", [
    ([1, 2], TypeError, "history must be a bprop History .* got list"),
    ({}, ValueError, "history is empty"),
    ({"loss": ["a"]}, TypeError, r"history\['loss'\] must be a sequence of numbers"),
])
def test_bad_history(history, error, pattern):
    pytest.importorskip("matplotlib")
    with pytest.raises(error, match=pattern):
        plot_history(history)


def test_clear_import_error_without_matplotlib(monkeypatch):
    # A None entry in sys.modules makes "import matplotlib" raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"needs matplotlib.*pip install 'bprop\[plot\]'"):
        plot_history(HISTORY)


def test_exported_at_top_level():
    import bprop

    assert bprop.plot_history is plot_history
