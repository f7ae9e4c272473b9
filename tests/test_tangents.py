"""Tangents by local PCA and tangent / orthogonal sensitivity."""

import numpy as np
import pytest

from aecourse import tangents


def test_local_tangents_recover_a_plane():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(10, 2)))[0].T           # a 2-d plane in 10-d
    reference = rng.normal(size=(500, 2)) @ basis
    x = reference[:5]                                            # points of the reference: excluded as neighbours
    t, s = tangents.local_tangents(x, reference, dim=2, n_neighbors=20)
    assert t.shape == (5, 2, 10) and s.shape == (5, 2)
    for frame in t:
        np.testing.assert_allclose(frame @ frame.T, np.eye(2), atol=1e-10)
        np.testing.assert_allclose(frame @ basis.T @ basis, frame, atol=1e-10)   # inside the plane


def test_local_tangents_rejects_bad_input():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="dim"):
        tangents.local_tangents(x, np.ones((10, 4)), dim=6, n_neighbors=5)
    with pytest.raises(ValueError, match="same number of features"):
        tangents.local_tangents(x, np.ones((10, 5)), dim=1, n_neighbors=5)
    with pytest.raises(ValueError, match="n_neighbors"):
        tangents.local_tangents(x, np.ones((10, 4)), dim=1, n_neighbors=0)


def test_tangent_sensitivity_matches_monte_carlo():
    rng = np.random.default_rng(1)
    n, k, d, dim = 3, 5, 8, 2
    J = rng.normal(size=(n, k, d))
    frames = np.stack([np.linalg.qr(rng.normal(size=(d, d)))[0].T for _ in range(n)])
    along, across = tangents.tangent_sensitivity(J, frames[:, :dim])
    for i in range(n):
        u = rng.normal(size=(200000, dim)) @ frames[i, :dim]          # random tangent directions
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        assert np.sqrt(np.mean(np.sum((u @ J[i].T) ** 2, axis=1))) == pytest.approx(along[i], rel=1e-2)
        v = rng.normal(size=(200000, d - dim)) @ frames[i, dim:]     # random orthogonal directions
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        assert np.sqrt(np.mean(np.sum((v @ J[i].T) ** 2, axis=1))) == pytest.approx(across[i], rel=1e-2)


def test_tangent_sensitivity_rejects_bad_shapes():
    with pytest.raises(ValueError, match="Expected jacobians"):
        tangents.tangent_sensitivity(np.zeros((2, 3, 4)), np.zeros((2, 4, 4)))
