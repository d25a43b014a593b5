"""The image layers (Conv2D/1D, pooling, zero padding, Reshape) in models: Keras'
shapes, parameter counts and names; the core plan equal to the op-by-op plan
(bit for bit) and to the NumPy plan; a whole-convnet gradient check in
float64; save/load; configs; errors."""
import numpy as np
import pytest

import bprop
from bprop import layers


def keras_convnet(dtype="float32", backend="core", input_shape=(28, 28, 1), seed=0):
    """Keras' "simple MNIST convnet", layer for layer."""
    bprop.utils.set_random_seed(seed)
    return bprop.Sequential([
        layers.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ], dtype=dtype, backend=backend)


def test_summary_shapes_params_and_names_are_kerass(capsys):
    bprop.layers.base.clear_name_counters()
    model = keras_convnet()
    model.summary()
    text = capsys.readouterr().out
    for line in ("conv2d (Conv2D)", "(None, 26, 26, 32)", "320",
                 "max_pooling2d (MaxPooling2D)", "(None, 13, 13, 32)",
                 "conv2d_1 (Conv2D)", "(None, 11, 11, 64)", "18,496",
                 "(None, 5, 5, 64)", "(None, 1600)", "16,010", "Total params: 34,826"):
        assert line in text, line
    assert [w.shape for w in model.weights] == [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,),
                                                (1600, 10), (10,)]


@pytest.mark.parametrize("layer,in_shape,out_shape,params", [
    (lambda: layers.Conv2D(4, 3, strides=2, padding="same"), (7, 7, 2), (4, 4, 4), 76),
    (lambda: layers.Conv2D(3, (2, 3), dilation_rate=2, use_bias=False), (9, 9, 1), (7, 5, 3), 18),
    (lambda: layers.Conv1D(5, 3, padding="same"), (10, 2), (10, 5), 35),
    (lambda: layers.Conv1D(5, 4, strides=2), (11, 2), (4, 5), 45),
    (lambda: layers.MaxPooling2D(3, strides=2, padding="same"), (7, 8, 3), (4, 4, 3), 0),
    (lambda: layers.AveragePooling2D(), (7, 8, 3), (3, 4, 3), 0),
    (lambda: layers.MaxPooling1D(), (9, 3), (4, 3), 0),
    (lambda: layers.AveragePooling1D(3, strides=1, padding="same"), (9, 3), (9, 3), 0),
    (lambda: layers.GlobalAveragePooling2D(), (5, 6, 3), (3,), 0),
    (lambda: layers.GlobalMaxPooling2D(keepdims=True), (5, 6, 3), (1, 1, 3), 0),
    (lambda: layers.GlobalAveragePooling1D(), (5, 3), (3,), 0),
    (lambda: layers.GlobalMaxPooling1D(), (5, 3), (3,), 0),
    (lambda: layers.ZeroPadding2D(((1, 2), (0, 3))), (4, 4, 2), (7, 7, 2), 0),
    (lambda: layers.ZeroPadding2D(2), (4, 4, 2), (8, 8, 2), 0),
    (lambda: layers.ZeroPadding1D((1, 2)), (4, 2), (7, 2), 0),
    (lambda: layers.Reshape((-1, 4)), (3, 8), (6, 4), 0),
])
def test_output_shapes_and_parameter_counts(layer, in_shape, out_shape, params):
    model = bprop.Sequential([layers.Input(shape=in_shape), layer()])
    assert model.output_shape == (None,) + out_shape
    assert model.count_params() == params
    x = np.random.default_rng(0).standard_normal((2,) + in_shape).astype(np.float32)
    assert model.predict(x, verbose=0).shape == (2,) + out_shape


