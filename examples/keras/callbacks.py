"""Keras' "Writing your own callbacks" and the built-in ones, with only the import
changed: EarlyStopping with restore_best_weights, ModelCheckpoint saving the best
model, LearningRateScheduler, CSVLogger and a custom Callback that records logs."""
import os
import tempfile

import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras


class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batch_losses, self.epochs_seen = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batch_losses.append(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_seen.append(epoch)
        print("epoch %d: loss %.4f, val_loss %.4f, learning rate %.5f"
              % (epoch, logs["loss"], logs["val_loss"], logs["learning_rate"]))


def scheduler(epoch, lr):  # Keras' documentation example
    return lr if epoch < 3 else lr * float(tf.math.exp(-0.1))


def main():
    tf.random.set_seed(0)
    (x_train, y_train), _ = digits(flatten=True)
    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    folder = tempfile.mkdtemp()
    best_path = os.path.join(folder, "best.keras")
    history_cb = LossHistory()
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
        keras.callbacks.ModelCheckpoint(best_path, monitor="val_loss", save_best_only=True),
        keras.callbacks.LearningRateScheduler(scheduler),
        keras.callbacks.CSVLogger(os.path.join(folder, "log.csv")),
        history_cb,
    ]
    history = model.fit(x_train, y_train, epochs=50, batch_size=32, validation_split=0.2,
                        callbacks=callbacks, verbose=0)
    epochs_run = len(history.history["loss"])
    print("stopped after", epochs_run, "epochs")
    assert epochs_run < 50  # early stopping fired
    assert history_cb.epochs_seen == list(range(epochs_run))
    assert len(history_cb.batch_losses) == epochs_run * int(np.ceil(0.8 * len(x_train) / 32))
    rates = history.history["learning_rate"]
    assert abs(rates[3] - rates[2] * np.exp(-0.1)) < 1e-9 and rates[2] == rates[0]
    best = keras.models.load_model(best_path)
    best_val = min(history.history["val_loss"])
    x_val, y_val = x_train[int(0.8 * len(x_train)):], y_train[int(0.8 * len(x_train)):]
    assert abs(best.evaluate(x_val, y_val, verbose=0)[0] - best_val) < 1e-4
    assert abs(model.evaluate(x_val, y_val, verbose=0)[0] - best_val) < 1e-4  # restored
    with open(os.path.join(folder, "log.csv")) as f:
        assert len(f.read().strip().splitlines()) == epochs_run + 1
    return epochs_run


if __name__ == "__main__":
    main()
