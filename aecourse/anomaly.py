"""Anomaly detection with autoencoders: scores, thresholds, metrics and baselines.

An anomaly detector gives every input a **score**, higher for inputs that
look less like the training data (the "normal" class). An autoencoder
trained on normal inputs scores an input by its reconstruction error; a VAE
by its negative ELBO, an upper bound on `-log p(x)`. A detector becomes a
decision rule once a threshold is chosen; this module picks it on normal
validation scores, for a target false-alarm rate. The baselines are
scikit-learn's (PCA reconstruction error, Isolation Forest, One-Class SVM,
Local Outlier Factor), wrapped so that every detector has the same
`fit(x)` / `score(x)` interface, higher meaning more anomalous.
"""

import itertools

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

import keras
from keras import ops

from aecourse.reconstruction import cross_entropy_floor
from aecourse.vae import bernoulli_log_likelihood, gaussian_kl


def _as_2d(x, name="x"):
    x = np.asarray(x)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (examples, features). Received: shape={x.shape}")
    return x


def _as_scores(scores, name):
    scores = np.asarray(scores, dtype="float64")
    if scores.ndim != 1 or len(scores) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of scores. Received: shape={scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{name} contains NaN or infinite scores.")
    return scores


def reconstruction_scores(model, x, batch_size=1000):
    """Squared reconstruction error of each example, summed over its features.

    Args:
        model: a Keras model that maps `x` to its reconstruction (same shape).
        x: `(n, features)` inputs.
        batch_size: examples per call.

    Returns:
        `(n,)` float64 NumPy array, `sum_i (x_i - r_i)^2` per example.

    Example:

    >>> scores = reconstruction_scores(autoencoder, x_test)  # doctest: +SKIP
    """
    x = _as_2d(x).astype("float32")
    parts = []
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size]
        r = np.asarray(ops.convert_to_numpy(model(xb, training=False)), "float64")
        if r.shape != xb.shape:
            raise ValueError(f"The model must return reconstructions of the input's shape {xb.shape}. "
                             f"Received: shape={r.shape}")
        parts.append(np.sum((xb.astype("float64") - r) ** 2, axis=1))
    return np.concatenate(parts)


def negative_elbo_scores(vae, x, num_samples=10, seed=0, batch_size=1000):
    """A VAE's negative ELBO per example, `-log p(x|z) + KL(q(z|x) || p(z))`, in nats.

    The expectation over `q(z|x)` is estimated with `num_samples` draws of the
    reparameterised `z`. The negative ELBO is an upper bound on `-log p(x)`:
    a high value says the model finds `x` improbable.

    Args:
        vae: an `aecourse.vae.VAE` (or any model with `encoder` giving
            `[z_mean, z_log_var]` and `decoder` giving Bernoulli logits).
        x: `(n, input_dim)` inputs in [0, 1].
        num_samples: draws of `z` per example, a positive integer.
        seed: seed of the NumPy noise, so that scores are reproducible.
        batch_size: examples per call.

    Returns:
        `(n,)` float64 NumPy array of negative ELBOs (higher: more anomalous).
    """
    if not (isinstance(num_samples, (int, np.integer)) and not isinstance(num_samples, bool) and num_samples > 0):
        raise ValueError(f"num_samples must be a positive integer. Received: num_samples={num_samples!r}")
    x = _as_2d(x).astype("float32")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"x must lie in [0, 1] (pixels). Received: range [{x.min():g}, {x.max():g}]")
    rng = np.random.default_rng(seed)
    parts = []
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size]
        z_mean, z_log_var = vae.encoder(xb, training=False)
        kl = ops.convert_to_numpy(gaussian_kl(z_mean, z_log_var)).astype("float64")
        reconstruction = np.zeros(len(xb))
        for _ in range(num_samples):
            eps = ops.convert_to_tensor(rng.normal(size=tuple(z_mean.shape)).astype("float32"))
            z = z_mean + ops.exp(0.5 * z_log_var) * eps
            log_p = bernoulli_log_likelihood(xb, vae.decoder(z, training=False))
            reconstruction -= ops.convert_to_numpy(log_p).astype("float64") / num_samples
        parts.append(reconstruction + kl)
    return np.concatenate(parts)


