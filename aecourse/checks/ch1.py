"""Checks of chapter 1, undercomplete autoencoders."""

import numpy as np

from aecourse import linear
from aecourse.checks import call, expect_close, fail, fresh_rng, passed


def reference_per_image_error(x, x_hat):
    """Squared error summed over the pixels of each image, shape `(n,)`."""
    x, x_hat = np.asarray(x, "float64"), np.asarray(x_hat, "float64")
    return np.sum((x - x_hat) ** 2, axis=tuple(range(1, x.ndim)))


def check_per_image_error(per_image_error):
    """Checks `per_image_error(x, x_hat)`: squared error summed per image."""
    label = "ex-1-error"
    rng = fresh_rng()
    for shape in ((7, 784), (3, 28, 28)):
        x, x_hat = rng.random(shape), rng.random(shape)
        got = call(label, per_image_error, x, x_hat)
        if got.shape != (shape[0],):
            fail(label, f"return one error per image, shape ({shape[0]},); got shape {got.shape}. "
                        "Sum over every axis except the first.")
        expect_close(label, got, reference_per_image_error(x, x_hat),
                     "the per-image errors (sum of squared pixel differences, not the mean)")
    passed(label, "per-image squared error matches the reference")


def check_pca_reconstruct(pca_reconstruct):
    """Checks `pca_reconstruct(x_train, x_test, k)` against an SVD reference."""
    label = "ex-1-pca"
    rng = fresh_rng()
    mixing = rng.normal(size=(6, 20)) * np.linspace(3, 0.3, 6)[:, None]
    x_train = rng.normal(size=(200, 6)) @ mixing + rng.normal(0, 0.1, (200, 20)) + 5.0
    x_test = rng.normal(size=(30, 6)) @ mixing + rng.normal(0, 0.1, (30, 20)) + 5.0
    for k in (2, 5):
        got = call(label, pca_reconstruct, x_train, x_test, k)
        expect_close(label, got, linear.pca_reconstruct(x_train, x_test, k),
                     f"the k={k} reconstructions (centre with the training mean, project on "
                     "the top-k right singular vectors, add the mean back)", rtol=1e-3, atol=1e-3)
    passed(label, "PCA reconstruction via SVD matches the reference")


def reference_tied_decode(h, kernel, bias):
    """Tied-weights decoder: `sigmoid(h @ kernel.T + bias)`."""
    return 1.0 / (1.0 + np.exp(-(h @ kernel.T + bias)))


def check_tied_decode(tied_decode):
    """Checks `tied_decode(h, kernel, bias)` for an encoder kernel of shape `(D, K)`."""
    label = "ex-1-tied"
    rng = fresh_rng()
    input_dim, code_dim = 12, 5
    kernel = rng.normal(size=(input_dim, code_dim))
    bias = rng.normal(size=input_dim)
    h = rng.normal(size=(9, code_dim))
    got = call(label, tied_decode, h, kernel, bias)
    expect_close(label, got, reference_tied_decode(h, kernel, bias),
                 "the reconstructions (transpose the encoder's (D, K) kernel, add the bias, "
                 "apply a sigmoid)")
    passed(label, "tied-weights decoder matches the reference")
