"""Keras' "simple MNIST convnet", on Fashion-MNIST, with only the import changed.

The program below is Keras' example (keras.io/examples/vision/mnist_convnet)
as written there, but for ``from bprop import keras`` in place of ``import
keras``, Fashion-MNIST in place of MNIST, the sparse cross-entropy on integer
labels and 5 epochs.  Every layer (Conv2D, MaxPooling2D, Flatten, Dropout,
Dense) runs in bprop's C++ core, one training step per batch of 128 without
returning to Python.

Measured (seed 0, 2 threads, the project's shared 2-core machine): see the
README's "Convolutional networks" section.

Run:  python examples/fashion_mnist_convnet.py [--epochs 5] [--threads 2]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import bprop
from bprop import keras
from bprop.keras import layers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first LIMIT images only (a quick check)")
    args = parser.parse_args(argv)
    if args.threads:
        bprop.set_num_threads(args.threads)
    bprop.utils.set_random_seed(args.seed)

    # --- Keras' example from here (its import and data set changed) ---
    num_classes = 10
    input_shape = (28, 28, 1)

    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    print("x_train shape:", x_train.shape)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.summary()

    batch_size = args.batch_size
    epochs = args.epochs
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                        validation_split=0.1, verbose=2)
    seconds = time.perf_counter() - start

    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    print("%.1f s per epoch (%d threads)" % (seconds / max(epochs, 1), bprop.get_num_threads()))
    return history, score[1]


if __name__ == "__main__":
    main()
