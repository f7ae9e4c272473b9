"""aecourse.hashing: the three penalties, packing and Hamming distance, LSH, ITQ and the retrieval metrics."""

import keras
import numpy as np
import pytest

from aecourse import hashing
from aecourse.regularizers import ActivityPenalty


def _np_terms(b):
    relaxation = np.mean(np.sum(np.abs(np.abs(b) - 1), axis=1))
    balance = np.sum(b.mean(axis=0) ** 2)
    m = b.T @ b / len(b)
    return relaxation, balance, np.sum(m ** 2) - np.sum(np.diag(m) ** 2)


def test_penalty_terms_match_their_formulas():
    b = np.tanh(np.random.default_rng(0).normal(0.3, 1.5, size=(16, 6))).astype("float32")
    got = [float(keras.ops.convert_to_numpy(t)) for t in hashing.HashingPenalty().terms(b)]
    np.testing.assert_allclose(got, _np_terms(b), rtol=1e-6)
    pairs = sum((b[:, i] @ b[:, j] / len(b)) ** 2 for i in range(6) for j in range(6) if i != j)
    assert got[2] == pytest.approx(pairs)


def test_penalties_vanish_on_balanced_uncorrelated_binary_codes():
    # the rows of a 4x4 Hadamard matrix without its constant column: +-1, balanced, orthogonal columns
    h = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], "float32")[:, 1:]
    np.testing.assert_allclose([float(keras.ops.convert_to_numpy(t)) for t in hashing.HashingPenalty().terms(h)],
                               [0, 0, 0], atol=1e-7)
    constant = np.ones((4, 3), "float32")  # binary, but every bit the same for every input, and all bits equal
    relax, balance, decor = (float(keras.ops.convert_to_numpy(t)) for t in hashing.HashingPenalty().terms(constant))
    assert relax == 0 and balance == 3 and decor == 6


def test_penalty_weights_and_serialization():
    penalty = hashing.HashingPenalty(relaxation=0.5, balance=2.0, decorrelation=0.1)
    b = np.tanh(np.random.default_rng(1).normal(size=(8, 5))).astype("float32")
    r, bal, d = _np_terms(b)
    assert float(keras.ops.convert_to_numpy(penalty.penalty(b))) == pytest.approx(0.5 * r + 2 * bal + 0.1 * d,
                                                                                  rel=1e-6)
    layer = ActivityPenalty(penalty)
    clone = ActivityPenalty.from_config(layer.get_config())
    assert clone.penalty.get_config() == penalty.get_config()
    with pytest.raises(ValueError, match="balance"):
        hashing.HashingPenalty(balance=-1.0)
    with pytest.raises(TypeError, match="not a Keras activity_regularizer"):
        penalty(b)


def test_hashing_autoencoder_adds_the_penalty_and_survives_a_reload(tmp_path):
    penalty = hashing.HashingPenalty(0.1, 1.0, 0.01)
    ae, encoder = hashing.hashing_autoencoder(12, 4, hidden_units=8, penalty=penalty,
                                              data_mean=np.full(12, 0.4, "float32"))
    x = np.random.default_rng(2).random((6, 12)).astype("float32")
    codes = keras.ops.convert_to_numpy(encoder(x))
    assert codes.shape == (6, 4) and np.all(np.abs(codes) <= 1)
    ae(x)
    assert float(keras.ops.convert_to_numpy(ae.losses[0])) == pytest.approx(
        float(keras.ops.convert_to_numpy(penalty.penalty(codes))), rel=1e-5)
    ae.fit(x, x, epochs=1, verbose=0)
    path = tmp_path / "hashing.keras"
    ae.save(path)
    reloaded = keras.saving.load_model(path, custom_objects={"summed_squared_error": hashing.summed_squared_error})
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(ae(x)), rtol=1e-5)
    with pytest.raises(ValueError, match="bits"):
        hashing.hashing_autoencoder(12, 0)
    with pytest.raises(ValueError, match="HashingPenalty"):
        hashing.hashing_autoencoder(12, 4, penalty=0.1)
    with pytest.raises(ValueError, match="data_mean"):
        hashing.hashing_autoencoder(12, 4, data_mean=np.full(12, 3.0))


