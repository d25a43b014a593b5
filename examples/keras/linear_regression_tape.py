"""Origin program 2: linear regression w * x + b with Variables, a GradientTape and
optimizer.apply_gradients, printing the loss every 10 iterations (TensorFlow's
"custom training basics")."""
import numpy as np

import bprop as tf


def main():
    tf.random.set_seed(0)
    true_w, true_b = 3.0, 2.0
    x = tf.random.normal(shape=[1000])
    noise = tf.random.normal(shape=[1000]) * 0.1
    y = x * true_w + true_b + noise

    w = tf.Variable(5.0)
    b = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.1)
    for step in range(100):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(y - (w * x + b)))
        grads = tape.gradient(loss, [w, b])
        optimizer.apply_gradients(zip(grads, [w, b]))
        if step % 10 == 0:
            print("step %3d  loss %.5f  w %.3f  b %.3f" % (step, float(loss), w.numpy(),
                                                         b.numpy()))
    assert abs(w.numpy() - true_w) < 0.05 and abs(b.numpy() - true_b) < 0.05
    assert float(loss) < 0.02
    return float(w.numpy()), float(b.numpy())


if __name__ == "__main__":
    main()
