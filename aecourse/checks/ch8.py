"""Checks of chapter 8, applications: anomaly detection and semantic hashing."""

import numpy as np
from sklearn.metrics import roc_auc_score

from aecourse.checks import (DERIVE, EXPLAIN, IMPLEMENT, TRAIN, Check, expect_close, expect_one_hidden_layer, fail,
                             fashion_pixels)
from aecourse import data

# ----------------------------------------------------------------------------- implement: average precision


def reference_average_precision(relevant):
    """Mean over the relevant items of the precision at their rank (0 if none is relevant)."""
    relevant = np.asarray(relevant, bool)
    if not relevant.any():
        return 0.0
    precision = np.cumsum(relevant) / np.arange(1, len(relevant) + 1)
    return float(precision[relevant].mean())


def _ap_inputs(rng):
    cases = []
    for n, rate in ((40, 0.3), (200, 0.1), (25, 0.6)):
        relevant = rng.random(n) < rate
        relevant[rng.integers(n)] = True  # at least one relevant item
        cases.append((relevant,))
    first = np.zeros(30, bool)
    first[[0, 29]] = True  # the first and the last item: (1 + 2/30) / 2
    return cases + [(first,), (np.zeros(12, bool),)]  # the last: no relevant item, average precision 0


def _judge_ap(cases, results):
    for (relevant,), got in zip(cases, results):
        expect_close("ex-8-ap", got, reference_average_precision(relevant),
                     f"the average precision of a ranked list of {len(relevant)} items with {int(relevant.sum())} "
                     "relevant (average the precision at the rank of each RELEVANT item, precision at rank r = "
                     "relevant items among the first r / r)")
    return "average precision matches the reference"


check_average_precision = Check("ex-8-ap", IMPLEMENT, inputs=_ap_inputs, judge=_judge_ap, keep_inputs=True)

# ----------------------------------------------------------------------------- implement: the three hashing terms


def reference_hashing_terms(b):
    """`[relaxation, balance, decorrelation]` of a code batch `b` of shape `(n, bits)`:
    `1/n sum_n sum_i ||b_ni| - 1|`, `sum_i (mean_n b_ni)^2` and `sum_{i != j} (1/n sum_n b_ni b_nj)^2`."""
    b = np.asarray(b, "float64")
    relaxation = np.mean(np.sum(np.abs(np.abs(b) - 1), axis=1))
    balance = np.sum(b.mean(axis=0) ** 2)
    moments = b.T @ b / len(b)
    decorrelation = np.sum(moments ** 2) - np.sum(np.diag(moments) ** 2)
    return np.array([relaxation, balance, decorrelation])


def _terms_inputs(rng):
    cases = []
    for n, bits in ((64, 16), (37, 8)):
        offsets = rng.normal(0, 0.7, bits)  # unbalanced bits: a centred covariance would differ
        cases.append((np.tanh(rng.normal(offsets, 1.5, size=(n, bits))),))
    return cases


def _judge_terms(cases, results):
    for (b,), got in zip(cases, results):
        expected = reference_hashing_terms(b)
        if np.shape(got) != (3,):
            fail("ex-8-hash-terms", "return np.array([relaxation, balance, decorrelation]), three numbers; got "
                                    f"an array of shape {np.shape(got)}.")
        for i, (name, hint) in enumerate((
                ("relaxation", "the mean over examples of the SUM over bits of | |b| - 1 |"),
                ("balance", "the sum over bits of the squared mean (over examples) of each bit"),
                ("decorrelation", "the sum over ORDERED pairs i != j of the squared entries of B^T B / n, "
                                  "the second moments, not centred, diagonal left out"))):
            expect_close("ex-8-hash-terms", got[i], expected[i], f"the {name} term ({hint})")
    return "the relaxation, balance and decorrelation terms match the reference"


check_hashing_terms = Check("ex-8-hash-terms", IMPLEMENT, inputs=_terms_inputs, judge=_judge_terms,
                            keep_inputs=True)

# ----------------------------------------------------------------------------- train: an anomaly detector

ANOMALY_CLASSES = (6, 8)  # shirt and bag, as in the chapter
DETECTOR_TRAIN_IMAGES = 2000
DETECTOR_MAX_UNITS = 256
DETECTOR_AUC_BOUND = 0.71  # see the exercise text for calibration (whole test set)


