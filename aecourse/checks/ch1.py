"""Checks of chapter 1, undercomplete autoencoders: one exercise of each kind."""

import numpy as np

from aecourse import linear
from aecourse.checks import (DERIVE, EXPLAIN, IMPLEMENT, TRAIN, Check, expect_close, expect_one_hidden_layer,
                             expect_shape, fail, fashion_training_sample, held_out_test_images)


def reference_per_image_error(x, x_hat):
    """Squared error summed over the pixels of each image, shape `(n,)`."""
    x, x_hat = np.asarray(x, "float64"), np.asarray(x_hat, "float64")
    return np.sum((x - x_hat) ** 2, axis=tuple(range(1, x.ndim)))


def _error_inputs(rng):
    return [(rng.random(shape), rng.random(shape)) for shape in ((7, 784), (3, 28, 28))]


def _judge_error(cases, results):
    label = "ex-1-error"
    for (x, x_hat), got in zip(cases, results):
        expect_shape(label, got, (len(x),), "Return one error per image: sum over every axis except the first.")
        expect_close(label, got, reference_per_image_error(x, x_hat),
                     "the per-image errors (sum of squared pixel differences, not the mean)")
    return "per-image squared error matches the reference"


check_per_image_error = Check("ex-1-error", IMPLEMENT, inputs=_error_inputs, judge=_judge_error)


def _pca_inputs(rng):
    mixing = rng.normal(size=(6, 20)) * np.linspace(3, 0.3, 6)[:, None]
    x_train = rng.normal(size=(200, 6)) @ mixing + rng.normal(0, 0.1, (200, 20)) + 5.0
    x_test = rng.normal(size=(30, 6)) @ mixing + rng.normal(0, 0.1, (30, 20)) + 5.0
    return [(x_train, x_test, k) for k in (2, 5)]


def _judge_pca(cases, results):
    for (x_train, x_test, k), got in zip(cases, results):
        expect_close("ex-1-pca", got, linear.pca_reconstruct(x_train, x_test, int(k)),
                     f"the k={k} reconstructions (centre with the training mean, project on "
                     "the top-k right singular vectors, add the mean back)", rtol=1e-3, atol=1e-3)
    return "PCA reconstruction via SVD matches the reference"


check_pca_reconstruct = Check("ex-1-pca", IMPLEMENT, inputs=_pca_inputs, judge=_judge_pca)


def reference_tied_decode(h, kernel, bias):
    """Tied-weights decoder: `sigmoid(h @ kernel.T + bias)`."""
    return 1.0 / (1.0 + np.exp(-(h @ kernel.T + bias)))


def _tied_inputs(rng):
    input_dim, code_dim = 12, 5
    return [(rng.normal(size=(9, code_dim)), rng.normal(size=(input_dim, code_dim)), rng.normal(size=input_dim))]


def _judge_tied(cases, results):
    for (h, kernel, bias), got in zip(cases, results):
        expect_close("ex-1-tied", got, reference_tied_decode(h, kernel, bias),
                     "the reconstructions (transpose the encoder's (D, K) kernel, add the bias, "
                     "apply a sigmoid)")
    return "tied-weights decoder matches the reference"


check_tied_decode = Check("ex-1-tied", IMPLEMENT, inputs=_tied_inputs, judge=_judge_tied)

# ----------------------------------------------------------------------------- train

TRAIN_IMAGES, HELD_OUT_IMAGES, MAX_CODE, ERROR_BOUND = 2000, 2000, 32, 23.0


def reference_dense_reconstruct(x, weights):
    """`sigmoid(relu(x W1 + b1) W2 + b2)`: the reconstruction of a one-hidden-layer autoencoder."""
    kernel, bias, kernel_out, bias_out = (np.asarray(w, "float64") for w in weights)
    return 1.0 / (1.0 + np.exp(-(np.maximum(x @ kernel + bias, 0.0) @ kernel_out + bias_out)))


def _judge_train(cases, results):
    label = "ex-1-train"
    weights = results[0]
    expect_one_hidden_layer(label, weights, 1, MAX_CODE, "a model Dense(K, relu) -> Dense(784, sigmoid)")
    held_out = held_out_test_images(HELD_OUT_IMAGES)
    error = np.mean(np.sum((held_out - reference_dense_reconstruct(held_out, weights)) ** 2, axis=1))
    if not error < ERROR_BOUND:
        fail(label, f"the mean per-image squared error on held-out test images is {error:.1f}, not below "
                    f"{ERROR_BOUND:g}. The check rebuilds your model from its weights as Dense(K, relu) -> "
                    "Dense(784, sigmoid): use exactly these activations. Then train longer, or with a larger "
                    "learning rate (Adam, 1e-3 to 3e-3).")
    return f"trained autoencoder reconstructs held-out test images with error below {ERROR_BOUND:g}"


check_trained_autoencoder = Check("ex-1-train", TRAIN, inputs=fashion_training_sample(TRAIN_IMAGES), judge=_judge_train)

# ----------------------------------------------------------------------------- derive

EIGENVALUES, CODE_SIZE = (6.0, 3.0, 2.0, 1.0, 0.5, 0.25), 2


def _judge_linear_error(cases, results):
    expected = sum(sorted(EIGENVALUES, reverse=True)[CODE_SIZE:])
    got = results[0]
    if got.size != 1:
        fail("ex-1-linear-error", f"give one number; got an array of shape {got.shape}.")
    if not abs(float(got.reshape(())) - expected) < 1e-6:
        fail("ex-1-linear-error", f"{float(got.reshape(())):g} is not the minimal error. A linear autoencoder "
                                  "with squared error keeps the top-K principal subspace; which variances "
                                  "does it lose?")
    return "minimal linear reconstruction error is right"


check_linear_error = Check("ex-1-linear-error", DERIVE, judge=_judge_linear_error)

# ----------------------------------------------------------------------------- explain

check_control_answer = Check("ex-1-control", EXPLAIN, min_words=25)
