"""Keras' files: ``.keras`` (Keras 3), ``.weights.h5`` and legacy ``.h5`` (Keras 2).

Round trips (bprop writes, bprop reads), files built here with h5py and
zipfile in the exact layout Keras 3.15 / tf.keras 2.21 write (checked
against NumPy formulas), forged and damaged files, and, where Keras is
installed, both directions against Keras itself."""
from __future__ import annotations

import io
import json
import os
import sys
import zipfile

import numpy as np
import pytest

import bprop
from bprop.layers import (Activation, AveragePooling1D, Conv1D, Conv2D, Dense, Dropout, Flatten,
                          GlobalAveragePooling1D, GlobalMaxPooling2D, Input, MaxPooling2D,
                          Reshape, ZeroPadding2D)

h5py = pytest.importorskip("h5py")

RNG = np.random.default_rng(7)


def _dense_model(optimizer="adam", name="net"):
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([Input((5,)), Dense(4, activation="relu", name="hidden"),
                              Dropout(0.25, seed=3, name="drop"),
                              Dense(3, activation="softmax", name="out")], name=name)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _conv_model():
    bprop.utils.set_random_seed(1)
    model = bprop.Sequential([
        Input((7, 7, 2)), ZeroPadding2D(((1, 0), (0, 1))),
        Conv2D(3, 3, strides=2, padding="same", activation="tanh"), MaxPooling2D(),
        Reshape((-1, 3)), Conv1D(2, 1), AveragePooling1D(1), GlobalAveragePooling1D(),
        Activation("sigmoid"), Flatten(), Dense(2)])
    model.compile(optimizer=bprop.optimizers.RMSprop(0.01),
                  loss=bprop.losses.CategoricalCrossentropy(from_logits=True))
    return model


def _fit(model, epochs=2):
    shape = model._sample_shape
    x = RNG.random((24,) + shape).astype(np.float32)
    classes = model.layers[-1].units
    if isinstance(model.compiled_loss, bprop.losses.SparseCategoricalCrossentropy):
        y = RNG.integers(0, classes, 24)
    else:
        y = np.eye(classes, dtype=np.float32)[RNG.integers(0, classes, 24)]
    model.fit(x, y, batch_size=6, epochs=epochs, verbose=0)
    return x, y


def _same_state(a, b):
    sa, sb = a.optimizer.get_state(), b.optimizer.get_state()
    assert len(sa) == len(sb)
    for u, v in zip(sa, sb):
        np.testing.assert_array_equal(u, v)


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("optimizer", [
    lambda: "adam", lambda: bprop.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: "rmsprop", lambda: "adagrad", lambda: bprop.optimizers.AdamW(0.01, weight_decay=0.1),
    lambda: "sgd",
    lambda: bprop.optimizers.Adam(bprop.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5))],
    ids=["adam", "sgd-nesterov", "rmsprop", "adagrad", "adamw", "sgd", "adam-schedule"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_round_trip_model_and_optimizer_state(tmp_path, optimizer, suffix):
    model = _dense_model(optimizer())
    x, y = _fit(model)
    path = tmp_path / ("m" + suffix)
    model.save(path)
    assert os.listdir(tmp_path) == ["m" + suffix]  # written atomically, nothing left over
    loaded = bprop.models.load_model(path)
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    assert loaded.layers[1].rate == 0.25 and loaded.layers[1].seed == 3
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    _same_state(loaded, model)
    # the restored state trains on exactly as the original does
    for m in (model, loaded):
        bprop.utils.set_random_seed(5)
        m.fit(x, y, batch_size=6, epochs=1, verbose=0)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_round_trip_image_layers(tmp_path, suffix):
    model = _conv_model()
    x, _ = _fit(model, epochs=1)
    model.save(tmp_path / ("c" + suffix))
    loaded = bprop.models.load_model(tmp_path / ("c" + suffix))
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    for a, b in zip(loaded.layers, model.layers):
        assert a.get_config() == b.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.compiled_loss.from_logits is True
    _same_state(loaded, model)


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5"])
def test_save_and_load_weights(tmp_path, name):
    model = _conv_model()
    x, _ = _fit(model, epochs=1)
    model.save_weights(tmp_path / name)
    other = _conv_model()
    assert not np.array_equal(other.get_weights()[0], model.get_weights()[0])
    other.load_weights(tmp_path / name)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    if name.endswith(".weights.h5"):  # Keras 3 keeps the optimizer's variables there too
        _same_state(other, model)
    with pytest.raises(ValueError, match="does not match this model"):
        _dense_model().load_weights(tmp_path / name)


def test_load_weights_from_a_keras_file_and_save_weights_refuses_keras(tmp_path):
    model = _dense_model()
    x, _ = _fit(model)
    model.save(tmp_path / "m.keras")
    fresh = _dense_model()
    fresh.load_weights(tmp_path / "m.keras")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="a .keras file holds a whole model"):
        model.save_weights(tmp_path / "w.keras")