def test_pack_bits_and_hamming_distance_match_counting(monkeypatch):
    rng = np.random.default_rng(3)
    for n_bits in (5, 64, 100):
        bits = rng.random((9, n_bits)) < 0.5
        expected = (bits[:, None, :] != bits[None, :, :]).sum(axis=2)
        packed = hashing.pack_bits(bits)
        assert packed.dtype == np.uint64 and packed.shape == (9, -(-n_bits // 64))
        np.testing.assert_array_equal(hashing.hamming_distances(packed[:4], packed), expected[:4])
    monkeypatch.delattr(np, "bitwise_count", raising=False)  # the NumPy < 2 fallback
    np.testing.assert_array_equal(hashing.hamming_distances(packed[:4], packed), expected[:4])


def test_pack_bits_and_hamming_reject_bad_input():
    with pytest.raises(ValueError, match="threshold"):
        hashing.pack_bits(np.array([[0.3, 0.7]]))
    with pytest.raises(ValueError, match="2-D"):
        hashing.pack_bits(np.ones(4, bool))
    with pytest.raises(ValueError, match="pack_bits"):
        hashing.hamming_distances(np.ones((2, 1), np.uint64), np.ones((2, 2), np.uint64))


@pytest.mark.filterwarnings("ignore:The number of components is higher")
def test_lsh_bit_disagreement_is_angle_over_pi():
    x = np.array([[1.0, 0.0], [0.5, np.sqrt(3) / 2], [-1.0, 0.0], [-0.5, -np.sqrt(3) / 2]])  # centred
    lsh = hashing.RandomHyperplaneLSH(4000, seed=0).fit(x)
    codes = lsh.codes(x)
    assert np.mean(codes[0] != codes[1]) == pytest.approx(1 / 3, abs=0.03)  # 60 degrees
    assert np.mean(codes[0] != codes[2]) == pytest.approx(1.0)  # opposite vectors


def test_itq_rotation_is_orthogonal_and_its_loss_never_rises():
    x = np.random.default_rng(4).normal(size=(500, 12)) * np.linspace(3, 0.5, 12)
    itq = hashing.ITQ(6, iterations=30, seed=0).fit(x)
    np.testing.assert_allclose(itq.rotation_ @ itq.rotation_.T, np.eye(6), atol=1e-10)
    losses = np.array(itq.quantization_losses_)
    assert np.all(np.diff(losses) <= 1e-8 * losses[0]) and losses[-1] < losses[0]
    assert itq.codes(x).shape == (500, 6) and itq.codes(x).dtype == bool
    with pytest.raises(ValueError, match="at least bits"):
        hashing.ITQ(20).fit(x)


def test_average_precision_by_hand():
    assert hashing.average_precision(np.array([True, False, True])) == pytest.approx((1 + 2 / 3) / 2)
    assert hashing.average_precision(np.array([False, False])) == 0.0
    np.testing.assert_allclose(hashing.average_precision(np.array([[1, 0, 0], [0, 0, 1]], bool)), [1.0, 1 / 3])


def test_retrieval_scores_perfect_codes_and_random_ties():
    labels = np.repeat(np.arange(4), 25)
    bits = np.eye(4, dtype=bool)[labels]  # one code per class: exact retrieval
    scores = hashing.retrieval_scores(hashing.pack_bits(bits[::10]), hashing.pack_bits(bits), labels[::10], labels,
                                      k=10)
    np.testing.assert_allclose(scores["average_precision"], 1.0)
    np.testing.assert_allclose(scores["precision_at_k"], 1.0)
    same = np.zeros((100, 8), bool)  # every item ties: random order, precision@k near the class share
    tied = hashing.retrieval_scores(hashing.pack_bits(same[:40]), hashing.pack_bits(same), labels[:40], labels, k=50)
    assert tied["precision_at_k"].mean() == pytest.approx(0.25, abs=0.05)
    cosine = hashing.retrieval_scores(bits[::10].astype(float), bits.astype(float), labels[::10], labels,
                                      metric="cosine", k=10)
    np.testing.assert_allclose(cosine["average_precision"], 1.0)
    with pytest.raises(ValueError, match="metric"):
        hashing.retrieval_scores(bits, bits, labels, labels, metric="euclid")
    with pytest.raises(ValueError, match="k must"):
        hashing.retrieval_scores(bits, bits, labels, labels, metric="cosine", k=0)
