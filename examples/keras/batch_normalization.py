"""BatchNormalization as Keras' layer guide uses it, with only the import changed: a
convnet with BatchNormalization after each convolution, trained with fit; the moving
statistics move during training and inference uses them (model(x, training=False) and
predict agree; a call with training=True normalizes by the batch and, as in Keras,
moves the moving statistics)."""
import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras
layers = tf.keras.layers


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits(channels=True)
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(16, 3, padding="same", use_bias=False),
        # momentum 0.9, not Keras' 0.99: with 45 steps an epoch the moving statistics
        # would still carry much of their initial value (0.99 ** 450 is 1%).
        layers.BatchNormalization(momentum=0.9),
        layers.Activation("relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, padding="same", use_bias=False),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10, activation="softmax"),
    ])
    bn = model.layers[1]
    assert [w.name.split("/")[-1] for w in bn.weights] == ["gamma", "beta", "moving_mean",
                                                           "moving_variance"]
    assert len(model.trainable_weights) == 8 and len(model.non_trainable_weights) == 4
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=10, verbose=0)
    moving_mean = bn.moving_mean.numpy()
    print("first BatchNormalization moving mean:", np.round(moving_mean[:4], 3))
    assert np.any(moving_mean != 0) and np.all(bn.moving_variance.numpy() > 0)

    inference = model(x_test[:64], training=False).numpy()
    np.testing.assert_allclose(inference, model.predict(x_test[:64], verbose=0), rtol=1e-5,
                               atol=1e-6)
    in_training = model(x_test[:64], training=True).numpy()
    assert not np.allclose(in_training, inference)  # batch statistics, not the moving ones
    assert not np.array_equal(bn.moving_mean.numpy(), moving_mean)  # a training call moves them
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print("test accuracy:", accuracy)
    assert accuracy > 0.9
    return accuracy


if __name__ == "__main__":
    main()
