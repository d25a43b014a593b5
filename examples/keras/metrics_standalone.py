"""Keras metrics used on their own, as the metrics API guide shows, with only the import
changed: update_state / result / reset_state, sample weights, and metrics as running
means in a training loop."""
import numpy as np

import bprop as tf

keras = tf.keras


def main():
    m = keras.metrics.Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    print("Accuracy:", m.result().numpy())
    assert m.result().numpy() == 0.75
    m.reset_state()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert m.result().numpy() == 0.5

    p = keras.metrics.Precision()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    r = keras.metrics.Recall()
    r.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    print("Precision:", p.result().numpy(), "Recall:", r.result().numpy())
    assert np.isclose(p.result().numpy(), 2 / 3) and np.isclose(r.result().numpy(), 2 / 3)

    top2 = keras.metrics.SparseTopKCategoricalAccuracy(k=2)
    top2.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert top2.result().numpy() == 1.0

    rmse = keras.metrics.RootMeanSquaredError()
    rmse.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    assert np.isclose(rmse.result().numpy(), 0.5)

    # Running means of a loop, as a custom training loop logs them.
    train_loss = keras.metrics.Mean(name="train_loss")
    for batch_loss in (0.9, 0.7, 0.5):
        train_loss(batch_loss)
    print("mean loss:", train_loss.result().numpy())
    assert np.isclose(train_loss.result().numpy(), 0.7)
    assert isinstance(train_loss.result(), tf.Tensor)
    return float(train_loss.result())


if __name__ == "__main__":
    main()
