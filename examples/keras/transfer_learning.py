"""Keras' "Transfer learning & fine-tuning" recipe, with only the import changed: train a
base model, freeze it (trainable = False), put a new head on it, train the head, then
unfreeze and fine-tune with a low learning rate."""
import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits(flatten=True)
    # The "pretrained" base: learned to tell the ten digits apart.
    base = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(32, activation="relu")], name="base")
    pretrain = keras.Sequential([base, keras.layers.Dense(10)])
    pretrain.compile(optimizer="adam",
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pretrain.fit(x_train, y_train, epochs=10, verbose=0)

    # A new task on the same images: is the digit odd?  The base is frozen first.
    y_train, y_test = y_train % 2, y_test % 2
    base.trainable = False
    inputs = keras.Input(shape=(64,))
    outputs = keras.layers.Dense(2)(base(inputs, training=False))
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    frozen = [w.numpy().copy() for w in base.weights]
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10, verbose=0)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(frozen, base.weights))
    head_acc = model.evaluate(x_test, y_test, verbose=0)[1]

    # Fine-tuning: everything trainable, a small learning rate.
    base.trainable = True
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, verbose=0)
    assert not all(np.array_equal(a, w.numpy()) for a, w in zip(frozen, base.weights))
    tuned_acc = model.evaluate(x_test, y_test, verbose=0)[1]
    print("new head on a frozen base: %.3f; after fine-tuning: %.3f" % (head_acc, tuned_acc))
    assert head_acc > 0.85 and tuned_acc >= head_acc - 0.02
    return tuned_acc


if __name__ == "__main__":
    main()
