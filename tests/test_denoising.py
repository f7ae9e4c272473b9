"""The emphasized loss, the DenoisingAutoencoder model, PSNR and the baselines."""

import keras
import numpy as np
import pytest

from aecourse import denoising, models, noise


def _rng():
    return np.random.default_rng(0)


def _np(tensor):
    return keras.ops.convert_to_numpy(tensor)


def test_emphasized_loss_is_equation_4():
    rng = _rng()
    x, z = rng.random((5, 12)), rng.random((5, 12))
    mask = (rng.random((5, 12)) < 0.4).astype("float64")
    expected = 0.7 * np.sum(mask * (x - z) ** 2, axis=1) + 0.2 * np.sum((1 - mask) * (x - z) ** 2, axis=1)
    np.testing.assert_allclose(_np(denoising.emphasized_loss(x, z, mask, 0.7, 0.2)), expected, rtol=1e-6)
    plain = np.sum((x - z) ** 2, axis=1)
    np.testing.assert_allclose(_np(denoising.emphasized_loss(x, z, mask)), plain, rtol=1e-6)
    np.testing.assert_allclose(_np(denoising.emphasized_loss(x, z, np.ones_like(x), 3.0, 0.0)), 3 * plain, rtol=1e-6)


def test_emphasized_cross_entropy_and_image_shapes():
    rng = _rng()
    x, z = rng.random((3, 4, 4)), rng.uniform(0.1, 0.9, (3, 4, 4))
    mask = (rng.random((3, 4, 4)) < 0.5).astype("float64")
    bce = -(x * np.log(z) + (1 - x) * np.log(1 - z))
    expected = np.sum((2.0 * mask + 0.5 * (1 - mask)) * bce, axis=(1, 2))
    got = _np(denoising.emphasized_loss(x, z, mask, 2.0, 0.5, kind="cross_entropy"))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_emphasized_loss_gradient_matches_closed_form():
    """d/dz of alpha*sum_J (x-z)^2 + beta*sum_notJ (x-z)^2 is -2 w (x - z), w = alpha or beta."""
    rng = _rng()
    x, z = rng.random((2, 6)), rng.random((2, 6))
    mask = (rng.random((2, 6)) < 0.5).astype("float64")
    if keras.backend.backend() == "jax":
        import jax

        gradient = jax.grad(lambda zz: denoising.emphasized_loss(x, zz, mask, 1.5, 0.25).sum())(z)
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        zz = tf.Variable(z)
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(denoising.emphasized_loss(x, zz, mask, 1.5, 0.25))
        gradient = tape.gradient(total, zz)
    else:
        pytest.skip("autodiff is checked on the JAX and TensorFlow backends")
    weights = 1.5 * mask + 0.25 * (1 - mask)
    np.testing.assert_allclose(np.asarray(gradient), -2 * weights * (x - z), rtol=1e-5)


def _dae(corruption, **kwargs):
    return denoising.DenoisingAutoencoder(models.DenseAutoencoder(20, 8), corruption, **kwargs)


def _x(n=256):
    rng = _rng()
    return (1 / (1 + np.exp(-rng.normal(size=(n, 3)) @ rng.normal(size=(3, 20))))).astype("float32")


def test_fit_trains_a_dae_and_reduces_the_loss():
    dae = _dae(noise.MaskingCorruption(0.3, seed=0))
    dae.compile(keras.optimizers.Adam(1e-2))
    history = dae.fit(_x(), epochs=15, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_mask_reaches_the_loss():
    """beta = 0 with no corrupted entry, or alpha = 0 with all corrupted: zero loss, nothing learned."""
    x = _x(64)
    for corruption, alpha, beta in ((noise.MaskingCorruption(0.0, seed=0), 1.0, 0.0),
                                    (noise.MaskingCorruption(1.0, seed=0), 0.0, 1.0)):
        dae = _dae(corruption, alpha=alpha, beta=beta)
        before = [_np(w).copy() for w in dae.trainable_weights]
        dae.compile(keras.optimizers.SGD(0.1))
        history = dae.fit(x, epochs=2, batch_size=32, verbose=0)
        assert history.history["loss"] == [0.0, 0.0]
        for old, new in zip(before, dae.trainable_weights):
            np.testing.assert_array_equal(old, _np(new))


def test_training_loss_is_the_emphasized_loss_and_evaluation_the_plain_one():
    x = _x(64)
    dae = _dae(noise.MaskingCorruption(0.5, seed=0), alpha=1.0, beta=0.5)
    dae.compile(keras.optimizers.SGD(0.0))  # no updates: the weights stay fixed
    reconstruction = dae.autoencoder.predict(x, verbose=0)
    plain = np.sum((x - reconstruction) ** 2, axis=1).mean()
    assert dae.evaluate(x, batch_size=64, verbose=0) == pytest.approx(plain, rel=1e-4)
    training_loss = dae.fit(x, epochs=1, batch_size=64, verbose=0).history["loss"][0]
    assert training_loss != pytest.approx(plain, rel=1e-3)  # corrupted input, weighted loss


def test_inference_does_not_corrupt():
    x = _x(16)
    dae = _dae(noise.SaltAndPepperCorruption(0.5, seed=0))
    np.testing.assert_allclose(dae.predict(x, verbose=0), dae.autoencoder.predict(x, verbose=0), atol=1e-6)


def test_learns_the_posterior_mean():
    """x uniform on {-1, +1}, Gaussian noise sigma: E[x | x~] = tanh(x~ / sigma^2)."""
    sigma = 1.0
    x = np.where(_rng().random((4096, 1)) < 0.5, -1.0, 1.0).astype("float32")
    dae = denoising.DenoisingAutoencoder(
        models.DenseAutoencoder(1, 32, hidden_units=(32,), code_activation="relu", output_activation=None),
        noise.GaussianCorruption(sigma, clip=False, seed=0))
    dae.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-2, 20 * 32)))
    dae.fit(x, epochs=20, batch_size=128, verbose=0)
    points = np.array([[-1.5], [-0.5], [0.0], [0.5], [1.5]], "float32")
    np.testing.assert_allclose(dae.autoencoder.predict(points, verbose=0), np.tanh(points / sigma ** 2), atol=0.1)