def threshold_at_false_alarm_rate(normal_scores, rate):
    """The smallest threshold that flags at most a fraction `rate` of normal examples.

    An example is flagged when its score is **above** the threshold. Chosen on
    normal validation scores only (no anomalies needed), the threshold's
    false-alarm rate on new normal data is `rate` up to sampling noise.

    Args:
        normal_scores: `(n,)` scores of normal validation examples.
        rate: target false-alarm rate, strictly between 0 and 1 (e.g. 0.05).

    Returns:
        The threshold, a float: one of the normal scores.

    Example:

    >>> threshold_at_false_alarm_rate(np.arange(100.0), 0.05)  # 95, 96, ..., 99 lie above it
    94.0
    """
    scores = np.sort(_as_scores(normal_scores, "normal_scores"))
    if not (isinstance(rate, (float, int, np.floating)) and 0 < rate < 1):
        raise ValueError(f"rate must be a number strictly between 0 and 1. Received: rate={rate!r}")
    n = len(scores)
    allowed = int(np.floor(rate * n + 1e-9))  # at most this many normal scores may lie above the threshold
    return float(scores[n - 1 - allowed]) if allowed < n else float(scores[0])


def detection_metrics(normal_scores, anomaly_scores, threshold=None):
    """ROC AUC, PR AUC and, given a threshold, the false-alarm and detection rates.

    Anomalies are the positive class. ROC AUC is the probability that a random
    anomaly scores above a random normal example (0.5: chance). PR AUC is
    scikit-learn's average precision; its chance level is the fraction of
    anomalies, which this function also returns.

    Args:
        normal_scores: `(n,)` scores of normal examples.
        anomaly_scores: `(m,)` scores of anomalies.
        threshold: optional; examples scoring above it are flagged.

    Returns:
        dict with `roc_auc`, `pr_auc`, `anomaly_fraction` and, with a
        threshold, `false_alarm_rate` (normal examples flagged) and
        `detection_rate` (anomalies flagged).
    """
    normal = _as_scores(normal_scores, "normal_scores")
    anomalous = _as_scores(anomaly_scores, "anomaly_scores")
    y = np.r_[np.zeros(len(normal)), np.ones(len(anomalous))]
    s = np.r_[normal, anomalous]
    result = {"roc_auc": float(roc_auc_score(y, s)), "pr_auc": float(average_precision_score(y, s)),
              "anomaly_fraction": len(anomalous) / len(s)}
    if threshold is not None:
        result["false_alarm_rate"] = float(np.mean(normal > threshold))
        result["detection_rate"] = float(np.mean(anomalous > threshold))
    return result


def entropy_floor(x):
    """The Bernoulli entropy floor `sum_i H(x_i)` of each input, in nats.

    For a grey pixel `x_i` in [0, 1] the Bernoulli cross-entropy that a VAE's
    decoder term uses, `-[x_i log p_i + (1 - x_i) log(1 - p_i)]`, equals
    `H(x_i) + KL(Bern(x_i) || Bern(p_i))` with `H(q) = -q log q - (1-q) log(1-q)`:
    it can never fall below `H(x_i)`, whatever the model. The floor depends on
    the image alone (how many mid-grey pixels it has); it is 0 for binary images.

    Args:
        x: `(n, input_dim)` inputs in [0, 1].

    Returns:
        `(n,)` float64 NumPy array, `sum_i H(x_i)` (with `0 log 0 = 0`): per
        image, chapter 1's `reconstruction.cross_entropy_floor` (the mean of
        `H(x_i)`) times its number of pixels.
    """
    x = _as_2d(x).astype("float64")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"x must lie in [0, 1] (pixels). Received: range [{x.min():g}, {x.max():g}]")
    return np.array([cross_entropy_floor(image) * image.size for image in x])


