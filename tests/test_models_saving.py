"""save / load_model / save_weights / load_weights: one file, atomic, never unpickled."""
from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest

import bprop
from bprop.layers import Dense, Dropout, Flatten
from bprop.models import saving


def trained_model(seed=0, optimizer="adam"):
    bprop.utils.set_random_seed(seed)
    model = bprop.Sequential([
        Flatten(input_shape=(2, 3)),
        Dense(8, activation="gelu", kernel_initializer="he_normal"),
        Dropout(0.25, seed=4),
        Dense(3, activation="softmax", use_bias=True),
    ], name="saved_net")
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 2, 3)).astype(np.float32)
    y = rng.integers(0, 3, size=40)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    return model, x, y


def test_save_load_predict_identical(tmp_path):
    model, x, y = trained_model()
    path = tmp_path / "model.bprop"
    model.save(path)
    assert sorted(os.listdir(tmp_path)) == ["model.bprop"]  # no temp file left behind
    loaded = bprop.models.load_model(path)
    assert loaded.name == "saved_net"
    assert [type(l).__name__ for l in loaded.layers] == ["Flatten", "Dense", "Dropout", "Dense"]
    assert loaded.layers[1].activation is bprop.activations.gelu
    assert loaded.layers[2].rate == 0.25 and loaded.layers[2].seed == 4
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 10


def test_optimizer_state_is_restored_so_training_continues_identically(tmp_path):
    model, x, y = trained_model(optimizer="rmsprop")
    path = str(tmp_path / "m.npz")
    model.save(path)
    loaded = bprop.load_model(path)
    results = []
    for m in (model, loaded):
        bprop.utils.set_random_seed(9)  # the same shuffles (Dropout's seed 4 is saved)
        m.fit(x, y, batch_size=8, epochs=1, verbose=0)
        results.append(m.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    # without the optimizer state the continued run differs
    model2, _, _ = trained_model(optimizer="rmsprop")
    model2.save(path, include_optimizer=False)
    fresh = bprop.load_model(path)
    bprop.utils.set_random_seed(9)
    fresh.layers[2]._rng = np.random.default_rng(123)
    fresh.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert not np.array_equal(fresh.get_weights()[0], results[0][0])


def test_file_is_a_plain_npz_with_header_and_json_architecture(tmp_path):
    model, _, _ = trained_model()
    path = tmp_path / "m.bprop"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
    assert {"bprop_header.npy", "architecture.npy", "compile.npy", "weight_00000.npy",
            "optimizer_00000.npy"} <= names
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["bprop_header"].tobytes())
        arch = json.loads(archive["architecture"].tobytes())
    assert header["magic"] == "bprop-model" and header["format_version"] == 1
    assert arch["class_name"] == "Sequential"
    assert [l["class_name"] for l in arch["config"]["layers"]] == [
        "Flatten", "Dense", "Dropout", "Dense"]


def test_uncompiled_model_round_trips(tmp_path):
    bprop.utils.set_random_seed(1)
    model = bprop.Sequential([Dense(4, activation="relu", input_dim=3), Dense(2)],
                             dtype="float64", backend="numpy")
    path = tmp_path / "plain.bprop"
    model.save(path)
    loaded = bprop.models.load_model(path)
    assert not loaded.compiled and loaded.dtype == "float64"
    assert loaded.backend is bprop.reference
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_weights_load_weights(tmp_path):
    model, x, _ = trained_model(seed=1)
    other, _, _ = trained_model(seed=2)
    path = tmp_path / "w.weights"
    model.save_weights(path)
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="holds only weights"):
        bprop.models.load_model(path)
    small = bprop.Sequential([Dense(2, input_shape=(6,))])
    with pytest.raises(ValueError, match="does not match this model"):
        small.load_weights(path)


def test_overwrite_false_and_directory_path(tmp_path):
    model, _, _ = trained_model()
    path = tmp_path / "m.bprop"
    model.save(path)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(path, overwrite=False)
    with pytest.raises(ValueError, match="is a directory"):
        model.save(tmp_path)


