import numpy as np
import pytest

from aecourse import linear


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(300, 4)) @ rng.normal(size=(4, 12)) * np.linspace(3, 1, 4).repeat(3) + 2.0


def test_pca_is_the_best_rank_k_reconstruction():
    x = _data()
    error = lambda r: np.sum((x - r) ** 2)
    best = error(linear.pca_reconstruct(x, x, 2))
    # Any other rank-2 projection around the mean does worse (Eckart-Young).
    rng = np.random.default_rng(1)
    for _ in range(20):
        q, _ = np.linalg.qr(rng.normal(size=(12, 2)))
        other = (x - x.mean(0)) @ q @ q.T + x.mean(0)
        assert error(other) >= best - 1e-9
    # Equals the sum of the discarded squared singular values.
    s = np.linalg.svd(x - x.mean(0), compute_uv=False)
    np.testing.assert_allclose(best, np.sum(s[2:] ** 2), rtol=1e-8)


def test_pca_basis_orthonormal_and_errors():
    mean, components = linear.pca_basis(_data(), 3)
    np.testing.assert_allclose(components @ components.T, np.eye(3), atol=1e-10)
    with pytest.raises(ValueError, match="k must be"):
        linear.pca_basis(_data(), 0)
    with pytest.raises(ValueError, match="x_test"):
        linear.pca_reconstruct(_data(), np.zeros((2, 5)), 2)


def test_principal_angles():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(10, 3))
    mixed = a @ rng.normal(size=(3, 3))  # another basis of the same subspace
    np.testing.assert_allclose(linear.principal_angles(a, mixed), 0, atol=1e-5)
    e = np.eye(4)
    np.testing.assert_allclose(linear.principal_angles(e[:, :1], (e[:, :1] + e[:, 1:2])), [45.0])
    np.testing.assert_allclose(linear.principal_angles(e[:, :1], e[:, 1:2]), [90.0])
    with pytest.raises(ValueError, match="same number of rows"):
        linear.principal_angles(np.zeros((3, 1)), np.zeros((4, 1)))
