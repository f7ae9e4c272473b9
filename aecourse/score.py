"""Scores and Bayes denoisers of a toy density: Tweedie's formula made concrete.

For Gaussian noise `x~ = x + sigma * eps`, the best squared-error denoiser is
the posterior mean, and Tweedie's formula writes it with the score of the
noise-smoothed density `p_sigma` (the density of `x~`):

    E[x | x~] = x~ + sigma^2 * grad log p_sigma(x~).

The toy density is a ring in the plane: `x = radius * (cos t, sin t) +
thickness * eps` with `t` uniform. Adding noise of standard deviation `sigma`
gives the same kind of ring with thickness `sqrt(thickness^2 + sigma^2)`, whose
density, score and posterior mean have closed forms (Bessel functions).
"""

import numpy as np


def _check(points, sigma, radius, thickness):
    points = np.asarray(points, "float64")
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (m, 2). Received: shape={points.shape}")
    if not (radius > 0 and thickness >= 0 and sigma >= 0 and thickness + sigma > 0):
        raise ValueError(
            "radius must be positive, sigma and thickness non-negative and not both zero. "
            f"Received: radius={radius!r}, sigma={sigma!r}, thickness={thickness!r}"
        )
    return points, thickness ** 2 + sigma ** 2


def ring_log_density(points, sigma, radius=1.0, thickness=0.0):
    """Log-density of a ring of the given thickness, smoothed by Gaussian noise.

    `p_sigma(y) = exp(-(|y| - R)^2 / (2 s^2)) * I0e(|y| R / s^2) / (2 pi s^2)`
    with `s^2 = thickness^2 + sigma^2` and `I0e` the exponentially scaled
    modified Bessel function: the angle of the ring point integrated out.

    Args:
        points: `(m, 2)` points `y`.
        sigma: standard deviation of the added noise (0: the data density).
        radius: radius `R` of the ring.
        thickness: standard deviation of the data around the ring.

    Returns:
        `(m,)` float64 log-densities.
    """
    from scipy.special import ive

    points, s2 = _check(points, sigma, radius, thickness)
    r = np.linalg.norm(points, axis=1)
    return -np.log(2 * np.pi * s2) - (r - radius) ** 2 / (2 * s2) + np.log(ive(0, r * radius / s2))


def ring_score(points, sigma, radius=1.0, thickness=0.0):
    """The score `grad_y log p_sigma(y)` of the smoothed ring density.

    `grad log p_sigma(y) = (R * A(|y| R / s^2) * y / |y| - y) / s^2` with
    `A = I1 / I0`: a pull towards the ring point nearest `y`, weakened where
    the ring's directions average out (near the centre, `A -> 0`).

    Args:
        points: `(m, 2)` points `y`.
        sigma: standard deviation of the added noise (0: the data density).
        radius: radius `R` of the ring.
        thickness: standard deviation of the data around the ring.

    Returns:
        `(m, 2)` float64 scores.
    """
    from scipy.special import ive

    points, s2 = _check(points, sigma, radius, thickness)
    r = np.linalg.norm(points, axis=1, keepdims=True)
    kappa = r * radius / s2
    ratio = ive(1, kappa) / ive(0, kappa)
    direction = points / np.maximum(r, 1e-300)
    return (radius * ratio * direction - points) / s2


def posterior_mean(noisy, samples, sigma, batch_size=1000):
    """Monte Carlo estimate of `E[x | x~]` for Gaussian noise, from data samples.

    The Bayes (least-squares) denoiser of the empirical distribution of
    `samples`: `sum_i x_i N(x~; x_i, sigma^2 I) / sum_i N(x~; x_i, sigma^2 I)`.
    It needs no density, only samples, so it checks Tweedie's formula
    independently of the score.

    Args:
        noisy: `(m, d)` noisy points `x~`.
        samples: `(n, d)` clean samples `x_i` of the data distribution.
        sigma: positive standard deviation of the noise.
        batch_size: noisy points processed at once.

    Returns:
        `(m, d)` float64 posterior means.
    """
    noisy, samples = np.asarray(noisy, "float64"), np.asarray(samples, "float64")
    if noisy.ndim != 2 or samples.ndim != 2 or noisy.shape[1] != samples.shape[1]:
        raise ValueError(f"noisy and samples must have shapes (m, d) and (n, d). "
                         f"Received: {noisy.shape} and {samples.shape}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive. Received: sigma={sigma!r}")
    means = []
    for start in range(0, len(noisy), batch_size):
        chunk = noisy[start:start + batch_size]
        logits = -((chunk[:, None, :] - samples[None]) ** 2).sum(axis=-1) / (2 * sigma ** 2)
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        means.append(weights @ samples / weights.sum(axis=1, keepdims=True))
    return np.concatenate(means)