def negative_elbo_above_floor(vae, x, num_samples=10, seed=0, batch_size=1000):
    """A VAE's negative ELBO minus the model-free entropy floor: `-ELBO(x) - sum_i H(x_i)`.

    Equal to `E_q[sum_i KL(Bern(x_i) || Bern(p_i(z)))] + KL(q(z|x) || p(z))`, the
    part of the score that depends on the model (non-negative). Arguments as in
    `negative_elbo_scores`.
    """
    return negative_elbo_scores(vae, x, num_samples=num_samples, seed=seed, batch_size=batch_size) - entropy_floor(x)


class PCAError:
    """PCA reconstruction error as an anomaly score (scikit-learn's `PCA`).

    Args:
        n_components: number of principal components kept.
        seed: `random_state` of the PCA solver.
    """

    def __init__(self, n_components, seed=0):
        self.model = PCA(n_components, random_state=seed)

    def fit(self, x):
        self.model.fit(_as_2d(x))
        return self

    def score(self, x):
        x = _as_2d(x)
        return np.sum((x - self.model.inverse_transform(self.model.transform(x))) ** 2, axis=1).astype("float64")


class SklearnDetector:
    """A scikit-learn novelty detector with `score(x)` = minus its `score_samples` (higher: more anomalous).

    Args:
        model: an unfitted `IsolationForest`, `OneClassSVM` or
            `LocalOutlierFactor(novelty=True)`.
    """

    def __init__(self, model):
        if isinstance(model, LocalOutlierFactor) and not model.novelty:
            raise ValueError("LocalOutlierFactor must be built with novelty=True to score new data. "
                             f"Received: {model!r}")
        self.model = model

    def fit(self, x):
        self.model.fit(_as_2d(x))
        return self

    def score(self, x):
        return -np.asarray(self.model.score_samples(_as_2d(x)), "float64")


class OneClassSVMDetector(SklearnDetector):
    """scikit-learn's RBF `OneClassSVM`, scored with one matrix product.

    The score is minus `score_samples(x) = sum_i a_i exp(-gamma ||x - s_i||^2)`
    over the support vectors `s_i` and their dual coefficients `a_i`, computed
    with `sklearn.metrics.pairwise.rbf_kernel` (BLAS) instead of libsvm's
    kernel loop: the same scores up to rounding (1e-13 on Fashion-MNIST), about
    20 times faster on 12,500 images and 500 support vectors.

    Args:
        model: an unfitted `OneClassSVM(kernel="rbf")`.
    """

    def __init__(self, model):
        if not isinstance(model, OneClassSVM) or model.kernel != "rbf":
            raise ValueError(f"Expected an unfitted OneClassSVM with kernel='rbf'. Received: {model!r}")
        super().__init__(model)

    def score(self, x):
        m = self.model
        return -(rbf_kernel(_as_2d(x), m.support_vectors_, gamma=m._gamma) @ m.dual_coef_[0]).astype("float64")


BASELINES = ("pca", "isolation_forest", "one_class_svm", "lof")


def make_baseline(name, seed=0, **params):
    """Builds one of scikit-learn's anomaly detectors with the `fit` / `score` interface.

    Args:
        name: `"pca"` (PCA reconstruction error; `n_components`),
            `"isolation_forest"` (`n_estimators`, `max_samples`, ...),
            `"one_class_svm"` (RBF kernel; `nu`, `gamma`) or `"lof"`
            (Local Outlier Factor in novelty mode; `n_neighbors`).
        seed: random state, for the detectors that draw random numbers.
        **params: the detector's hyperparameters.

    Returns:
        A detector: `fit(x)` returns it, `score(x)` gives `(n,)` scores.

    Example:

    >>> detector = make_baseline("lof", n_neighbors=20).fit(x_normal)   # doctest: +SKIP
    >>> scores = detector.score(x_test)                                  # doctest: +SKIP
    """
    if name == "pca":
        return PCAError(seed=seed, **params)
    if name == "isolation_forest":
        return SklearnDetector(IsolationForest(random_state=seed, **params))
    if name == "one_class_svm":
        return OneClassSVMDetector(OneClassSVM(kernel="rbf", **params))
    if name == "lof":
        return SklearnDetector(LocalOutlierFactor(novelty=True, **params))
    raise ValueError(f"name must be one of {BASELINES}. Received: name={name!r}")