def _rewrite_header(src, dst, **changes):
    with np.load(src, allow_pickle=False) as archive:
        entries = {k: archive[k] for k in archive.files}
    header = json.loads(entries["bprop_header"].tobytes())
    header.update(changes)
    entries["bprop_header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(dst, "wb") as f:
        np.savez(f, **entries)


def test_damaged_foreign_and_mismatched_files_raise_value_error(tmp_path):
    model, _, _ = trained_model()
    good = tmp_path / "good.bprop"
    model.save(good)
    data = good.read_bytes()

    truncated = tmp_path / "truncated.bprop"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.bprop.*not a readable bprop file"):
        bprop.models.load_model(truncated)

    corrupt = tmp_path / "corrupt.bprop"
    middle = len(data) // 2
    corrupt.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64])
                        + data[middle + 64:])
    with pytest.raises(ValueError, match="corrupt.bprop"):
        bprop.models.load_model(corrupt)

    text = tmp_path / "notes.txt"
    text.write_text("certainly not a model\n")
    with pytest.raises(ValueError, match="not a readable bprop file"):
        bprop.models.load_model(text)

    npy = tmp_path / "array.npy"
    np.save(npy, np.arange(3))
    with pytest.raises(ValueError, match="not a readable bprop file"):
        bprop.models.load_model(npy)

    foreign_zip = tmp_path / "foreign.npz"
    np.savez(foreign_zip, a=np.arange(3))
    with pytest.raises(ValueError, match="bprop_header"):
        bprop.models.load_model(foreign_zip)

    future = tmp_path / "future.bprop"
    _rewrite_header(good, future, format_version=99)
    with pytest.raises(ValueError, match="format version 99; this bprop reads version 1"):
        bprop.models.load_model(future)

    wrong_magic = tmp_path / "magic.bprop"
    _rewrite_header(good, wrong_magic, magic="something-else")
    with pytest.raises(ValueError, match="no bprop magic"):
        bprop.models.load_model(wrong_magic)

    with pytest.raises(FileNotFoundError, match="no such file"):
        bprop.models.load_model(tmp_path / "missing.bprop")


def test_pickled_object_arrays_are_refused(tmp_path):
    path = tmp_path / "pickled.bprop"
    buf = io.BytesIO()
    np.savez(buf, bprop_header=np.array([{"magic": "bprop-model"}], dtype=object))
    path.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="not a readable bprop file"):
        bprop.models.load_model(path)


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    model, x, _ = trained_model()
    path = tmp_path / "m.bprop"
    model.save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(saving.np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.bprop"]


def test_model_checkpoint_writes_loadable_best_models(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4))
    y = rng.integers(0, 2, size=48)
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([Dense(6, activation="tanh", input_shape=(4,)),
                              Dense(2, activation="softmax")], dtype="float64")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    pattern = str(tmp_path / "ckpt-{epoch:02d}.bprop")
    ckpt = bprop.callbacks.ModelCheckpoint(pattern, monitor="loss", save_best_only=True)
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[ckpt])
    files = sorted(os.listdir(tmp_path))
    assert files and all(f.startswith("ckpt-") for f in files)
    best = int(np.argmin(history.history["loss"]))
    last = bprop.models.load_model(tmp_path / ("ckpt-%02d.bprop" % (best + 1)))
    if best == 2:  # the saved model is the final one
        np.testing.assert_array_equal(last.predict(x, verbose=0), model.predict(x, verbose=0))
    assert last.optimizer.iterations == 3 * (best + 1)


def test_a_process_killed_while_saving_leaves_a_loadable_checkpoint(tmp_path):
    """SIGKILL a child that saves in a loop, at several moments: the file on
    disk is always a complete checkpoint (the previous or the new one), never a
    torn one, because save writes a temporary file and renames it."""
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    path = tmp_path / "ckpt.npz"
    child = textwrap.dedent("""
        import sys
        import numpy as np
        import bprop
        bprop.utils.set_random_seed(0)
        model = bprop.Sequential([bprop.layers.Dense(512, activation="relu", input_shape=(512,)),
                                  bprop.layers.Dense(512)])
        model.compile(optimizer="adam", loss="mse")
        model.save(sys.argv[1])
        print("saved", flush=True)
        k = 0
        while True:
            k += 1
            model.layers[1].bias.assign(np.full(512, k, dtype=np.float32))
            model.save(sys.argv[1])
    """)
    rng = np.random.default_rng(0)
    for delay in rng.uniform(0.0, 0.3, size=4):
        proc = subprocess.Popen([sys.executable, "-c", child, str(path)], stdout=subprocess.PIPE,
                                text=True)
        try:
            assert proc.stdout.readline().strip() == "saved"
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stdout.close()
        model = bprop.models.load_model(str(path))
        bias = model.layers[1].bias.numpy()
        assert bias.shape == (512,) and np.all(bias == bias[0])  # one consistent version
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "ckpt.npz"]
        for name in leftovers:  # a killed save may leave its temporary file, never a torn target
            assert name.startswith(".") or "tmp" in name, leftovers
