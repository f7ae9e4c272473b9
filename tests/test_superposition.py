"""aecourse.superposition: the toy model of superposition, its sampler and its measures."""

import numpy as np
import pytest

import keras

from aecourse import superposition


def test_sample_features_sparsity_and_range():
    x = superposition.sample_features(np.random.default_rng(0), 20_000, 0.9, 4)
    assert x.shape == (20_000, 4) and x.dtype == np.float32
    assert np.mean(x > 0) == pytest.approx(0.1, abs=0.01)
    assert x.min() >= 0 and x.max() <= 1
    present = x[x > 0]
    assert present.mean() == pytest.approx(0.5, abs=0.02)
    per_instance = superposition.sample_features(np.random.default_rng(1), 20_000, np.array([0.0, 0.5]), 3)
    assert per_instance.shape == (20_000, 2, 3)
    assert np.mean(per_instance[:, 0] > 0) > 0.99 and np.mean(per_instance[:, 1] > 0) == pytest.approx(0.5, abs=0.02)
    with pytest.raises(ValueError, match="sparsity"):
        superposition.sample_features(np.random.default_rng(0), 10, 1.0, 3)


def test_measures_on_known_geometries():
    orthogonal = np.eye(2, 3)  # features 0 and 1 on the axes, feature 2 dropped
    np.testing.assert_allclose(superposition.feature_norms(orthogonal), [1, 1, 0])
    np.testing.assert_allclose(superposition.interference(orthogonal), [0, 0, 0])
    assert superposition.dimensions_per_feature(orthogonal) == pytest.approx(1.0)
    angles = 2 * np.pi * np.arange(5) / 5
    pentagon = np.stack([np.cos(angles), np.sin(angles)])
    assert superposition.dimensions_per_feature(pentagon) == pytest.approx(2 / 5)
    expected = [sum(np.cos(angles[i] - angles[j]) ** 2 for j in range(5) if j != i) for i in range(5)]
    np.testing.assert_allclose(superposition.interference(pentagon), expected)
    np.testing.assert_allclose(superposition.interference(np.array([[1.0, -1.0]])), [1.0, 1.0])
    stacked = np.stack([orthogonal, orthogonal])
    assert superposition.feature_norms(stacked).shape == (2, 3)
    with pytest.raises(ValueError, match="W must have shape"):
        superposition.feature_norms(np.zeros(3))


def test_instance_losses_match_numpy_and_reject_bad_arguments():
    model = superposition.ToyModels(3, 2, sparsity=[0.0, 0.5], importance=[1.0, 0.5, 0.25])
    rng = np.random.default_rng(2)
    W = rng.normal(size=(2, 2, 3)).astype("float32")
    b = rng.normal(size=(2, 3)).astype("float32")
    model.W.assign(W)
    model.b.assign(b)
    x = superposition.sample_features(rng, 64, np.array([0.0, 0.5]), 3)
    h = np.einsum("ihf,bif->bih", W, x)  # h = W x for each instance
    out = np.maximum(np.einsum("ihf,bih->bif", W, h) + b, 0)  # ReLU(W^T h + b)
    expected = np.mean(np.sum(np.array([1.0, 0.5, 0.25]) * (x - out) ** 2, axis=-1), axis=0)
    np.testing.assert_allclose(model.instance_losses(x), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="sparsity"):
        superposition.ToyModels(3, 2, sparsity=[1.0], importance=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="importance"):
        superposition.ToyModels(3, 2, sparsity=[0.5], importance=[1.0, 1.0])
    with pytest.raises(ValueError, match="n_hidden"):
        superposition.ToyModels(3, 0, sparsity=[0.5], importance=[1.0, 1.0, 1.0])


