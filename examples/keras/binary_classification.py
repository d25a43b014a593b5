"""A binary classifier as Keras' structured-data examples write one, with only the import
changed: a sigmoid output, binary cross-entropy, a 0.5 threshold, BinaryAccuracy and
AUC; predictions checked against the labels by hand."""
import numpy as np

import bprop as tf

keras = tf.keras


def main():
    tf.random.set_seed(0)
    rng = np.random.default_rng(0)
    # Two noisy concentric rings: not linearly separable, easy for a small MLP.
    n = 1000
    radius = np.where(rng.random(n) < 0.5, 1.0, 2.0)
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1) + rng.normal(0, 0.15, (n, 2))
    y = (radius > 1.5).astype("float32")
    x_train, y_train, x_test, y_test = x[:800], y[:800], x[800:], y[800:]

    model = keras.Sequential([keras.Input(shape=(2,)),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.BinaryCrossentropy(),
                  metrics=[keras.metrics.BinaryAccuracy(), keras.metrics.AUC()])
    model.fit(x_train, y_train, batch_size=32, epochs=30, verbose=0)
    loss, accuracy, auc = model.evaluate(x_test, y_test, verbose=0)
    probabilities = model.predict(x_test, verbose=0)[:, 0]
    by_hand = float(np.mean((probabilities > 0.5) == (y_test == 1)))
    print("test accuracy %.3f (by hand %.3f), AUC %.3f" % (accuracy, by_hand, auc))
    assert abs(accuracy - by_hand) < 1e-9
    assert accuracy > 0.95 and auc > 0.98
    return accuracy


if __name__ == "__main__":
    main()
