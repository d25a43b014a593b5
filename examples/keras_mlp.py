"""Origin program 1: a Keras-style MLP trained by backpropagation.

The program of the Keras-style issue, as a Keras user writes it: a
784-64-64-10 network, adam, sparse categorical cross-entropy, accuracy.
It runs on MNIST by default (looked up locally, else downloaded once into
~/.cache/bprop and verified); ``--data fashion-mnist`` uses Fashion-MNIST
(Debian: apt-get install dataset-fashion-mnist), ``--data digits`` the small
data set bundled with bprop (8x8 images, works offline).

The same code runs with ``import bprop as tf`` and ``tf.keras.Sequential``,
``tf.keras.layers.Dense``: pass ``--tf-style`` to see it.

Run:  python examples/keras_mlp.py [--data mnist|fashion-mnist|digits] [--epochs 5]
"""
from __future__ import annotations

import argparse

import numpy as np

import bprop


def load(name):
    """Images flattened to (n, features) float32 in [0, 1], integer labels."""
    module = {"mnist": bprop.datasets.mnist, "fashion-mnist": bprop.datasets.fashion_mnist,
              "digits": bprop.datasets.digits}[name]
    (x_train, y_train), (x_test, y_test) = module.load_data()
    scale = np.float32(16.0 if name == "digits" else 255.0)
    x_train = (x_train.reshape(len(x_train), -1) / scale).astype(np.float32)
    x_test = (x_test.reshape(len(x_test), -1) / scale).astype(np.float32)
    return (x_train, y_train), (x_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("mnist", "fashion-mnist", "digits"), default="mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--tf-style", action="store_true",
                        help="build the model through bprop.keras (code written for tf.keras)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    bprop.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.data)

    if args.tf_style:
        import bprop as tf  # the only line a tf.keras program changes

        model = tf.keras.Sequential([
            tf.keras.layers.Dense(64, activation="relu", input_shape=(x_train.shape[1],)),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ])
    else:
        model = bprop.Sequential([
            bprop.layers.Dense(64, activation="relu", input_shape=(x_train.shape[1],)),
            bprop.layers.Dense(64, activation="relu"),
            bprop.layers.Dense(10, activation="softmax"),
        ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    history = model.fit(x_train, y_train, epochs=args.epochs, validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return history, accuracy


if __name__ == "__main__":
    main()