# Models covering every image node; each ends in a softmax over 3 classes.
def _model_zoo():
    return {
        "convnet": lambda: [layers.Input(shape=(9, 9, 2)),
                            layers.Conv2D(4, 3, activation="relu", padding="same"),
                            layers.MaxPooling2D(2),
                            layers.Conv2D(5, 2, strides=2, activation="tanh"),
                            layers.Flatten(), layers.Dropout(0.3),
                            layers.Dense(3, activation="softmax")],
        "avg-gap-pad": lambda: [layers.Input(shape=(8, 7, 3)), layers.ZeroPadding2D((1, 2)),
                                layers.Conv2D(4, (3, 2), dilation_rate=(1, 2),
                                              activation="gelu"),
                                layers.AveragePooling2D(3, strides=2, padding="same"),
                                layers.Conv2D(6, 1, activation="sigmoid"),
                                layers.GlobalAveragePooling2D(),
                                layers.Dense(3, activation="softmax")],
        "conv1d": lambda: [layers.Input(shape=(12, 2)), layers.Conv1D(4, 3, activation="relu"),
                           layers.MaxPooling1D(2), layers.ZeroPadding1D(1),
                           layers.Conv1D(3, 2, padding="same", activation="leaky_relu"),
                           layers.GlobalMaxPooling1D(), layers.Dense(3, activation="softmax")],
        "gmp-reshape": lambda: [layers.Input(shape=(24,)), layers.Reshape((4, 3, 2)),
                                layers.Conv2D(3, 2, activation="linear"),
                                layers.GlobalMaxPooling2D(),
                                layers.Dense(3, activation="softmax")],
    }


def _train(name, dtype, executor, backend="core", epochs=2):
    bprop.utils.set_random_seed(3)
    model = bprop.Sequential(_model_zoo()[name](), dtype=dtype, backend=backend)
    model._plan_executor = executor
    model.compile(optimizer=bprop.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(4)
    x = rng.standard_normal((23,) + model.input_shape[1:]).astype(dtype)
    y = rng.integers(0, 3, 23)
    hist = model.fit(x, y, batch_size=8, epochs=epochs, verbose=0).history
    return model, hist


@pytest.mark.parametrize("name", sorted(_model_zoo()))
def test_core_plan_equals_op_by_op_plan_and_numpy_plan(name):
    core, h_core = _train(name, "float32", "auto")
    assert core._train_plan().in_core
    ops_model, h_ops = _train(name, "float32", "ops")
    assert not ops_model._train_plan().in_core
    for a, b in zip(core.get_weights(), ops_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert h_core["loss"] == h_ops["loss"]
    core64, h64 = _train(name, "float64", "auto")
    ref64, r64 = _train(name, "float64", "ops", backend="numpy")
    for a, b in zip(core64.get_weights(), ref64.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h64["loss"], r64["loss"], rtol=1e-10)


@pytest.mark.parametrize("backend", ["core", "numpy"])
def test_whole_convnet_gradients_equal_central_differences_float64(backend):
    """Keras' convnet on 12x12 images (conv 10x10, pool 5x5, conv 3x3, pool 1x1): every
    bias entry and 40 random entries of each kernel against central differences."""
    model = keras_convnet("float64", backend, input_shape=(12, 12, 1), seed=5)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 12, 12, 1))
    y = rng.integers(0, 10, 3)
    value, grads = model.compute_gradients(x, y)

    def loss():
        p = model.predict(x, verbose=0)
        return -np.mean(np.log(p[np.arange(3), y]))

    assert value == pytest.approx(loss(), rel=1e-12)
    eps = 1e-6
    for var, g in zip(model.trainable_variables, grads):
        value_of = var.numpy()
        flat = value_of.reshape(-1)
        picks = np.arange(flat.size) if flat.size <= 64 else rng.choice(flat.size, 40, False)
        for i in picks:
            old = flat[i]
            flat[i] = old + eps
            var.assign(value_of)
            up = loss()
            flat[i] = old - eps
            var.assign(value_of)
            down = loss()
            flat[i] = old
            var.assign(value_of)
            numeric = (up - down) / (2 * eps)
            assert g.reshape(-1)[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8), (var.name, i)


