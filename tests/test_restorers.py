import keras
import numpy as np
import pytest

from aecourse import denoising, restorers


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.uniform(0.2, 0.9, (40, 784)).astype("float32")


def test_noise_has_the_requested_level_and_depends_on_the_seed(images):
    noisy, known = restorers.degrade(images, "noise", seed=1, noise_sigma=0.2)
    assert np.all(known == 1)
    assert abs(np.std(noisy - images) - 0.2) < 0.01
    assert np.array_equal(noisy, restorers.degrade(images, "noise", seed=1, noise_sigma=0.2)[0])
    assert not np.array_equal(noisy, restorers.degrade(images, "noise", seed=2, noise_sigma=0.2)[0])


def test_blur_is_the_gaussian_blur_plus_small_noise(images):
    blurred, known = restorers.degrade(images, "blur", seed=0, blur_sigma=1.0, blur_noise=0.01)
    difference = blurred - denoising.gaussian_blur(images, 1.0)
    assert np.all(known == 1) and abs(np.std(difference) - 0.01) < 0.001


def test_inpainting_hides_one_block_and_marks_it_unknown(images):
    degraded, known = restorers.degrade(images, "inpaint", seed=0, hole=12)
    hidden = (known == 0).reshape(-1, 28, 28)
    assert np.all(hidden.sum(axis=(1, 2)) == 144)
    rows, cols = hidden.any(axis=2).sum(axis=1), hidden.any(axis=1).sum(axis=1)
    assert np.all(rows == 12) and np.all(cols == 12)  # one 12x12 square
    assert np.all(degraded[known == 0] == 0) and np.array_equal(degraded[known == 1], images[known == 1])


def test_degrade_rejects_an_unknown_kind_and_bad_shapes(images):
    with pytest.raises(ValueError, match="kind must be one of"):
        restorers.degrade(images, "rain", seed=0)
    with pytest.raises(ValueError, match=r"shape \(n, 784\)"):
        restorers.degrade(images.reshape(40, 28, 28), "noise", seed=0)


def test_blur_kernel_is_the_blur_of_one_pixel():
    psf = restorers.blur_kernel(1.0)
    assert psf.shape == (9, 9) and np.isclose(psf.sum(), 1.0)
    image = np.zeros((1, 28, 28), "float32")
    image[0, 14, 14] = 1.0
    np.testing.assert_allclose(denoising.gaussian_blur(image, 1.0)[0, 10:19, 10:19], psf, atol=1e-6)
    with pytest.raises(ValueError, match="blur_sigma must be positive"):
        restorers.blur_kernel(0.0)


def test_mixed_degradation_uses_every_kind(images):
    degraded, known, which = restorers.degrade_mixed(images, restorers.DEGRADATIONS, seed=3)
    assert set(which) == {0, 1, 2}
    assert np.all(known[which != 2] == 1) and np.all((known[which == 2] == 0).sum(axis=1) == 144)
    with pytest.raises(ValueError, match="kinds must be"):
        restorers.degrade_mixed(images, ("noise", "snow"), seed=0)


@pytest.mark.parametrize("skips", [True, False])
def test_unet_maps_two_channel_images_to_one_channel(skips):
    model = restorers.unet(filters=(4, 8), skips=skips)
    assert model.input_shape == (None, 28, 28, 2) and model.output_shape == (None, 28, 28, 1)
    has_skip = any(isinstance(layer, keras.layers.Concatenate) for layer in model.layers)
    assert has_skip == skips


def test_plain_network_has_no_residual_path():
    model = restorers.unet(filters=(4,), skips=False, residual=False)
    assert not any(isinstance(layer, keras.layers.Add) for layer in model.layers)
    with pytest.raises(ValueError, match="divisible by"):
        restorers.unet(filters=(4, 8, 16))
    with pytest.raises(ValueError, match="filters must be"):
        restorers.unet(filters=())


def test_training_lowers_the_denoising_error(images):
    keras.utils.set_random_seed(0)
    model = restorers.unet(filters=(4, 8))
    noisy, known = restorers.degrade(images, "noise", seed=9, noise_sigma=0.2)
    before = np.mean((restorers.restore(model, noisy, known) - images) ** 2)
    losses = restorers.train_restorer(model, images, ("noise",), steps=60, batch_size=16, chunk=20,
                                      learning_rate=3e-3, noise_sigma=0.2)
    after = np.mean((restorers.restore(model, noisy, known) - images) ** 2)
    assert losses.shape == (3,) and after < before
    restored = restorers.restore(model, noisy, known)
    assert restored.shape == images.shape and restored.min() >= 0 and restored.max() <= 1


def test_train_restorer_rejects_bad_budgets(images):
    with pytest.raises(ValueError, match="must be positive"):
        restorers.train_restorer(restorers.unet(filters=(4,)), images, steps=0)


def test_model_inputs_checks_matching_shapes(images):
    with pytest.raises(ValueError, match="same shape"):
        restorers.model_inputs(images, images[:10])
