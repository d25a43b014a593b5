"""Keras' "Imbalanced classification" example, with only the import changed: a rare
positive class (about 5%), class_weight to weigh it up, and the metrics that show what
accuracy hides (Precision, Recall, AUC, the confusion counts)."""
import numpy as np

import bprop as tf
from _data import digits

keras = tf.keras


def build():
    model = keras.Sequential([keras.Input(shape=(64,)),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                  metrics=[keras.metrics.Precision(name="precision"),
                           keras.metrics.Recall(name="recall"),
                           keras.metrics.AUC(name="auc"),
                           keras.metrics.TruePositives(name="tp"),
                           keras.metrics.FalseNegatives(name="fn"), "accuracy"])
    return model


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = digits(flatten=True)
    # Positive: the digit 8, kept at a fifth of its samples to make it rare.
    rng = np.random.default_rng(0)
    keep = (y_train != 8) | (rng.random(len(y_train)) < 0.5)
    x_train, y_train = x_train[keep], (y_train[keep] == 8).astype("float32")
    y_test = (y_test == 8).astype("float32")
    neg, pos = np.bincount(y_train.astype(int))
    print("positives: %d of %d (%.1f%%)" % (pos, neg + pos, 100 * pos / (neg + pos)))
    class_weight = {0: (1 / neg) * (neg + pos) / 2.0, 1: (1 / pos) * (neg + pos) / 2.0}

    plain, weighted = build(), build()
    plain.fit(x_train, y_train, batch_size=64, epochs=20, verbose=0)
    weighted.fit(x_train, y_train, batch_size=64, epochs=20, verbose=0,
                 class_weight=class_weight)
    results = {}
    for name, model in (("plain", plain), ("class_weight", weighted)):
        results[name] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        print(name, {k: round(float(v), 3) for k, v in results[name].items()})
    assert results["class_weight"]["recall"] >= results["plain"]["recall"]
    assert results["class_weight"]["auc"] > 0.9
    assert results["class_weight"]["tp"] + results["class_weight"]["fn"] == y_test.sum()
    return results


if __name__ == "__main__":
    main()
