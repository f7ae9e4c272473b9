"""Tangent directions of the data and an encoder's sensitivity along them.

A contractive encoder should stay sensitive along the data manifold and
contract the directions orthogonal to it (Rifai et al. 2011). To test that
we need tangent directions that do not come from the encoder itself:
`local_tangents` estimates them at a point by local PCA, the leading right
singular vectors of the differences between the point's nearest neighbours
(in a reference set) and the point. `tangent_sensitivity` then splits an
encoder Jacobian's gain into its root-mean-square over the tangent
directions and over all the directions orthogonal to them; both are exact
(no random directions), since for an orthonormal basis `T` of the tangent
space `||J P_T||_F^2 = ||J T^T||_F^2` and `||J P_orth||_F^2 = ||J||_F^2 - ||J T^T||_F^2`.
"""

import numpy as np
from sklearn.neighbors import NearestNeighbors


def _check_batch(name, x):
    x = np.asarray(x, dtype="float64")
    if x.ndim != 2:
        raise ValueError(f"{name} must be a batch of flat vectors, shape (n, D). Received: {name}.shape={x.shape}")
    return x


def local_tangents(x, reference, dim, n_neighbors):
    """Tangent directions at each row of `x` by local PCA of its nearest neighbours.

    For each point the `n_neighbors` nearest rows of `reference` (Euclidean
    distance, exact copies of the point excluded) give the differences
    `neighbour - x`; their `dim` leading right singular vectors are the
    estimated tangent directions.

    Args:
        x: points, shape `(n, D)`.
        reference: the data the neighbours come from, shape `(N, D)`.
        dim: number of tangent directions per point, `1 <= dim <= n_neighbors`.
        n_neighbors: number of neighbours used per point.

    Returns:
        A pair `(tangents, singular_values)`: an array of shape `(n, dim, D)`
        whose rows at each point are orthonormal, and the `dim` leading
        singular values of the differences, shape `(n, dim)`.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> line = np.outer(rng.normal(size=200), [3.0, 4.0]) / 5.0   # points on a line
    >>> t, s = local_tangents(line[:2], line, dim=1, n_neighbors=5)
    >>> np.round(np.abs(t[0, 0]), 3)
    array([0.6, 0.8])
    """
    x, reference = _check_batch("x", x), _check_batch("reference", reference)
    if x.shape[1] != reference.shape[1]:
        raise ValueError(f"x and reference must have the same number of features. "
                         f"Received: x.shape={x.shape}, reference.shape={reference.shape}")
    for name, value in (("dim", dim), ("n_neighbors", n_neighbors)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    if dim > n_neighbors or n_neighbors + 1 > len(reference):
        raise ValueError("Need dim <= n_neighbors < len(reference). "
                         f"Received: dim={dim}, n_neighbors={n_neighbors}, len(reference)={len(reference)}")
    search = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(reference)
    distances, indices = search.kneighbors(x)
    tangents = np.empty((len(x), dim, x.shape[1]))
    singular_values = np.empty((len(x), dim))
    for n, (row_distances, row_indices) in enumerate(zip(distances, indices)):
        keep = row_indices[row_distances > 0][:n_neighbors]   # drop the point itself if it is in reference
        _, s, vt = np.linalg.svd(reference[keep] - x[n], full_matrices=False)
        tangents[n], singular_values[n] = vt[:dim], s[:dim]
    return tangents, singular_values


def tangent_sensitivity(jacobians, tangents):
    """Root-mean-square gain of Jacobians along tangent and orthogonal directions.

    With `T` the orthonormal tangent directions at a point (`dim` of them)
    and `D` the input dimension, returns per point
    `sqrt(||J T^T||_F^2 / dim)` (the mean of `||J u||^2` over the unit
    tangent directions `u`, square-rooted) and
    `sqrt((||J||_F^2 - ||J T^T||_F^2) / (D - dim))` (the same over the
    directions orthogonal to all of them).

    Args:
        jacobians: encoder Jacobians, shape `(n, K, D)`.
        tangents: orthonormal tangent directions, shape `(n, dim, D)` with `dim < D`.

    Returns:
        A pair of NumPy arrays of shape `(n,)`: tangent gain, orthogonal gain.

    Example:

    >>> J = np.array([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])   # K = 2, D = 3
    >>> tangent_sensitivity(J, np.array([[[1.0, 0.0, 0.0]]]))
    (array([2.]), array([0.70710678]))
    """
    jacobians, tangents = np.asarray(jacobians, "float64"), np.asarray(tangents, "float64")
    if jacobians.ndim != 3 or tangents.ndim != 3 or jacobians.shape[0] != tangents.shape[0] \
            or jacobians.shape[2] != tangents.shape[2] or tangents.shape[1] >= tangents.shape[2]:
        raise ValueError("Expected jacobians of shape (n, K, D) and tangents of shape (n, dim, D) with dim < D. "
                         f"Received: jacobians.shape={jacobians.shape}, tangents.shape={tangents.shape}")
    dim, input_dim = tangents.shape[1], tangents.shape[2]
    along = np.sum(np.square(np.matmul(jacobians, np.swapaxes(tangents, 1, 2))), axis=(1, 2))
    total = np.sum(np.square(jacobians), axis=(1, 2))
    across = np.maximum(total - along, 0.0)
    return np.sqrt(along / dim), np.sqrt(across / (input_dim - dim))
