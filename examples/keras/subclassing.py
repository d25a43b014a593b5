"""Keras' "Making new layers and models via subclassing", with only the import changed:
a Linear layer with add_weight in build, a block of layers, a Model subclass with a
training argument, trained with fit and with a GradientTape loop."""
import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras


class Linear(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(10)

    def call(self, inputs):
        x = tf.nn.relu(self.linear_1(inputs))
        x = tf.nn.relu(self.linear_2(x))
        return self.linear_3(x)


class Classifier(keras.Model):
    def __init__(self):
        super().__init__()
        self.block = MLPBlock()
        self.dropout = keras.layers.Dropout(0.1)

    def call(self, inputs, training=False):
        return self.block(self.dropout(inputs, training=training))


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits(flatten=True)
    linear = Linear(4)
    y = linear(tf.ones((2, 2)))
    assert y.shape == (2, 4) and len(linear.weights) == 2

    model = Classifier()
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=15, verbose=0)
    assert len(model.trainable_weights) == 6
    acc = model.evaluate(x_test, y_test, verbose=0)[1]
    print("fit: test accuracy", acc)
    assert acc > 0.85

    # The same kind of model, trained by hand.
    model = Classifier()
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    rng = np.random.default_rng(0)
    for epoch in range(15):
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), 32):
            idx = order[start:start + 32]
            with tf.GradientTape() as tape:
                logits = model(x_train[idx], training=True)
                loss = loss_fn(y_train[idx], logits)
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    loop_acc = float(np.mean(predicted == y_test))
    print("GradientTape loop: test accuracy", loop_acc)
    assert loop_acc > 0.85
    return acc, loop_acc


if __name__ == "__main__":
    main()
