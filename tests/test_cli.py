"""The ``bprop`` command line: end to end in a subprocess, and every documented error path.

The end-to-end run trains 1 epoch on the bundled digits, then evaluates and
predicts with the saved model; the printed numbers are checked against the
model loaded here and NumPy (independent of the CLI's own code path).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from bprop import datasets
from bprop.cli import main
from bprop.datasets import write_idx

ENV = dict(os.environ, BPROP_CACHE_DIR=os.devnull + "-no-cache")  # never download


def run_cli(*args, cwd=None):
    """``python -m bprop ARGS`` in a subprocess -> CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "bprop", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=300)


def run_main(argv, capsys):
    """``main(argv)`` in process -> (exit status, stdout, stderr); argparse exits too."""
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def _digits_test_split():
    _, (x_test, y_test) = datasets.digits.load_data()
    return x_test, y_test


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One 1-epoch training run through the real entry point; shared by the e2e tests."""
    pytest.importorskip("matplotlib")
    d = tmp_path_factory.mktemp("cli")
    proc = run_cli("train", "--epochs", 1, "--output", d / "m.npz", "--plot", d / "curves.png",
                   "--verbose", 2, "--threads", 1)
    return d, proc


def test_train_end_to_end(trained):
    d, proc = trained
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "on digits: 1437 training and 360 test images of shape (8, 8), 10 classes" in out
    assert f"Saved the model to {d / 'm.npz'}" in out
    assert f"Saved the training curves to {d / 'curves.png'}" in out
    assert (d / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The printed test accuracy is the model's accuracy on the digits test
    # split, recomputed here from its predictions.
    m = re.search(r"Test loss: ([0-9.]+) - test accuracy: ([0-9.]+) \(360 test images\)", out)
    assert m, out
    import bprop

    model = bprop.models.load_model(str(d / "m.npz"))
    x_test, y_test = _digits_test_split()
    probs = model.predict(x_test.astype(np.float32) / 16, verbose=0)
    accuracy = float(np.mean(probs.argmax(axis=1) == y_test))
    loss = float(-np.mean(np.log(probs[np.arange(len(y_test)), y_test])))
    assert float(m.group(2)) == pytest.approx(accuracy, abs=6e-5)
    assert float(m.group(1)) == pytest.approx(loss, rel=1e-3, abs=1e-4)
    # One epoch of adam on 1294 images already beats chance (10%) by far.
    assert accuracy > 0.3


def test_train_defaults_reach_90_percent_on_digits(tmp_path, capsys):
    # The target: the default `bprop train` beats 90% test accuracy on
    # the bundled digits (30 epochs of 1294 images; about 2 s on one core).
    status, out, err = run_main(["train", "--output", tmp_path / "m.npz", "--verbose", 0,
                                 "--threads", 1], capsys)
    assert status == 0, err
    assert "adam, 30 epochs, batch size 32" in out
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert accuracy > 0.90


def test_train_convnet_on_digits(tmp_path, capsys):
    """--model convnet: Keras' simple convnet ('same' padding on the 8x8 digits), saved with
    its layers; its printed test accuracy is its accuracy, recomputed here."""
    status, out, err = run_main(["train", "--model", "convnet", "--epochs", 10, "--output",
                                 tmp_path / "cnn.npz", "--verbose", 0], capsys)
    assert status == 0, err
    assert "Training Keras' simple convnet on digits" in out
    import bprop

    model = bprop.models.load_model(str(tmp_path / "cnn.npz"))
    assert [type(l).__name__ for l in model.layers] == [
        "Reshape", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout",
        "Dense"]
    assert model.layers[1].padding == "same" and model.output_shape == (None, 10)
    x_test, y_test = _digits_test_split()
    accuracy = float(np.mean(model.predict(x_test.astype(np.float32) / 16, verbose=0)
                             .argmax(axis=1) == y_test))
    printed = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert printed == pytest.approx(accuracy, abs=6e-5)
    assert accuracy > 0.9


def test_evaluate_saved_model_matches_train_output(trained):
    d, proc = trained
    assert proc.returncode == 0, proc.stderr
    ev = run_cli("evaluate", d / "m.npz", "--data", "digits")
    assert ev.returncode == 0, ev.stderr
    train_line = re.search(r"Test loss: .*", proc.stdout).group(0)
    assert ev.stdout.strip() == train_line


def test_predict_npy_and_pgm(trained, tmp_path):
    d, proc = trained
    assert proc.returncode == 0, proc.stderr
    import bprop

    x_test, _ = _digits_test_split()
    np.save(tmp_path / "three.npy", x_test[:3])  # raw uint8 0..16, scaled by the CLI
    pred = run_cli("predict", d / "m.npz", tmp_path / "three.npy")
    assert pred.returncode == 0, pred.stderr
    model = bprop.models.load_model(str(d / "m.npz"))
    expected = model.predict(x_test[:3].astype(np.float32) / 16, verbose=0).argmax(axis=1)
    got = [int(c) for c in re.findall(r"class (\d+), probability", pred.stdout)]
    assert got == list(expected)
    # The same first image as a binary PGM (maxval 16) gives the same class.
    pgm = tmp_path / "one.pgm"
    pgm.write_bytes(b"P5\n# a digit\n8 8\n16\n" + x_test[0].tobytes())
    status = run_cli("predict", d / "m.npz", pgm)
    assert status.returncode == 0, status.stderr
    assert re.search(r"one.pgm\[0\]: class (\d+)", status.stdout).group(1) == str(expected[0])


def test_train_on_npz_and_idx_paths(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(40, 6, 6), dtype=np.uint8)
    y = (x.reshape(40, -1).mean(axis=1) > 127).astype(np.uint8)
    np.savez(tmp_path / "tiny.npz", x_train=x[:30], y_train=y[:30], x_test=x[30:], y_test=y[30:])
    status, out, err = run_main(["train", "--data", tmp_path / "tiny.npz", "--epochs", 1,
                                 "--verbose", 0, "--hidden", "8", "--validation-split", 0,
                                 "--output", tmp_path / "a.npz"], capsys)
    assert status == 0, err
    assert "30 training and 10 test images of shape (6, 6), 2 classes" in out
    idx = tmp_path / "idx"
    idx.mkdir()
    write_idx(idx / "train-images-idx3-ubyte.gz", x[:30])
    write_idx(idx / "train-labels-idx1-ubyte", y[:30])
    write_idx(idx / "t10k-images-idx3-ubyte", x[30:])
    write_idx(idx / "t10k-labels-idx1-ubyte.gz", y[30:])
    status, out, err = run_main(["train", "--data", idx, "--epochs", 1, "--verbose", 0,
                                 "--hidden", "none", "--output", tmp_path / "b.npz"], capsys)
    assert status == 0, err
    assert "hidden layers: none" in out and "(10 test images)" in out


def test_info(capsys):
    import bprop

    status, out, err = run_main(["info"], capsys)
    assert status == 0
    assert out.startswith(f"bprop {bprop.__version__}\n")
    assert f"threads: {bprop.get_num_threads()}" in out
    for key in bprop.build_info():
        assert f"  {key}: " in out


def test_bench_builtin(capsys):
    status, out, err = run_main(["bench", "--builtin", "--repeat", "1"], capsys)
    assert status == 0, err
    rows = [line for line in out.splitlines() if line.endswith("x") and "ms" not in line]
    assert len(rows) == 4
    for line in rows:
        bp, ref, speedup = line.split()[-3:]
        # The printed speed-up is the ratio of the printed times.
        assert float(speedup[:-1]) == pytest.approx(float(ref) / float(bp), rel=0.02, abs=0.01)


# --- error paths: one line on stderr, exit status 2, no traceback -----------

def _foreign(tmp_path):
    p = tmp_path / "foreign.npz"
    p.write_bytes(b"this is not a model")
    return p


ERROR_CASES = [
    (["train", "--data", "cifar99"], "unknown data set and no such file or directory"),
    (["train", "--epochs", "0"], r"argument --epochs: expected an integer in \[1, 1000000\], got 0"),
    (["train", "--epochs", "many"], "argument --epochs: expected a positive integer, got 'many'"),
    (["train", "--batch-size", "-3"], r"argument --batch-size: expected an integer in \[1, 1048576\], got -3"),
    (["train", "--learning-rate", "-1"], "argument --learning-rate: expected a positive finite"),
    (["train", "--hidden", "64,x"], r"argument --hidden: expected comma-separated layer sizes in \[1, 65536\]"),
    (["train", "--validation-split", "1.5"], r"argument --validation-split: expected a number in \[0, 1\)"),
    (["train", "--optimizer", "adamax"], "argument --optimizer: invalid choice: 'adamax'"),
    (["train", "--activation", "swish"], "argument --activation: invalid choice: 'swish'"),
    (["train", "--threads", "0"], "argument --threads: expected a positive integer, got 0"),
    (["train", "--output", "{tmp}/no/dir/m.npz"], "--output: .*directory .* does not exist"),
    (["train", "--plot", "{tmp}/no/dir/c.png"], "--plot: .*directory .* does not exist"),
    (["train", "--data", "{tmp}/bad.npz"], "the .npz lacks y_test"),
    (["evaluate", "{tmp}/missing.npz"], "MODEL .*missing.npz: no such file"),
    (["evaluate", "{foreign}"], "not a readable bprop file"),
    (["predict", "{tmp}/missing.npz", "{tmp}/x.npy"], "no such file"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize("argv,pattern", ERROR_CASES,
                         ids=[" ".join(a) or "none" for a, _ in ERROR_CASES])
def test_user_errors(tmp_path, capsys, argv, pattern):
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 3, 3), np.uint8),
             y_train=np.zeros(2, np.uint8), x_test=np.zeros((1, 3, 3), np.uint8))
    argv = [a.format(tmp=tmp_path, foreign=_foreign(tmp_path)) for a in argv]
    status, out, err = run_main(argv, capsys)
    assert status == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(pattern, err), err
    assert err.startswith("bprop")


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A tiny untrained digits-shaped model saved to disk (for predict's error paths)."""
    import bprop
    from bprop.cli._train import build_mlp

    bprop.utils.set_random_seed(0)
    model = build_mlp((8, 8), [4], "relu", 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    path = tmp_path_factory.mktemp("model") / "small.npz"
    model.save(str(path))
    return path


@pytest.mark.parametrize("name,content,pattern", [
    ("x.txt", b"1 2 3", r"unsupported extension '.txt'; expected .npy, .pgm or .png"),
    ("x.npy", None, r"image shape \(5, 5\) does not fit the model's input shape \(8, 8\)"),
    ("x.pgm", b"P6\n8 8\n255\n" + bytes(192), "not a PGM image"),
    ("x.pgm", b"P5\n8 8\n255\n" + bytes(10), "PGM data truncated: expected 64 bytes, got 10"),
    ("x.pgm", b"P5\n8 eight\n255\n", "malformed PGM header"),
    ("y.npy", b"garbage", "not a readable .npy array"),
])
def test_predict_errors(small_model, tmp_path, capsys, name, content, pattern):
    path = tmp_path / name
    if content is None:
        np.save(path, np.zeros((5, 5), dtype=np.uint8))
    else:
        path.write_bytes(content)
    status, out, err = run_main(["predict", small_model, path], capsys)
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(pattern, err), err


def test_predict_ascii_pgm_and_batch(small_model, tmp_path, capsys):
    import bprop

    image = np.arange(64, dtype=np.uint8).reshape(8, 8) % 17
    text = "P2\n8 8\n16\n" + "\n".join(" ".join(str(v) for v in row) for row in image) + "\n"
    (tmp_path / "a.pgm").write_text(text)
    status, out, err = run_main(["predict", small_model, tmp_path / "a.pgm"], capsys)
    assert status == 0, err
    model = bprop.models.load_model(str(small_model))
    probs = model.predict(image[None].astype(np.float32) / 16, verbose=0)[0]
    assert f"a.pgm[0]: class {probs.argmax()}, probability {probs.max():.3f}" in out
    # A float batch is used unscaled.
    batch = np.random.default_rng(1).random((4, 8, 8)).astype(np.float32)
    np.save(tmp_path / "b.npy", batch)
    status, out, err = run_main(["predict", small_model, tmp_path / "b.npy"], capsys)
    assert status == 0, err
    expected = model.predict(batch, verbose=0).argmax(axis=1)
    assert [int(c) for c in re.findall(r"class (\d+),", out)] == list(expected)


def test_evaluate_shape_mismatch(small_model, tmp_path, capsys):
    x = np.zeros((4, 6, 6), np.uint8)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=np.zeros(4, np.uint8), x_test=x,
             y_test=np.zeros(4, np.uint8))
    status, out, err = run_main(["evaluate", small_model, "--data", tmp_path / "d.npz"], capsys)
    assert status == 2
    assert "images of shape (6, 6) do not fit the model's input shape (8, 8)" in err


