"""Every chapter-1 check passes the reference and rejects plausible wrong answers."""

import numpy as np
import pytest

from aecourse.checks import ExerciseFailure, ch1


def test_per_image_error(capsys):
    ch1.check_per_image_error(lambda x, r: np.sum((x - r) ** 2, axis=tuple(range(1, x.ndim))))
    assert capsys.readouterr().out == "\u2714 ex-1-error: per-image squared error matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda x, r: np.mean((x - r) ** 2, axis=tuple(range(1, x.ndim))),      # mean, not sum
    lambda x, r: np.sum((x - r) ** 2),                                      # one number for the batch
    lambda x, r: np.sum(np.abs(x - r), axis=tuple(range(1, x.ndim))),      # absolute error
    lambda x, r: np.sum((x - r) ** 2, axis=1),                              # breaks on (n, 28, 28)
])
def test_per_image_error_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="ex-1-error"):
        ch1.check_per_image_error(wrong)


def _pca(x_train, x_test, k, centre=True, top=True, add_mean=True):
    mu = x_train.mean(axis=0) if centre else 0
    _, _, vt = np.linalg.svd(x_train - mu, full_matrices=False)
    v = (vt[:k] if top else vt[-k:]).T
    return (mu if add_mean else 0) + (x_test - mu) @ v @ v.T


def test_pca_reconstruct(capsys):
    ch1.check_pca_reconstruct(_pca)
    assert capsys.readouterr().out.startswith("\u2714 ex-1-pca:")


@pytest.mark.parametrize("kwargs", [{"centre": False}, {"top": False}, {"add_mean": False}])
def test_pca_reconstruct_rejects(kwargs):
    with pytest.raises(ExerciseFailure, match="ex-1-pca"):
        ch1.check_pca_reconstruct(lambda a, b, k: _pca(a, b, k, **kwargs))


def test_tied_decode(capsys):
    ch1.check_tied_decode(lambda h, w, b: 1 / (1 + np.exp(-(h @ w.T + b))))
    assert capsys.readouterr().out.startswith("\u2714 ex-1-tied:")


@pytest.mark.parametrize("wrong", [
    lambda h, w, b: h @ w.T + b,                               # no sigmoid
    lambda h, w, b: np.maximum(h @ w.T + b, 0),                # ReLU output
    lambda h, w, b: 1 / (1 + np.exp(-(h @ w.T))),              # bias forgotten
    lambda h, w, b: 1 / (1 + np.exp(-(h @ w + b))),            # no transpose (shape error)
])
def test_tied_decode_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="ex-1-tied"):
        ch1.check_tied_decode(wrong)


def test_unanswered_and_crashing_answers_fail_clearly():
    def unanswered(x, r):
        raise NotImplementedError("ex-1-error")

    with pytest.raises(ExerciseFailure, match="not answered yet"):
        ch1.check_per_image_error(unanswered)
    with pytest.raises(ExerciseFailure, match="ZeroDivisionError"):
        ch1.check_per_image_error(lambda x, r: 1 / 0)
    with pytest.raises(ExerciseFailure, match="expected a function"):
        ch1.check_per_image_error(42)


def _pca_autoencoder_weights(x_train, code):
    """Weights of Dense(code, relu) -> Dense(784, sigmoid) that pass the bound without training:
    a PCA encoder shifted to stay positive, and a least-squares decoder in logit space."""
    mean, components = np.mean(x_train, 0), np.linalg.svd(x_train - np.mean(x_train, 0), full_matrices=False)[2][:code]
    kernel, bias = components.T, 20.0 - mean @ components.T
    h = np.maximum(x_train @ kernel + bias, 0)
    design = np.hstack([h, np.ones((len(h), 1))])
    logits = np.log(np.clip(x_train, 0.02, 0.98) / (1 - np.clip(x_train, 0.02, 0.98)))
    solution = np.linalg.lstsq(design, logits, rcond=None)[0]
    return [kernel, bias, solution[:-1], solution[-1]]


def test_trained_autoencoder_is_judged_on_held_out_images(capsys):
    ch1.check_trained_autoencoder(lambda x_train: _pca_autoencoder_weights(x_train, 32))
    assert capsys.readouterr().out.startswith("\u2714 ex-1-train: trained autoencoder reconstructs held-out")


@pytest.mark.parametrize("wrong, words", [
    (lambda x: [np.zeros((784, 32)), np.zeros(32), np.zeros((32, 784)), np.zeros(784)], "not below"),
    (lambda x: _pca_autoencoder_weights(x, 6), "not below 23"),  # about 25.5: a weak model the bound of 30 let pass
    (lambda x: _pca_autoencoder_weights(x, 64), "K <= 32"),                      # too wide a code
    (lambda x: [np.eye(784), np.zeros(784), np.eye(784), np.zeros(784)], "K <= 32"),  # no bottleneck
    (lambda x: "a model", "expected a Keras model"),
])
def test_trained_autoencoder_rejects(wrong, words):
    with pytest.raises(ExerciseFailure, match=words):
        ch1.check_trained_autoencoder(wrong)


def test_linear_error_is_checked_by_value(capsys):
    ch1.check_linear_error(0.5 + 0.25 + 1.0 + 2.0)
    assert capsys.readouterr().out.startswith("\u2714 ex-1-linear-error:")
    for wrong in (9.0, 2.0 + 1.0, 0.25, np.array([3.75, 3.75])):  # kept variance, one term lost, ...
        with pytest.raises(ExerciseFailure, match="ex-1-linear-error"):
            ch1.check_linear_error(wrong)
    with pytest.raises(ExerciseFailure, match="not answered yet"):
        ch1.check_linear_error(...)


def test_explain_only_confirms_an_answer(capsys):
    ch1.check_control_answer("The garment-only network saw about 1.7 times as many images of each garment class, "
                             "because the control's random subset of the same size is only 60% garments; "
                             "equal counts per seen class would remove that.")
    assert capsys.readouterr().out.startswith("\u2714 ex-1-control: answered")
    for wrong, words in ((..., "not answered yet"), ("It saw more of them.", "at least 25 words"), (42, "string")):
        with pytest.raises(ExerciseFailure, match=words):
            ch1.check_control_answer(wrong)
