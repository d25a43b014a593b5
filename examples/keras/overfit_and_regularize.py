"""TensorFlow's "Overfit and underfit", with only the import changed: a large model
memorises a small training set; L2 weight regularization and Dropout narrow the gap
between training and validation loss."""
import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras
layers = tf.keras.layers
regularizers = tf.keras.regularizers


def compile_and_fit(model, x, y, x_val, y_val, epochs=60):
    model.compile(optimizer=keras.optimizers.Adam(0.001),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model.fit(x, y, validation_data=(x_val, y_val), batch_size=32, epochs=epochs,
                     verbose=0)


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits(flatten=True)
    x_small, y_small = x_train[:200], y_train[:200]  # few samples: easy to memorise

    large = keras.Sequential([keras.Input(shape=(64,)),
                              layers.Dense(256, activation="elu"),
                              layers.Dense(256, activation="elu"),
                              layers.Dense(10)])
    regularized = keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(256, activation="elu", kernel_regularizer=regularizers.l2(0.001)),
        layers.Dropout(0.5),
        layers.Dense(256, activation="elu", kernel_regularizer=regularizers.l2(0.001)),
        layers.Dropout(0.5),
        layers.Dense(10)])
    histories = {name: compile_and_fit(m, x_small, y_small, x_test, y_test)
                 for name, m in (("large", large), ("regularized", regularized))}
    for name, h in histories.items():
        gap = h.history["val_loss"][-1] - h.history["loss"][-1]
        print("%-12s train loss %.3f  val loss %.3f  gap %.3f  val accuracy %.3f"
              % (name, h.history["loss"][-1], h.history["val_loss"][-1], gap,
                 h.history["val_accuracy"][-1]))
    gap_large = histories["large"].history["val_loss"][-1] - histories["large"].history["loss"][-1]
    gap_reg = (histories["regularized"].history["val_loss"][-1]
               - histories["regularized"].history["loss"][-1])
    assert histories["large"].history["loss"][-1] < 0.01  # memorised
    assert gap_reg < gap_large
    assert len(regularized.losses) == 2 and float(sum(regularized.losses)) > 0
    return gap_large, gap_reg


if __name__ == "__main__":
    main()