def test_without_optimizer_and_uncompiled(tmp_path):
    model = _dense_model()
    x, _ = _fit(model)
    model.save(tmp_path / "a.h5", include_optimizer=False)
    loaded = bprop.models.load_model(tmp_path / "a.h5")
    assert not loaded.compiled
    model.save(tmp_path / "b.keras", include_optimizer=False)
    loaded = bprop.models.load_model(tmp_path / "b.keras")
    assert loaded.compiled and loaded.optimizer.iterations == 0
    loaded = bprop.models.load_model(tmp_path / "b.keras", compile=False)
    assert not loaded.compiled
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_float64_model_round_trip(tmp_path):
    model = bprop.Sequential([Input((3,)), Dense(2, activation="tanh")], dtype="float64")
    model.save(tmp_path / "d.keras")
    loaded = bprop.models.load_model(tmp_path / "d.keras")
    assert loaded.dtype == "float64" and loaded.get_weights()[0].dtype == np.float64
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


def test_nested_sequential(tmp_path):
    bprop.utils.set_random_seed(2)
    inner = bprop.Sequential([Dense(3, activation="relu"), Dense(3)], name="inner")
    model = bprop.Sequential([Input((4,)), inner, Dense(2)], name="outer")
    model.compile("adam", "mse")
    x, _ = _fit(model)
    for name in ("n.keras", "n.h5"):
        model.save(tmp_path / name)
        loaded = bprop.models.load_model(tmp_path / name)
        assert loaded.layers[0].name == "inner" and len(loaded.layers[0].layers) == 2
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
        _same_state(loaded, model)
    with zipfile.ZipFile(tmp_path / "n.keras") as zf:
        data = zf.read("model.weights.h5")
    with h5py.File(io.BytesIO(data), "r") as f:  # Keras 3 nests the inner model's layers
        assert sorted(f["layers"]) == ["dense", "sequential"]
        assert sorted(f["layers/sequential/layers"]) == ["dense", "dense_1"]
        np.testing.assert_array_equal(f["layers/sequential/layers/dense_1/vars/0"][...],
                                      inner.layers[1].kernel.numpy())
        assert f["layers/sequential/vars"].attrs["name"] == "inner"


def test_load_weights_warns_when_the_optimizer_differs(tmp_path):
    model = _dense_model("adam")
    x, _ = _fit(model)
    model.save_weights(tmp_path / "w.weights.h5")
    other = _dense_model("rmsprop")  # one slot per variable, not Adam's two
    with pytest.warns(UserWarning, match="optimizer's variables were not loaded"):
        other.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    assert other.optimizer.iterations == 0


