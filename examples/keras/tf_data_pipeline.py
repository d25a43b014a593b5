"""TensorFlow's "tf.data: Build TensorFlow input pipelines" basics, with only the import
changed: from_tensor_slices, map, shuffle, batch, prefetch, cache, take; a model trained
and evaluated on Datasets and on a Python generator with steps_per_epoch."""
import numpy as np

import bprop as tf
from _data import digits


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits()
    dataset = tf.data.Dataset.from_tensor_slices((x_train * 16.0, y_train))
    for image, label in dataset.take(1):
        print("one element:", image.shape, int(label))
        assert image.shape == (8, 8)

    def scale(image, label):  # back to [0, 1], as a map step does it
        return image / 16.0, label

    train_ds = (dataset.map(scale, num_parallel_calls=tf.data.AUTOTUNE)
                .cache().shuffle(1000, seed=1).batch(32).prefetch(tf.data.AUTOTUNE))
    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(64)
    assert int(train_ds.cardinality()) == int(np.ceil(len(x_train) / 32))

    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(8, 8)),
                                 tf.keras.layers.Dense(64, activation="relu"),
                                 tf.keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(train_ds, epochs=8, validation_data=test_ds, verbose=0)
    loss, acc = model.evaluate(test_ds, verbose=0)
    print("Dataset: test accuracy %.3f" % acc)
    assert acc > 0.9 and len(history.history["val_accuracy"]) == 8

    def batches():  # a generator, read on across epochs with steps_per_epoch
        rng = np.random.default_rng(0)
        while True:
            idx = rng.integers(0, len(x_train), 32)
            yield x_train[idx], y_train[idx]

    model.fit(batches(), steps_per_epoch=20, epochs=3, verbose=0)
    predictions = model.predict(test_ds, verbose=0)
    assert predictions.shape == (len(x_test), 10)
    gen_acc = float(np.mean(np.argmax(predictions, 1) == y_test))
    print("after the generator epochs: test accuracy %.3f" % gen_acc)
    assert gen_acc > 0.9
    return acc


if __name__ == "__main__":
    main()
