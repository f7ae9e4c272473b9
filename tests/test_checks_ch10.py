"""Chapter-9 checks pass the model answers and reject plausible wrong ones."""

import numpy as np
import pytest

import keras

from aecourse.checks import ExerciseFailure, ch10

# --- ex-10-topk


def _topk(pre, k, relu=True, axis=1, largest=True, key=lambda p: p):
    pre = np.asarray(pre, "float64")
    ranked = np.sort(key(pre) if largest else -key(pre), axis=axis)
    kth = np.take(ranked, [pre.shape[axis] - k], axis=axis)
    kept = np.where((key(pre) if largest else -key(pre)) >= kth, pre, 0.0)
    return np.maximum(kept, 0.0) if relu else kept


def _keras_topk(pre, k):
    class TopKReLU(keras.layers.Layer):
        def __init__(self, k, **kwargs):
            super().__init__(**kwargs)
            self.k = k

        def call(self, inputs):
            kth = keras.ops.top_k(inputs, self.k)[0][:, -1:]
            return keras.ops.relu(keras.ops.where(inputs >= kth, inputs, keras.ops.zeros_like(inputs)))

    x = keras.Input((pre.shape[1],))
    return keras.ops.convert_to_numpy(keras.Model(x, TopKReLU(k)(x))(np.asarray(pre, "float32")))


def test_topk_passes_the_model_answer(capsys):
    ch10.check_topk_layer(_keras_topk)
    assert capsys.readouterr().out == (
        "\u2714 ex-10-topk: TopK layer keeps each input's k largest pre-activations and applies the ReLU\n")
    ch10.check_topk_layer(lambda pre, k: _topk(pre, k))


@pytest.mark.parametrize("wrong", [
    lambda pre, k: _topk(pre, k, relu=False),                        # no ReLU: negative kept entries
    lambda pre, k: _topk(pre, k, axis=0),                            # k largest per column (over the batch)
    lambda pre, k: _topk(pre, k, largest=False),                     # k smallest
    lambda pre, k: _topk(pre, k + 1),                                # off by one
    lambda pre, k: _topk(pre, k - 1) if k > 1 else _topk(pre, 2),    # off by one, the other way
    lambda pre, k: _topk(pre, k, key=np.abs),                        # largest magnitudes
    lambda pre, k: np.maximum(pre, 0.0),                             # plain ReLU
    lambda pre, k: _topk(pre, k)[:, :k],                             # only the kept values
])
def test_topk_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-10-topk"):
        ch10.check_topk_layer(wrong)


def test_topk_cases_have_negative_kept_entries():
    for pre, k in ch10._topk_inputs(np.random.default_rng(0)):
        kth = -np.sort(-pre, axis=1)[:, k - 1]
        if k > 10:
            assert np.any(kth < 0), "some row must keep a negative entry, or a missing ReLU would pass"


# --- ex-10-antipodal


def test_antipodal_reference_matches_monte_carlo():
    rng = np.random.default_rng(0)
    n, p = 2_000_000, ch10.ANTIPODAL_DENSITY
    x = np.where(rng.random((n, 2)) < p, rng.random((n, 2)), 0.0)
    dropped = np.sum((x - np.maximum(x @ np.diag([1.0, 0.0]), 0)) ** 2, axis=1).mean()
    w = np.array([[1.0, -1.0]])
    antipodal = np.sum((x - np.maximum(x @ w.T @ w, 0)) ** 2, axis=1).mean()
    np.testing.assert_allclose([dropped, antipodal], ch10.reference_antipodal_losses(), rtol=0.03)


def test_antipodal_passes(capsys):
    ch10.check_antipodal_losses(np.round(ch10.reference_antipodal_losses(), 6))
    assert "\u2714 ex-10-antipodal" in capsys.readouterr().out


_P = ch10.ANTIPODAL_DENSITY


