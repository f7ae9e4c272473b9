"""Corruption layers: statistics, structure, training-only behaviour, seeding, saving."""

import keras
import numpy as np
import pytest

from aecourse import noise
from aecourse.denoising import corrupt


def _x(shape=(200, 500), low=0.05, high=0.95):
    return np.random.default_rng(0).uniform(low, high, shape).astype("float32")


@pytest.mark.parametrize("rate", [0.3, 0.5])
def test_masking_zeroes_a_fraction_rate_and_keeps_the_rest(rate):
    x = _x()
    corrupted, mask = corrupt(noise.MaskingCorruption(rate, seed=0), x)
    assert abs(mask.mean() - rate) < 0.01
    np.testing.assert_array_equal(corrupted == 0, mask == 1)
    np.testing.assert_array_equal(corrupted[mask == 0], x[mask == 0])  # no dropout-style rescaling


def test_salt_and_pepper_structure():
    x = _x()
    corrupted, mask = corrupt(noise.SaltAndPepperCorruption(0.2, seed=0), x)
    assert abs(mask.mean() - 0.2) < 0.01
    assert set(np.unique(corrupted[mask == 1])) == {0.0, 1.0}
    assert abs(np.mean(corrupted[mask == 1]) - 0.5) < 0.02  # fair coin: half salt, half pepper
    np.testing.assert_array_equal(corrupted[mask == 0], x[mask == 0])


def test_gaussian_noise_statistics_and_clipping():
    x = np.full((200, 500), 0.5, "float32")
    unclipped, mask = corrupt(noise.GaussianCorruption(0.1, clip=False, seed=0), x)
    assert np.all(mask == 1)
    assert abs((unclipped - x).mean()) < 0.002 and abs((unclipped - x).std() - 0.1) < 0.002
    clipped, _ = corrupt(noise.GaussianCorruption(1.0, seed=0), x)
    assert clipped.min() == 0.0 and clipped.max() == 1.0


def test_gaussian_psnr_is_minus_20_log10_sigma():
    """The chapter's claim: unclipped Gaussian noise of std sigma gives PSNR ~ -20 log10(sigma)."""
    from aecourse.denoising import psnr

    x = np.full((100, 784), 0.5, "float32")
    noisy, _ = corrupt(noise.GaussianCorruption(0.1, clip=False, seed=0), x)
    assert abs(psnr(x, noisy).mean() - 20.0) < 0.1


def test_block_masking_hides_one_square_block():
    x = np.ones((50, 784), "float32")
    corrupted, mask = corrupt(noise.BlockMaskingCorruption(12, (28, 28), seed=0), x)
    images = mask.reshape(-1, 28, 28)
    assert np.all(images.sum(axis=(1, 2)) == 144)
    for image in images:
        rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        assert len(rows) == len(cols) == 12 and np.ptp(rows) == np.ptp(cols) == 11
    assert len({tuple(np.argwhere(image)[0]) for image in images}) > 10  # positions vary
    np.testing.assert_array_equal(corrupted, 1 - mask)
    square, _ = corrupt(noise.BlockMaskingCorruption(12, (28, 28), seed=0), x.reshape(-1, 28, 28))
    assert square.shape == (50, 28, 28)


@pytest.mark.parametrize("layer", [
    noise.GaussianCorruption(0.3, seed=0), noise.MaskingCorruption(0.4, seed=0),
    noise.SaltAndPepperCorruption(0.2, seed=0), noise.BlockMaskingCorruption(5, (10, 10), seed=0)])
def test_only_in_training_unless_always(layer):
    x = _x((8, 100))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    assert not np.allclose(keras.ops.convert_to_numpy(layer(x, training=True)), x)
    always = layer.__class__.from_config({**layer.get_config(), "always": True})
    assert not np.allclose(keras.ops.convert_to_numpy(always(x)), x)


def test_seeded_layers_reproduce_and_advance():
    x = _x((8, 100))
    first = keras.ops.convert_to_numpy(noise.MaskingCorruption(0.5, seed=3)(x, training=True))
    layer = noise.MaskingCorruption(0.5, seed=3)
    again = keras.ops.convert_to_numpy(layer(x, training=True))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(again, keras.ops.convert_to_numpy(layer(x, training=True)))


@pytest.mark.parametrize("make", [
    lambda: noise.GaussianCorruption(0.2, clip=False, seed=1), lambda: noise.MaskingCorruption(0.3, seed=1),
    lambda: noise.SaltAndPepperCorruption(0.1, always=True, seed=1),
    lambda: noise.BlockMaskingCorruption(4, (8, 8), seed=1)])
def test_save_and_reload_in_a_model(tmp_path, make):
    model = keras.Sequential([keras.Input((64,)), make(), keras.layers.Dense(3)])
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert reloaded.layers[0].get_config() == model.layers[0].get_config()
    x = _x((4, 64))
    if not model.layers[0].always:
        np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("make, match", [
    (lambda: noise.MaskingCorruption(1.5), "rate"), (lambda: noise.MaskingCorruption(-0.1), "rate"),
    (lambda: noise.SaltAndPepperCorruption(2), "rate"), (lambda: noise.SaltAndPepperCorruption("0.1"), "rate"),
    (lambda: noise.GaussianCorruption(-1.0), "stddev"),
    (lambda: noise.BlockMaskingCorruption(30, (28, 28)), "block_size"),
    (lambda: noise.BlockMaskingCorruption(5, (28,)), "image_shape")])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_block_masking_rejects_wrong_image_size():
    with pytest.raises(ValueError, match="784"):
        noise.BlockMaskingCorruption(5, (28, 28), always=True)(np.zeros((2, 100), "float32"))


def test_rate_edges():
    x = _x((10, 50))
    np.testing.assert_array_equal(corrupt(noise.MaskingCorruption(0.0, seed=0), x)[0], x)
    assert np.all(corrupt(noise.MaskingCorruption(1.0, seed=0), x)[0] == 0)
