"""TensorFlow's "Save and load models", with only the import changed: whole models with
model.save / load_model, weights with save_weights / load_weights, checkpoints during
training with ModelCheckpoint, and training resumed from a saved optimizer state."""
import os

import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras


def create_model():
    model = keras.Sequential([keras.layers.Dense(64, activation="relu", input_shape=(64,)),
                              keras.layers.Dropout(0.2), keras.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    return model


def main():
    tf.random.set_seed(0)
    (train_images, train_labels), (test_images, test_labels) = digits(flatten=True)
    checkpoint_path = "training_1/cp.weights.npz"
    os.makedirs(os.path.dirname(checkpoint_path), exist_ok=True)
    cp_callback = keras.callbacks.ModelCheckpoint(filepath=checkpoint_path,
                                                  save_weights_only=True, verbose=1)
    model = create_model()
    model.fit(train_images, train_labels, epochs=5, validation_data=(test_images, test_labels),
              callbacks=[cp_callback], verbose=0)
    loss, acc = model.evaluate(test_images, test_labels, verbose=0)

    fresh = create_model()
    untrained_acc = fresh.evaluate(test_images, test_labels, verbose=0)[1]
    fresh.load_weights(checkpoint_path)
    restored_acc = fresh.evaluate(test_images, test_labels, verbose=0)[1]
    print("untrained %.3f, restored from the checkpoint %.3f" % (untrained_acc, restored_acc))
    assert restored_acc == acc and untrained_acc < 0.5

    model.save("my_model.keras")
    new_model = keras.models.load_model("my_model.keras")
    new_model.summary()
    np.testing.assert_array_equal(new_model.predict(test_images, verbose=0),
                                  model.predict(test_images, verbose=0))
    # The optimizer state came back too: its step count and its moment estimates.
    assert new_model.optimizer.iterations == model.optimizer.iterations
    for a, b in zip(model.optimizer.variables, new_model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    new_model.fit(train_images, train_labels, epochs=1, verbose=0)  # training resumes
    return restored_acc


if __name__ == "__main__":
    main()