def test_save_and_reload(tmp_path):
    x = _x(32)
    dae = _dae(noise.MaskingCorruption(0.3, seed=0), alpha=1.0, beta=0.25, reconstruction_loss="cross_entropy")
    dae.compile("adam")
    dae.fit(x, epochs=1, verbose=0)
    dae.save(tmp_path / "dae.keras")
    reloaded = keras.models.load_model(tmp_path / "dae.keras")
    assert isinstance(reloaded, denoising.DenoisingAutoencoder)
    assert (reloaded.alpha, reloaded.beta, reloaded.reconstruction_loss) == (1.0, 0.25, "cross_entropy")
    assert isinstance(reloaded.corruption, noise.MaskingCorruption) and reloaded.corruption.rate == 0.3
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), dae.predict(x, verbose=0), atol=1e-6)


def test_bad_arguments():
    ae = models.DenseAutoencoder(20, 8)
    with pytest.raises(ValueError, match="corruption"):
        denoising.DenoisingAutoencoder(ae, keras.layers.Dropout(0.5))
    with pytest.raises(ValueError, match="autoencoder"):
        denoising.DenoisingAutoencoder("ae", noise.MaskingCorruption(0.1))
    with pytest.raises(ValueError, match="alpha"):
        denoising.DenoisingAutoencoder(ae, noise.MaskingCorruption(0.1), alpha=-1)
    with pytest.raises(ValueError, match="reconstruction_loss"):
        denoising.DenoisingAutoencoder(ae, noise.MaskingCorruption(0.1), reconstruction_loss="mae")
    with pytest.raises(ValueError, match="kind"):
        denoising.emphasized_loss(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2)), kind="l1")


def test_psnr():
    x = _rng().random((3, 784))
    np.testing.assert_allclose(denoising.psnr(x, x + 0.1), [20.0] * 3)
    np.testing.assert_allclose(denoising.psnr(255 * x, 255 * x + 25.5, max_value=255), [20.0] * 3)
    np.testing.assert_allclose(denoising.psnr(x.reshape(3, 28, 28), x.reshape(3, 28, 28) + 0.01), [40.0] * 3)
    assert np.all(np.isinf(denoising.psnr(x, x)))
    with pytest.raises(ValueError, match="same shape"):
        denoising.psnr(x, x[:2])
    with pytest.raises(ValueError, match="max_value"):
        denoising.psnr(x, x, max_value=0)


def test_gaussian_blur():
    images = _rng().random((4, 784)).astype("float32")
    np.testing.assert_allclose(denoising.gaussian_blur(images, 0), images)
    blurred = denoising.gaussian_blur(images, 1.0)
    assert blurred.shape == images.shape and blurred.std() < images.std()
    assert abs(blurred.mean() - images.mean()) < 0.01
    with pytest.raises(ValueError, match="784"):
        denoising.gaussian_blur(images[:, :100], 1.0)


def test_select_by_psnr_picks_the_best_parameter():
    clean = _rng().random((5, 784))
    noisy = clean + 0.2
    best, score = denoising.select_by_psnr(lambda x, shift: x - shift, [0.0, 0.1, 0.2, 0.3], noisy, clean)
    assert best == 0.2 and score > 200  # exact up to rounding


def test_stacked_denoising_greedy_training():
    x = _x(128)
    daes = denoising.train_stacked_denoising(x, (12, 6), rate=0.25, epochs=1)
    assert [d.corruption.rate for d in daes] == [0.25, 0.25]
    codes = denoising.encode_stack(daes, x)
    assert codes.shape == (128, 6) and codes.min() >= 0 and codes.max() <= 1  # sigmoid codes
    first = daes[0].autoencoder.encoder.predict(x, verbose=0)
    np.testing.assert_allclose(codes, daes[1].autoencoder.encoder.predict(first, verbose=0), atol=1e-6)


def test_reconstruction_field_plot():
    """The chapter's quiver plot of r(x~) - x~ (appended to aecourse.plotting for chapter 3)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from aecourse import plotting

    points = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5)), -1).reshape(-1, 2)
    ax = plotting.reconstruction_field(points, -0.5 * points, data=points[:3], title="field")
    assert ax.get_title() == "field" and len(ax.collections) == 2  # data scatter + arrows
    with pytest.raises(ValueError, match="shape"):
        plotting.reconstruction_field(points, points[:3])
    plt.close("all")


def test_filter_roughness_is_one_for_white_noise_and_small_for_smooth_filters():
    rng = np.random.default_rng(0)
    noise_filters = rng.normal(0, 1, (784, 200))
    assert denoising.filter_roughness(noise_filters).mean() == pytest.approx(1.0, abs=0.02)
    ticks = np.linspace(0, np.pi, 28)
    smooth = (np.sin(ticks)[:, None] * np.sin(ticks)[None, :]).reshape(784, 1)
    assert denoising.filter_roughness(smooth)[0] < 0.01
    with pytest.raises(ValueError, match="kernel must have shape"):
        denoising.filter_roughness(np.zeros((10, 3)))
