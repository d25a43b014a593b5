"""Keras' "Training & evaluation with the built-in methods" guide, with only the import
changed: validation_split and validation_data, a custom loss function, a custom Metric
class, sample weights, class weights, and test_on_batch / predict_on_batch."""
import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras


def custom_mean_squared_error(y_true, y_pred):
    return tf.math.reduce_mean(tf.square(y_true - y_pred), axis=-1)


class CategoricalTruePositives(keras.metrics.Metric):
    """Counts samples whose predicted class is their label (the guide's metric)."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.argmax(np.asarray(y_pred), axis=1).reshape(-1, 1)
        values = (np.asarray(y_true).reshape(-1, 1) == y_pred).astype("float32")
        if sample_weight is not None:
            values = values * np.asarray(sample_weight, dtype="float32").reshape(-1, 1)
        self.true_positives += float(values.sum())

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives = 0.0


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits(flatten=True)
    inputs = keras.Input(shape=(64,), name="digits")
    x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)

    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(), CategoricalTruePositives()])
    history = model.fit(x_train, y_train, batch_size=64, epochs=8, validation_split=0.2,
                        verbose=0)
    print("history keys:", sorted(history.history))
    results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    print("test loss, test acc, true positives:", results)
    assert results[1] > 0.85
    assert results[2] == round(results[1] * len(y_test))  # the custom metric agrees

    # A custom loss function on one-hot targets.
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
    y_onehot = keras.utils.to_categorical(y_train, num_classes=10)
    model.fit(x_train, y_onehot, batch_size=64, epochs=3, verbose=0)
    mse = model.evaluate(x_test, keras.utils.to_categorical(y_test, 10), verbose=0)
    assert mse < 0.05

    # Sample weights and class weights give class 5 twice the say.
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    sample_weight = np.ones(len(y_train))
    sample_weight[y_train == 5] = 2.0
    model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=2, verbose=0)
    model.fit(x_train, y_train, class_weight={c: (2.0 if c == 5 else 1.0) for c in range(10)},
              batch_size=64, epochs=2, verbose=0)
    loss, acc = model.test_on_batch(x_test[:32], y_test[:32])
    probs = model.predict_on_batch(x_test[:32])
    assert abs(acc - np.mean(np.argmax(probs, 1) == y_test[:32])) < 1e-9
    return results[1]


if __name__ == "__main__":
    main()
