"""Bad input to models: each raises a clear exception naming the argument and the values."""
from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop.layers import Dense


@pytest.fixture
def model():
    bprop.utils.set_random_seed(0)
    m = bprop.Sequential([Dense(8, activation="relu", input_shape=(4,)),
                          Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 4)).astype(np.float32), rng.integers(0, 3, size=20)


def test_mismatched_x_y_lengths(model, data):
    x, y = data
    with pytest.raises(ValueError, match="x and y: expected the same number of samples, "
                                         "got x with 20 and y with 19"):
        model.fit(x, y[:19], verbose=0)
    with pytest.raises(ValueError, match="x with 20 and y with 19"):
        model.evaluate(x, y[:19], verbose=0)


@pytest.mark.parametrize("bad", [3, -1, 7])
def test_labels_out_of_range(model, data, bad):
    x, y = data
    y = y.copy()
    y[5] = bad
    with pytest.raises(ValueError, match=r"y: expected class labels in \[0, 3\) for a 3-unit "
                                         r"output, got values in \[%d, %d\]"
                                         % (min(bad, 0), max(bad, 2))):
        model.fit(x, y, verbose=0)


def test_non_integer_labels_and_wrong_target_shapes(model, data):
    x, y = data
    with pytest.raises(ValueError, match="y: expected integer class labels, got non-integer"):
        model.fit(x, y + 0.5, verbose=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="one-hot targets of shape .None, 3.*"
                                         "use sparse_categorical_crossentropy"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"y: expected shape \(None, 3\) to match the model "
                                         r"output, got \(20, 2\)"):
        model.fit(x, np.zeros((20, 2)), verbose=0)
    with pytest.raises(ValueError, match="y: contains NaN or infinity"):
        model.fit(x, np.full((20, 3), np.nan), verbose=0)


def test_wrong_input_width(model, data):
    x, y = data
    with pytest.raises(ValueError, match=r"x: model 'sequential(_\d+)?' expects input of shape "
                                         r"\(None, 4\), got an array of shape \(20, 5\)"):
        model.fit(np.zeros((20, 5), np.float32), y, verbose=0)
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 4\)"):
        model.predict(np.zeros((2, 3)), verbose=0)
    layer = Dense(2)
    layer(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"x: layer 'dense(_\d+)?' expects input shape "
                                         r"\(None, ..., 3\), got \(1, 4\)"):
        layer(np.zeros((1, 4), np.float32))


def test_nan_in_x(model, data):
    x, y = data
    x = x.copy()
    x[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"x: contains NaN or infinity \(first at sample 7\)"):
        model.fit(x, y, verbose=0)
    x[7, 2] = np.inf
    with pytest.raises(ValueError, match="first at sample 7"):
        model.predict(x, verbose=0)
    with pytest.raises(ValueError, match=r"x_val: contains NaN"):
        model.fit(data[0], y, validation_data=(x, y), verbose=0)


def test_unknown_names():
    with pytest.raises(ValueError, match="activation: expected one of .*relu.*got 'relux'"):
        Dense(3, activation="relux")
    with pytest.raises(ValueError, match="callable .* is not a known activation"):
        Dense(3, activation=lambda x: x)
    m = bprop.Sequential([Dense(3, input_shape=(2,))])
    with pytest.raises(ValueError, match="loss: unknown name 'cross_entropy'; known: "):
        m.compile(optimizer="adam", loss="cross_entropy")
    with pytest.raises(ValueError, match="optimizer: unknown name 'adamx'"):
        m.compile(optimizer="adamx", loss="mse")
    with pytest.raises(ValueError):
        m.compile(optimizer="adam", loss="mse", metrics=["accuracyy"])
    with pytest.raises(ValueError, match="initializer: unknown name 'glorot'"):
        Dense(3, kernel_initializer="glorot")
    with pytest.raises(ValueError, match="backend: expected 'core' or 'numpy'"):
        bprop.Sequential(backend="cuda")
    with pytest.raises(TypeError, match="compile: unsupported keyword argument loss_weights"):
        m.compile(optimizer="adam", loss="mse", loss_weights=[1.0])


def test_fit_argument_checks(model, data):
    x, y = data
    with pytest.raises(ValueError, match="batch_size: expected a positive integer, got 0"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="epochs: expected a non-negative integer, got -1"):
        model.fit(x, y, epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="verbose: expected 'auto', 0, 1 or 2, got 3"):
        model.fit(x, y, verbose=3)
    with pytest.raises(ValueError, match=r"validation_split: expected a number in \[0, 1\), "
                                         r"got 1.5"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="validation_data: expected a tuple"):
        model.fit(x, y, validation_data=x, verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight: expected shape \(20,\), got \(3,\)"):
        model.fit(x, y, sample_weight=[1, 2, 3], verbose=0)
    with pytest.raises(TypeError, match="class_weight: expected a dict"):
        model.fit(x, y, class_weight=[1, 2], verbose=0)
    with pytest.raises(TypeError, match="x: expected numbers, got dtype <U"):
        model.fit(np.array([["a"] * 4] * 20), y, verbose=0)
    with pytest.raises(ValueError, match=r"x: expected a batch of samples"):
        model.fit(np.zeros(4), y[:1], verbose=0)
    with pytest.raises(TypeError, match="callbacks: expected bprop.callbacks.Callback"):
        model.fit(x, y, callbacks=[object()], verbose=0)


def test_fit_before_compile_and_structure_errors(data):
    x, y = data
    m = bprop.Sequential([Dense(3, input_shape=(4,))])
    with pytest.raises(RuntimeError, match=r"call compile\(optimizer=..., loss=...\) before fit"):
        m.fit(x, y)
    with pytest.raises(TypeError, match="layer: expected a bprop.layers.Layer, got 'dense'"):
        m.add("dense")
    with pytest.raises(ValueError, match="layer: .* is already in this model"):
        m.add(m.layers[0])
    with pytest.raises(ValueError, match="has not been built yet"):
        bprop.Sequential([Dense(3)]).summary()
    with pytest.raises(ValueError, match=r"weights: model .* expects a list of 2 arrays, got 1"):
        m.set_weights([np.zeros((4, 3))])
    with pytest.raises(ValueError, match=r"weights\[1\]: expected shape \(3,\)"):
        m.set_weights([np.zeros((4, 3)), np.zeros(4)])
    with pytest.raises(ValueError, match="units: expected a positive integer, got 0"):
        Dense(0)
    with pytest.raises(ValueError, match=r"rate: expected a number in \[0, 1\), got 1"):
        bprop.layers.Dropout(1)
    with pytest.raises(TypeError, match="Dense: unrecognized keyword arguments \\['unit'\\]"):
        Dense(3, unit=4)


def test_evaluate_on_no_rows_is_a_value_error(model, data):
    x, y = data
    with pytest.raises(ValueError, match="x: expected at least one sample to evaluate, got 0"):
        model.evaluate(x[:0], y[:0], verbose=0)


@pytest.mark.parametrize("batch_size", [2 ** 63, 2 ** 63 - 1, 10 ** 30])
def test_a_batch_size_beyond_the_data_is_one_batch(model, data, batch_size):
    """Keras clamps the batch to the data; 2**63 used to raise a pybind RuntimeError."""
    x, y = data
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    assert model.optimizer.iterations == 1
    assert model.evaluate(x, y, batch_size=batch_size, verbose=0)[0] > 0
    assert model.predict(x, batch_size=batch_size, verbose=0).shape == (len(x), 3)
