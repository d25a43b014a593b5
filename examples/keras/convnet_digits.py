"""TensorFlow's "Convolutional Neural Network" tutorial, with only the import changed
(on the bundled 8x8 digits, so the convolutions pad 'same'): Conv2D, MaxPooling2D,
Flatten, Dense; summary, fit with validation data, evaluate."""
import bprop as tf
from _data import digits

layers = tf.keras.layers
models = tf.keras.models


def main():
    tf.random.set_seed(0)
    (train_images, train_labels), (test_images, test_labels) = digits(channels=True)
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", padding="same",
                            input_shape=(8, 8, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu", padding="same"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (2, 2), activation="relu"))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10))
    model.summary()
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(train_images, train_labels, epochs=10,
                        validation_data=(test_images, test_labels), verbose=2)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=2)
    print("test accuracy:", test_acc)
    # 3*3*1*32+32 + 3*3*32*64+64 + 2*2*64*64+64 + 64*64+64 + 64*10+10 parameters
    assert model.output_shape == (None, 10) and model.count_params() == 40074
    assert test_acc > 0.9 and history.history["val_accuracy"][-1] == test_acc
    return test_acc


if __name__ == "__main__":
    main()
