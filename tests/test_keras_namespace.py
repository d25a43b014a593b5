"""``import bprop as tf``: tf.keras programs run unchanged against bprop."""
from __future__ import annotations

import numpy as np

import bprop
import bprop as tf


def test_namespace_reexports_bprop_modules():
    keras = bprop.keras
    assert keras.Sequential is bprop.Sequential is bprop.models.Sequential
    assert keras.Model is bprop.models.Model
    assert keras.layers is bprop.layers and keras.layers.Dense is bprop.layers.Dense
    assert keras.optimizers.Adam is bprop.optimizers.Adam
    assert keras.losses is bprop.losses and keras.metrics is bprop.metrics
    assert keras.callbacks.EarlyStopping is bprop.callbacks.EarlyStopping
    assert keras.initializers is bprop.initializers and keras.activations is bprop.activations
    assert keras.utils.set_random_seed is bprop.utils.set_random_seed
    assert keras.models.load_model is bprop.load_model
    assert keras.Input is bprop.layers.Input
    assert keras.datasets is bprop.datasets


def test_tf_keras_program_runs(tmp_path):
    rng = np.random.default_rng(0)
    x_train = rng.normal(size=(256, 12)).astype("float32")
    y_train = (x_train[:, :3].sum(axis=1) > 0).astype("int64") + (x_train[:, 3] > 1)
    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(12,)),
        tf.keras.layers.Dense(32, activation="relu"),
        tf.keras.layers.Dropout(0.1),
        tf.keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=15, batch_size=32, validation_split=0.2,
                        callbacks=[tf.keras.callbacks.EarlyStopping(patience=3)], verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    loss, acc = model.evaluate(x_train, y_train, verbose=0)
    assert acc > 0.85
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = tf.keras.models.load_model(path)
    np.testing.assert_array_equal(restored.predict(x_train[:5], verbose=0),
                                  model.predict(x_train[:5], verbose=0))