def test_truncated_idx_data_is_a_user_error(tmp_path, capsys):
    d = tmp_path / "idx"
    d.mkdir()
    for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
        write_idx(d / name, np.zeros((3, 4, 4), np.uint8))
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        write_idx(d / name, np.zeros(3, np.uint8))
    raw = (d / "train-images-idx3-ubyte").read_bytes()
    (d / "train-images-idx3-ubyte").write_bytes(raw[:-5])
    status, out, err = run_main(["train", "--data", d, "--output", tmp_path / "m.npz"], capsys)
    assert status == 2
    assert "train-images-idx3-ubyte' is truncated" in err
    assert len(err.strip().splitlines()) == 1


def test_subprocess_error_has_no_traceback(tmp_path):
    proc = run_cli("evaluate", tmp_path / "nothing.npz")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"bprop evaluate: error: MODEL {tmp_path / 'nothing.npz'}: no such file"


def test_predict_png_with_pillow(small_model, tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    import bprop

    pixels = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 4)
    Image.fromarray(pixels).save(tmp_path / "d.png")  # uint8 2-D: mode "L"
    status, out, err = run_main(["predict", small_model, tmp_path / "d.png"], capsys)
    assert status == 0, err
    model = bprop.models.load_model(str(small_model))
    probs = model.predict(pixels[None].astype(np.float32) / 255, verbose=0)[0]
    assert f"d.png[0]: class {probs.argmax()}, probability {probs.max():.3f}" in out


