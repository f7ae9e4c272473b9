"""Checks of chapter 4, contractive autoencoders."""

import numpy as np
from keras import ops

from aecourse import contractive
from aecourse.checks import call, expect_close, fail, fresh_rng, passed


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def check_sigmoid_derivative(sigmoid_derivative):
    """Checks `sigmoid_derivative(a)`: the slope `s(a) (1 - s(a))`, elementwise."""
    label = "ex-4-slope"
    rng = fresh_rng()
    a = rng.normal(0.0, 3.0, size=(7, 5))
    got = call(label, sigmoid_derivative, a)
    expect_close(label, got, _sigmoid(a) * (1.0 - _sigmoid(a)),
                 "the slopes (elementwise s(a) * (1 - s(a)), with s the sigmoid of a)")
    passed(label, "sigmoid derivative matches the reference")


def reference_contractive_penalty(x, kernel, bias):
    """`||J_f(x)||_F^2` per example for `h = sigmoid(x W + b)`, in closed form."""
    h = _sigmoid(np.asarray(x) @ kernel + bias)
    return np.asarray(ops.convert_to_numpy(contractive.sigmoid_contraction(h, kernel)), "float64")


def check_contractive_penalty(contractive_penalty):
    """Checks `contractive_penalty(x, W, b)` against the package's closed form."""
    label = "ex-4-penalty"
    rng = fresh_rng()
    n, input_dim, code_dim = 6, 11, 7
    x = rng.random((n, input_dim))
    kernel, bias = rng.normal(0, 0.7, (input_dim, code_dim)), rng.normal(0, 1, code_dim)
    got = call(label, contractive_penalty, x, kernel, bias)
    if got.shape != (n,):
        fail(label, f"return one penalty per example, shape ({n},); got shape {got.shape}.")
    expect_close(label, got, reference_contractive_penalty(x, kernel, bias),
                 "the penalties (square the slopes h(1-h), weight each unit j by the squared "
                 "norm of its kernel column W[:, j], sum over units)")
    passed(label, "closed-form contractive penalty matches the reference")


def check_finite_difference_jacobian(finite_difference_jacobian):
    """Checks `finite_difference_jacobian(function, x, step)` (central differences)."""
    label = "ex-4-fd-jacobian"
    rng = fresh_rng()
    input_dim, output_dim = 6, 4
    matrix, offset = rng.normal(size=(output_dim, input_dim)), rng.normal(size=output_dim)

    def function(v):
        return np.tanh(matrix @ v + offset)

    x = rng.normal(size=input_dim)
    got = call(label, finite_difference_jacobian, function, x, 1e-3)
    slope = 1.0 - np.tanh(matrix @ x + offset) ** 2
    expect_close(label, got, slope[:, None] * matrix,
                 "the Jacobian (shape (outputs, inputs); entry [j, i] = "
                 "(f_j(x + step e_i) - f_j(x - step e_i)) / (2 step))", rtol=0, atol=1e-5)
    passed(label, "central-difference Jacobian matches the analytic one")


def check_contraction_ratio(contraction_ratio):
    """Checks `contraction_ratio(encode, x, eps)`: `||f(x + eps) - f(x)|| / ||eps||` per example."""
    label = "ex-4-ratio"
    rng = fresh_rng()
    kernel, bias = rng.normal(0, 0.5, (9, 5)), rng.normal(size=5)

    def encode(v):
        return _sigmoid(np.asarray(v) @ kernel + bias)

    x, eps = rng.random((8, 9)), rng.normal(0, 0.1, (8, 9))
    got = call(label, contraction_ratio, encode, x, eps)
    expected = contractive.contraction_ratio(encode, x, eps)
    if got.shape != expected.shape:
        fail(label, f"return one ratio per example, shape {expected.shape}; got shape {got.shape}.")
    expect_close(label, got, expected,
                 "the ratios (Euclidean norms, not squared: ||f(x + eps) - f(x)|| / ||eps||)")
    passed(label, "contraction ratio matches the reference")
