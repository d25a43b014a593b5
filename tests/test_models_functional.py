"""keras.Model(inputs, outputs): graphs of layers on keras.Input tensors.

A chain trains exactly as the Sequential of the same layers (the same bits);
a graph with several inputs, merges or shared layers trains through the
tape and matches a hand-written NumPy forward pass and central differences;
predict, summary, save/load and errors."""
import numpy as np
import pytest

import bprop
from bprop import keras
from bprop.keras import layers
from bprop.layers.keras_tensor import KerasTensor
from bprop.testing import variable_gradients


def _data(n=40, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, 3, n)


def test_input_is_symbolic_and_layers_return_symbolic_tensors():
    inputs = keras.Input(shape=(784,), name="pixels")
    assert isinstance(inputs, KerasTensor) and inputs.shape == (None, 784)
    x = layers.Dense(64, activation="relu")(inputs)
    assert isinstance(x, KerasTensor) and x.shape == (None, 64) and x.dtype == np.float32
    with pytest.raises(TypeError, match="a KerasTensor .* is symbolic"):
        np.asarray(x)


def test_a_chain_trains_bit_for_bit_as_the_sequential_of_its_layers():
    x, y = _data()

    def seq():
        bprop.utils.set_random_seed(1)
        return keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                                 layers.Dropout(0.2, seed=3), layers.Dense(3, activation="softmax")])

    def fun():
        bprop.utils.set_random_seed(1)
        inputs = keras.Input(shape=(6,))
        h = layers.Dense(8, activation="relu")(inputs)
        h = layers.Dropout(0.2, seed=3)(h)
        return keras.Model(inputs, layers.Dense(3, activation="softmax")(h))

    models = []
    for make in (seq, fun):
        model = make()
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        hist = model.fit(x, y, batch_size=8, epochs=3, verbose=0).history
        models.append((model, hist))
    (s, hs), (f, hf) = models
    assert type(f).__name__ == "Functional" and f._train_plan().in_core
    assert [type(node).__name__ for node in f._train_plan().nodes] == \
        ["DenseNode", "DropoutNode", "DenseNode"]
    assert hs == hf
    for a, b in zip(s.get_weights(), f.get_weights()):
        np.testing.assert_array_equal(a, b)


def _two_input_model():
    bprop.layers.base.clear_name_counters()  # the auto names below: "add", not "add_3"
    bprop.utils.set_random_seed(2)
    a = keras.Input(shape=(4,), name="a")
    b = keras.Input(shape=(3,), name="b")
    shared = layers.Dense(5, activation="tanh", name="shared")
    ha = shared(layers.Dense(3, name="proj")(a))
    hb = shared(b)  # the same layer on both branches
    merged = layers.concatenate([layers.add([ha, hb]), layers.multiply([ha, hb]), b])
    out = layers.Dense(2, name="head")(merged)
    return keras.Model(inputs=[a, b], outputs=out), shared


def _numpy_forward(model, xa, xb):
    w = {l.name: [v.numpy().astype(np.float64) for v in l.weights] for l in model.layers}
    proj = xa @ w["proj"][0] + w["proj"][1]
    ha = np.tanh(proj @ w["shared"][0] + w["shared"][1])
    hb = np.tanh(xb @ w["shared"][0] + w["shared"][1])
    merged = np.concatenate([ha + hb, ha * hb, xb], axis=1)
    return merged @ w["head"][0] + w["head"][1]


def test_a_graph_with_two_inputs_merges_and_a_shared_layer():
    model, shared = _two_input_model()
    assert model._chain is None
    rng = np.random.default_rng(3)
    xa = rng.standard_normal((9, 4)).astype(np.float32)
    xb = rng.standard_normal((9, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), _numpy_forward(model, xa, xb),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.predict({"b": xb, "a": xa}, verbose=0),
                               _numpy_forward(model, xa, xb), rtol=1e-5, atol=1e-5)
    out = model([xa, xb])
    assert isinstance(out, bprop.Tensor) and out.shape == (9, 2)
    assert [l.name for l in model.layers] == ["a", "b", "proj", "shared", "add", "multiply",
                                             "concatenate", "head"]
    assert len(model.weights) == 6  # the shared layer's kernel and bias once


def test_graph_gradients_equal_central_differences_float64():
    bprop.utils.set_random_seed(4)
    a = keras.Input(shape=(3,), dtype="float64")
    b = keras.Input(shape=(2,), dtype="float64")
    h = layers.Dense(4, activation="sigmoid", dtype="float64")(a)
    g = layers.Dense(4, activation="tanh", dtype="float64")(b)
    out = layers.Dense(3, activation="softmax", dtype="float64")(layers.concatenate(
        [layers.subtract([h, g]), layers.maximum([h, g]), layers.average([h, g])]))
    model = keras.Model([a, b], out)
    model.compile("sgd", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(5)
    xa, xb, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), rng.integers(0, 3, 5)
    value, grads = model.compute_gradients([xa, xb], y)

    def loss():
        p = model.predict([xa, xb], verbose=0)
        return -np.mean(np.log(p[np.arange(5), y]))

    assert value == pytest.approx(loss(), rel=1e-12)
    numeric = variable_gradients(model.trainable_variables, loss)
    for var, grad, num in zip(model.trainable_variables, grads, numeric):
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-9, err_msg=var.name)