def test_train_numpy_backend_matches_core(tmp_path, capsys):
    # Same seed, same data order: the pure-NumPy backend reports the same test
    # numbers as the C++ core (to the 4 printed decimals).
    lines = []
    for backend in ("core", "numpy"):
        status, out, err = run_main(["train", "--epochs", 2, "--verbose", 0, "--threads", 1,
                                     "--backend", backend, "--output",
                                     tmp_path / f"{backend}.npz"], capsys)
        assert status == 0, err
        lines.append(re.search(r"Test loss: .*", out).group(0))
    assert lines[0] == lines[1]


def test_bench_finds_the_checkout_harness(tmp_path, monkeypatch):
    """The harness is found next to python/bprop in a checkout, and never from
    an installed package (a benchmarks/ folder beside site-packages is not it)."""
    from bprop.cli import _bench

    def layout(*parts, harness):
        root = tmp_path.joinpath(*parts[:-4])
        module = tmp_path.joinpath(*parts)
        module.parent.mkdir(parents=True)
        module.write_text("")
        if harness:
            (root / "benchmarks").mkdir()
            (root / "benchmarks" / "__main__.py").write_text("")
        return str(root), str(module)

    root, module = layout("checkout", "python", "bprop", "cli", "_bench.py", harness=True)
    monkeypatch.setattr(_bench, "__file__", module)
    assert _bench.harness_root() == root
    _, module = layout("bare", "python", "bprop", "cli", "_bench.py", harness=False)
    monkeypatch.setattr(_bench, "__file__", module)
    assert _bench.harness_root() is None
    _, module = layout("venv", "site-packages", "bprop", "cli", "_bench.py", harness=True)
    monkeypatch.setattr(_bench, "__file__", module)
    assert _bench.harness_root() is None


