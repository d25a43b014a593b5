"""Every program in examples/keras/ runs and passes its own assertions.

Each is written the way Keras' and TensorFlow's tutorials and guides write
theirs, with ``import bprop as tf`` (or ``from bprop import keras``) as the
only change, and asserts its result (accuracy, values, shapes).  They run
in this process on the bundled digits or synthetic data, a few seconds each;
the ones that need Fashion-MNIST skip without a local copy.
"""
import glob
import os
import runpy
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "examples", "keras")
PROGRAMS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(FOLDER, "*.py"))
                  if not os.path.basename(p).startswith("_"))


def test_there_are_at_least_twenty_programs():
    assert len(PROGRAMS) >= 20, PROGRAMS


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_runs_and_asserts_its_result(name, monkeypatch, tmp_path, capsys):
    monkeypatch.syspath_prepend(FOLDER)  # their shared _data helper
    monkeypatch.chdir(tmp_path)          # files they write land here
    sys.modules.pop("_data", None)
    with open(os.path.join(FOLDER, name), encoding="utf-8") as f:
        source = f.read()
    assert "import bprop as tf" in source or "from bprop import keras" in source
    if "fashion_mnist" in source:
        from bprop.datasets import fashion_mnist

        try:
            fashion_mnist.load_data(download=False)
        except Exception as exc:  # no local copy: never download in a test
            pytest.skip("Fashion-MNIST is not installed locally (%s)" % type(exc).__name__)
    namespace = runpy.run_path(os.path.join(FOLDER, name), run_name="example")
    namespace["main"]()  # raises AssertionError when the program's checks fail
    assert capsys.readouterr().out.strip()  # it reports what it did
