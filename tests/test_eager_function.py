"""tf.function and tf.autograph.experimental.do_not_convert run the function as written."""
from __future__ import annotations

import numpy as np
import pytest

import bprop as tf


def test_function_decorates_with_and_without_arguments():
    calls = []

    @tf.function
    def add(a, b=1):
        calls.append(a)  # a Python side effect runs on every call, as eager code does
        return a + b

    @tf.function(jit_compile=True, reduce_retracing=True)
    def double(t):
        return t * 2

    assert add(2) == 3 and add(2, b=5) == 7 and calls == [2, 2]
    assert add.__name__ == "add" and add.python_function(1) == 2
    out = double(tf.constant([1.0, 2.5]))
    assert isinstance(out, tf.Tensor) and out.numpy().tolist() == [2.0, 5.0]
    assert tf.function(lambda v: v - 1)(4) == 3
    assert tf.function(lambda v: -v, input_signature=[])(3) == -3


def test_function_on_a_method_and_gradients_inside():
    class Model:
        def __init__(self):
            self.w = tf.Variable(np.array([3.0]))

        @tf.function
        def grad(self, x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(self.w * self.w * x)
            return tape.gradient(loss, self.w)

    g = Model().grad(tf.constant(np.array([2.0])))
    assert np.asarray(g).tolist() == [12.0]  # d/dw (w^2 x) = 2 w x


def test_do_not_convert_returns_the_function():
    def f(v):
        return v + 1

    assert tf.autograph.experimental.do_not_convert(f) is f
    assert tf.autograph.experimental.do_not_convert()(f) is f


@pytest.mark.parametrize("call, message", [
    (lambda: tf.function(3), "func: expected a callable"),
    (lambda: tf.function(lambda: 0, input_signature=5), "input_signature: "),
    (lambda: tf.autograph.experimental.do_not_convert(4), "func: expected a callable"),
])
def test_bad_arguments_name_themselves(call, message):
    with pytest.raises(TypeError, match=message):
        call()
