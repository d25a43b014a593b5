"""TensorFlow's "Introduction to gradients and automatic differentiation", with only the
import changed: GradientTape on variables, on a model's weights, watch, persistent tapes,
stop_gradient and None for unconnected sources."""
import numpy as np

import bprop as tf


def main():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x ** 2
    dy_dx = tape.gradient(y, x)
    print("dy/dx at 3:", dy_dx.numpy())
    assert dy_dx.numpy() == 6.0

    w = tf.Variable(tf.random.normal((3, 2)), name="w")
    b = tf.Variable(tf.zeros(2, dtype=tf.float32), name="b")
    x_in = [[1.0, 2.0, 3.0]]
    with tf.GradientTape(persistent=True) as tape:
        y = x_in @ w + b
        loss = tf.reduce_mean(y ** 2)
    dl_dw, dl_db = tape.gradient(loss, [w, b])
    np.testing.assert_allclose(dl_db.numpy(), (x_in @ w.numpy() + b.numpy())[0], rtol=1e-6)
    np.testing.assert_allclose(dl_dw.numpy(), np.outer(x_in[0], dl_db.numpy()), rtol=1e-6)

    layer = tf.keras.layers.Dense(2, activation="relu")
    with tf.GradientTape() as tape:
        y = layer(tf.constant([[1.0, 2.0, 3.0]]))
        loss = tf.reduce_mean(y ** 2)
    grads = tape.gradient(loss, layer.trainable_variables)
    assert [g.shape for g in grads] == [(3, 2), (2,)]

    x0 = tf.constant(3.0)
    with tf.GradientTape() as g:
        g.watch(x0)
        y = x0 * x0
    assert g.gradient(y, x0).numpy() == 6.0

    x1 = tf.Variable(2.0)
    x2 = tf.Variable(5.0)
    with tf.GradientTape() as tape:
        y = x1 * tf.stop_gradient(x2) + 0 * x1
    dx1, dx2 = tape.gradient(y, [x1, x2])
    assert dx1.numpy() == 5.0 and dx2 is None
    print("all gradient checks passed")
    return dy_dx


if __name__ == "__main__":
    main()
