"""TensorFlow's "Introduction to tensors", with only the import changed.

Constants and their dtypes, arithmetic, reductions, argmax, shapes, casting,
one_hot, broadcasting, and converting to NumPy.
"""
import numpy as np

import bprop as tf


def main():
    rank_0 = tf.constant(4)
    rank_1 = tf.constant([2.0, 3.0, 4.0])
    rank_2 = tf.constant([[1, 2], [3, 4], [5, 6]], dtype=tf.float64)
    print(rank_0, rank_1, rank_2, sep="\n")
    assert rank_0.dtype == np.int32 and rank_1.dtype == np.float32
    assert rank_2.shape == (3, 2) and rank_2.dtype == np.float64

    a = tf.constant([[1, 2], [3, 4]])
    b = tf.constant([[1, 1], [1, 1]])
    print(tf.add(a, b), tf.multiply(a, b), tf.matmul(a, b), sep="\n")
    np.testing.assert_array_equal((a + b).numpy(), [[2, 3], [4, 5]])
    np.testing.assert_array_equal((a @ b).numpy(), [[3, 3], [7, 7]])

    c = tf.constant([[4.0, 5.0], [10.0, 1.0]])
    print("max:", tf.reduce_max(c).numpy(), "argmax:", tf.math.argmax(c).numpy(),
          "softmax:", tf.nn.softmax(c).numpy())
    assert tf.reduce_max(c).numpy() == 10.0
    np.testing.assert_array_equal(tf.math.argmax(c).numpy(), [1, 0])
    np.testing.assert_allclose(tf.nn.softmax(c).numpy().sum(axis=1), [1, 1], rtol=1e-6)

    x = tf.reshape(tf.range(6), (2, 3))
    assert x.shape == (2, 3) and x.dtype == np.int32
    y = tf.cast(x, tf.float32) / 2
    np.testing.assert_array_equal(y.numpy(), [[0, 0.5, 1], [1.5, 2, 2.5]])
    hot = tf.one_hot(tf.constant([0, 2, 1]), depth=3)
    np.testing.assert_array_equal(hot.numpy(), np.eye(3)[[0, 2, 1]])
    broadcast = tf.constant([1, 2, 3]) * tf.constant([[10], [100]])
    np.testing.assert_array_equal(np.array(broadcast), [[10, 20, 30], [100, 200, 300]])
    print("all tensor checks passed")
    return x


if __name__ == "__main__":
    main()
