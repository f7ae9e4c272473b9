"""Chapter-8 checks pass the reference answers and reject plausible wrong ones."""

import keras
import numpy as np
import pytest

from aecourse.checks import ExerciseFailure, ch8

# ----------------------------------------------------------------------------- ex-8-ap


def _ap(relevant):
    relevant = np.asarray(relevant, bool)
    if not relevant.any():
        return 0.0
    return float((np.cumsum(relevant) / np.arange(1, len(relevant) + 1))[relevant].mean())


def test_average_precision(capsys):
    ch8.check_average_precision(_ap)
    assert capsys.readouterr().out == "\u2714 ex-8-ap: average precision matches the reference\n"


def _precisions(relevant):
    relevant = np.asarray(relevant, bool)
    return np.cumsum(relevant) / np.arange(1, len(relevant) + 1)


@pytest.mark.parametrize("wrong", [
    lambda r: float(_precisions(r).mean()),                                     # precision at every rank
    lambda r: float(np.sum(_precisions(r) * r) / len(r)),                       # divided by the list length
    lambda r: float(np.mean(r)),                                                # precision of the whole list
    lambda r: float((np.cumsum(r) / np.arange(len(r)).clip(1))[np.asarray(r, bool)].mean()),  # ranks from 0
    lambda r: float(_precisions(r)[np.asarray(r, bool)][0]),                    # first relevant item only
    lambda r: float(np.mean(np.asarray(r, bool)[:10])),                         # precision@10
])
def test_average_precision_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-8-ap"):
        ch8.check_average_precision(wrong)


def test_average_precision_must_not_change_its_input():
    def sorting(relevant):
        relevant[::-1].sort()  # "sorts" the ranked list in place
        return _ap(relevant)

    with pytest.raises(ExerciseFailure, match="^ex-8-ap"):
        ch8.check_average_precision(sorting)


# ----------------------------------------------------------------------------- ex-8-hash-terms


def _terms(b, relaxation=None, balance=None, decorrelation=None):
    b = np.asarray(b, float)
    m = b.T @ b / len(b)
    return np.array([
        np.mean(np.sum(np.abs(np.abs(b) - 1), axis=1)) if relaxation is None else relaxation(b),
        np.sum(b.mean(axis=0) ** 2) if balance is None else balance(b),
        np.sum(m ** 2) - np.sum(np.diag(m) ** 2) if decorrelation is None else decorrelation(b, m),
    ])


def test_hashing_terms(capsys):
    ch8.check_hashing_terms(_terms)
    assert capsys.readouterr().out == (
        "\u2714 ex-8-hash-terms: the relaxation, balance and decorrelation terms match the reference\n")


@pytest.mark.parametrize("wrong", [
    lambda b: _terms(b, relaxation=lambda b: np.mean(np.abs(np.abs(b) - 1))),              # mean over bits too
    lambda b: _terms(b, relaxation=lambda b: np.mean(np.sum((np.abs(b) - 1) ** 2, axis=1))),  # squared
    lambda b: _terms(b, relaxation=lambda b: np.mean(np.sum(np.abs(b - 1), axis=1))),      # |b - 1|: pulls to +1
    lambda b: _terms(b, balance=lambda b: np.sum(b.var(axis=0))),                          # variance, not mean^2
    lambda b: _terms(b, balance=lambda b: np.sum(np.abs(b.mean(axis=0)))),                 # |mean|
    lambda b: _terms(b, decorrelation=lambda b, m: np.sum(m ** 2)),                        # diagonal kept
    lambda b: _terms(b, decorrelation=lambda b, m: (np.sum(m ** 2) - np.sum(np.diag(m) ** 2)) / 2),  # i < j only
    lambda b: _terms(b, decorrelation=lambda b, m: np.sum(np.cov(b.T, bias=True) ** 2)
                     - np.sum(np.diag(np.cov(b.T, bias=True)) ** 2)),                      # centred covariance
    lambda b: _terms(b, decorrelation=lambda b, m: np.sum(np.abs(m)) - np.sum(np.abs(np.diag(m)))),  # |m|
    lambda b: _terms(b)[[0, 2, 1]],                                                        # order swapped
    lambda b: _terms(b)[:2],                                                               # two numbers
])
def test_hashing_terms_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-8-hash-terms"):
        ch8.check_hashing_terms(wrong)


def test_hashing_terms_reference_matches_the_package():
    from aecourse.hashing import HashingPenalty
    b = np.tanh(np.random.default_rng(0).normal(0.4, 1.2, size=(30, 7))).astype("float32")
    package = [float(keras.ops.convert_to_numpy(t)) for t in HashingPenalty().terms(b)]
    np.testing.assert_allclose(ch8.reference_hashing_terms(b), package, rtol=1e-5)


# ----------------------------------------------------------------------------- ex-8-lsh

P = 1 / 3  # arccos(0.5) / pi


def test_lsh_distance(capsys):
    ch8.check_lsh_distance(np.round([64 * P, np.sqrt(64 * P * (1 - P))], 3))  # "to 3 decimals" passes
    assert capsys.readouterr().out == (
        "\u2714 ex-8-lsh: mean and standard deviation of the random-hyperplane Hamming distance are right\n")