def test_the_files_have_keras_layout(tmp_path):
    """What Keras 3 reads: stored zip entries, class-named groups, optimizer vars."""
    model = _dense_model()
    _fit(model)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        config = json.loads(zf.read("config.json"))
        data = zf.read("model.weights.h5")
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    layers = config["config"]["layers"]
    assert [l["class_name"] for l in layers] == ["InputLayer", "Dense", "Dropout", "Dense"]
    assert layers[0]["config"]["batch_shape"] == [None, 5]
    assert layers[1]["config"]["name"] == "hidden" and layers[1]["config"]["units"] == 4
    assert layers[1]["config"]["dtype"]["class_name"] == "DTypePolicy"
    assert layers[1]["config"]["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert layers[1]["build_config"] == {"input_shape": [None, 5]}
    compile_config = config["compile_config"]
    assert compile_config["optimizer"]["class_name"] == "Adam"
    assert compile_config["loss"] == "sparse_categorical_crossentropy"
    assert compile_config["metrics"] == ["accuracy"]
    with h5py.File(io.BytesIO(data), "r") as f:
        # groups are named by class (dense, dense_1), not by the layers' names
        assert sorted(f["layers"]) == ["dense", "dense_1", "dropout"]
        assert f["layers/dense/vars"].attrs["name"] == "hidden"
        np.testing.assert_array_equal(f["layers/dense/vars/0"][...], model.layers[0].kernel.numpy())
        np.testing.assert_array_equal(f["layers/dense_1/vars/1"][...], model.layers[2].bias.numpy())
        assert len(f["layers/dropout/vars"]) == 0 and len(f["vars"]) == 0
        opt = f["optimizer/vars"]
        assert opt["0"].dtype == np.int64 and opt["0"][()] == model.optimizer.iterations == 8
        assert opt["1"].dtype == np.float32 and opt["1"][()] == np.float32(0.001)
        # then each trainable variable's m and v in turn, as Keras 3's Adam keeps them
        expected = [s for v in model.trainable_variables for s in model.optimizer._slots[v]]
        assert len(opt) == 2 + len(expected) == 10
        for i, slot in enumerate(expected):
            np.testing.assert_array_equal(opt[str(i + 2)][...], slot)


def test_the_legacy_file_has_keras2_layout(tmp_path):
    model = _dense_model("sgd")
    model.optimizer.momentum = 0.5
    _fit(model)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        cfg = json.loads(f.attrs["model_config"])
        assert cfg["class_name"] == "Sequential"
        assert cfg["config"]["layers"][0]["config"]["batch_input_shape"] == [None, 5]
        assert cfg["config"]["layers"][1]["config"]["dtype"] == "float32"
        training = json.loads(f.attrs["training_config"])
        assert training["optimizer_config"]["config"]["momentum"] == 0.5
        g = f["model_weights"]
        assert [n.decode() for n in g.attrs["layer_names"]] == ["hidden", "drop", "out"]
        assert [n.decode() for n in g["hidden"].attrs["weight_names"]] == [
            "hidden/kernel:0", "hidden/bias:0"]
        np.testing.assert_array_equal(g["hidden/hidden/kernel:0"][...],
                                      model.layers[0].kernel.numpy())
        names = [n.decode() for n in f["optimizer_weights"].attrs["weight_names"]]
        assert names[:3] == ["iteration:0", "SGD/m/hidden/kernel:0", "SGD/m/hidden/bias:0"]


# ------------------------------------------------------------ files built as Keras writes them
def _policy(dtype="float32"):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


def _init(cls):
    cfg = {"seed": None, "input_axes": None, "output_axes": None} if cls != "Zeros" else {}
    return {"module": "keras.initializers", "class_name": cls, "config": cfg,
            "registered_name": None}


def _k3_layer(cls, name, **config):
    """A layer as Keras 3.15 serializes it."""
    base = {"name": name, "trainable": True, "dtype": _policy()}
    if cls == "Dense":
        base.update(units=None, activation="linear", use_bias=True,
                    kernel_initializer=_init("GlorotUniform"), bias_initializer=_init("Zeros"),
                    kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                    bias_constraint=None, quantization_config=None)
    base.update(config)
    return {"module": "keras.layers", "class_name": cls, "config": base, "registered_name": None}


def _k3_model(layers, input_shape, compile_config=None):
    inp = {"module": "keras.layers", "class_name": "InputLayer",
           "config": {"batch_shape": [None] + list(input_shape), "dtype": "float32",
                      "sparse": False, "ragged": False, "name": "input_layer",
                      "optional": False}, "registered_name": None}
    out = {"module": "keras", "class_name": "Sequential",
           "config": {"name": "sequential", "trainable": True, "dtype": _policy(),
                      "layers": [inp] + layers, "build_input_shape": [None] + list(input_shape)},
           "registered_name": None, "build_config": {"input_shape": [None] + list(input_shape)}}
    if compile_config is not None:
        out["compile_config"] = compile_config
    return out


def _k3_adam(lr=0.01, **extra):
    config = {"name": "adam", "learning_rate": lr, "weight_decay": None, "clipnorm": None,
              "global_clipnorm": None, "clipvalue": None, "use_ema": False,
              "ema_momentum": 0.99, "ema_overwrite_frequency": None,
              "loss_scale_factor": None, "gradient_accumulation_steps": None, "beta_1": 0.9,
              "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}
    config.update(extra)
    return {"module": "keras.optimizers", "class_name": "Adam", "config": config,
            "registered_name": None}


def _k3_compile(optimizer=None, loss="sparse_categorical_crossentropy", metrics=("accuracy",)):
    return {"optimizer": optimizer or _k3_adam(), "loss": loss, "loss_weights": None,
            "metrics": list(metrics), "weighted_metrics": None, "run_eagerly": False,
            "steps_per_execution": 1, "jit_compile": False}


def _write_keras(path, config, groups, optimizer=None, extra=None):
    """A .keras zip as Keras 3's saving_lib writes it; ``groups``: {path: [arrays]}."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("vars").attrs["name"] = "sequential"
        for group, arrays in groups.items():
            g = f.create_group(group + "/vars")
            for i, a in enumerate(arrays):
                g[str(i)] = a
        if optimizer is not None:
            g = f.create_group("optimizer/vars")
            for i, a in enumerate(optimizer):
                g[str(i)] = a
        if extra is not None:
            extra(f)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1",
                                                 "date_saved": "2026-01-01@00:00:00"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", buf.getvalue())


def _mlp_arrays():
    w1 = RNG.normal(size=(4, 3)).astype(np.float32)
    b1 = RNG.normal(size=3).astype(np.float32)
    w2 = RNG.normal(size=(3, 2)).astype(np.float32)
    b2 = RNG.normal(size=2).astype(np.float32)
    return w1, b1, w2, b2


def _mlp_formula(x, w1, b1, w2, b2):
    h = np.maximum(x @ w1 + b1, 0.0)
    z = h @ w2 + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _mlp_config(compile_config=None):
    return _k3_model([_k3_layer("Dense", "dense", units=3, activation="relu"),
                      _k3_layer("Dropout", "dropout", rate=0.2, seed=None, noise_shape=None),
                      _k3_layer("Dense", "dense_1", units=2, activation="softmax")],
                     (4,), compile_config)


def test_reads_a_keras3_file_built_as_keras_writes_it(tmp_path):
    w1, b1, w2, b2 = arrays = _mlp_arrays()
    # Adam's variables: iterations, learning rate, then m and v of each variable in turn
    slots = [RNG.random(a.shape).astype(np.float32) for a in arrays for _ in range(2)]
    opt = [np.array(6, dtype=np.int64), np.array(0.01, dtype=np.float32)] + slots
    _write_keras(tmp_path / "k.keras", _mlp_config(_k3_compile()),
                 {"layers/dense": [w1, b1], "layers/dropout": [], "layers/dense_1": [w2, b2]},
                 opt)
    model = bprop.models.load_model(tmp_path / "k.keras")
    assert [type(l).__name__ for l in model.layers] == ["Dense", "Dropout", "Dense"]
    x = RNG.normal(size=(9, 4)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), _mlp_formula(x, *arrays),
                               rtol=1e-5, atol=1e-6)
    assert type(model.optimizer) is bprop.optimizers.Adam
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    state = model.optimizer.get_state()
    assert int(state[0]) == 6
    for got, want in zip(state[1:], slots):
        np.testing.assert_array_equal(got, want)
    assert model.metrics_names == ["loss", "accuracy"]


def test_reads_keras_image_layers_and_options(tmp_path):
    kernel = RNG.normal(size=(3, 3, 2, 3)).astype(np.float32)
    bias = RNG.normal(size=3).astype(np.float32)
    dense = RNG.normal(size=(3, 2)).astype(np.float32)
    layers = [
        _k3_layer("ZeroPadding2D", "zero_padding2d", padding=[[1, 0], [0, 1]],
                  data_format="channels_last"),
        _k3_layer("Conv2D", "conv2d", filters=3, kernel_size=[3, 3], strides=[2, 2],
                  padding="same", data_format="channels_last", dilation_rate=[1, 1], groups=1,
                  activation="tanh", use_bias=True, kernel_initializer=_init("HeNormal"),
                  bias_initializer=_init("Zeros"), kernel_regularizer={
                      "module": "keras.regularizers", "class_name": "L2",
                      "config": {"l2": 0.01}, "registered_name": None},
                  bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                  bias_constraint=None),
        _k3_layer("MaxPooling2D", "max_pooling2d", pool_size=[2, 2], padding="valid",
                  strides=[2, 2], data_format="channels_last"),
        _k3_layer("GlobalMaxPooling2D", "global_max_pooling2d", data_format="channels_last",
                  keepdims=False),
        _k3_layer("Dense", "dense", units=2, use_bias=False),
    ]
    sgd = {"module": "keras.optimizers", "class_name": "SGD",
           "config": {"name": "sgd", "learning_rate": 0.05, "weight_decay": None,
                      "clipnorm": 1.0, "global_clipnorm": None, "clipvalue": None,
                      "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                      "momentum": 0.0, "nesterov": False}, "registered_name": None}
    loss = {"module": "keras.losses", "class_name": "CategoricalCrossentropy",
            "config": {"name": "categorical_crossentropy", "reduction": "sum_over_batch_size",
                       "from_logits": True, "label_smoothing": 0.0, "axis": -1},
            "registered_name": None}
    _write_keras(tmp_path / "c.keras", _k3_model(layers, (8, 8, 2),
                                                 _k3_compile(sgd, loss, ())),
                 {"layers/zero_padding2d": [], "layers/conv2d": [kernel, bias],
                  "layers/max_pooling2d": [], "layers/global_max_pooling2d": [],
                  "layers/dense": [dense]},
                 [np.array(0, dtype=np.int64), np.array(0.05, dtype=np.float32)])
    model = bprop.models.load_model(tmp_path / "c.keras")
    conv = model.layers[1]
    assert conv.strides == (2, 2) and conv.padding == "same"
    assert conv.kernel_regularizer.l2 == pytest.approx(0.01)
    assert model.optimizer.clipnorm == 1.0 and model.compiled_loss.from_logits
    # the oracle: the same layers built directly with these weights
    direct = bprop.Sequential([Input((8, 8, 2)), ZeroPadding2D(((1, 0), (0, 1))),
                               Conv2D(3, 3, strides=2, padding="same", activation="tanh"),
                               MaxPooling2D(), GlobalMaxPooling2D(), Dense(2, use_bias=False)])
    direct.set_weights([kernel, bias, dense])
    x = RNG.normal(size=(5, 8, 8, 2)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), direct.predict(x, verbose=0))


def _legacy_file(path, arrays, optimizer_names=None, optimizer_arrays=None, training=True):
    """A Keras 2 HDF5 model file as tf.keras 2.21 writes it."""
    w1, b1, w2, b2 = arrays
    layers = [{"class_name": "InputLayer", "config": {
        "batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
        "name": "input_1"}}]
    for name, units, act in (("dense", 3, "relu"), ("dense_1", 2, "softmax")):
        layers.append({"class_name": "Dense", "config": {
            "name": name, "trainable": True, "dtype": "float32", "units": units,
            "activation": act, "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}})
        if name == "dense":
            layers.append({"class_name": "Dropout", "config": {
                "name": "dropout", "trainable": True, "dtype": "float32", "rate": 0.1,
                "noise_shape": None, "seed": None}})
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "2.21.0"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {
            "name": "sequential", "layers": layers}})
        if training:
            f.attrs["training_config"] = json.dumps({
                "loss": "sparse_categorical_crossentropy",
                "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
                    "name": "accuracy", "dtype": "float32",
                    "fn": "sparse_categorical_accuracy"}}]],
                "weighted_metrics": None, "loss_weights": None,
                "optimizer_config": {"class_name": "Custom>Adam", "config": {
                    "name": "Adam", "weight_decay": None, "clipnorm": None,
                    "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                    "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": False,
                    "is_legacy_optimizer": False, "learning_rate": 0.01, "beta_1": 0.9,
                    "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}})
        g = f.create_group("model_weights")
        g.attrs["backend"] = "tensorflow"
        g.attrs["keras_version"] = "2.21.0"
        g.attrs["layer_names"] = np.array([b"dense", b"dropout", b"dense_1"], dtype=object)
        for name, ws in (("dense", (w1, b1)), ("dropout", ()), ("dense_1", (w2, b2))):
            lg = g.create_group(name)
            names = ["%s/kernel:0" % name, "%s/bias:0" % name][:len(ws)]
            lg.attrs["weight_names"] = (np.array([n.encode() for n in names], dtype=object)
                                        if names else np.array([]))
            for n, w in zip(names, ws):
                lg[n] = w
        g.create_group("top_level_model_weights").attrs["weight_names"] = np.array([])
        if optimizer_names is not None:
            og = f.create_group("optimizer_weights")
            og.attrs["weight_names"] = np.array([n.encode() for n in optimizer_names],
                                                dtype=object)
            for n, a in zip(optimizer_names, optimizer_arrays):
                og[n] = a


@pytest.mark.parametrize("style", ["tf.keras 2.11+", "tf.keras <= 2.10"])
def test_reads_a_keras2_h5_file_built_as_tf_keras_writes_it(tmp_path, style):
    arrays = _mlp_arrays()
    names_of = ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]
    m = [RNG.random(a.shape).astype(np.float32) for a in arrays]
    v = [RNG.random(a.shape).astype(np.float32) for a in arrays]
    if style == "tf.keras 2.11+":  # per variable: m then v
        names = ["iteration:0"] + [n for w in names_of
                                   for n in ("Adam/m/%s:0" % w, "Adam/v/%s:0" % w)]
        values = [np.array(4, dtype=np.int64)] + [a for pair in zip(m, v) for a in pair]
    else:  # OptimizerV2: every m, then every v
        names = (["Adam/iter:0"] + ["Adam/%s/m:0" % w for w in names_of]
                 + ["Adam/%s/v:0" % w for w in names_of])
        values = [np.array(4, dtype=np.int64)] + m + v
    _legacy_file(tmp_path / "k2.h5", arrays, names, values)
    model = bprop.models.load_model(tmp_path / "k2.h5")
    x = RNG.normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), _mlp_formula(x, *arrays),
                               rtol=1e-5, atol=1e-6)
    assert model.metrics_names == ["loss", "accuracy"]
    state = model.optimizer.get_state()
    assert int(state[0]) == 4
    for i, var in enumerate(model.trainable_variables):
        np.testing.assert_array_equal(model.optimizer.get_slot(var, "m"), m[i])
        np.testing.assert_array_equal(model.optimizer.get_slot(var, "v"), v[i])


def test_reads_keras2_weights_only_files(tmp_path):
    arrays = _mlp_arrays()
    _legacy_file(tmp_path / "full.h5", arrays)
    with h5py.File(tmp_path / "full.h5", "r") as src, h5py.File(tmp_path / "w.h5", "w") as dst:
        for key in src["model_weights"]:
            src.copy(src["model_weights"][key], dst, key)
        for key, value in src["model_weights"].attrs.items():
            dst.attrs[key] = value
    model = bprop.Sequential([Input((4,)), Dense(3, activation="relu"), Dropout(0.1),
                              Dense(2, activation="softmax")])
    model.load_weights(tmp_path / "w.h5")
    for got, want in zip(model.get_weights(), arrays):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="holds only weights"):
        bprop.models.load_model(tmp_path / "w.h5")
    model.load_weights(tmp_path / "full.h5")  # a whole model's file gives its weights too


# ------------------------------------------------------------------ what bprop refuses
def _config_with(edit):
    config = _mlp_config(_k3_compile())
    edit(config)
    return config


def _mlp_groups():
    w1, b1, w2, b2 = _mlp_arrays()
    return {"layers/dense": [w1, b1], "layers/dropout": [], "layers/dense_1": [w2, b2]}


def _layer(config, i):
    return config["config"]["layers"][i]["config"]


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["config"]["layers"].insert(2, _k3_layer("BatchNormalization", "bn")),
     "Keras layer BatchNormalization .'bn'. is not one bprop has"),
    (lambda c: _layer(c, 1).update(kernel_constraint={"class_name": "MaxNorm", "config": {}}),
     r"layer 'dense' \(Dense\): the Keras option kernel_constraint="),
    (lambda c: _layer(c, 1).update(activation="elu"), "activation 'elu' is not one bprop has"),
    (lambda c: _layer(c, 1).update(activation="gelu"), "exact .erf. form"),
    (lambda c: _layer(c, 1).update(kernel_initializer=_init("Orthogonal")),
     "initializer Orthogonal is not one bprop has"),
    (lambda c: _layer(c, 1).update(dtype=_policy("mixed_float16")), "dtype 'mixed_float16'"),
    (lambda c: _layer(c, 1).update(lora_rank=4), "lora_rank=4"),
    (lambda c: c.update(class_name="Functional"), "this is a Functional model"),
    (lambda c: c["compile_config"].update(optimizer={"class_name": "Nadam", "config": {}}),
     "optimizer Nadam is not one bprop has"),
    (lambda c: c["compile_config"]["optimizer"]["config"].update(amsgrad=True), "amsgrad=True"),
    (lambda c: c["compile_config"]["optimizer"]["config"].update(use_ema=True), "use_ema=True"),
    (lambda c: c["compile_config"].update(loss={
        "class_name": "SparseCategoricalCrossentropy",
        "config": {"from_logits": False, "ignore_class": 0}}), "ignore_class=0"),
    (lambda c: c["compile_config"].update(loss={"class_name": "Huber", "config": {}}),
     "loss Huber is not one bprop has"),
    (lambda c: c["compile_config"].update(loss_weights=[1.0]), "loss_weights"),
])
def test_unknown_layers_and_options_are_named(tmp_path, edit, message):
    path = tmp_path / "x.keras"
    _write_keras(path, _config_with(edit), _mlp_groups())
    with pytest.raises(ValueError, match=message) as info:
        bprop.models.load_model(path)
    assert str(path) in str(info.value)


def test_bprop_refuses_to_write_what_keras_cannot_hold(tmp_path):
    model = bprop.Sequential([Input((3,)), Dense(2, activation="gelu")])
    with pytest.raises(ValueError, match="gelu"):
        model.save(tmp_path / "g.keras")

    class Scale(bprop.layers.Layer):
        def call(self, inputs, training=None):
            return inputs * 2.0

    model = bprop.Sequential([Input((3,)), Scale()])
    with pytest.raises(ValueError, match="Keras has no such layer"):
        model.save(tmp_path / "s.h5")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ damaged and forged files
def _good_keras_file(path):
    _write_keras(path, _mlp_config(_k3_compile()), _mlp_groups(),
                 [np.array(0, dtype=np.int64), np.array(0.01, dtype=np.float32)])


def _replace_entry(path, name, data):
    with zipfile.ZipFile(path) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in entries:
            if n == name and data is None:
                continue
            zf.writestr(n, data if n == name else d)


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(p.read_bytes()[:300]), "not a readable Keras .keras file"),
    (lambda p: p.write_bytes(b"not a zip at all"), "not a readable Keras .keras file"),
    (lambda p: _replace_entry(p, "model.weights.h5", None), "no model.weights.h5"),
    (lambda p: _replace_entry(p, "config.json", b"{not json"), "JSONDecodeError"),
    (lambda p: _replace_entry(p, "config.json", b"[1, 2]"), "expected an object"),
    (lambda p: _replace_entry(p, "config.json", b"[" * 100000 + b"]" * 100000),
     "RecursionError"),
    (lambda p: _replace_entry(p, "model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 500),
     "its model.weights.h5"),
])
def test_damaged_keras_files_raise_valueerror_naming_the_file(tmp_path, damage, message):
    path = tmp_path / "m.keras"
    _good_keras_file(path)
    damage(path)
    with pytest.raises(ValueError, match=message) as info:
        bprop.models.load_model(path)
    assert repr(str(path)) in str(info.value)


def test_flipped_bytes_in_a_keras_file_never_crash(tmp_path):
    path = tmp_path / "m.keras"
    _good_keras_file(path)
    good = path.read_bytes()
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    expected = bprop.models.load_model(path).predict(x, verbose=0)
    for offset in range(0, len(good), max(1, len(good) // 97)):
        data = bytearray(good)
        data[offset] ^= 0xFF
        path.write_bytes(bytes(data))
        try:
            model = bprop.models.load_model(path)
        except ValueError as exc:
            assert repr(str(path)) in str(exc)
        else:  # a flip in an unused byte (padding): then it loads what was saved
            np.testing.assert_array_equal(model.predict(x, verbose=0), expected)


def test_forged_shapes_fail_before_allocating(tmp_path):
    path = tmp_path / "f.keras"
    # a dataset declaring 400 MB of data that the small file does not hold
    _write_keras(path, _mlp_config(), {}, extra=lambda f: (
        f.create_group("layers/dense/vars").create_dataset("0", shape=(10000, 10000),
                                                           dtype="f4"),
        f["layers/dense/vars"].create_dataset("1", data=np.zeros(3, np.float32))))
    with pytest.raises(ValueError, match="more than the file holds"):
        bprop.models.load_model(path)
    # a config asking for a huge layer whose stored kernel is small: the shapes disagree
    config = _mlp_config()
    _layer(config, 1)["units"] = 10 ** 9
    _write_keras(path, config, _mlp_groups())
    with pytest.raises(ValueError, match=r"asks for shape \(4, 1000000000\)"):
        bprop.models.load_model(path)
    # too many or too few arrays, and arrays that are not numbered 0, 1, ...
    groups = _mlp_groups()
    groups["layers/dense_1"].append(np.zeros(2, np.float32))
    _write_keras(path, _mlp_config(), groups)
    with pytest.raises(ValueError, match="holds 5 weights but the architecture has 4"):
        bprop.models.load_model(path)
    _write_keras(path, _mlp_config(), {}, extra=lambda f: f.create_group(
        "layers/dense/vars").create_dataset("kernel", data=np.zeros((4, 3), np.float32)))
    with pytest.raises(ValueError, match="expected arrays named 0, 1"):
        bprop.models.load_model(path)


def test_arrays_stored_outside_the_file_are_refused(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(12, dtype=np.float32).tobytes())
    path = tmp_path / "e.weights.h5"
    with h5py.File(path, "w") as f:
        f.create_group("vars")
        g = f.create_group("layers/dense/vars")
        g.create_dataset("0", shape=(4, 3), dtype="f4", external=[(str(secret), 0, 48)])
        g.create_dataset("1", data=np.zeros(3, np.float32))
    model = bprop.Sequential([Input((4,)), Dense(3)])
    with pytest.raises(ValueError, match="outside the file"):
        model.load_weights(path)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = np.zeros((4, 3), np.float32)
    with h5py.File(path, "w") as f:  # a link into another file
        f.create_group("vars")
        f["layers/dense/vars"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/")
    with pytest.raises(ValueError, match=r"'/layers/dense/vars' is a link \(ExternalLink\)"):
        model.load_weights(path)


def test_damaged_h5_files(tmp_path):
    arrays = _mlp_arrays()
    path = tmp_path / "k2.h5"
    _legacy_file(path, arrays)
    good = path.read_bytes()
    path.write_bytes(good[:len(good) // 2])
    with pytest.raises(ValueError, match="not a readable Keras HDF5 model file"):
        bprop.models.load_model(path)
    path.write_bytes(b"plain text")
    with pytest.raises(ValueError, match="not a readable Keras HDF5 model file"):
        bprop.models.load_model(path)
    path.write_bytes(good)
    with h5py.File(path, "a") as f:  # a weight name pointing at nothing
        f["model_weights/dense"].attrs["weight_names"] = np.array([b"dense/kernel:0",
                                                                   b"dense/nothing:0"])
    with pytest.raises(ValueError, match="no array '/model_weights/dense/dense/nothing:0'"):
        bprop.models.load_model(path)
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {
            "layers": [{"class_name": "Dense", "config": {"units": 2,
                                                          "batch_input_shape": [None, 3]}}]}})
        f.create_group("model_weights").attrs["layer_names"] = np.array([b"dense"])
        f["model_weights"].create_group("dense").attrs["weight_names"] = np.array(
            [b"k:0", b"b:0"])
        f["model_weights/dense"]["k:0"] = np.zeros((3, 2), dtype=np.int32)  # not floats
        f["model_weights/dense"]["b:0"] = np.zeros(2, dtype=np.float32)
    with pytest.raises(ValueError, match="is stored as int32"):
        bprop.models.load_model(path)
    with pytest.raises(FileNotFoundError):
        bprop.models.load_model(tmp_path / "missing.h5")


# ------------------------------------------------------------------ without h5py
def test_without_h5py_keras_files_ask_for_the_extra(tmp_path, monkeypatch):
    model = _dense_model()
    monkeypatch.setitem(sys.modules, "h5py", None)
    for call in (lambda: model.save(tmp_path / "m.keras"), lambda: model.save(tmp_path / "m.h5"),
                 lambda: model.save_weights(tmp_path / "m.weights.h5"),
                 lambda: bprop.models.load_model(tmp_path / "m.keras")):
        with pytest.raises(ImportError, match=r'pip install "bprop\[keras\]"'):
            call()
    model.save(tmp_path / "m.bprop")  # bprop's own format needs no h5py
    assert bprop.models.load_model(tmp_path / "m.bprop").count_params() == model.count_params()


# ------------------------------------------------------------------ against Keras itself
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _keras_model(keras):
    L = keras.layers
    model = keras.Sequential([
        keras.Input((6, 6, 2)), L.ZeroPadding2D(1), L.Conv2D(3, 3, activation="relu"),
        L.AveragePooling2D(2), L.Flatten(), L.Dropout(0.1), L.Dense(4, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = RNG.random((16, 6, 6, 2)).astype(np.float32)
    model.fit(x, RNG.integers(0, 4, 16), batch_size=8, epochs=1, verbose=0)
    return model, x


def _keras_optimizer_arrays(model):
    return [np.asarray(v) for v in model.optimizer.variables]


# Keras' own warnings (its legacy-format notice, NumPy 2 deprecations in its backend,
# skipping an unbuilt optimizer's variables) are not bprop's.
_KERAS_WARNINGS = [pytest.mark.filterwarnings("ignore::UserWarning"),
                   pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@_KERAS_WARNINGS[0]
@_KERAS_WARNINGS[1]
def test_keras_writes_bprop_reads(tmp_path, keras, suffix):
    kmodel, x = _keras_model(keras)
    kmodel.save(tmp_path / ("k" + suffix))
    model = bprop.models.load_model(tmp_path / ("k" + suffix))
    np.testing.assert_allclose(model.predict(x, verbose=0), kmodel.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    kvars = _keras_optimizer_arrays(kmodel)  # iterations, learning rate, m0, v0, m1, ...
    state = model.optimizer.get_state()
    assert int(state[0]) == int(kvars[0]) == 2
    for got, want in zip(state[1:], kvars[2:]):
        np.testing.assert_array_equal(got, want)
    kmodel.save_weights(tmp_path / "k.weights.h5")
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    model.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(model.predict(x, verbose=0), kmodel.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@_KERAS_WARNINGS[0]
@_KERAS_WARNINGS[1]
def test_bprop_writes_keras_reads(tmp_path, keras, suffix):
    model = _conv_model()
    x, _ = _fit(model, epochs=1)
    model.save(tmp_path / ("b" + suffix))
    kmodel = keras.saving.load_model(tmp_path / ("b" + suffix))
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert type(kmodel.optimizer).__name__ == "RMSprop"
    if suffix == ".keras":
        kvars = _keras_optimizer_arrays(kmodel)
        state = model.optimizer.get_state()
        assert int(kvars[0]) == int(state[0])
        for got, want in zip(kvars[2:], state[1:]):
            np.testing.assert_array_equal(got, want)
    model.save_weights(tmp_path / "b.weights.h5")
    kmodel.load_weights(tmp_path / "b.weights.h5")
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


@_KERAS_WARNINGS[0]
@_KERAS_WARNINGS[1]
def test_tf_keras_2_reads_and_writes_legacy_h5(tmp_path):
    """Keras 2 (the tf-keras package) is the legacy .h5 format's own reader and writer."""
    tf_keras = pytest.importorskip("tf_keras")
    model = _dense_model()
    x, y = _fit(model)
    model.save(tmp_path / "b.h5")
    kmodel = tf_keras.models.load_model(tmp_path / "b.h5")
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    # tf.keras' Adam: iteration, then m and v of each variable in turn
    for got, want in zip(kmodel.optimizer.variables, model.optimizer.get_state()):
        np.testing.assert_array_equal(np.asarray(got), want)
    kmodel.fit(x, y, batch_size=6, epochs=1, verbose=0)
    kmodel.save(tmp_path / "k.h5")
    loaded = bprop.models.load_model(tmp_path / "k.h5")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), kmodel.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    state = loaded.optimizer.get_state()
    kvars = [np.asarray(v) for v in kmodel.optimizer.variables]
    assert len(state) == len(kvars) and int(state[0]) == int(kvars[0]) == 12
    for got, want in zip(state[1:], kvars[1:]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_functional_model_in_a_keras_file_is_refused_by_name(tmp_path, suffix):
    inputs = bprop.keras.Input(shape=(4,))
    outputs = Dense(3, activation="softmax")(Dense(8, activation="relu")(inputs))
    model = bprop.keras.Model(inputs, outputs, name="two_layers")
    path = str(tmp_path / ("m" + suffix))
    with pytest.raises(ValueError, match=r"model 'two_layers' \(Functional\): bprop writes Keras files "
                                         r"\(\.keras, \.h5\) of Sequential models only"):
        model.save(path)
    assert not os.path.exists(path)
    # bprop's own file and the weights file keep it
    model.save(str(tmp_path / "m.npz"))
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    restored = bprop.keras.models.load_model(str(tmp_path / "m.npz"))
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