def grid(**values):
    """Every combination of hyperparameter values, as a list of dicts.

    Example:

    >>> grid(nu=[0.1, 0.5], gamma=["scale"])
    [{'nu': 0.1, 'gamma': 'scale'}, {'nu': 0.5, 'gamma': 'scale'}]
    """
    names = list(values)
    return [dict(zip(names, combination)) for combination in itertools.product(*(values[n] for n in names))]


def tune(build, candidates, x_train, val_normal, val_anomalies):
    """Fits a detector for each hyperparameter setting and keeps the best on validation data.

    "Best" is the highest ROC AUC on the validation set (normal examples and
    anomalies that are neither training nor test data).

    Args:
        build: `build(**params)` returns an unfitted detector with `fit` / `score`.
        candidates: list of `params` dicts (see `grid`).
        x_train: normal training examples.
        val_normal: normal validation examples.
        val_anomalies: anomalous validation examples.

    Returns:
        `(best_params, best_detector, validation_aucs)`, the last a list of
        `(params, roc_auc)` in the order of `candidates`.
    """
    candidates = list(candidates)
    if not candidates:
        raise ValueError("candidates must hold at least one hyperparameter setting. Received: []")
    best, results = None, []
    for params in candidates:
        detector = build(**params).fit(x_train)
        auc = detection_metrics(detector.score(val_normal), detector.score(val_anomalies))["roc_auc"]
        results.append((params, auc))
        if best is None or auc > best[2]:
            best = (params, detector, auc)
    return best[0], best[1], results


def dense_autoencoder_scores(x_train, x_score, code_dim, hidden_units=(256,), epochs=10, batch_size=128,
                             learning_rate=1e-3, output_activation="sigmoid", steps_per_execution=1, seed=0):
    """Trains a `DenseAutoencoder` on normal data and returns its reconstruction errors on `x_score`.

    The encoder subtracts the training mean (`data_mean`); the loss is the
    mean squared error, so the score is the quantity the model was trained to
    make small.

    Args:
        x_train: `(n, features)` normal training examples.
        x_score: list of arrays to score after training.
        code_dim: size of the code.
        hidden_units: encoder hidden layer sizes (the decoder mirrors them).
        epochs, batch_size, learning_rate: Adam training budget.
        output_activation: `"sigmoid"` for pixels in [0, 1], `None` for real-valued features.
        steps_per_execution: training steps per compiled call (more: less overhead for tiny models;
            `runtime.steps_per_execution` makes it 1 on PyTorch).
        seed: seed of the weights and the batch order.

    Returns:
        `(model, scores)`: the trained autoencoder and one `(m,)` score array per entry of `x_score`.
    """
    from aecourse.models import DenseAutoencoder
    from aecourse.runtime import steps_per_execution as _steps

    x_train = _as_2d(x_train, "x_train").astype("float32")
    keras.utils.set_random_seed(seed)
    model = DenseAutoencoder(x_train.shape[1], code_dim, hidden_units=hidden_units,
                             output_activation=output_activation, data_mean=x_train.mean(axis=0))
    model.compile(keras.optimizers.Adam(learning_rate), loss="mse", steps_per_execution=_steps(steps_per_execution))
    model.fit(x_train, x_train, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
    return model, [reconstruction_scores(model, x) for x in x_score]