def test_dense_features_keep_the_most_important_and_sparse_ones_superpose():
    # 2 features in 1 dimension, feature 0 five times as important: dense -> feature 1 dropped;
    # very sparse -> both kept as an antipodal pair, in the best of 4 restarts (one restart can stall in the
    # one-feature solution, a local minimum, depending on the random stream).
    sparsity = [0.0] + [0.97] * 4
    model = superposition.train_toy_models(2, 1, sparsity=sparsity, importance=[1.0, 0.2], steps=1500,
                                           batch_size=512, learning_rate=3e-2)
    W = keras.ops.convert_to_numpy(model.W)[:, 0, :]
    assert abs(W[0, 0]) > 0.8 and abs(W[0, 1]) < 0.3
    losses = model.instance_losses(superposition.sample_features(np.random.default_rng(0), 50_000,
                                                                 np.array(sparsity), 2))
    best = 1 + int(np.argmin(losses[1:]))
    assert abs(W[best, 0]) > 0.5 and abs(W[best, 1]) > 0.5 and W[best, 0] * W[best, 1] < 0


def test_toy_models_survive_save_and_reload(tmp_path):
    model = superposition.ToyModels(3, 2, sparsity=[0.2], importance=[1.0, 0.9, 0.8], seed=3)
    x = superposition.sample_features(np.random.default_rng(0), 8, np.array([0.2]), 3)
    before = keras.ops.convert_to_numpy(model(x))
    path = tmp_path / "toy.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(x)), before, rtol=1e-6)


def test_expected_loss_two_in_one_matches_closed_forms():
    p = 0.1
    # Feature 1 dropped (b = 0): p E[U^2] = p / 3; antipodal pair: p^2 * 2 E[min(U, V)^2] = p^2 / 3.
    assert superposition.expected_loss_two_in_one((1, 0, 0, 0), p, 1.0) == pytest.approx(p / 3, rel=1e-3)
    assert superposition.expected_loss_two_in_one((1, -1, 0, 0), p, 1.0) == pytest.approx(p * p / 3, rel=2e-2)
    assert superposition.expected_loss_two_in_one((0, 1, 0, 0), p, 2.0) == pytest.approx(p / 3, rel=1e-3)
    # The dropped feature's best constant read-out is its mean p / 2, leaving r times its variance.
    assert superposition.expected_loss_two_in_one((1, 0, 0, p / 2), p, 3.0) == pytest.approx(
        3 * (p / 3 - p * p / 4), rel=1e-3)


def test_optimal_phase_diagram_dense_and_sparse_corners():
    state, W, loss = superposition.optimal_phase_diagram([0.01, 1.0], [0.1, 10.0], maxiter=400)
    assert state.shape == (2, 2) and W.shape == (2, 2, 2) and loss.shape == (2, 2)
    assert state[0, 1] == 0 and state[1, 1] == 1  # dense: the more important feature takes the dimension
    assert state[0, 0] == 2 and state[1, 0] == 2  # sparse: both, as an antipodal pair
    assert W[0, 0, 0] * W[0, 0, 1] < 0
    np.testing.assert_array_equal(superposition.phase_state(np.array([[1.0, 0.1], [0.0, 0.9], [0.8, -0.9]])), [0, 1, 2])


def test_the_models_own_sampler_has_sample_features_distribution():
    toy = superposition.ToyModels(3, 2, sparsity=[0.0, 0.9, 0.99], importance=np.ones(3), seed=0)
    x = keras.ops.convert_to_numpy(toy.sample(200_000))  # (batch, instances, features)
    assert x.shape == (200_000, 3, 3) and x.min() >= 0 and x.max() < 1
    present = x > 0
    np.testing.assert_allclose(present.mean(axis=(0, 2)), [1.0, 0.1, 0.01], rtol=0.05)
    for t in range(3):  # present values are uniform on [0, 1): mean 1/2, variance 1/12
        values = x[:, t][present[:, t]]
        np.testing.assert_allclose([values.mean(), values.var()], [0.5, 1 / 12], rtol=0.03)
        assert np.histogram(values, bins=4, range=(0, 1))[0].min() > 0.23 * len(values)
