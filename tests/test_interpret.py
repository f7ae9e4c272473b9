"""aecourse.interpret: L0, normalised MSE, dead latents, loss recovered, top-class purity."""

import numpy as np
import pytest

from aecourse import interpret


def test_l0_and_dead_latents():
    codes = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 3.0], [0.0, 0.5, 0.0, 0.0]])
    assert interpret.l0(codes) == pytest.approx(4 / 3)
    assert interpret.dead_latents(codes) == 2
    with pytest.raises(ValueError, match="2-D"):
        interpret.l0(np.zeros(3))


def test_normalized_mse_matches_its_formula_and_limits():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6))
    x_hat = x + rng.normal(scale=0.1, size=x.shape)
    expected = np.sum((x - x_hat) ** 2) / np.sum((x - x.mean(axis=0)) ** 2)
    assert interpret.normalized_mse(x, x_hat) == pytest.approx(expected)
    assert interpret.normalized_mse(x, x) == 0.0
    assert interpret.normalized_mse(x, np.broadcast_to(x.mean(axis=0), x.shape)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        interpret.normalized_mse(x, x[:, :3])
    with pytest.raises(ValueError, match="no spread"):
        interpret.normalized_mse(np.ones((4, 2)), np.ones((4, 2)))


def test_loss_recovered():
    assert interpret.loss_recovered(0.3, 0.3, 2.3) == 1.0
    assert interpret.loss_recovered(0.3, 2.3, 2.3) == 0.0
    assert interpret.loss_recovered(0.3, 1.3, 2.3) == pytest.approx(0.5)
    assert interpret.loss_recovered(0.3, 3.3, 2.3) < 0
    with pytest.raises(ValueError, match="exceed"):
        interpret.loss_recovered(0.3, 0.4, 0.3)


def test_top_class_purity_by_enumeration():
    rng = np.random.default_rng(1)
    h = rng.random((40, 5)) * (rng.random((40, 5)) < 0.6)
    h[:, 4] = 0.0
    h[:3, 4] = 1.0  # unit 4 positive on 3 inputs only: not scored with n_top = 5
    labels = rng.integers(0, 3, size=40)
    purity, top = interpret.top_class_purity(h, labels, n_top=5)
    for unit in range(4):
        best = labels[np.argsort(-h[:, unit], kind="stable")[:5]]
        counts = np.bincount(best, minlength=3)
        assert purity[unit] == pytest.approx(counts.max() / 5)
        assert top[unit] == counts.argmax()
    assert np.isnan(purity[4]) and top[4] == -1
    with pytest.raises(ValueError, match="labels"):
        interpret.top_class_purity(h, labels[:5], n_top=5)
    with pytest.raises(ValueError, match="labels"):
        interpret.top_class_purity(h, labels.astype(float), n_top=5)
    with pytest.raises(ValueError, match="n_top"):
        interpret.top_class_purity(h, labels, n_top=0)
