"""Linear baselines: PCA by SVD and principal angles between subspaces."""

import numpy as np


def pca_basis(x_train, k):
    """The training mean and the top-`k` principal directions of `x_train`.

    Args:
        x_train: `(n, D)` data matrix.
        k: number of principal directions, `1 <= k <= min(n, D)`.

    Returns:
        `(mean, components)`: the `(D,)` mean and a `(k, D)` array whose
        orthonormal rows are the right singular vectors of the centred data.
    """
    x_train = np.asarray(x_train, dtype="float64")
    if x_train.ndim != 2:
        raise ValueError(f"x_train must be a 2-D (n, D) array. Received: shape={x_train.shape}")
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= min(x_train.shape)):
        raise ValueError(f"k must be an integer in [1, {min(x_train.shape)}]. Received: k={k!r}")
    mean = x_train.mean(axis=0)
    _, _, vt = np.linalg.svd(x_train - mean, full_matrices=False)
    return mean, vt[:k]


def pca_reconstruct(x_train, x_test, k):
    """Projects `x_test` on the top-`k` principal subspace of `x_train` and back.

    `r = mean + (x - mean) V_k^T V_k`: the best rank-`k` affine reconstruction
    in squared error (Eckart-Young).

    Args:
        x_train: `(n, D)` data the principal directions are fitted on.
        x_test: `(m, D)` data to reconstruct.
        k: number of principal directions.

    Returns:
        `(m, D)` reconstructions.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(100, 5))
    >>> pca_reconstruct(x, x, 5).round(6).tolist() == x.round(6).tolist()
    True
    """
    mean, components = pca_basis(x_train, k)
    x_test = np.asarray(x_test, dtype="float64")
    if x_test.ndim != 2 or x_test.shape[1] != mean.shape[0]:
        raise ValueError(
            f"x_test must have shape (m, {mean.shape[0]}) like x_train. Received: shape={x_test.shape}"
        )
    return (x_test - mean) @ components.T @ components + mean


def principal_angles(a, b):
    """Principal angles, in degrees, between the column spaces of `a` and `b`.

    Args:
        a: `(D, k)` array whose columns span the first subspace.
        b: `(D, k)` array whose columns span the second subspace.

    Returns:
        The `k` angles in degrees, smallest first; all zero when the two
        subspaces are equal.
    """
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"a and b must be 2-D with the same number of rows. Received: a.shape={a.shape}, b.shape={b.shape}"
        )
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    cosines = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1.0, 1.0)
    return np.degrees(np.arccos(cosines))
