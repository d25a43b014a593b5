"""GradientTape semantics (TensorFlow's) and the clear errors on bad input."""
from __future__ import annotations

import numpy as np
import pytest

import bprop


def test_gradient_of_a_variable_expression_matches_hand_derivative():
    w = bprop.Variable(3.0)
    x = np.array([1.0, 2.0], dtype=np.float32)
    with bprop.GradientTape() as tape:
        y = bprop.reduce_sum(w * w * x)  # d/dw = 2 w sum(x) = 18
    g = tape.gradient(y, w)
    assert isinstance(g, bprop.Tensor) and g.shape == () and g.dtype == np.float32
    assert float(g) == 18.0


def test_gradients_of_broadcast_operands_have_their_shapes():
    w = bprop.Variable(np.ones((3, 1), dtype=np.float32))
    b = bprop.Variable(np.zeros(4, dtype=np.float32))
    with bprop.GradientTape() as tape:
        y = bprop.reduce_sum(w * np.arange(12, dtype=np.float32).reshape(3, 4) + b)
    gw, gb = tape.gradient(y, [w, b])
    np.testing.assert_array_equal(np.asarray(gw), [[6.0], [22.0], [38.0]])
    np.testing.assert_array_equal(np.asarray(gb), [3.0, 3.0, 3.0, 3.0])


def test_unconnected_sources_give_none_or_zeros():
    w = bprop.Variable(1.0)
    unused = bprop.Variable(np.ones(3, dtype=np.float32))
    with bprop.GradientTape(persistent=True) as tape:
        y = w * 2.0
    assert tape.gradient(y, [w, unused])[1] is None
    zero = tape.gradient(y, unused, unconnected_gradients="zero")
    np.testing.assert_array_equal(np.asarray(zero), np.zeros(3))


def test_sources_keep_their_structure():
    a, b = bprop.Variable(1.0), bprop.Variable(2.0)
    with bprop.GradientTape() as tape:
        y = a * b
    g = tape.gradient(y, {"a": a, "pair": (a, b)})
    assert set(g) == {"a", "pair"} and isinstance(g["pair"], tuple)
    assert float(g["a"]) == 2.0 and float(g["pair"][1]) == 1.0


def test_watch_tracks_tensors_and_non_trainable_variables():
    x = bprop.constant([1.0, 2.0])
    frozen = bprop.Variable(2.0, trainable=False)
    with bprop.GradientTape(persistent=True) as tape:
        y = bprop.reduce_sum(x * x * frozen)
    # neither was watched: no gradient
    assert tape.gradient(y, [x, frozen]) == [None, None]
    with bprop.GradientTape() as tape:
        tape.watch([x, frozen])
        y = bprop.reduce_sum(x * x * frozen)
    gx, gf = tape.gradient(y, [x, frozen])
    np.testing.assert_array_equal(np.asarray(gx), [4.0, 8.0])  # 2 x frozen
    assert float(gf) == 5.0  # sum(x^2)


def test_watch_accessed_variables_false_records_only_watched():
    w = bprop.Variable(3.0)
    with bprop.GradientTape(watch_accessed_variables=False) as tape:
        y = w * w
    assert tape.gradient(y, w) is None


def test_persistent_tape_answers_several_calls():
    w = bprop.Variable(2.0)
    with bprop.GradientTape(persistent=True) as tape:
        y = w ** 3
        z = w * 5.0
    assert float(tape.gradient(y, w)) == 12.0
    assert float(tape.gradient(z, w)) == 5.0
    assert float(tape.gradient(y, w)) == 12.0


def test_a_variable_used_twice_accumulates():
    w = bprop.Variable(3.0)
    with bprop.GradientTape() as tape:
        y = w * w + w  # 2w + 1 = 7
    assert float(tape.gradient(y, w)) == 7.0


