"""The suite's guard: it refuses to test an installed bprop older than the checkout."""
from __future__ import annotations

from conftest import stale_installed_files


def _tree(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_changed_or_missing_file_is_reported(tmp_path):
    source = _tree(tmp_path / "src", {"a.py": "x = 1", "sub/b.py": "y = 2", "c.pyi": "z: int",
                                      "data.txt": "not python"})
    same = _tree(tmp_path / "same", {"a.py": "x = 1", "sub/b.py": "y = 2", "c.pyi": "z: int"})
    assert stale_installed_files(str(source), str(same)) == []
    older = _tree(tmp_path / "old", {"a.py": "x = 0", "c.pyi": "z: int"})
    assert stale_installed_files(str(source), str(older)) == ["a.py", "sub/b.py"]


def test_an_editable_install_or_no_checkout_is_fine(tmp_path):
    source = _tree(tmp_path / "src", {"a.py": "x = 1"})
    assert stale_installed_files(str(source), str(source)) == []
    assert stale_installed_files(str(tmp_path / "missing"), str(source)) == []
