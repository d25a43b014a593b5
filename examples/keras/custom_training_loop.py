"""Keras' "Writing a training loop from scratch", with only the import changed: batches
from tf.data, a GradientTape step in a tf.function, optimizer.apply_gradients, metrics
updated per batch and reset per epoch, a validation loop, and the loss of the model's
regularizers added by hand."""
import bprop as tf
from _data import digits

keras = tf.keras


def main():
    tf.random.set_seed(0)
    (x_train, y_train), (x_val, y_val) = digits(flatten=True)
    inputs = keras.Input(shape=(64,), name="digits")
    x = keras.layers.Dense(64, activation="relu",
                           kernel_regularizer=keras.regularizers.l2(1e-4))(inputs)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)

    optimizer = keras.optimizers.SGD(learning_rate=0.05)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    batch_size = 64
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024, seed=0).batch(batch_size)
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(batch_size)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits) + tf.add_n(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y, logits)
        return loss_value

    @tf.function
    def test_step(x, y):
        val_acc_metric.update_state(y, model(x, training=False))

    for epoch in range(15):
        for step, (x_batch, y_batch) in enumerate(train_dataset):
            loss_value = train_step(x_batch, y_batch)
        train_acc = train_acc_metric.result()
        train_acc_metric.reset_state()
        for x_batch, y_batch in val_dataset:
            test_step(x_batch, y_batch)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_state()
        if epoch % 5 == 4:
            print("epoch %d: last batch loss %.4f, training accuracy %.4f, validation "
                  "accuracy %.4f" % (epoch, float(loss_value), float(train_acc), float(val_acc)))
    assert float(val_acc) > 0.9
    return float(val_acc)


if __name__ == "__main__":
    main()
