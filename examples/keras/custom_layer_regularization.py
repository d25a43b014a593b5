"""Custom layers that add weight penalties, as Keras' subclassing guide does, with only
the import changed: add_weight(regularizer=...), kernel_regularizer, model.losses, and a
training loop whose loss adds sum(model.losses) like fit does."""
import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras


class ScaledDense(keras.layers.Layer):
    """Dense with an extra learned per-feature scale, penalised towards 0."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(units, kernel_regularizer=keras.regularizers.l2(1e-3))

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                     regularizer=keras.regularizers.l1(1e-3), name="scale")

    def call(self, inputs):
        return self.dense(inputs * self.scale)


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits(flatten=True)
    model = keras.Sequential([keras.Input(shape=(64,)), ScaledDense(32),
                              keras.layers.Activation("relu"), keras.layers.Dense(10)])
    penalties = [float(p) for p in model.losses]
    print("penalties at the start:", penalties)
    assert len(penalties) == 2 and np.isclose(penalties[0], 1e-3 * 64)  # l1 of the ones

    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for epoch in range(10):
        for start in range(0, len(x_train), 64):
            xb, yb = x_train[start:start + 64], y_train[start:start + 64]
            with tf.GradientTape() as tape:
                logits = model(xb, training=True)
                loss = loss_fn(yb, logits) + tf.add_n(model.losses)
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
    accuracy = np.mean(np.argmax(model.predict(x_test, verbose=0), 1) == y_test)
    print("test accuracy %.3f, penalties now %s" % (accuracy, [float(p) for p in model.losses]))
    assert accuracy > 0.85
    layer = model.layers[0]
    by_hand = (1e-3 * np.abs(layer.scale.numpy()).sum()
               + 1e-3 * np.square(layer.dense.kernel.numpy()).sum())
    assert np.isclose(float(tf.add_n(model.losses)), by_hand, rtol=1e-5)
    return accuracy


if __name__ == "__main__":
    main()
