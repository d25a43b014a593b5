"""Origin program 1 on Fashion-MNIST, 5 epochs, on the C++ core and on the
pure-NumPy backend side by side, in one run: seconds per epoch, training loss
per epoch and test accuracy of each.

Run: ``python examples/compare_backends.py`` (needs Fashion-MNIST: Debian's
``dataset-fashion-mnist`` package, or a one-time download into the cache).
"""
import time

import bprop

(x_train, y_train), (x_test, y_test) = bprop.datasets.fashion_mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0
for backend in ("core", "numpy"):
    bprop.utils.set_random_seed(0)
    model = bprop.Sequential([
        bprop.layers.Flatten(input_shape=(28, 28)),
        bprop.layers.Dense(64, activation="relu"),
        bprop.layers.Dense(64, activation="relu"),
        bprop.layers.Dense(10, activation="softmax"),
    ], backend=backend)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=5, verbose=0)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print("%-5s backend: %.2f s/epoch, training loss %s, test accuracy %.4f" % (
        backend, seconds / 5, " ".join("%.4f" % v for v in history.history["loss"]), accuracy))
