"""TensorFlow's "Basic regression" tutorial, with only the import changed (on synthetic
tabular data with features on very different scales): a Normalization layer adapted to the
training features, a linear model and a deep one, mean absolute error, and predictions
against the true values."""
import numpy as np

import bprop as tf
from _data import tabular

keras = tf.keras
layers = tf.keras.layers


def main():
    tf.random.set_seed(0)
    x, y = tabular(n=800)
    train_features, test_features = x[:640], x[640:]
    train_labels, test_labels = y[:640], y[640:]
    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(train_features)
    np.testing.assert_allclose(normalizer.mean.numpy().ravel(), train_features.mean(axis=0),
                               rtol=1e-5)

    linear_model = keras.Sequential([keras.Input(shape=(5,)), normalizer,
                                     layers.Dense(units=1)])
    linear_model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1),
                         loss="mean_absolute_error")
    history = linear_model.fit(train_features, train_labels, epochs=100, verbose=0,
                               validation_split=0.2)
    linear_mae = linear_model.evaluate(test_features, test_labels, verbose=0)

    dnn_model = keras.Sequential([keras.Input(shape=(5,)), normalizer,
                                  layers.Dense(64, activation="relu"),
                                  layers.Dense(64, activation="relu"),
                                  layers.Dense(1)])
    dnn_model.compile(loss="mean_absolute_error", optimizer=keras.optimizers.Adam(0.01))
    dnn_model.fit(train_features, train_labels, validation_split=0.2, verbose=0, epochs=100)
    dnn_mae = dnn_model.evaluate(test_features, test_labels, verbose=0)
    predictions = dnn_model.predict(test_features, verbose=0).flatten()
    print("test MAE: linear %.3f, deep %.3f (labels span %.1f)"
          % (linear_mae, dnn_mae, np.ptp(test_labels)))
    assert np.isclose(dnn_mae, np.mean(np.abs(predictions - test_labels)), rtol=1e-5)
    assert linear_mae < 0.5 and dnn_mae < 1.5
    assert len(history.history["val_loss"]) == 100
    return linear_mae, dnn_mae


if __name__ == "__main__":
    main()