def normal_training_sample(rng, n_images=DETECTOR_TRAIN_IMAGES):
    """`n_images` random Fashion-MNIST training images of the normal classes (not shirt, not bag)."""
    pixels, labels = fashion_pixels("train"), data.fashion_mnist().y_train
    normal = np.flatnonzero(~np.isin(labels, ANOMALY_CLASSES))
    return pixels[rng.choice(normal, n_images, replace=False)]


def held_out_detection_set():
    """Fashion-MNIST's whole test set, which the learner never sees: 8,000 normal images and 2,000 anomalies
    (shirts and bags), and the labels (1 = anomaly). No random draw, so a verdict does not depend on luck."""
    pixels, labels = fashion_pixels("test"), data.fashion_mnist().y_test
    return pixels.astype("float64"), np.isin(labels, ANOMALY_CLASSES).astype("float64")


def reference_reconstruction_errors(x, weights):
    """Squared error per image of `sigmoid(relu(x W1 + b1) W2 + b2)`."""
    kernel, bias, kernel_out, bias_out = (np.asarray(w, "float64") for w in weights)
    r = 1.0 / (1.0 + np.exp(-(np.maximum(x @ kernel + bias, 0.0) @ kernel_out + bias_out)))
    return np.sum((x - r) ** 2, axis=1)


def _detector_inputs(rng):
    return [(normal_training_sample(rng),)]


def _judge_detector(cases, results):
    label = "ex-8-detector"
    weights = results[0]
    expect_one_hidden_layer(label, weights, 1, DETECTOR_MAX_UNITS, "Dense(K, relu) -> Dense(784, sigmoid)")
    x, y = held_out_detection_set()
    auc = roc_auc_score(y, reference_reconstruction_errors(x, weights))
    if not auc >= DETECTOR_AUC_BOUND:
        fail(label, f"the reconstruction error separates held-out shirts and bags from held-out normal test images "
                    f"with ROC AUC {auc:.3f}, not at least {DETECTOR_AUC_BOUND:g}. Train on the normal images only, "
                    "long enough that they are reconstructed well (a few thousand Adam steps), and keep the code "
                    "small enough that the network cannot copy any image.")
    return (f"reconstruction errors of your autoencoder separate held-out anomalies from normal images with ROC AUC "
            f"at least {DETECTOR_AUC_BOUND:g}")


check_anomaly_detector = Check("ex-8-detector", TRAIN, inputs=_detector_inputs, judge=_judge_detector,
                               allow=("aecourse.data",))

# ----------------------------------------------------------------------------- derive: LSH Hamming distance

LSH_BITS, LSH_COSINE = 64, 0.5


def _judge_lsh(cases, results):
    label = "ex-8-lsh"
    got = results[0]
    if np.shape(got) != (2,):
        fail(label, "give two numbers, the expected Hamming distance and its standard deviation; got an array "
                    f"of shape {np.shape(got)}.")
    p = np.arccos(LSH_COSINE) / np.pi
    mean, std = LSH_BITS * p, np.sqrt(LSH_BITS * p * (1 - p))
    traps = [
        (np.array([LSH_BITS * (1 - LSH_COSINE) / 2, np.sqrt(LSH_BITS * 0.25 * 0.75)]),
         "(1 - cos theta) / 2 is not the probability that a random hyperplane separates the two vectors; "
         "work with the angle theta between them, in the plane they span."),
        (np.array([mean, LSH_BITS * p * (1 - p)]), "the second number is the variance; give its square root."),
        (np.array([mean, np.sqrt(p * (1 - p))]), "the standard deviation of one bit is not that of the distance: "
                                                 "the distance is a sum of 64 independent bits."),
        (np.array([mean, np.sqrt(LSH_BITS) / 2]), "the standard deviation uses a bit-difference probability of "
                                                  "1/2; use the same probability p as in your mean."),
    ]
    for wrong, hint in traps:
        if np.allclose(got, wrong, rtol=0, atol=2e-3):
            fail(label, hint)
    if not np.allclose(got, [mean, std], rtol=0, atol=2e-3):
        fail(label, f"{np.round(got, 4).tolist()} is not the mean and standard deviation of the Hamming distance "
                    f"between the {LSH_BITS}-bit codes (to 3 decimals).")
    return "mean and standard deviation of the random-hyperplane Hamming distance are right"


check_lsh_distance = Check("ex-8-lsh", DERIVE, judge=_judge_lsh)

# ----------------------------------------------------------------------------- explain: what the score notices

check_novelty_answer = Check("ex-8-novelty", EXPLAIN, min_words=30)