@pytest.mark.parametrize("wrong, hint", [
    ([16.0, np.sqrt(64 * 0.25 * 0.75)], "work with the angle"),  # (1 - cos) / 2 as the probability
    ([16.0, np.sqrt(64 * P * (1 - P))], "not the mean and"),
    ([64 * P, 64 * P * (1 - P)], "variance"),
    ([64 * P, np.sqrt(P * (1 - P))], "sum of 64"),
    ([64 * P, 4.0], "probability of 1/2"),
    ([32.0, 4.0], "not the mean and"),                           # random codes: 64 / 2
    ([64 * 60 / 180 * np.pi, 3.771], "not the mean and"),        # degrees mixed with radians
    ([64 * P], "two numbers"),
])
def test_lsh_distance_rejects(wrong, hint):
    with pytest.raises(ExerciseFailure, match=f"^ex-8-lsh: .*{hint}"):
        ch8.check_lsh_distance(np.array(wrong))


@pytest.mark.parametrize("wrong", [
    [16.0, np.sqrt(64 * 0.25 * 0.75)], [64 * P, 4.0], [64 * P, 64 * P * (1 - P)], [64 * P, np.sqrt(P * (1 - P))],
    [64 * 60 / 180 * np.pi, 3.771], [10.0, 2.0]])
def test_lsh_hints_do_not_give_away_the_probability(wrong):
    """A wrong answer's hint must not hand over the derivation's key step, theta / pi."""
    with pytest.raises(ExerciseFailure) as failure:
        ch8.check_lsh_distance(np.array(wrong))
    assert "/ pi" not in str(failure.value) and "1/3" not in str(failure.value)


def test_lsh_reference_matches_a_simulation():
    rng = np.random.default_rng(0)
    x, y = np.array([1.0, 0.0]), np.array([0.5, np.sqrt(3) / 2])  # cosine 0.5
    w = rng.normal(size=(20000, 64, 2))
    distances = np.sum(np.sign(w @ x) != np.sign(w @ y), axis=1)
    assert distances.mean() == pytest.approx(64 * P, abs=0.1)
    assert distances.std() == pytest.approx(np.sqrt(64 * P * (1 - P)), abs=0.05)


# ----------------------------------------------------------------------------- ex-8-novelty


def test_novelty_answer_needs_a_real_answer(capsys):
    with pytest.raises(ExerciseFailure, match="^ex-8-novelty"):
        ch8.check_novelty_answer("Bags differ.")
    with pytest.raises(ExerciseFailure, match="not answered"):
        ch8.check_novelty_answer(...)
    ch8.check_novelty_answer(" ".join(["word"] * 40))
    assert capsys.readouterr().out.startswith("\u2714 ex-8-novelty: answered")


# ----------------------------------------------------------------------------- ex-8-detector


def _one_hidden_layer(units=32):
    inputs = keras.Input((784,))
    hidden = keras.layers.Dense(units, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(784, activation="sigmoid")(hidden))


def test_detector_training_sample_holds_normal_classes_only():
    from aecourse import data
    from aecourse.checks import fashion_pixels
    x = ch8.normal_training_sample(np.random.default_rng(0), 50)
    pixels, labels = fashion_pixels("train"), data.fashion_mnist().y_train
    index = [int(np.flatnonzero((pixels == row).all(axis=1))[0]) for row in x[:10]]
    assert not np.isin(labels[index], ch8.ANOMALY_CLASSES).any()


@pytest.mark.training
def test_detector_judge_passes_a_trained_model_and_rejects_weak_or_wrong_ones():
    check = ch8.check_anomaly_detector
    cases = check.cases(np.random.default_rng(0))
    x_normal = cases[0][0]
    keras.utils.set_random_seed(0)
    model = _one_hidden_layer()
    untrained = [w.copy() for w in model.get_weights()]
    model.compile(keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    model.fit(x_normal, x_normal, epochs=30, batch_size=64, verbose=0)  # the model answer
    assert "ROC AUC" in check.judge(cases, [model.get_weights()])
    weak = _one_hidden_layer()
    weak.set_weights(untrained)
    weak.compile(keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    # 2 steps: the bound must reject it (32 steps reach the bound on some backends, not on others)
    weak.fit(x_normal[:128], x_normal[:128], epochs=1, batch_size=64, verbose=0)
    with pytest.raises(ExerciseFailure, match="^ex-8-detector: the reconstruction error"):
        check.judge(cases, [weak.get_weights()])
    with pytest.raises(ExerciseFailure, match="^ex-8-detector: the reconstruction error"):
        check.judge(cases, [untrained])
    with pytest.raises(ExerciseFailure, match="^ex-8-detector: expected Dense"):
        check.judge(cases, [model.get_weights()[:2]])
    with pytest.raises(ExerciseFailure, match="NaN"):
        check.judge(cases, [[w * np.nan for w in model.get_weights()]])