# ---------------------------------------------------------------- outputs and bounds (issue 12)
@pytest.mark.parametrize("kind", ["chardev", "fifo", "directory", "empty"])
def test_output_that_is_not_a_regular_file_is_refused_before_training(tmp_path, capsys, kind):
    import stat

    target = {"chardev": "/dev/null", "fifo": str(tmp_path / "pipe"), "directory": str(tmp_path),
              "empty": ""}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    status, out, err = run_main(["train", "--epochs", 1, "--output", target], capsys)
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "--output" in err and "Training" not in out  # refused before any training
    if kind == "chardev":
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # not replaced by a file


def test_output_through_a_symlink_writes_the_target(tmp_path, capsys):
    target, link = tmp_path / "real.npz", tmp_path / "link.npz"
    target.write_bytes(b"old")
    os.symlink(target, link)
    status, _, err = run_main(["train", "--epochs", 1, "--verbose", 0, "--output", link], capsys)
    assert status == 0, err
    assert os.path.islink(link) and target.read_bytes()[:2] == b"PK"


def test_a_diverging_run_exits_non_zero_and_keeps_the_old_output(tmp_path, capsys):
    out_file = tmp_path / "m.npz"
    out_file.write_bytes(b"the previous model")
    status, out, err = run_main(["train", "--optimizer", "sgd", "--learning-rate", "1e6",
                                 "--epochs", 2, "--verbose", 0, "--output", out_file], capsys)
    assert status == 2
    assert "training diverged (epoch 1, batch" in err and "was not written" in err
    assert "Test loss" not in out
    assert out_file.read_bytes() == b"the previous model"


@pytest.mark.parametrize("option,value,bound", [
    ("--batch-size", "99999999999999999999", "[1, 1048576]"),
    ("--hidden", "100000000", "[1, 65536]"),
    ("--epochs", "10000000000", "[1, 1000000]"),
])
def test_huge_sizes_are_one_line_errors(capsys, option, value, bound):
    status, _, err = run_main(["train", option, value], capsys)
    assert status == 2 and err.count("\n") == 1 and bound in err and "Traceback" not in err


def test_a_damaged_model_file_is_one_line_and_status_2(tmp_path, capsys, small_model):
    data = bytearray(small_model.read_bytes())
    data[len(data) // 2] ^= 0x10
    broken = tmp_path / "broken.npz"
    broken.write_bytes(bytes(data))
    status, _, err = run_main(["evaluate", broken], capsys)
    assert status == 2 and err.count("\n") == 1 and "broken.npz" in err
