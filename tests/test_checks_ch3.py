"""Every chapter-3 check passes the reference and rejects plausible wrong answers."""

import numpy as np
import pytest

from aecourse.checks import ExerciseFailure, ch3


def _masking(x, rate, rng):
    return np.where(rng.random(np.shape(x)) < rate, 0.0, x)


def _salt_and_pepper(x, rate, rng):
    corrupted = rng.random(np.shape(x)) < rate
    return np.where(corrupted, (rng.random(np.shape(x)) < 0.5).astype(float), x)


def _emphasized(x, z, mask, alpha, beta):
    return np.sum((alpha * mask + beta * (1 - mask)) * (x - z) ** 2, axis=1)


def _psnr(x, x_hat, max_value):
    mse = np.mean((x - x_hat) ** 2, axis=tuple(range(1, np.ndim(x))))
    return 10 * np.log10(max_value ** 2 / mse)


def _rejects(check, wrong, label):
    with pytest.raises(ExerciseFailure, match=f"^{label}:"):
        check(wrong)


def _masking_in_place(x, rate, rng):
    x[rng.random(x.shape) < rate] = 0.0
    return x


def test_masking(capsys):
    ch3.check_masking_noise(_masking)
    assert capsys.readouterr().out == ("\u2714 ex-3-masking: masking noise zeroes the right fraction of "
                                       "entries and leaves the rest unchanged\n")


def test_masking_accepts_a_keep_mask_formulation(capsys):
    ch3.check_masking_noise(lambda x, r, rng: x * (rng.random(x.shape) >= r))
    assert capsys.readouterr().out.startswith("\u2714 ex-3-masking:")


@pytest.mark.parametrize("wrong", [
    lambda x, r, rng: np.where(rng.random(x.shape) < 1 - r, 0.0, x),               # zeroes 1 - rate
    lambda x, r, rng: np.where(rng.random(x.shape) < r, 0.0, x / max(1 - r, 1e-12)),  # dropout rescaling
    lambda x, r, rng: np.where(rng.random(x.shape[1]) < r, 0.0, x),                # one mask for all rows
    lambda x, r, rng: np.where(np.random.default_rng(0).random(x.shape) < r, 0.0, x),  # ignores rng
    lambda x, r, rng: np.where(rng.random(x.shape) < r / 2, 0.0, x),               # half the rate
    lambda x, r, rng: np.where(rng.random(x.shape) < r, 0.0, x + 0.01),            # shifts kept entries
    _masking_in_place,                                                              # modifies its input
])
def test_masking_rejects(wrong):
    _rejects(ch3.check_masking_noise, wrong, "ex-3-masking")


def test_salt_and_pepper(capsys):
    ch3.check_salt_and_pepper(_salt_and_pepper)
    assert capsys.readouterr().out == ("\u2714 ex-3-salt-pepper: salt-and-pepper noise sets the right fraction "
                                       "of entries to 0 or 1, half each\n")


@pytest.mark.parametrize("wrong", [
    lambda x, r, rng: np.where(rng.random(x.shape) < r, 1.0, x),                    # salt only
    lambda x, r, rng: np.where(rng.random(x.shape) < r, 0.5, x),                    # grey, not 0 or 1
    lambda x, r, rng: np.where(rng.random(x.shape) < r, 1.0 - x, x),                # flips the value
    lambda x, r, rng: np.where(rng.random(x.shape) < r / 2, 0.0,                    # rate / 2 of each kind,
                               np.where(rng.random(x.shape) < r / 2, 1.0, x)),      # drawn twice: wrong rate
    lambda x, r, rng: _salt_and_pepper(x, r, np.random.default_rng(1)),             # ignores rng
    lambda x, r, rng: np.clip(x + r * rng.normal(size=x.shape), 0, 1),              # Gaussian noise
    lambda x, r, rng: np.where(rng.random(x.shape) < r, np.round(x), x),            # salt or pepper by value
    lambda x, r, rng: np.where(rng.random(x.shape) < r,                             # alternating salt and
                               (np.indices(x.shape).sum(axis=0) % 2).astype(float), x),  # pepper, no coin
    lambda x, r, rng: np.where(rng.random(x.shape) < r * 2 * (x < 0.5),             # only dark entries hit
                               (rng.random(x.shape) < 0.5).astype(float), x),
])
def test_salt_and_pepper_rejects(wrong):
    _rejects(ch3.check_salt_and_pepper, wrong, "ex-3-salt-pepper")