@pytest.mark.parametrize("wrong, hint", [
    (np.array([_P / 2, _P ** 2 / 2]), "1/3"),
    (np.array([_P / 3, _P ** 2 / 6]), "BOTH"),
    (np.array([_P ** 2 / 3, _P / 3]), "order"),
    (np.array([0.3, 0.27]), "PRESENT"),
    (np.array([_P / 3, _P ** 2 / 3 + 2 * _P * (1 - _P) / 3]), "exactly"),
    (np.array([_P / 3, 0.0]), "are not"),
    (np.array([1 / 3, 1 / 3]), "are not"),
    (np.array([_P / 3]), "two numbers"),
])
def test_antipodal_rejects(wrong, hint):
    with pytest.raises(ExerciseFailure, match=f"^ex-10-antipodal: .*{hint}"):
        ch10.check_antipodal_losses(wrong)


# --- ex-10-sae-train

MODEL_L1, MODEL_EPOCHS = 0.7, 40  # the notebook's model answer


class _L1(keras.layers.Layer):
    def __init__(self, lam, **kwargs):
        super().__init__(**kwargs)
        self.lam = lam

    def call(self, codes):
        self.add_loss(self.lam * keras.ops.mean(keras.ops.sum(keras.ops.abs(codes), axis=-1)))
        return codes


def _relu_sae(x, lam, epochs, unit_norm=True, latents=64):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16,))
    codes = keras.layers.Dense(latents, activation="relu")(inputs)
    if lam:
        codes = _L1(lam)(codes)
    constraint = keras.constraints.UnitNorm(axis=1) if unit_norm else None
    model = keras.Model(inputs, keras.layers.Dense(16, kernel_constraint=constraint)(codes))
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, epochs * len(x) // 128)),
                  loss=lambda a, a_hat: keras.ops.sum(keras.ops.square(a - a_hat), axis=-1))
    model.fit(np.asarray(x, "float32"), np.asarray(x, "float32"), epochs=epochs, batch_size=128, verbose=0)
    return model.get_weights()


@pytest.mark.training
def test_sae_train_judge_passes_the_model_answer_and_rejects_weak_ones():
    check = ch10.check_relu_sae
    cases = check.cases(np.random.default_rng(0))
    x = cases[0][0]
    assert x.shape == (ch10.SAE_TRAIN_ROWS, ch10.SYNTH_DIM)
    good = _relu_sae(x, MODEL_L1, MODEL_EPOCHS)
    assert "finds at least" in check.judge(cases, [good])
    with pytest.raises(ExerciseFailure, match="active latents per input"):
        check.judge(cases, [_relu_sae(x, 0.0, MODEL_EPOCHS)])  # no penalty: a dense code
    with pytest.raises(ExerciseFailure, match="^ex-10-sae-train"):
        check.judge(cases, [_relu_sae(x, 10 * MODEL_L1, MODEL_EPOCHS)])  # penalty far too strong
    untrained = [w.copy() for w in good]
    untrained[0] = np.random.default_rng(0).normal(size=untrained[0].shape)
    with pytest.raises(ExerciseFailure, match="^ex-10-sae-train"):
        check.judge(cases, [untrained])
    with pytest.raises(ExerciseFailure, match="expected Dense"):
        check.judge(cases, [good[:2]])
    with pytest.raises(ExerciseFailure, match="NaN"):
        check.judge(cases, [[w * np.nan for w in good]])


def test_the_true_dictionary_passes_and_a_rotated_one_finds_nothing():
    D = ch10.synthetic_dictionary()
    x = ch10.synthetic_activations(np.random.default_rng(0), 4000)
    # The planted dictionary with an encoder that reads each direction (the codes are not exact: interference).
    l0, nmse, found = ch10.sae_scores(x, [D.T, np.full(32, -0.3), D, np.zeros(16)])
    assert found == 1.0
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(16, 16)))
    assert ch10.sae_scores(x, [D.T, np.zeros(32), D @ q, np.zeros(16)])[2] < 0.2


# --- ex-10-purity

def test_purity_answer_needs_a_few_sentences(capsys):
    with pytest.raises(ExerciseFailure, match="at least 25 words"):
        ch10.check_purity_answer("It is pure.")
    ch10.check_purity_answer("word " * 30)
    assert "\u2714 ex-10-purity: answered" in capsys.readouterr().out
