import numpy as np
import pytest

from aecourse.logistic_pca import LogisticPCA


def _low_rank_pixels(rng, n, rank=2, dim=40):
    """Grey levels that are exactly `sigmoid(H W + b)` with a rank-2 `H W`."""
    weights, bias = rng.normal(0, 2, (rank, dim)), rng.normal(0, 1, dim)
    return 1 / (1 + np.exp(-(rng.normal(size=(n, rank)) @ weights + bias))), (weights, bias)


def test_recovers_a_logistic_low_rank_model_and_encodes_new_data():
    rng = np.random.default_rng(0)
    x, _ = _low_rank_pixels(rng, 300)
    lpca = LogisticPCA(2, steps=150, learning_rate=0.2).fit(x[:200])
    held_out = lpca.inverse_transform(lpca.transform(x[200:]))
    assert held_out.shape == (100, 40)
    assert np.abs(held_out - x[200:]).mean() < 0.02   # exact model: near-perfect reconstructions
    one = LogisticPCA(1, steps=150, learning_rate=0.2).fit(x[:200])        # a code too small cannot do that
    assert np.abs(one.inverse_transform(one.transform(x[200:])) - x[200:]).mean() > 0.05


def test_rejects_bad_input():
    lpca = LogisticPCA(2, steps=5)
    with pytest.raises(ValueError, match="not fitted yet"):
        lpca.transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        lpca.fit(np.full((3, 4), 2.0))
    with pytest.raises(ValueError, match="n_components and steps"):
        LogisticPCA(0)
    lpca.fit(np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match="4 columns"):
        lpca.transform(np.zeros((3, 5)))
