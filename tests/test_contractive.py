"""The contractive penalties equal exact Jacobian norms; the CAE trains with fit() and contracts."""

import numpy as np
import pytest

import keras
from keras import ops

from aecourse import contractive, jacobian


def _sigmoid_layer(input_dim=30, units=12, seed=0):
    """A sigmoid Dense layer with random (non-default) weights and biases."""
    rng = np.random.default_rng(seed)
    layer = keras.layers.Dense(units, activation="sigmoid")
    layer.build((None, input_dim))
    layer.set_weights([rng.normal(0, 0.5, (input_dim, units)).astype("float32"),
                       rng.normal(0, 1.0, units).astype("float32")])
    return layer


def _numpy(tensor):
    return np.asarray(ops.convert_to_numpy(tensor))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_equals_autodiff_jacobian_norm(seed):
    layer = _sigmoid_layer(seed=seed)
    x = np.random.default_rng(seed + 10).random((16, 30)).astype("float32")
    h = layer(x)
    closed = _numpy(contractive.sigmoid_contraction(h, layer.kernel))
    exact = jacobian.frobenius_norm_sq(layer, x)
    np.testing.assert_allclose(closed, exact, rtol=1e-5, atol=1e-7)


def test_closed_form_jacobian_equals_autodiff_jacobian():
    layer = _sigmoid_layer()
    x = np.random.default_rng(3).random((8, 30)).astype("float32")
    closed = _numpy(contractive.sigmoid_jacobian(layer(x), layer.kernel))
    np.testing.assert_allclose(closed, jacobian.batch_jacobian(layer, x), rtol=1e-5, atol=1e-7)


def test_closed_form_by_hand():
    h = np.array([[0.5, 0.5, 0.5]])          # slope h(1-h) = 0.25 in every unit
    kernel = np.ones((4, 3))                  # each column has squared norm 4
    # sum_j 0.25^2 * 4 = 3 * 0.25 = 0.75
    np.testing.assert_allclose(_numpy(contractive.sigmoid_contraction(h, kernel)), [0.75])


def test_curvature_is_jacobian_difference_norm():
    layer = _sigmoid_layer()
    rng = np.random.default_rng(4)
    x = rng.random((8, 30)).astype("float32")
    x_near = (x + rng.normal(0, 0.3, x.shape)).astype("float32")
    got = _numpy(contractive.sigmoid_curvature(layer(x), layer(x_near), layer.kernel))
    gap = jacobian.batch_jacobian(layer, x) - jacobian.batch_jacobian(layer, x_near)
    np.testing.assert_allclose(got, np.sum(gap**2, axis=(1, 2)), rtol=1e-4, atol=1e-7)


def test_finite_difference_estimate_is_unbiased_for_linear_maps():
    matrix = np.random.default_rng(5).normal(size=(10, 4)).astype("float32")
    x = np.zeros((2000, 10), "float32")
    estimate = _numpy(contractive.finite_difference_contraction(
        lambda v: ops.matmul(v, matrix), x, noise_scale=0.5, seed=keras.random.SeedGenerator(0)))
    # ||J eps||^2 averaged over 2000 draws: within a few standard errors of ||W||_F^2.
    assert abs(estimate.mean() / np.sum(matrix**2) - 1) < 0.05


def test_finite_difference_estimate_approaches_exact_norm_for_small_steps():
    layer = _sigmoid_layer()
    x = np.random.default_rng(6).random((4, 30)).astype("float32")
    exact = jacobian.frobenius_norm_sq(layer, x)
    estimate = _numpy(contractive.finite_difference_contraction(
        layer, x, noise_scale=1e-2, seed=keras.random.SeedGenerator(0), n_samples=400))
    np.testing.assert_allclose(estimate, exact, rtol=0.15)


@pytest.mark.parametrize("kwargs", [{"noise_scale": 0.0}, {"noise_scale": 0.1, "n_samples": 0}])
def test_finite_difference_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="Received"):
        contractive.finite_difference_contraction(lambda v: v, np.zeros((2, 3)), seed=0, **kwargs)