def test_a_graph_learns_and_saves():
    model, _ = _two_input_model()
    rng = np.random.default_rng(6)
    xa = rng.standard_normal((200, 4)).astype(np.float32)
    xb = rng.standard_normal((200, 3)).astype(np.float32)
    y = np.stack([xa.sum(1) - xb[:, 0], xb[:, 1] * 2], axis=1)
    model.compile(keras.optimizers.Adam(0.02), "mse")
    hist = model.fit([xa, xb], y, batch_size=20, epochs=30, verbose=0).history
    assert model._train_plan().in_core  # one Python node; loss, metrics, update in the core
    assert hist["loss"][-1] < 0.25 * hist["loss"][0]
    assert model.evaluate([xa, xb], y, verbose=0) == pytest.approx(hist["loss"][-1], rel=0.5)


def test_save_and_load_rebuild_the_graph(tmp_path):
    model, _ = _two_input_model()
    model.compile("adam", "mse")
    rng = np.random.default_rng(7)
    xa = rng.standard_normal((10, 4)).astype(np.float32)
    xb = rng.standard_normal((10, 3)).astype(np.float32)
    model.fit([xa, xb], rng.standard_normal((10, 2)), epochs=1, verbose=0)
    path = str(tmp_path / "graph.bprop")
    model.save(path)
    loaded = bprop.models.load_model(path)
    assert type(loaded).__name__ == "Functional"
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    np.testing.assert_array_equal(loaded.predict([xa, xb], verbose=0),
                                  model.predict([xa, xb], verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations


def test_several_outputs_are_predicted_as_a_list():
    inputs = keras.Input(shape=(4,))
    h = layers.Dense(6, activation="relu")(inputs)
    first, second = layers.Dense(2)(h), layers.Dense(3, activation="softmax")(h)
    model = keras.Model(inputs, [first, second])
    x = np.random.default_rng(8).standard_normal((5, 4)).astype(np.float32)
    p1, p2 = model.predict(x, verbose=0)
    assert p1.shape == (5, 2) and p2.shape == (5, 3)
    np.testing.assert_allclose(p2.sum(axis=1), 1, rtol=1e-6)
    t1, t2 = model(x)
    np.testing.assert_allclose(t1.numpy(), p1, rtol=1e-6)
    model.compile("adam", "mse")
    with pytest.raises(NotImplementedError, match="has 2 outputs: bprop trains and evaluates "
                                                  "models with one output"):
        model.fit(x, np.zeros((5, 5)), verbose=0)


def test_a_functional_model_nests_as_a_layer():
    inner_in = keras.Input(shape=(4,))
    inner = keras.Model(inner_in, layers.Dense(3, activation="relu")(inner_in), name="encoder")
    outer_in = keras.Input(shape=(4,))
    model = keras.Model(outer_in, layers.Dense(1)(inner(outer_in)))
    x = np.ones((2, 4), np.float32)
    enc = inner.predict(x, verbose=0)
    head = model.layers[-1]
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               enc @ head.kernel.numpy() + head.bias.numpy(), rtol=1e-6)
    assert model._chain is not None  # input -> encoder -> dense: still a chain


@pytest.mark.parametrize("make,error,message", [
    (lambda: keras.Model(np.zeros(3), keras.Input(shape=(2,))), TypeError,
     r"inputs: expected keras.Input tensors"),
    (lambda: keras.Model(layers.Dense(2)(keras.Input(shape=(2,))), keras.Input(shape=(2,))),
     ValueError, r"inputs: expected tensors made by keras.Input"),
    (lambda: keras.Model(keras.Input(shape=(2,), name="first"),
                         layers.Dense(1)(keras.Input(shape=(2,), name="second"))),
     ValueError, r"outputs: they depend on the input 'second', which is not one of the "
                 r"model's inputs \['first'\]"),
    (lambda: layers.add([keras.Input(shape=(2,)), keras.Input(shape=(3,))]), ValueError,
     r"inputs: layer 'add.*' \(Add\) expects tensors of one shape"),
    (lambda: layers.Dense(2)([keras.Input(shape=(2,)), np.zeros((1, 2))]), TypeError,
     r"layer 'dense.*' was called on a mix of KerasTensors and ndarray"),
])
def test_bad_graphs_raise_naming_the_problem(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_wrong_inputs_to_a_two_input_model():
    model, _ = _two_input_model()
    with pytest.raises(ValueError, match=r"x: model 'functional.*' takes 2 inputs"):
        model.predict(np.zeros((3, 7), np.float32), verbose=0)
    with pytest.raises(ValueError, match=r"x\[1\]: input 'b' expects samples of shape \(3,\), "
                                         r"got an array of shape \(3, 4\)"):
        model.predict([np.zeros((3, 4)), np.zeros((3, 4))], verbose=0)
