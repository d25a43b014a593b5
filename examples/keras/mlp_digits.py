"""Origin program 1 in Keras' style: an MLP 64-64(relu)-64(relu)-10(softmax) compiled
with 'adam', 'sparse_categorical_crossentropy' and ['accuracy'], fit for 5 epochs
(on the bundled 8x8 digits; `examples/keras_mlp.py` runs it on 28x28 MNIST)."""
import bprop as tf
from _data import digits


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits()
    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(8, 8)),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, verbose=2)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)
    print("\nTest accuracy:", test_acc)
    assert test_acc > 0.85
    return test_acc


if __name__ == "__main__":
    main()
