"""Chapter-9 checks pass the reference answers and reject plausible wrong ones."""

import keras
import numpy as np
import pytest
from scipy.signal import convolve

from aecourse.checks import ExerciseFailure, ch9

# ----------------------------------------------------------------------------- ex-9-rl-step


def _rl(estimate, blurred, psf, flip=True, eps=0.0):
    mirror = psf[::-1, ::-1] if flip else psf
    return estimate * convolve(blurred / (convolve(estimate, psf, mode="same") + eps), mirror, mode="same")


def test_rl_step(capsys):
    ch9.check_richardson_lucy_step(_rl)
    assert capsys.readouterr().out.startswith("\u2714 ex-9-rl-step:")


def test_rl_reference_is_scikit_image_first_iteration():
    from skimage.restoration import richardson_lucy

    rng = np.random.default_rng(0)
    psf = ch9._gaussian_psf(7, 0.8, 1.6, -0.7, 1.2)
    blurred = convolve(rng.uniform(0.1, 1, (20, 20)), psf, mode="same")
    expected = richardson_lucy(blurred, psf, num_iter=1, clip=False)  # starts from 0.5 everywhere
    np.testing.assert_allclose(ch9.reference_richardson_lucy_step(np.full((20, 20), 0.5), blurred, psf), expected,
                               rtol=1e-6)


@pytest.mark.parametrize("wrong, message", [
    (lambda e, b, p: _rl(e, b, p, flip=False), "flipped"),
    (lambda e, b, p: e * convolve(b / convolve(e, p, mode="same"), p[::-1], mode="same"), "differ"),  # rows only
    (lambda e, b, p: e * convolve(b / convolve(e, p, mode="same"), p[:, ::-1], mode="same"), "differ"),  # columns
    (lambda e, b, p: e + convolve(b - convolve(e, p, mode="same"), p[::-1, ::-1], mode="same"), "differ"),  # Landweber
    (lambda e, b, p: convolve(b / convolve(e, p, mode="same"), p[::-1, ::-1], mode="same"), "differ"),  # no estimate *
    (lambda e, b, p: e * convolve(b / convolve(e, p, mode="valid"), p[::-1, ::-1], mode="full"), "shape"),
])
def test_rl_step_rejects(wrong, message):
    with pytest.raises(ExerciseFailure, match=f"^ex-9-rl-step.*{message}"):
        ch9.check_richardson_lucy_step(wrong)


def test_rl_step_must_not_change_its_input():
    def in_place(estimate, blurred, psf):
        estimate *= convolve(blurred / convolve(estimate, psf, mode="same"), psf[::-1, ::-1], mode="same")
        return estimate

    with pytest.raises(ExerciseFailure, match="^ex-9-rl-step"):
        ch9.check_richardson_lucy_step(in_place)


# ----------------------------------------------------------------------------- ex-9-denoiser


def _residual_cnn(channels=(16,), last_relu=False):
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for c in channels:
        x = keras.layers.Conv2D(c, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(1, 3, padding="same", activation="relu" if last_relu else None)(x)
    return keras.Model(inputs, keras.layers.Add()([inputs, x]))


def _trained(x_train, epochs=3, channels=(32, 32, 32)):
    keras.utils.set_random_seed(0)
    model = _residual_cnn(channels)
    model.compile(keras.optimizers.Adam(2e-3), "mse")
    images = x_train.reshape(-1, 28, 28, 1).astype("float32")
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        model.fit(images + ch9.DENOISER_SIGMA * rng.standard_normal(images.shape).astype("float32"), images,
                  batch_size=32, epochs=1, verbose=0)
    return model


@pytest.mark.training
def test_denoiser_model_answer_passes(capsys):
    ch9.check_denoiser(_trained)
    assert capsys.readouterr().out.startswith("\u2714 ex-9-denoiser:")


def test_denoiser_rejects_an_untrained_network():
    with pytest.raises(ExerciseFailure, match="^ex-9-denoiser.*not at least"):
        ch9.check_denoiser(lambda x: _residual_cnn((8,)))


def test_denoiser_rejects_a_zero_correction():  # the identity: the noisy image itself
    def identity(x):
        model = _residual_cnn((8,))
        model.set_weights([np.zeros_like(w) for w in model.get_weights()])
        return model

    with pytest.raises(ExerciseFailure, match="^ex-9-denoiser.*not at least"):
        ch9.check_denoiser(identity)


@pytest.mark.parametrize("build", [
    lambda: keras.Sequential([keras.Input((784,)), keras.layers.Dense(64), keras.layers.Dense(784)]),
    lambda: keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, padding="same"),
                              keras.layers.Conv2D(2, 3, padding="same")]),           # two output channels
    lambda: keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 4, padding="same"),
                              keras.layers.Conv2D(1, 4, padding="same")]),           # even kernels
    lambda: keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(1, 3, padding="same")]),  # one layer
])
def test_denoiser_rejects_other_architectures(build):
    with pytest.raises(ExerciseFailure, match="^ex-9-denoiser: expected"):
        ch9.check_denoiser(lambda x: build())


def test_rebuilt_network_computes_what_the_learner_trained():
    model = _residual_cnn((8, 4))
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    rebuilt = ch9.residual_cnn(list(zip(model.get_weights()[::2], model.get_weights()[1::2])))
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


# ----------------------------------------------------------------------------- ex-9-wiener-gain


def test_wiener_gain(capsys):
    ch9.check_wiener_gain(np.array([2.0, 0.006, 0.015]))
    assert capsys.readouterr().out == "\u2714 ex-9-wiener-gain: the Wiener gain and the two errors are right\n"


@pytest.mark.parametrize("wrong, message", [
    ([5.0, 0.015, 0.015], "inverse filter"),
    ([0.2 / (0.04 + 6e-4), 0.0, 0.015], "SIGNAL"),
    ([2.5, 0.00625, 0.015], "derivative"),
    ([2.0, 0.0036, 0.015], "differ"),  # the noise term left out of the error
    ([2.0, 0.006, 0.01], "doing nothing"),  # the error of G = 0
    ([2.0, 0.006], "three numbers"),
])
def test_wiener_gain_rejects(wrong, message):
    with pytest.raises(ExerciseFailure, match=f"^ex-9-wiener-gain.*{message}"):
        ch9.check_wiener_gain(np.array(wrong))


# ----------------------------------------------------------------------------- ex-9-blurry-fill


def test_blurry_fill_needs_an_answer():
    with pytest.raises(ExerciseFailure, match="^ex-9-blurry-fill"):
        ch9.check_blurry_fill("It averages.")
