"""The README's code blocks run, and so do the quick examples.

README convention (for whoever edits README.md):

* every ```python block is executed, in order, in ONE namespace (a later
  block may use names from an earlier one), in a subprocess whose working
  directory is a fresh temporary directory (files a block writes land there);
* in ```bash / ```sh / ```console / ```shell blocks, each command that runs
  bprop -- ``bprop ...``, ``python -m bprop ...`` or
  ``python examples/<script>.py ...``, also as a part of a line chained with
  ``&&`` or ``;`` and with ``python3`` or ``.venv/bin/python`` -- is executed
  with this test's interpreter and must exit with status 0 (an optional
  leading ``$ `` prompt is ignored).  ``bprop bench`` runs
  as ``bprop bench --builtin --repeat 1`` here, to keep the suite fast.
  Other lines (pip install, apt-get, pytest, git, cd) are not run: installing
  is what the test environment already did, and pytest would recurse;
* ```text / ```output blocks (shown output) are not executed.
"""
from __future__ import annotations

import importlib.util
import os
import re
import runpy
import shlex
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
EXAMPLES = os.path.join(ROOT, "examples")
FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
SHELL_LANGS = ("bash", "sh", "console", "shell")


def readme_blocks():
    """[(language, code, line number)] of the README's fenced blocks."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return [(m.group(1).lower(), m.group(2), text.count("\n", 0, m.start()) + 1)
            for m in FENCE.finditer(text)]


def _is_python(word):
    return re.fullmatch(r"(.*/)?python(3(\.\d+)?)?", word) is not None


def bprop_commands(code):
    """The commands of a shell block that run bprop, as argument lists.

    Lines are split at ``&&`` and ``;``; ``bprop`` / ``.venv/bin/bprop`` and
    ``python`` / ``python3`` / ``.venv/bin/python`` map to this interpreter.
    """
    commands = []
    for raw in code.splitlines():
        line = raw.strip()
        if line.startswith("$ "):
            line = line[2:].strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line, comments=True)
        pieces, current = [], []
        for word in words + ["&&"]:
            if word in ("&&", ";"):
                if current:
                    pieces.append(current)
                current = []
            else:
                current.append(word)
        for args in pieces:
            if os.path.basename(args[0]) == "bprop":
                args = ["python", "-m", "bprop"] + args[1:]
            if not _is_python(args[0]) or len(args) < 2:
                continue
            if args[1:3] == ["-m", "bprop"]:
                if args[3:4] == ["bench"]:
                    args = args + ["--builtin", "--repeat", "1"]
                commands.append([sys.executable] + args[1:])
            elif args[1].startswith("examples/"):
                commands.append([sys.executable] + args[1:])
    return commands


def test_readme_has_the_documented_sections():
    assert os.path.isfile(README), "README.md is missing"
    langs = [lang for lang, _, _ in readme_blocks()]
    assert "python" in langs, "README.md has no ```python block"


def test_readme_python_blocks_run(tmp_path):
    blocks = [(code, line) for lang, code, line in readme_blocks() if lang == "python"]
    if not blocks:
        pytest.fail("README.md has no ```python block")
    # One script: each block runs in the shared namespace; a failure names its README line.
    parts = ["import sys, traceback", "namespace = {'__name__': '__main__'}"]
    if importlib.util.find_spec("matplotlib") is None:
        # Without the optional matplotlib only the plotting call cannot run:
        # the README says it needs matplotlib; everything else is still run.
        parts.append("import bprop; bprop.plot_history = lambda *args, **kwargs: None")
    for code, line in blocks:
        parts.append(textwrap.dedent(f"""
            try:
                exec(compile({code!r}, "README.md:{line}", "exec"), namespace)
            except BaseException:
                traceback.print_exc()
                sys.exit("README.md python block at line {line} failed")
            """))
    script = tmp_path / "readme_blocks.py"
    script.write_text("\n".join(parts), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, MPLBACKEND="Agg"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]


def test_readme_shell_commands_run(tmp_path):
    commands = [(cmd, line) for lang, code, line in readme_blocks() if lang in SHELL_LANGS
                for cmd in bprop_commands(code)]
    for cmd, line in commands:
        # examples/ paths are relative to the checkout; everything else runs in tmp_path.
        cmd = [os.path.join(ROOT, a) if a.startswith("examples/") else a for a in cmd]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (
            f"README.md line {line}: {' '.join(cmd[1:])} exited {proc.returncode}\n"
            + proc.stdout[-2000:] + proc.stderr[-2000:])


def test_bprop_commands_parser():
    code = "$ pip install .\nbprop train --epochs 2  # comment\n$ bprop bench\n" \
           "python examples/keras_mlp.py --data digits\npython -m pytest -q\n" \
           "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/python -m bprop info\n"
    assert bprop_commands(code) == [
        [sys.executable, "-m", "bprop", "train", "--epochs", "2"],
        [sys.executable, "-m", "bprop", "bench", "--builtin", "--repeat", "1"],
        [sys.executable, "examples/keras_mlp.py", "--data", "digits"],
        [sys.executable, "-m", "bprop", "info"],
    ]


# --- examples ---------------------------------------------------------------

def _example_main(name):
    return runpy.run_path(os.path.join(EXAMPLES, name), run_name="example")["main"]


def test_kernels_walkthrough_quick(capsys):
    accuracy = _example_main("kernels_walkthrough.py")(["--quick"])
    out = capsys.readouterr().out
    assert "gemm(trans_a=True) == a.T @ a: True" in out
    assert "softmax rows sum to 1: True" in out
    assert "bad shapes raise ValueError" in out
    assert accuracy > 0.85  # 3 epochs of Adam on the digits with kernels only
    assert len(re.findall(r"^\w.* +[0-9.]+ +[0-9.]+ +[0-9.]+x$", out, re.M)) == 5


def test_keras_mlp_example_on_digits(capsys):
    history, accuracy = _example_main("keras_mlp.py")(["--data", "digits", "--epochs", "5"])
    assert len(history.history["loss"]) == 5
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert accuracy > 0.85
    assert "test accuracy" in capsys.readouterr().out


def test_keras_mlp_example_tf_style_matches(capsys):
    # The same program written against bprop.keras gives the same result for the same seed.
    _, a = _example_main("keras_mlp.py")(["--data", "digits", "--epochs", "2"])
    _, b = _example_main("keras_mlp.py")(["--data", "digits", "--epochs", "2", "--tf-style"])
    assert a == b


def test_fashion_mnist_convnet_example_on_a_slice(capsys):
    """Keras' convnet example, on 4,096 images for one epoch (the whole run is in the README)."""
    from bprop.datasets import fashion_mnist

    try:
        fashion_mnist.load_data(download=False)
    except Exception as exc:  # no local copy: never download in a test
        pytest.skip("Fashion-MNIST is not installed locally (%s)" % type(exc).__name__)
    history, accuracy = _example_main("fashion_mnist_convnet.py")(
        ["--epochs", "1", "--limit", "4096"])
    out = capsys.readouterr().out
    assert "x_train shape: (4096, 28, 28, 1)" in out
    assert "Total params: 34,826" in out
    assert len(history.history["loss"]) == 1
    assert accuracy > 0.5  # one epoch of 29 steps: far above chance (10%)


def test_every_supported_name_in_the_keras_table_exists():
    """The middle column of "What of Keras runs": each `tf.x` / `keras.x` name resolves
    (tf is bprop, keras is bprop.keras)."""
    import bprop

    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text.split("## What of Keras runs", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| ")]
    names = [n for row in rows[1:] for n in re.findall(r"`((?:tf|keras)\.[A-Za-z0-9_.]+)`", row[2])]
    assert len(names) > 60
    roots = {"tf": bprop, "keras": bprop.keras}
    for name in names:
        head, *parts = name.split(".")
        obj = roots[head]
        for part in parts:
            assert hasattr(obj, part), "%s: %r has no %r" % (name, obj, part)
            obj = getattr(obj, part)
