"""A mixture of Bernoullis fitted by EM: the classic baseline density model for binary images.

`p(x) = sum_k pi_k prod_i mu_ki^x_i (1 - mu_ki)^(1 - x_i)`: each component is
a template of pixel probabilities. EM alternates the E-step (responsibilities
`r_nk = p(k | x_n)`) and the M-step (`pi_k = mean_n r_nk`, `mu_k` = the
responsibility-weighted mean image). NumPy only; the log-likelihood is exact.
"""

import numpy as np


def logsumexp(a, axis, keepdims=False):
    """`log sum exp(a)` along `axis`, without overflow."""
    peak = np.max(a, axis=axis, keepdims=True)
    total = peak + np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True))
    return total if keepdims else np.squeeze(total, axis=axis)


def _check_binary(x):
    x = np.asarray(x, dtype="float32")  # 0s and 1s are exact in float32
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D (n, features) array of 0s and 1s. Received: shape={x.shape}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError(
            "x must hold only 0s and 1s (binarize images with aecourse.data.binarize). "
            f"Received values in [{x.min()}, {x.max()}] that are not all binary"
        )
    return x


class BernoulliMixture:
    """A mixture of `n_components` Bernoulli templates, fitted by EM.

    The M-step adds `smoothing` pseudo-counts of 0 and 1 to every pixel of every
    template (a Beta prior), so that no probability is exactly 0 or 1 and test
    images with unseen pixels keep a finite likelihood.

    Args:
        n_components: number of templates K.
        max_iter: maximum number of EM iterations.
        tol: stop when the mean training log-likelihood rises by less than this (nats).
        smoothing: pseudo-count added to each pixel's 0 and 1 counts.
        seed: seed of the random initial responsibilities.

    Attributes (after `fit`):
        weights_: `(K,)` mixing proportions `pi`.
        means_: `(K, D)` pixel probabilities `mu` of each template.
        history_: mean training log-likelihood (nats per example) after each iteration.

    Example:

    >>> x = (np.random.default_rng(0).random((500, 16)) < 0.3).astype(float)
    >>> mixture = BernoulliMixture(n_components=3, seed=0).fit(x)
    >>> mixture.log_likelihood(x).shape
    (500,)
    """

    def __init__(self, n_components=100, max_iter=100, tol=1e-3, smoothing=1e-2, seed=0):
        if not (isinstance(n_components, (int, np.integer)) and n_components > 0):
            raise ValueError(f"n_components must be a positive integer. Received: n_components={n_components!r}")
        if not (isinstance(max_iter, (int, np.integer)) and max_iter > 0):
            raise ValueError(f"max_iter must be a positive integer. Received: max_iter={max_iter!r}")
        if not smoothing > 0:
            raise ValueError(f"smoothing must be positive. Received: smoothing={smoothing!r}")
        self.n_components, self.max_iter = int(n_components), int(max_iter)
        self.tol, self.smoothing, self.seed = float(tol), float(smoothing), seed

    def _log_joint(self, x):
        """`log pi_k + log p(x_n | k)`, shape `(n, K)`."""
        log_mu, log_one_minus_mu = np.log(self.means_), np.log1p(-self.means_)
        # The big product in float32 (binary x is exact; twice as fast), the sums in float64.
        pixel_terms = (x @ (log_mu - log_one_minus_mu).T.astype("float32")).astype("float64")
        return pixel_terms + log_one_minus_mu.sum(axis=1) + np.log(self.weights_)

    def _m_step(self, x, responsibilities):
        counts = responsibilities.sum(axis=0)
        self.weights_ = np.maximum(counts, 1e-12) / len(x)
        weighted_sums = (responsibilities.T.astype("float32") @ x).astype("float64")
        self.means_ = (weighted_sums + self.smoothing) / (counts[:, None] + 2 * self.smoothing)

    def fit(self, x):
        """Runs EM on binary data `x` of shape `(n, D)`.

        Returns:
            `self`, fitted.
        """
        x = _check_binary(x)
        if len(x) < self.n_components:
            raise ValueError(
                f"Need at least n_components={self.n_components} examples. Received: {len(x)} examples"
            )
        rng = np.random.default_rng(self.seed)
        self._m_step(x, rng.dirichlet(np.ones(self.n_components), size=len(x)))
        self.history_ = []
        for _ in range(self.max_iter):
            log_joint = self._log_joint(x)
            log_px = logsumexp(log_joint, axis=1, keepdims=True)
            self.history_.append(float(log_px.mean()))
            if len(self.history_) > 1 and self.history_[-1] - self.history_[-2] < self.tol:
                break
            self._m_step(x, np.exp(log_joint - log_px))
        return self

    def log_likelihood(self, x):
        """Exact `log p(x)` of each row of binary `x`, in nats.

        Returns:
            `(n,)` array.
        """
        if not hasattr(self, "means_"):
            raise ValueError("Call fit(x) before log_likelihood(x).")
        x = _check_binary(x)
        if x.shape[1] != self.means_.shape[1]:
            raise ValueError(
                f"x must have {self.means_.shape[1]} features, as in fit. Received: shape={x.shape}"
            )
        return logsumexp(self._log_joint(x), axis=1)

    def sample(self, n, seed=0):
        """Draws `n` binary samples: a component by `pi`, then each pixel by `mu`."""
        if not hasattr(self, "means_"):
            raise ValueError("Call fit(x) before sample(n).")
        rng = np.random.default_rng(seed)
        components = rng.choice(self.n_components, size=n, p=self.weights_ / self.weights_.sum())
        return (rng.random((n, self.means_.shape[1])) < self.means_[components]).astype("float32")
