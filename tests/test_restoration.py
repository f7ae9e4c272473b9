import numpy as np
import pytest

from aecourse import linear, restoration


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    ticks = np.linspace(0, 1, 28)
    # smooth random images: products of low-frequency cosines
    a, b = rng.uniform(1, 3, (2, 60, 1))
    return (0.5 + 0.4 * np.cos(a * np.pi * ticks)[:, :, None] * np.cos(b * np.pi * ticks)[:, None, :]).reshape(60, 784)


def test_linear_denoiser_recovers_a_known_linear_map():
    rng = np.random.default_rng(1)
    clean = rng.random((2000, 4))
    noisy = clean + rng.normal(0, 0.1, clean.shape)
    W, b = restoration.fit_linear_denoiser(noisy, clean, ridge=0.0)
    # closed form: W = Cov(noisy)^-1 Cov(noisy, clean)
    cov = np.cov(noisy.T, bias=True)
    cross = (noisy - noisy.mean(0)).T @ (clean - clean.mean(0)) / len(noisy)
    np.testing.assert_allclose(W, np.linalg.solve(cov, cross), atol=1e-8)
    np.testing.assert_allclose(b, clean.mean(0) - noisy.mean(0) @ W, atol=1e-8)


def test_linear_denoisers_share_one_fit_per_ridge():
    rng = np.random.default_rng(5)
    clean = rng.random((300, 5))
    noisy = clean + rng.normal(0, 0.2, clean.shape)
    fits = restoration.fit_linear_denoisers(noisy, clean, [0.0, 0.1])
    for ridge in (0.0, 0.1):
        for got, expected in zip(fits[ridge], restoration.fit_linear_denoiser(noisy, clean, ridge)):
            np.testing.assert_allclose(got, expected)
    assert np.linalg.norm(fits[0.1][0]) < np.linalg.norm(fits[0.0][0])
    with pytest.raises(ValueError, match="non-negative"):
        restoration.fit_linear_denoisers(noisy, clean, [-1.0])


def test_pca_denoise_keeps_images_in_the_subspace(images):
    mean, components = linear.pca_basis(images, 10)
    projected = restoration.pca_denoise(images, mean, components, 10)
    np.testing.assert_allclose(restoration.pca_denoise(projected, mean, components, 10), projected, atol=1e-4)
    with pytest.raises(ValueError, match="k must be"):
        restoration.pca_denoise(images, mean, components, 11)


@pytest.mark.parametrize("method", restoration.SKIMAGE_DENOISERS)
def test_skimage_denoisers_reduce_noise(images, method):
    rng = np.random.default_rng(2)
    noisy = np.clip(images + rng.normal(0, 0.2, images.shape), 0, 1)
    denoised = restoration.skimage_denoise(noisy[:5], method, 0.1 if method == "tv" else 1.0, noise_sigma=0.2)
    assert denoised.shape == (5, 784)
    assert np.mean((denoised - images[:5]) ** 2) < np.mean((noisy[:5] - images[:5]) ** 2)


def test_skimage_denoise_rejects_bad_input(images):
    with pytest.raises(ValueError, match="method"):
        restoration.skimage_denoise(images, "median", 1.0)
    with pytest.raises(ValueError, match="noise_sigma"):
        restoration.skimage_denoise(images, "wavelet", 1.0)
    with pytest.raises(ValueError, match="shape"):
        restoration.skimage_denoise(np.zeros((2, 10)), "tv", 0.1)


def test_ssim_is_one_for_identical_images_and_lower_for_noisy(images):
    np.testing.assert_allclose(restoration.ssim(images[:3], images[:3]), 1.0)
    noisy = images[:3] + np.random.default_rng(3).normal(0, 0.2, (3, 784))
    assert np.all(restoration.ssim(images[:3], noisy) < 0.9)


def test_pca_inpaint_is_exact_for_images_in_the_subspace(images):
    mean, components = linear.pca_basis(images, 8)
    inside = mean + np.random.default_rng(4).normal(0, 0.05, (60, 8)) @ components
    hidden = np.zeros_like(inside)
    hidden[:, 300:400] = 1
    filled = restoration.pca_inpaint(np.where(hidden > 0, 0.0, inside), hidden, mean, components, 8, ridge=0.0)
    np.testing.assert_allclose(filled, inside, atol=1e-4)


def test_biharmonic_inpaint_fills_a_smooth_hole(images):
    hidden = np.zeros_like(images[:2])
    hidden[:, 14 * 28 + 10:14 * 28 + 14] = 1
    filled = restoration.biharmonic_inpaint(np.where(hidden > 0, 0.0, images[:2]), hidden)
    np.testing.assert_array_equal(filled[hidden == 0], images[:2][hidden == 0])
    assert np.abs(filled - images[:2]).max() < 0.05


def test_deconvolution_sharpens_a_blurred_image():
    from aecourse import denoising, restorers

    psf = restorers.blur_kernel(1.0)
    sharp = np.zeros((5, 28, 28))  # a black background, as Fashion-MNIST's (the deconvolutions pad with zeros)
    for i, side in enumerate(range(6, 16, 2)):
        sharp[i, 14 - side // 2:14 + side // 2, 8:20] = 0.5 + 0.1 * i  # edges for the blur to soften
    blurred = denoising.gaussian_blur(sharp, 1.0)
    before = np.mean((blurred - sharp) ** 2)
    for method, strength in (("richardson_lucy", 20), ("wiener", 1e-3)):
        restored = restoration.skimage_deconvolve(blurred, method, strength, psf)
        assert restored.shape == blurred.shape and restored.min() >= 0 and restored.max() <= 1
        assert np.mean((restored - sharp) ** 2) < 0.7 * before, method


def test_deconvolution_rejects_bad_arguments(images):
    from aecourse import restorers

    psf = restorers.blur_kernel(1.0)
    with pytest.raises(ValueError, match="method must be one of"):
        restoration.skimage_deconvolve(images, "inverse", 1.0, psf)
    with pytest.raises(ValueError, match="strength must be positive"):
        restoration.skimage_deconvolve(images, "wiener", 0.0, psf)
    with pytest.raises(ValueError, match="psf must be a 2-D array summing to 1"):
        restoration.skimage_deconvolve(images, "wiener", 0.1, 2 * psf)


def test_ssim_over_a_region_ignores_the_rest(images):
    clean = images[:4]
    speckled = clean + np.where(np.arange(784) < 392, 0.0, 0.05) * np.random.default_rng(0).standard_normal(clean.shape)
    top = np.broadcast_to(np.arange(784) < 300, clean.shape)  # away from the speckled half (7x7 windows)
    np.testing.assert_allclose(restoration.ssim(clean, speckled, region=top), 1.0, atol=1e-6)
    assert np.all(restoration.ssim(clean, speckled) < 0.99)
    with pytest.raises(ValueError, match="at least one pixel"):
        restoration.ssim(clean, speckled, region=np.zeros(clean.shape, bool))
