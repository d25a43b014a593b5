"""Linear regression written at the level below models: Variables, a
GradientTape and an optimizer (the program of issue 4, as written).

Run: ``python examples/linear_regression.py``.  The same program runs with
``import bprop as tf`` and ``tf.keras.optimizers.SGD``.
"""
import numpy as np
import bprop

x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
y_true = np.array([[100.0], [200.0], [300.0], [400.0]], dtype=np.float32)
w = bprop.Variable(np.random.rand(), dtype="float32")
b = bprop.Variable(np.random.rand(), dtype="float32")


def model(x):
    return w * x + b


def loss(y_true, y_pred):
    return bprop.reduce_mean(bprop.square(y_true - y_pred))


optimizer = bprop.optimizers.SGD(learning_rate=0.01)
for i in range(100):
    with bprop.GradientTape() as tape:
        y_pred = model(x)
        loss_t = loss(y_true, y_pred)
    gradients = tape.gradient(loss_t, [w, b])
    optimizer.apply_gradients(zip(gradients, [w, b]))
    if i % 10 == 0:
        print("Iteration {}, Loss: {}".format(i, loss_t.numpy()))