def test_output_gradients_weight_a_vector_target():
    w = bprop.Variable(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    with bprop.GradientTape() as tape:
        y = w * w
    g = tape.gradient(y, w, output_gradients=np.array([1.0, 0.0, 2.0], dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(g), [2.0, 0.0, 12.0])


def test_list_of_targets_is_summed():
    w = bprop.Variable(2.0)
    with bprop.GradientTape() as tape:
        a, b = w * 3.0, w * w
    assert float(tape.gradient([a, b], w)) == 7.0


def test_jacobian_of_a_vector_target():
    w = bprop.Variable(np.array([1.0, 2.0], dtype=np.float64))
    with bprop.GradientTape() as tape:
        y = w * w * np.array([1.0, 3.0])
    jac = tape.jacobian(y, w)
    np.testing.assert_array_equal(np.asarray(jac), [[2.0, 0.0], [0.0, 12.0]])


def test_stop_recording_hides_ops():
    w = bprop.Variable(2.0)
    with bprop.GradientTape() as tape:
        with tape.stop_recording():
            hidden = w * w
        y = hidden * w  # only the last product is recorded: d/dw = hidden = 4
    assert float(tape.gradient(y, w)) == 4.0


def test_nested_tapes_both_record():
    w = bprop.Variable(3.0)
    with bprop.GradientTape() as outer:
        with bprop.GradientTape() as inner:
            y = w * w
        assert float(inner.gradient(y, w)) == 6.0
        z = y * 2.0
    assert float(outer.gradient(z, w)) == 12.0


def test_tape_is_recording_only_inside_the_context():
    assert not bprop.autodiff.tape_is_recording()
    with bprop.GradientTape():
        assert bprop.autodiff.tape_is_recording()
    assert not bprop.autodiff.tape_is_recording()


def test_gradient_uses_the_value_read_under_the_tape():
    # An optimizer step between the forward and gradient() must not change it.
    w = bprop.Variable(np.array([2.0], dtype=np.float32))
    with bprop.GradientTape() as tape:
        y = bprop.reduce_sum(w * w)
    w.assign([100.0])
    np.testing.assert_array_equal(np.asarray(tape.gradient(y, w)), [4.0])


def test_gradient_is_not_an_alias_of_internal_buffers():
    w = bprop.Variable(np.ones(3, dtype=np.float32))
    with bprop.GradientTape() as tape:
        y = bprop.reduce_sum(w)
    g = np.asarray(tape.gradient(y, w))
    assert g.flags.c_contiguous and g.flags.writeable and g.flags.owndata


# ------------------------------------------------------------------ bad input
def test_non_scalar_target_without_output_gradients_is_an_error():
    w = bprop.Variable(np.ones(3, dtype=np.float32))
    with bprop.GradientTape() as tape:
        y = w * 2.0
    with pytest.raises(ValueError, match=r"target: expected a scalar.*shape \(3,\).*output_gradients"):
        tape.gradient(y, w)


def test_second_gradient_on_a_non_persistent_tape_is_a_runtime_error():
    w = bprop.Variable(1.0)
    with bprop.GradientTape() as tape:
        y = w * w
    tape.gradient(y, w)
    with pytest.raises(RuntimeError, match="non-persistent.*persistent=True"):
        tape.gradient(y, w)


def test_mixing_dtypes_is_a_type_error():
    w64 = bprop.Variable(np.float64(1.0))
    x32 = np.ones(3, dtype=np.float32)
    with bprop.GradientTape():
        with pytest.raises(TypeError, match="multiply: x has dtype float64 but y has dtype float32"):
            w64 * x32
    with pytest.raises(TypeError, match="add: x has dtype float32 but y has dtype float64"):
        bprop.constant([1.0]) + bprop.constant(np.array([1.0]))


def test_python_and_integer_operands_adopt_the_tensor_dtype():
    w = bprop.Variable(np.float64(2.0))
    y = w * 3 + np.array([1, 2])
    assert y.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(y), [7.0, 8.0])
    assert (bprop.constant(1.0) * 2.5).dtype == np.float32


def test_bad_sources_and_targets_are_type_errors():
    w = bprop.Variable(1.0)
    with bprop.GradientTape(persistent=True) as tape:
        y = w * w
    with pytest.raises(TypeError, match="sources: expected a bprop.Variable or bprop.Tensor"):
        tape.gradient(y, np.ones(1))
    with pytest.raises(TypeError, match="target: expected a bprop.Tensor"):
        tape.gradient(3.0, w)
    with pytest.raises(TypeError, match="tensor: expected a bprop.Variable or bprop.Tensor"):
        tape.watch(np.ones(2))
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, w, unconnected_gradients="maybe")
    with pytest.raises(ValueError, match=r"output_gradients: expected shape \(\)"):
        tape.gradient(y, w, output_gradients=np.ones(2, dtype=np.float32))


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ.*\(2, 3\).*\(4, 5\)"):
        bprop.matmul(bprop.constant(np.ones((2, 3))), np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        bprop.reshape(bprop.constant(np.ones((2, 3))), (4, 2))
    with pytest.raises(ValueError, match=r"reduce_sum: axis: expected values in \[-2, 2\)"):
        bprop.reduce_sum(bprop.constant(np.ones((2, 3))), axis=2)
    with pytest.raises(ValueError, match="operands could not be broadcast"):
        bprop.constant(np.ones(3)) + np.ones(4)
    with pytest.raises(TypeError, match="add: y: expected a number or an array"):
        bprop.constant(1.0) + "a"


# ------------------------------------------------------------------ Tensor interop
def test_tensor_interoperates_with_numpy():
    t = bprop.constant([[1.0, 2.0], [3.0, 4.0]])
    assert t.dtype == np.float32 and t.shape == (2, 2) and len(t) == 2
    assert np.asarray(t) is np.asarray(t)  # no copy
    np.testing.assert_array_equal(np.sum(t, axis=0), [4.0, 6.0])
    np.testing.assert_array_equal(t.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(bprop.reduce_sum(t).numpy(), np.float32)
    assert "{:.1f}".format(bprop.reduce_sum(t)) == "10.0"
    np.testing.assert_array_equal(t > 2.0, [[False, False], [True, True]])
    assert [float(row[0]) for row in t] == [1.0, 3.0]


def test_constant_copies_its_input():
    a = np.ones(2)
    t = bprop.constant(a)
    a[0] = 5.0
    assert t.dtype == np.float64 and float(t[0]) == 1.0


def test_variable_reshape_does_not_follow_later_assignments():
    w = bprop.Variable(np.ones((2, 2), dtype=np.float32))
    r = bprop.reshape(w, (4,))
    w.assign(np.zeros((2, 2), dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(r), np.ones(4))


def test_variables_stay_hashable_by_identity():
    a, b = bprop.Variable(1.0), bprop.Variable(1.0)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and a != b and a == a


def test_variable_dtype_defaults_follow_tensorflow():
    assert bprop.Variable(0.5).dtype == np.float32            # Python float
    assert bprop.Variable([1.0, 2.0]).dtype == np.float32     # list
    assert bprop.Variable(np.float64(1.0)).dtype == np.float64
    assert bprop.Variable(bprop.constant(np.ones(2))).dtype == np.float64  # a float64 Tensor
    v = bprop.Variable(np.zeros(2, dtype=np.float32))
    v.assign([1.5, 2.5])  # Python numbers are cast; a float64 array is not
    np.testing.assert_array_equal(v.numpy(), [1.5, 2.5])
    with pytest.raises(TypeError, match="expected dtype float32"):
        v.assign(np.ones(2))


def test_zeros_ones_and_likes():
    z = bprop.zeros([2, 3])
    assert isinstance(z, bprop.Tensor) and z.dtype == np.float32 and z.shape == (2, 3)
    np.testing.assert_array_equal(np.asarray(bprop.ones((2,), dtype="float64")), [1.0, 1.0])
    like = bprop.ones_like(np.zeros((1, 2)))
    assert like.dtype == np.float64 and float(bprop.reduce_sum(like)) == 2.0
    assert bprop.zeros_like(bprop.Variable([1.0, 2.0])).dtype == np.float32
    with pytest.raises(ValueError, match="shape: expected non-negative ints"):
        bprop.zeros([-1])
