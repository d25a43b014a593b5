"""TensorFlow 2 "quickstart for beginners", with only the import changed (on the bundled
8x8 digits instead of MNIST): a model returning logits, tf.nn.softmax on one prediction,
the loss of an untrained model near -log(1/10), compile/fit/evaluate, and a probability
model with a Softmax layer on top."""
import numpy as np

import bprop as tf
from _data import digits


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits()
    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(8, 8)),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10),
    ])
    predictions = model(x_train[:1]).numpy()
    print("logits:", predictions)
    print("probabilities:", tf.nn.softmax(predictions).numpy())
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    untrained = loss_fn(y_train[:1], predictions).numpy()
    print("untrained loss: %.3f (-log(1/10) = %.3f)" % (untrained, -np.log(0.1)))
    assert abs(untrained - (-np.log(0.1))) < 1.0

    model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=2)
    assert accuracy > 0.9

    probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
    probs = probability_model(x_test[:5])
    print(probs)
    np.testing.assert_allclose(probs.numpy().sum(axis=1), 1.0, rtol=1e-5)
    assert probs.shape == (5, 10)
    return accuracy


if __name__ == "__main__":
    main()
