"""Checks of chapter 4, contractive autoencoders."""

import numpy as np
from keras import ops

from aecourse import contractive
from aecourse.checks import (DERIVE, EXPLAIN, IMPLEMENT, TRAIN, Check, Function, expect_close, expect_one_hidden_layer,
                             expect_shape, fail, fashion_training_sample, held_out_test_images, materialize)


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _slope_inputs(rng):
    return [(rng.normal(0.0, 3.0, size=(7, 5)),)]


def _judge_slope(cases, results):
    for (a,), got in zip(cases, results):
        expect_close("ex-4-slope", got, _sigmoid(a) * (1.0 - _sigmoid(a)),
                     "the slopes (elementwise s(a) * (1 - s(a)), with s the sigmoid of a)")
    return "sigmoid derivative matches the reference"


check_sigmoid_derivative = Check("ex-4-slope", IMPLEMENT, inputs=_slope_inputs, judge=_judge_slope)


def reference_contractive_penalty(x, kernel, bias):
    """`||J_f(x)||_F^2` per example for `h = sigmoid(x W + b)`, in closed form."""
    h = _sigmoid(np.asarray(x) @ kernel + bias)
    return np.asarray(ops.convert_to_numpy(contractive.sigmoid_contraction(h, kernel)), "float64")


def _penalty_inputs(rng):
    n, input_dim, code_dim = 6, 11, 7
    return [(rng.random((n, input_dim)), rng.normal(0, 0.7, (input_dim, code_dim)), rng.normal(0, 1, code_dim))]


def _judge_penalty(cases, results):
    label = "ex-4-penalty"
    for (x, kernel, bias), got in zip(cases, results):
        expect_shape(label, got, (len(x),), "Return one penalty per example.")
        expect_close(label, got, reference_contractive_penalty(x, kernel, bias),
                     "the penalties (square the slopes h(1-h), weight each unit j by the squared "
                     "norm of its kernel column W[:, j], sum over units)")
    return "closed-form contractive penalty matches the reference"


check_contractive_penalty = Check("ex-4-penalty", IMPLEMENT, inputs=_penalty_inputs, judge=_judge_penalty)


def _jacobian_inputs(rng):
    # Every pre-activation u of tanh(A x + b) lies in the curved part of tanh, |u| in [0.4, 1.2], where
    # |f''| >= 0.5: a forward difference is then off by about step/2 * |f''| * A_ij^2, far above the
    # tolerance, and a central one by at most about step^2/6 * 2 * |A_ij|^3 < 3e-6 (entries clipped to 2).
    input_dim, output_dim = 6, 4
    matrix, x = np.clip(rng.normal(size=(output_dim, input_dim)), -2.0, 2.0), rng.normal(size=input_dim)
    target = rng.uniform(0.4, 1.2, output_dim) * rng.choice([-1.0, 1.0], output_dim)
    return [(Function("tanh_affine", (matrix, target - matrix @ x)), x, 1e-3)]


def _judge_jacobian(cases, results):
    for (function, x, _), got in zip(cases, results):
        matrix, offset = function.params
        slope = 1.0 - np.tanh(matrix @ x + offset) ** 2
        expect_close("ex-4-fd-jacobian", got, slope[:, None] * matrix,
                     "the Jacobian (shape (outputs, inputs); entry [j, i] = "
                     "(f_j(x + step e_i) - f_j(x - step e_i)) / (2 step))", rtol=0, atol=3e-5)
    return "central-difference Jacobian matches the analytic one"


check_finite_difference_jacobian = Check("ex-4-fd-jacobian", IMPLEMENT, inputs=_jacobian_inputs,
                                         judge=_judge_jacobian)


def _ratio_inputs(rng):
    kernel, bias = rng.normal(0, 0.5, (9, 5)), rng.normal(size=5)
    return [(Function("sigmoid_affine", (kernel, bias)), rng.random((8, 9)), rng.normal(0, 0.1, (8, 9)))]


def _judge_ratio(cases, results):
    for (function, x, eps), got in zip(cases, results):
        expected = contractive.contraction_ratio(materialize(function), x, eps)
        expect_shape("ex-4-ratio", got, np.shape(expected), "Return one ratio per example.")
        expect_close("ex-4-ratio", got, expected,
                     "the ratios (Euclidean norms, not squared: ||f(x + eps) - f(x)|| / ||eps||)")
    return "contraction ratio matches the reference"


check_contraction_ratio = Check("ex-4-ratio", IMPLEMENT, inputs=_ratio_inputs, judge=_judge_ratio)


# ----------------------------------------------------------------------------- chapter 4, issue 16:
# a contractive layer trained in a model (train) and the loss it adds (implement), the cross term of the small-noise expansion
# (derive), why the penalty's weight decay shrinks the filters so much more under Adam than under
# plain gradient descent (explain). Protocol: aecourse.checks.Check.

CAE_TRAIN_IMAGES, CAE_HELD_OUT, CAE_MIN_UNITS, CAE_MAX_UNITS = 2000, 2000, 100, 256
# Measured (10 epochs, Adam 3e-3): with the penalty (lambda 3e-3) K = 128 scores error 19.3, ||J|| 1.28, and
# K = 256 17.4, 1.51; without it K = 100 scores 19.8, 3.40 and K = 128 18.0, 3.92. A narrow plain network
# escapes a bound on ||J|| (K = 64: 26.1, 2.34), hence the smallest K.
CAE_ERROR_BOUND, CAE_JACOBIAN_BOUND = 25.0, 2.0


