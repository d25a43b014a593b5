"""TensorFlow's "Basic classification: Classify images of clothing", with only the import
changed: Fashion-MNIST, Flatten + Dense(128, relu) + Dense(10) logits, then a probability
model with a softmax, predictions for single images.  (Trained on 10,000 of the 60,000
images so that it runs in seconds; the full data reaches the same accuracy faster.)"""
import numpy as np

import bprop as tf


def main():
    tf.random.set_seed(0)
    fashion_mnist = tf.keras.datasets.fashion_mnist
    (train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data()
    class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]
    train_images = train_images[:10000] / 255.0
    train_labels = train_labels[:10000]
    test_images = test_images / 255.0

    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(28, 28)),
                                 tf.keras.layers.Dense(128, activation="relu"),
                                 tf.keras.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(train_images, train_labels, epochs=3, verbose=0)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=2)
    print("\nTest accuracy:", test_acc)

    probability_model = tf.keras.Sequential([model, tf.keras.layers.Activation("softmax")])
    predictions = probability_model.predict(test_images, verbose=0)
    print("first image: %s (label %s)" % (class_names[np.argmax(predictions[0])],
                                          class_names[test_labels[0]]))
    img = np.expand_dims(test_images[1], 0)
    single = probability_model.predict(img, verbose=0)
    assert single.shape == (1, 10) and np.isclose(single.sum(), 1.0, atol=1e-5)
    assert test_acc > 0.8
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    return test_acc


if __name__ == "__main__":
    main()
