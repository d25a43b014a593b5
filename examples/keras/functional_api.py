"""Keras' "The Functional API" guide, with only the import changed: a model from
keras.Input to outputs, its summary, training, a model with two inputs joined by
concatenate, a shared layer, and a model used as a layer."""
import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras
layers = tf.keras.layers


def main():
    tf.random.set_seed(0)
    inputs = keras.Input(shape=(64,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="digits_model")
    model.summary()

    (x_train, y_train), (x_test, y_test) = digits(flatten=True)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=10, validation_split=0.2,
                        verbose=0)
    test_scores = model.evaluate(x_test, y_test, verbose=2)
    print("Test loss:", test_scores[0], "Test accuracy:", test_scores[1])
    assert test_scores[1] > 0.85 and len(history.history["val_loss"]) == 10

    # Two inputs: the image and the row sums of the image, joined by concatenate;
    # one Dense layer shared by both branches' features.
    image = keras.Input(shape=(64,), name="image")
    stats = keras.Input(shape=(8,), name="row_sums")
    shared = layers.Dense(16, activation="relu", name="shared")
    features = layers.concatenate([shared(layers.Dense(8)(image)), shared(stats)])
    logits = layers.Dense(10, name="logits")(features)
    two_input = keras.Model(inputs=[image, stats], outputs=logits)
    row_sums = x_train.reshape(-1, 8, 8).sum(axis=2)
    two_input.compile(optimizer="adam",
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
    two_input.fit({"image": x_train, "row_sums": row_sums}, y_train, epochs=15, verbose=0)
    acc = two_input.evaluate([x_test, x_test.reshape(-1, 8, 8).sum(axis=2)], y_test,
                             verbose=0)[1]
    print("two-input model accuracy:", acc)
    assert acc > 0.8

    # A model is a layer: the encoder inside a classifier.
    encoder_input = keras.Input(shape=(64,))
    encoder = keras.Model(encoder_input, layers.Dense(16, activation="tanh")(encoder_input),
                          name="encoder")
    classifier_input = keras.Input(shape=(64,))
    classifier = keras.Model(classifier_input, layers.Dense(10)(encoder(classifier_input)))
    out = classifier.predict(x_test[:3], verbose=0)
    assert out.shape == (3, 10) and np.all(np.isfinite(out))
    return test_scores[1]


if __name__ == "__main__":
    main()