def test_a_convnet_learns_a_separable_image_task():
    """Bright top half vs bright bottom half: a convnet separates them quickly."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 0.2, (200, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 2, 200)
    for i in range(200):
        rows = slice(0, 4) if y[i] else slice(4, 8)
        x[i, rows] += 0.8
    bprop.utils.set_random_seed(1)
    model = bprop.Sequential([layers.Input(shape=(8, 8, 1)),
                              layers.Conv2D(4, 3, activation="relu", padding="same"),
                              layers.MaxPooling2D(2), layers.Flatten(),
                              layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=15, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] == 1.0


def test_save_and_load_keep_the_convnet(tmp_path):
    model = keras_convnet(input_shape=(12, 12, 1))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(8)
    x = rng.random((10, 12, 12, 1)).astype(np.float32)
    model.fit(x, rng.integers(0, 10, 10), epochs=1, verbose=0)
    path = str(tmp_path / "convnet.bprop")
    model.save(path)
    loaded = bprop.models.load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("make", [
    lambda: layers.Conv2D(8, (3, 2), strides=(2, 1), padding="same", dilation_rate=1,
                          activation="tanh", use_bias=False, kernel_initializer="he_normal",
                          kernel_regularizer=bprop.regularizers.l2(0.01)),
    lambda: layers.Conv1D(3, 5, strides=2, activation="relu"),
    lambda: layers.MaxPooling2D((3, 2), strides=1, padding="same"),
    lambda: layers.AveragePooling1D(4),
    lambda: layers.GlobalAveragePooling2D(keepdims=True),
    lambda: layers.GlobalMaxPooling1D(),
    lambda: layers.ZeroPadding2D(((1, 0), (2, 3))),
    lambda: layers.ZeroPadding1D(3),
    lambda: layers.Reshape((2, -1)),
])
def test_config_round_trips(make):
    layer = make()
    clone = bprop.layers.deserialize(bprop.layers.serialize(layer))
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("call,error,message", [
    (lambda: layers.Conv2D(0, 3), ValueError, r"filters: expected a positive integer, got 0"),
    (lambda: layers.Conv2D(4, (3, 3, 3)), ValueError,
     r"kernel_size: expected an int or a tuple of 2 ints >= 1, got \(3, 3, 3\)"),
    (lambda: layers.Conv2D(4, 3, padding="full"), ValueError,
     r"padding: expected 'valid' or 'same', got 'full'"),
    (lambda: layers.Conv1D(4, 3, padding="causal"), ValueError,
     r"padding: Conv1D does not support 'causal' padding"),
    (lambda: layers.Conv2D(4, 3, groups=2), ValueError, r"groups: bprop supports only groups=1"),
    (lambda: layers.Conv2D(4, 3, data_format="channels_first"), ValueError,
     r"data_format: bprop supports only 'channels_last'"),
    (lambda: bprop.Sequential([layers.Input(shape=(5, 5)), layers.Conv2D(2, 3)]).predict(
        np.zeros((1, 5, 5), np.float32)), ValueError,
     r"x: layer 'conv2d.*' \(Conv2D\) expects samples \(height, width, channels\), got shape "
     r"\(None, 5, 5\)"),
    (lambda: bprop.Sequential([layers.Input(shape=(2, 2, 1)), layers.Conv2D(2, 3)]).predict(
        np.zeros((1, 2, 2, 1), np.float32)), ValueError,
     r"x: layer 'conv2d.*': the window \(3, 3\) \(dilation \(1, 1\)\) does not fit in the "
     r"input \(2, 2\) with padding='valid'"),
    (lambda: layers.Reshape((5, -1)).compute_output_shape((3, 4)), ValueError,
     r"target_shape: layer 'reshape.*' cannot reshape samples of shape \(3, 4\) \(12 values\) "
     r"to \(5, -1\)"),
    (lambda: layers.ZeroPadding2D(-1), ValueError, r"padding: expected ints >= 0, got -1"),
])
def test_bad_arguments_raise_naming_them(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_matches_pytorch_conv_and_pool_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 9, 8, 3))
    layer_c = layers.Conv2D(4, (3, 2), strides=(2, 1), dilation_rate=(1, 2), dtype="float64")
    layer_p = layers.MaxPooling2D(2, dtype="float64")
    y = layer_p(layer_c(x))
    kernel = np.transpose(layer_c.kernel.numpy(), (3, 2, 0, 1))  # HWIO -> OIHW
    t = torch.nn.functional.conv2d(torch.from_numpy(np.transpose(x, (0, 3, 1, 2))),
                                   torch.from_numpy(kernel), torch.from_numpy(layer_c.bias.numpy()),
                                   stride=(2, 1), dilation=(1, 2))
    t = torch.nn.functional.max_pool2d(t, 2)
    np.testing.assert_allclose(y, np.transpose(t.numpy(), (0, 2, 3, 1)), rtol=1e-12, atol=1e-12)
