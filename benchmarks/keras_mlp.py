"""The training benchmark's MLP in Keras itself, timed in a process of its own.

Run by ``bench_training`` as ``<python> benchmarks/keras_mlp.py DATA_DIR
SPEC.json``, where ``<python>`` is any interpreter with Keras (3, or tf.keras
2) and its backend installed: that may be another virtual environment than
bprop's, so this file imports neither bprop nor the benchmarks package, and
reads the data the parent wrote to ``DATA_DIR`` (``x_train.npy``, ...).

The model is the one a Keras tutorial writes: ``Sequential`` of Dense relu
layers and a softmax output, ``compile("adam",
"sparse_categorical_crossentropy", metrics=["accuracy"])``, trained by
``model.fit`` one epoch a call (shuffled), as bprop's rows are.  The thread
count is set before the backend starts (TensorFlow cannot change it later,
hence the fresh process).  Prints one JSON line: the timed seconds of each
call, the test accuracy and the versions.
"""
from __future__ import annotations

import json
import os
import sys
import time


def _configure_threads(threads):
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError:  # Keras 3 on another backend: its own defaults
        return None
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    return tf.__version__


def main(data_dir, spec):
    backend_version = _configure_threads(spec["threads"])
    import numpy as np

    try:
        import keras
    except ImportError:
        from tensorflow import keras

    x = np.load(os.path.join(data_dir, "x_train.npy"), mmap_mode="r")
    y = np.load(os.path.join(data_dir, "y_train.npy"), mmap_mode="r")
    x_test = np.load(os.path.join(data_dir, "x_test.npy"))
    y_test = np.load(os.path.join(data_dir, "y_test.npy"))
    n, n_warm = spec["timed_samples"], spec["warm_samples"]
    x_part, y_part = np.array(x[:n]), np.array(y[:n])

    keras.utils.set_random_seed(spec["seed"])
    layers = [keras.Input(shape=(x.shape[1],))]
    layers += [keras.layers.Dense(units, activation="relu") for units in spec["hidden"]]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    batch = spec["batch_size"]
    # Warm-up: the first fit traces and compiles the step.
    model.fit(x_part[:n_warm], y_part[:n_warm], batch_size=batch, epochs=1, verbose=0)
    seconds = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        model.fit(x_part, y_part, batch_size=batch, epochs=1, verbose=0, shuffle=True)
        seconds.append(time.perf_counter() - start)
    scores = model.predict(x_test, batch_size=1024, verbose=0)
    accuracy = float(np.mean(np.argmax(scores, axis=1) == y_test)) if len(y_test) else None
    backend = keras.backend.backend() if hasattr(keras.backend, "backend") else "tensorflow"
    return {"seconds": seconds, "test_accuracy": accuracy, "keras_version": keras.__version__,
            "backend": backend, "backend_version": backend_version}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python benchmarks/keras_mlp.py DATA_DIR SPEC_JSON")
    print(json.dumps(main(sys.argv[1], json.loads(sys.argv[2]))))
