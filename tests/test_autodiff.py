"""value_and_gradients: autodiff on the current backend against closed forms, in the inputs' precision."""

import keras
import numpy as np
import pytest

from aecourse.autodiff import value_and_gradients


def test_gradients_match_closed_forms_in_float64():
    # Elementwise ops only: Keras's torch matmul computes float64 inputs in float32.
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal(6), rng.standard_normal((6, 3))

    def function(a, w):
        return keras.ops.sum(keras.ops.sigmoid(a[:, None] * w) ** 2)

    value, (grad_a, grad_w) = value_and_gradients(function, a, w)
    s = 1 / (1 + np.exp(-(a[:, None] * w)))
    upstream = 2 * s * s * (1 - s)  # d s^2 / d(a_i w_ij)
    assert value == pytest.approx(np.sum(s**2), rel=1e-14)
    np.testing.assert_allclose(grad_a, np.sum(upstream * w, axis=1), rtol=1e-12)
    np.testing.assert_allclose(grad_w, upstream * a[:, None], rtol=1e-12)
    assert grad_a.dtype == np.float64 and grad_w.shape == (6, 3)


def test_gradients_through_a_matmul():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((4, 5)).astype("float32"), rng.standard_normal((5, 2)).astype("float32")
    _, (grad_w,) = value_and_gradients(lambda w: keras.ops.sum(keras.ops.matmul(x, w) ** 2), w)
    np.testing.assert_allclose(grad_w, 2 * x.T @ (x @ w), rtol=1e-5)


def test_float32_inputs_give_float32_gradients():
    value, (grad,) = value_and_gradients(lambda x: keras.ops.sum(x**3), np.array([1.0, 2.0], "float32"))
    assert value == pytest.approx(9.0) and grad.dtype == np.float32
    np.testing.assert_allclose(grad, [3.0, 12.0])


def test_l1_of_sigmoid_gradient_vanishes_and_relu_gradient_is_exactly_zero_below_zero():
    a = np.array([-6.0, -1.0, 1.0, 3.0])
    _, (sigmoid,) = value_and_gradients(lambda a: keras.ops.sum(keras.ops.abs(keras.ops.sigmoid(a))), a)
    _, (relu,) = value_and_gradients(lambda a: keras.ops.sum(keras.ops.abs(keras.ops.relu(a))), a)
    h = 1 / (1 + np.exp(-a))
    np.testing.assert_allclose(sigmoid, h * (1 - h), rtol=1e-12)
    np.testing.assert_array_equal(relu, [0.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize("function, inputs, message", [
    ("not callable", (np.ones(2),), "function must be callable"),
    (lambda x: keras.ops.sum(x), (np.ones(2, "int32"),), "floating-point arrays"),
    (lambda x: keras.ops.sum(x), (), "at least one input"),
])
def test_bad_input_is_refused_with_the_fix(function, inputs, message):
    with pytest.raises(ValueError, match=message):
        value_and_gradients(function, *inputs)