def test_emphasized_loss(capsys):
    ch3.check_emphasized_loss(_emphasized)
    assert capsys.readouterr().out == "\u2714 ex-3-emphasized: emphasized loss matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda x, z, m, a, b: _emphasized(x, z, m, b, a),                                # alpha and beta swapped
    lambda x, z, m, a, b: _emphasized(x, z, 1 - m, a, b),                            # mask inverted
    lambda x, z, m, a, b: _emphasized(x, z, m, a, b) / x.shape[1],                   # mean, not sum
    lambda x, z, m, a, b: np.sum(_emphasized(x, z, m, a, b)),                        # one number
    lambda x, z, m, a, b: np.sum((a * m + b) * (x - z) ** 2, axis=1),                # beta on every entry
    lambda x, z, m, a, b: np.sum((a * m + b * (1 - m)) * np.abs(x - z), axis=1),     # absolute error
])
def test_emphasized_loss_rejects(wrong):
    _rejects(ch3.check_emphasized_loss, wrong, "ex-3-emphasized")


def test_psnr(capsys):
    ch3.check_psnr(_psnr)
    assert capsys.readouterr().out == "\u2714 ex-3-psnr: per-image PSNR matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda x, y, m: 20 * np.log10(m ** 2 / np.mean((x - y) ** 2, axis=tuple(range(1, x.ndim)))),  # 20, not 10
    lambda x, y, m: 10 * np.log10(m / np.mean((x - y) ** 2, axis=tuple(range(1, x.ndim)))),       # max not squared
    lambda x, y, m: np.full(len(x), 10 * np.log10(m ** 2 / np.mean((x - y) ** 2))),               # batch MSE
    lambda x, y, m: 10 * np.log10(m ** 2 / np.sum((x - y) ** 2, axis=tuple(range(1, x.ndim)))),   # sum, not mean
    lambda x, y, m: 10 * np.log10(m ** 2 / np.mean((x - y) ** 2, axis=1)),                        # fails on 3-D
    lambda x, y, m: 10 * np.log(m ** 2 / np.mean((x - y) ** 2, axis=tuple(range(1, x.ndim)))),    # natural log
])
def test_psnr_rejects(wrong):
    _rejects(ch3.check_psnr, wrong, "ex-3-psnr")


def test_unanswered_fails_clearly():
    def unanswered(*args):
        raise NotImplementedError("ex-3")

    for check in (ch3.check_masking_noise, ch3.check_salt_and_pepper, ch3.check_emphasized_loss, ch3.check_psnr):
        with pytest.raises(ExerciseFailure, match="not answered yet"):
            check(unanswered)


def _train_ring_dae(ring, noisy_inputs=True, sigma=0.3):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, 12 * 200)), "mse")
    rng = np.random.default_rng(0)
    clean = np.tile(ring, (10, 1))
    inputs = clean + rng.normal(0, sigma, clean.shape) if noisy_inputs else clean
    # the notebook's model answer; a constant rate left the field noisy, failing 2 of 6 fresh draws
    model.fit(inputs.astype("float32"), clean.astype("float32"), epochs=12, batch_size=100, verbose=0)
    return model


@pytest.mark.training
def test_ring_dae_passes_a_trained_dae(capsys):
    ch3.check_ring_dae(_train_ring_dae)
    assert capsys.readouterr().out.startswith("\u2714 ex-3-ring-dae: the DAE's field matches Tweedie")


@pytest.mark.training
@pytest.mark.parametrize("wrong, words", [
    (lambda ring: _train_ring_dae(ring, noisy_inputs=False), "not below"),   # a plain AE: learns the identity
    (lambda ring: [np.eye(2, 4), np.zeros(4), np.eye(4), np.zeros(4), np.eye(4, 2), np.zeros(2)], "not below"),
    (lambda ring: _train_ring_dae(ring, sigma=0.1), "not below"),             # trained at the wrong noise level: 0.24
    (lambda ring: [np.zeros((2, 3)), np.zeros(3), np.zeros((3, 2)), np.zeros(2)], "six weight arrays"),
])
def test_ring_dae_rejects(wrong, words):
    with pytest.raises(ExerciseFailure, match=words):
        ch3.check_ring_dae(wrong)


def test_tweedie_is_checked_by_value(capsys):
    ch3.check_tweedie(3.0 + 1.5 ** 2 * (1.0 - 3.0) / (4.0 + 1.5 ** 2))
    assert capsys.readouterr().out == "\u2714 ex-3-tweedie: E[x | x~] for Gaussian data is right\n"
    with pytest.raises(ExerciseFailure, match="score of the data density"):
        ch3.check_tweedie(3.0 + 1.5 ** 2 * (1.0 - 3.0) / 4.0)
    for wrong in (3.0, 1.0, 2.0, [2.28, 2.28]):
        with pytest.raises(ExerciseFailure, match="^ex-3-tweedie:"):
            ch3.check_tweedie(wrong)
