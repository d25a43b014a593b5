"""Learning-rate schedules as Keras' optimizer guide uses them, with only the import
changed: ExponentialDecay, PiecewiseConstantDecay and InverseTimeDecay given to an
optimizer; optimizer.learning_rate reads the current rate as training goes."""
import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits(flatten=True)
    schedules = {
        "exponential": keras.optimizers.schedules.ExponentialDecay(
            initial_learning_rate=0.01, decay_steps=45, decay_rate=0.9),
        "piecewise": keras.optimizers.schedules.PiecewiseConstantDecay(
            boundaries=[100, 200], values=[0.01, 0.005, 0.001]),
        "inverse_time": keras.optimizers.schedules.InverseTimeDecay(
            initial_learning_rate=0.01, decay_steps=45, decay_rate=0.5),
    }
    for name, schedule in schedules.items():
        model = keras.Sequential([keras.Input(shape=(64,)),
                                  keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x_train, y_train, batch_size=32, epochs=6, verbose=0)
        steps = optimizer.iterations
        acc = model.evaluate(x_test, y_test, verbose=0)[1]
        print("%-12s after %d steps: learning rate %.5f, test accuracy %.3f"
              % (name, steps, float(optimizer.learning_rate), acc))
        assert np.isclose(float(optimizer.learning_rate), float(schedule(steps)))
        assert acc > 0.85
    assert np.isclose(float(schedules["exponential"](90)), 0.01 * 0.9 ** 2)
    assert float(schedules["piecewise"](150)) == 0.005
    return acc


if __name__ == "__main__":
    main()