def _data(n=256, d=20):
    rng = np.random.default_rng(0)
    return (1 / (1 + np.exp(-rng.normal(size=(n, 3)) @ rng.normal(size=(3, d))))).astype("float32")


def test_training_loss_includes_the_penalty():
    x = _data(32)
    cae = contractive.ContractiveAutoencoder(20, 8, contraction=2.0, curvature=0.5, seed=0)
    cae(x, training=True)
    h = cae.encoder(x)
    expected = 2.0 * np.mean(_numpy(contractive.sigmoid_contraction(h, cae.code_kernel)))
    assert len(cae.losses) == 2
    np.testing.assert_allclose(_numpy(cae.losses[0]), expected, rtol=1e-5)
    assert _numpy(cae.losses[1]) > 0
    cae(x, training=False)
    assert len(cae.losses) == 0          # penalties only in training


def test_penalty_makes_the_encoder_contract():
    x = _data()
    norms = {}
    for contraction in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        cae = contractive.ContractiveAutoencoder(20, 16, contraction=contraction, seed=0)
        cae.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
        cae.fit(x, x, epochs=15, batch_size=64, verbose=0)
        norms[contraction] = jacobian.frobenius_norm_sq(cae.encoder, x).mean()
    assert norms[1.0] < 0.5 * norms[0.0]


def test_finite_difference_penalty_trains_a_deep_encoder():
    x = _data()
    cae = contractive.ContractiveAutoencoder(20, 4, contraction=0.5, penalty="finite_difference",
                                             hidden_units=(16,), code_activation=None, seed=0)
    cae.compile(keras.optimizers.Adam(1e-2), "mse")
    history = cae.fit(x, x, epochs=10, batch_size=64, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_save_and_reload(tmp_path):
    x = _data(64)
    cae = contractive.ContractiveAutoencoder(20, 8, contraction=0.3, curvature=0.1, seed=3)
    cae.compile("adam", "binary_crossentropy")
    cae.fit(x, x, epochs=1, verbose=0)
    cae.save(tmp_path / "cae.keras")
    reloaded = keras.saving.load_model(tmp_path / "cae.keras")
    assert isinstance(reloaded, contractive.ContractiveAutoencoder)
    assert (reloaded.contraction, reloaded.curvature, reloaded.seed) == (0.3, 0.1, 3)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), cae.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"contraction": -1.0}, "contraction"),
    ({"penalty": "exact"}, "penalty"),
    ({"hidden_units": (8,)}, "one-layer sigmoid encoder"),
    ({"code_activation": "relu"}, "one-layer sigmoid encoder"),
    ({"penalty": "finite_difference", "curvature": 0.1}, "curvature"),
    ({"curvature_noise": 0.0}, "curvature_noise"),
])
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        contractive.ContractiveAutoencoder(20, 8, **kwargs)


def test_contraction_ratio_of_a_linear_map_is_its_stretch():
    x = np.random.default_rng(7).random((5, 3))
    eps = np.zeros((5, 3))
    eps[:, 0] = 0.1
    ratio = contractive.contraction_ratio(lambda v: v * np.array([0.5, 2.0, 1.0]), x, eps)
    np.testing.assert_allclose(ratio, 0.5, rtol=1e-5)
    with pytest.raises(ValueError, match="Received: x.shape"):
        contractive.contraction_ratio(lambda v: v, x, eps[:3])


def test_sigmoid_jacobian_spectrum_matches_svd():
    rng = np.random.default_rng(3)
    h, kernel = rng.random((3, 9)), rng.normal(size=(6, 9))     # K = 9 > D = 6, as an overcomplete layer
    s, vt = contractive.sigmoid_jacobian_spectrum(h, kernel)
    jac = (h * (1 - h))[:, :, None] * kernel.T[None]      # J = diag(h(1-h)) W^T in float64 (JAX computes in float32)
    _, s_ref, vt_ref = np.linalg.svd(jac)
    np.testing.assert_allclose(s, s_ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.abs(np.sum(vt * vt_ref, axis=2)), 1.0, atol=1e-6)   # same vectors up to sign
    with pytest.raises(ValueError, match="Expected h"):
        contractive.sigmoid_jacobian_spectrum(h, kernel.T)
