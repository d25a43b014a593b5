"""Small offline data for the examples (they run in the test-suite in seconds).

``digits()``: the UCI 8x8 digits that ship with bprop, scaled to [0, 1] (the
examples' stand-in for MNIST); ``tabular(...)``: synthetic regression data.
"""
import numpy as np

import bprop as tf


def digits(flatten=False, channels=False):
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.digits.load_data()
    x_train, x_test = x_train / 16.0, x_test / 16.0
    if flatten:
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    if channels:
        x_train, x_test = x_train[..., None], x_test[..., None]
    return (x_train.astype("float32"), y_train), (x_test.astype("float32"), y_test)


def tabular(n=600, features=5, seed=0):
    """Features on very different scales and a target linear in them plus noise."""
    rng = np.random.default_rng(seed)
    scales = np.array([1.0, 10.0, 100.0, 0.1, 1000.0][:features])
    x = rng.normal(size=(n, features)) * scales + scales
    w = np.array([2.0, -0.3, 0.05, 10.0, 0.002][:features])
    y = x @ w + 1.0 + rng.normal(scale=0.1, size=n)
    return x.astype("float32"), y.astype("float32")