def reference_cae_measures(x, weights):
    """Mean per-image squared error and mean `||J_f(x)||_F` of `sigmoid(x W + b) -> sigmoid(h V + c)`."""
    kernel, bias, kernel_out, bias_out = (np.asarray(w, "float64") for w in weights)
    h = _sigmoid(x @ kernel + bias)
    r = _sigmoid(h @ kernel_out + bias_out)
    jacobian_norm = np.sqrt(np.sum((h * (1.0 - h)) ** 2 * np.sum(kernel**2, axis=0), axis=1))
    return float(np.mean(np.sum((x - r) ** 2, axis=1))), float(np.mean(jacobian_norm))


def _judge_cae(cases, results):
    label = "ex-4-train-cae"
    weights = results[0]
    expect_one_hidden_layer(label, weights, CAE_MIN_UNITS, CAE_MAX_UNITS,
                            "ContractiveSigmoid(K) -> Dense(784, sigmoid)")
    held_out = held_out_test_images(CAE_HELD_OUT)
    error, jacobian_norm = reference_cae_measures(held_out, weights)
    if not error < CAE_ERROR_BOUND:
        fail(label, f"the mean per-image squared error on held-out test images is {error:.1f}, not below "
                    f"{CAE_ERROR_BOUND:g}: the penalty is too strong, or the model is under-trained.")
    if not jacobian_norm < CAE_JACOBIAN_BOUND:
        fail(label, f"the mean ||J_f(x)||_F on held-out test images is {jacobian_norm:.2f}, not below "
                    f"{CAE_JACOBIAN_BOUND:g}: does your layer add the penalty with add_loss in training, "
                    "and is lambda large enough?")
    return (f"the trained network has held-out error below {CAE_ERROR_BOUND:g} and mean ||J_f||_F below "
            f"{CAE_JACOBIAN_BOUND:g} (whether your layer adds the right penalty is checked in ex-4-layer-loss)")


check_trained_cae = Check("ex-4-train-cae", TRAIN, inputs=fashion_training_sample(CAE_TRAIN_IMAGES), judge=_judge_cae)


def _layer_loss_inputs(rng):
    # Several examples (a sum over them instead of the mean fails), large weights (an unsquared slope or
    # plain weight decay, lambda * sum W^2, is far off), and two strengths (a missing lambda fails).
    cases = []
    for n, input_dim, units, contraction in ((8, 12, 5, 0.3), (5, 7, 9, 2.0)):
        cases.append((rng.random((n, input_dim)), rng.normal(0.0, 0.8, (input_dim, units)), rng.normal(0.0, 1.0, units),
                      contraction))
    return cases


def _judge_layer_loss(cases, results):
    label = "ex-4-layer-loss"
    for (x, kernel, bias, contraction), got in zip(cases, results):
        expect_close(label, got, contraction * np.mean(reference_contractive_penalty(x, kernel, bias)),
                     "the loss your layer added in training: lambda times the mean over the batch of "
                     "sum_j (h_j (1 - h_j))^2 sum_i W_ij^2 (is the slope squared? the mean over examples, "
                     "not the sum? the loss added only with training=True?)", rtol=1e-4, atol=1e-7)
    return "your ContractiveSigmoid layer adds lambda * mean ||J_f(x)||_F^2"


check_layer_loss = Check("ex-4-layer-loss", IMPLEMENT, inputs=_layer_loss_inputs, judge=_judge_layer_loss)

CROSS_SLOPE, CROSS_OFFSET, CROSS_POINT = 4.0, -1.0, 0.1


def reference_noise_coefficient(slope=CROSS_SLOPE, offset=CROSS_OFFSET, point=CROSS_POINT):
    """`r'(x)^2 - (x - r(x)) r''(x)` for `r(x) = sigmoid(a x + c)`: the sigma^2 coefficient of the excess loss."""
    s = _sigmoid(slope * point + offset)
    first, second = slope * s * (1 - s), slope**2 * s * (1 - s) * (1 - 2 * s)
    return first**2 - (point - s) * second


def _judge_noise_coefficient(cases, results):
    label = "ex-4-cross-term"
    got = results[0]
    if got.size != 1:
        fail(label, f"give one number; got an array of shape {got.shape}.")
    expected = reference_noise_coefficient()
    if not abs(float(got.reshape(())) - expected) < 1e-6 * max(1.0, abs(expected)):
        fail(label, f"{float(got.reshape(())):.6g} is not the coefficient. Expand r(x + eps) to second order, "
                    "take the expectation (E eps = 0, E eps^2 = sigma^2) and keep both sigma^2 terms, "
                    "the squared slope and the residual-weighted curvature, with their signs.")
    return "the sigma^2 coefficient, cross term included, is right"


check_noise_coefficient = Check("ex-4-cross-term", DERIVE, judge=_judge_noise_coefficient)

check_smooth_filters_answer = Check("ex-4-smooth-filters", EXPLAIN, min_words=25)
