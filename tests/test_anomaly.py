"""aecourse.anomaly: thresholds, metrics against their definitions, scores, baselines and tuning."""

import itertools

import keras
import numpy as np
import pytest

from aecourse import anomaly
from aecourse.vae import VAE


def test_threshold_flags_at_most_the_target_fraction():
    rng = np.random.default_rng(0)
    for n, rate in [(100, 0.05), (37, 0.1), (2000, 0.05), (10, 0.5)]:
        scores = rng.normal(size=n)
        threshold = anomaly.threshold_at_false_alarm_rate(scores, rate)
        flagged = np.sum(scores > threshold)
        assert flagged <= rate * n + 1e-9
        assert flagged == int(np.floor(rate * n + 1e-9))  # and no lower threshold would do: it is a score itself
        assert threshold in scores
    assert anomaly.threshold_at_false_alarm_rate(np.arange(100.0), 0.05) == 94.0


@pytest.mark.parametrize("rate", [0, 1, -0.1, 1.5, "5%"])
def test_threshold_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match="rate"):
        anomaly.threshold_at_false_alarm_rate(np.arange(10.0), rate)


def test_threshold_rejects_empty_or_nan_scores():
    with pytest.raises(ValueError, match="normal_scores"):
        anomaly.threshold_at_false_alarm_rate(np.array([]), 0.05)
    with pytest.raises(ValueError, match="NaN"):
        anomaly.threshold_at_false_alarm_rate(np.array([1.0, np.nan]), 0.05)


def test_roc_auc_is_the_probability_an_anomaly_outscores_a_normal_input():
    rng = np.random.default_rng(1)
    normal, anomalous = rng.normal(size=40), rng.normal(0.7, 1, size=25)
    pairs = [(a > n) + 0.5 * (a == n) for a, n in itertools.product(anomalous, normal)]
    metrics = anomaly.detection_metrics(normal, anomalous, threshold=0.5)
    assert metrics["roc_auc"] == pytest.approx(np.mean(pairs))
    assert metrics["anomaly_fraction"] == pytest.approx(25 / 65)
    assert metrics["false_alarm_rate"] == pytest.approx(np.mean(normal > 0.5))
    assert metrics["detection_rate"] == pytest.approx(np.mean(anomalous > 0.5))


def test_pr_auc_is_average_precision_of_the_ranking():
    normal, anomalous = np.array([0.1, 0.4, 0.35, 0.8]), np.array([0.9, 0.5, 0.2])
    # ranked: 0.9 (A), 0.8 (N), 0.5 (A), 0.4, 0.35, 0.2 (A), 0.1: precisions at the anomalies 1, 2/3, 3/6
    assert anomaly.detection_metrics(normal, anomalous)["pr_auc"] == pytest.approx((1 + 2 / 3 + 3 / 6) / 3)


def test_reconstruction_scores_sum_squared_errors():
    x_in = keras.Input((5,))
    model = keras.Model(x_in, keras.layers.Dense(5, activation="sigmoid")(x_in))
    x = np.random.default_rng(2).random((7, 5)).astype("float32")
    expected = np.sum((x - keras.ops.convert_to_numpy(model(x))) ** 2, axis=1)
    np.testing.assert_allclose(anomaly.reconstruction_scores(model, x, batch_size=3), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="2-D"):
        anomaly.reconstruction_scores(model, x[0])


