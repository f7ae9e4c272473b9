import numpy as np
import pytest

from aecourse import copying, linear, models


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 6))
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T  # (2, 6) orthonormal rows
    return x, rng.normal(size=(30, 6)), basis


def test_identity_passes_everything_and_a_constant_map_nothing(data):
    x, d, _ = data
    assert np.allclose(copying.transmission(lambda v: v, x, d), 1.0)
    assert np.allclose(copying.transmission(lambda v: np.zeros_like(v), x, d), 0.0)


def test_a_projection_passes_its_subspace_and_removes_the_rest(data):
    x, d, basis = data
    project = lambda v: v @ basis.T @ basis
    inside, outside = copying.split_perturbation(d, basis)
    assert np.allclose(inside + outside, d)
    assert np.allclose(outside @ basis.T, 0.0, atol=1e-12)
    assert np.allclose(copying.transmission(project, x, inside), 1.0)
    assert np.allclose(copying.transmission(project, x, outside), 0.0, atol=1e-6)


def test_small_perturbations_measure_the_jacobian_gain():
    """For a tanh map and a tiny d, the fraction is ||J d|| / ||d|| with J = diag(1 - tanh(x)^2)."""
    rng = np.random.default_rng(1)
    x, d = rng.normal(size=(10, 5)), 1e-4 * rng.normal(size=(10, 5))
    expected = np.linalg.norm((1 - np.tanh(x) ** 2) * d, axis=1) / np.linalg.norm(d, axis=1)
    assert np.allclose(copying.transmission(np.tanh, x, d), expected, rtol=2e-3)


def test_works_with_a_keras_autoencoder_and_pca_directions():
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(64, 16)).astype("float32")
    _, components = linear.pca_basis(x, 4)
    inside, outside = copying.split_perturbation(0.01 * rng.normal(size=x.shape), components)
    ae = models.DenseAutoencoder(16, 32, code_activation="relu", output_activation=None)
    passed = copying.transmission(lambda v: ae.predict(v, verbose=0), x, inside)
    assert passed.shape == (64,) and np.all(np.isfinite(passed)) and np.all(passed >= 0)


def test_bad_inputs_say_what_was_expected(data):
    x, d, basis = data
    with pytest.raises(ValueError, match="orthonormal"):
        copying.split_perturbation(d, 2 * basis)
    with pytest.raises(ValueError, match="one column per feature"):
        copying.split_perturbation(d, basis[:, :5])
    with pytest.raises(ValueError, match="2-D"):
        copying.split_perturbation(d[0], basis)
    with pytest.raises(ValueError, match="same shape"):
        copying.transmission(lambda v: v, x, d[:5])
    with pytest.raises(ValueError, match="nonzero"):
        copying.transmission(lambda v: v, x, np.zeros_like(d))
    with pytest.raises(ValueError, match="one row of D"):
        copying.transmission(lambda v: v[:, :3], x, d)