def test_negative_elbo_scores_match_the_vae_terms_with_one_deterministic_sample():
    vae = VAE(6, latent_dim=2, hidden_units=(4,), seed=0)
    x = np.random.default_rng(3).random((5, 6)).astype("float32")
    scores = anomaly.negative_elbo_scores(vae, x, num_samples=200, seed=0)
    # an average of the per-sample negative ELBO: the reconstruction term varies with z, the KL does not
    single = np.stack([anomaly.negative_elbo_scores(vae, x, num_samples=1, seed=s) for s in range(50)])
    assert np.all(np.isfinite(scores)) and scores.shape == (5,)
    np.testing.assert_allclose(scores, single.mean(axis=0), rtol=0.05)
    np.testing.assert_array_equal(scores, anomaly.negative_elbo_scores(vae, x, num_samples=200, seed=0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        anomaly.negative_elbo_scores(vae, x * 3, num_samples=2)
    with pytest.raises(ValueError, match="num_samples"):
        anomaly.negative_elbo_scores(vae, x, num_samples=0)


def test_baselines_score_outliers_above_inliers():
    rng = np.random.default_rng(4)
    inliers = rng.normal(size=(300, 4)) * [3, 1, 0.3, 0.1]
    test_in, test_out = rng.normal(size=(50, 4)) * [3, 1, 0.3, 0.1], rng.normal(size=(50, 4)) * 3
    for name, params in [("pca", {"n_components": 2}), ("isolation_forest", {"n_estimators": 50}),
                         ("one_class_svm", {"nu": 0.1, "gamma": 0.1}), ("lof", {"n_neighbors": 10})]:
        detector = anomaly.make_baseline(name, **params).fit(inliers)
        auc = anomaly.detection_metrics(detector.score(test_in), detector.score(test_out))["roc_auc"]
        assert auc > 0.8, name


@pytest.mark.parametrize("gamma", [0.05, "scale"])
def test_one_class_svm_scores_are_scikit_learns_score_samples(gamma):
    rng = np.random.default_rng(6)
    x_train, x = rng.normal(size=(200, 5)), rng.normal(size=(80, 5)) * 2
    detector = anomaly.make_baseline("one_class_svm", nu=0.3, gamma=gamma).fit(x_train)
    np.testing.assert_allclose(detector.score(x), -detector.model.score_samples(x), rtol=1e-10, atol=1e-12)
    from sklearn.svm import OneClassSVM
    with pytest.raises(ValueError, match="kernel='rbf'"):
        anomaly.OneClassSVMDetector(OneClassSVM(kernel="linear"))


def test_pca_error_is_the_residual_off_the_principal_subspace():
    x = np.random.default_rng(5).normal(size=(100, 3)) * [5, 1, 0.01]
    detector = anomaly.make_baseline("pca", n_components=2).fit(x)
    np.testing.assert_allclose(detector.score(np.array([[0, 0, 2.0]])) ** 0.5, [2.0], atol=0.05)


def test_make_baseline_rejects_unknown_names_and_lof_without_novelty():
    with pytest.raises(ValueError, match="name must be one of"):
        anomaly.make_baseline("autoencoder")
    from sklearn.neighbors import LocalOutlierFactor
    with pytest.raises(ValueError, match="novelty=True"):
        anomaly.SklearnDetector(LocalOutlierFactor())


def test_tune_keeps_the_best_validation_auc():
    rng = np.random.default_rng(6)
    train = rng.normal(size=(200, 5)) * [4, 2, 1, 0.1, 0.1]
    val_out = rng.normal(size=(40, 5)) * [0.1, 0.1, 0.1, 3, 3]  # off the principal subspace
    val_in = rng.normal(size=(40, 5)) * [4, 2, 1, 0.1, 0.1]
    best, detector, results = anomaly.tune(lambda **p: anomaly.make_baseline("pca", **p),
                                           anomaly.grid(n_components=[1, 3, 5]), train, val_in, val_out)
    aucs = [auc for _, auc in results]
    assert best == results[int(np.argmax(aucs))][0]
    assert best["n_components"] != 5  # all five components reconstruct everything: no signal
    with pytest.raises(ValueError, match="candidates"):
        anomaly.tune(lambda **p: None, [], train, val_in, val_out)


def test_grid_is_the_cartesian_product():
    assert anomaly.grid(a=[1, 2], b=["x"]) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert len(anomaly.grid(a=[1, 2, 3], b=[4, 5])) == 6


def test_dense_autoencoder_scores_learns_the_normal_subspace():
    rng = np.random.default_rng(7)
    basis = rng.normal(size=(2, 10))
    normal = rng.normal(size=(256, 2)) @ basis
    outliers = rng.normal(size=(32, 10)) * 2
    model, (s_normal, s_out) = anomaly.dense_autoencoder_scores(
        normal, [normal[:32], outliers], code_dim=2, hidden_units=(16,), epochs=60, batch_size=32,
        learning_rate=1e-2, output_activation=None, steps_per_execution=8, seed=0)
    assert np.median(s_out) > 5 * np.median(s_normal)


def test_entropy_floor_is_the_minimum_of_the_bernoulli_cross_entropy():
    x = np.array([[0.0, 1.0, 0.5, 0.2], [0.0, 0.0, 1.0, 1.0]])
    h02 = -(0.2 * np.log(0.2) + 0.8 * np.log(0.8))
    np.testing.assert_allclose(anomaly.entropy_floor(x), [np.log(2) + h02, 0.0])  # binary pixels: no floor
    rng = np.random.default_rng(0)
    x = rng.random((5, 7))
    floor = anomaly.entropy_floor(x)
    for _ in range(20):  # any decoder output p gives a cross-entropy at least the floor, equal at p = x
        p = rng.uniform(0.01, 0.99, size=x.shape)
        ce = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
        assert np.all(ce >= floor - 1e-12)
    np.testing.assert_allclose(-np.sum(x * np.log(x) + (1 - x) * np.log(1 - x), axis=1), floor)
    with pytest.raises(ValueError, match="0, 1"):
        anomaly.entropy_floor(x + 1)


def test_negative_elbo_above_floor_removes_the_floor_and_stays_non_negative():
    vae = VAE(6, latent_dim=2, hidden_units=(4,), seed=0)
    x = np.random.default_rng(3).random((9, 6)).astype("float32")  # grey pixels: a floor above 0
    above = anomaly.negative_elbo_above_floor(vae, x, num_samples=5, seed=1)
    np.testing.assert_allclose(above, anomaly.negative_elbo_scores(vae, x, num_samples=5, seed=1)
                               - anomaly.entropy_floor(x), rtol=1e-12)
    assert np.all(above >= -1e-4)  # KL terms only (float32 decoder)
