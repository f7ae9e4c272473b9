"""Checks of chapter 3, denoising autoencoders.

The noise exercises have random answers, so their checks test properties that
hold for any correct answer: on large inputs (200,000 entries) the fraction of
corrupted entries is within a fixed tolerance of the rate (more than eight
standard deviations, so a correct answer practically never fails), corrupted
entries take only the allowed values, untouched entries are unchanged, and
the noise depends on the generator it is given (the cases call the answer
twice with one seed and once with another).
"""

import keras
import numpy as np

from aecourse import denoising, score
from aecourse.checks import DERIVE, IMPLEMENT, TRAIN, Check, Rng, expect_close, expect_shape, fail

NOISE_SHAPE = (400, 500)
TOTAL_TOLERANCE = 0.01  # on a fraction over 200,000 entries (standard deviation <= 0.0012)
SLICE_TOLERANCE = 0.2  # on a fraction over one row or one column (standard deviation <= 0.025)


def _noise_cases(rng, low, high, rates):
    """Cases `(x, rate, Rng(seed))` for each rate, then rate 0, and the generator cases (0.4 thrice)."""
    x = rng.uniform(low, high, size=NOISE_SHAPE)
    seed = int(rng.integers(2**31))
    return ([(x, rate, Rng(seed)) for rate in rates]
            + [(x, 0.4, Rng(seed)), (x, 0.4, Rng(seed + 1)), (x, 0.4, Rng(seed))])


def _expect_noise_shapes(label, cases, results):
    for (x, _, _), got in zip(cases, results):
        expect_shape(label, got, x.shape, "Return a corrupted copy of x, of its shape.")


def _expect_fraction(label, corrupted, rate, what):
    """Fails unless `corrupted` (a boolean array) has about `rate` True entries, everywhere."""
    total = corrupted.mean()
    if abs(total - rate) > TOTAL_TOLERANCE:
        fail(label, f"with rate={rate:g}, {total:.3f} of the entries were {what} instead of about "
                    f"{rate:g}. Corrupt each entry with probability rate (not 1 - rate).")
    for axis, name in ((0, "column"), (1, "row")):
        fractions = corrupted.mean(axis=axis)
        if np.max(np.abs(fractions - rate)) > SLICE_TOLERANCE:
            fail(label, f"with rate={rate:g}, the fraction of {what} entries varies too much from one "
                        f"{name} to the next (from {fractions.min():.2f} to {fractions.max():.2f}). "
                        "Draw an independent random number for every entry.")


def _expect_uses_generator(label, results):
    first, other, again = results[-3:]
    if np.array_equal(first, other):
        fail(label, "two different generators gave the same noise: draw the randomness from rng.")
    if not np.array_equal(first, again):
        fail(label, "the same generator seed gave different noise: draw the randomness from rng only.")


def _masking_inputs(rng):
    return _noise_cases(rng, 0.05, 1.0, (0.3, 0.5, 0.0, 1.0))


def _judge_masking(cases, results):
    label = "ex-3-masking"
    _expect_noise_shapes(label, cases, results)
    for (x, rate, _), got in zip(cases[:2], results[:2]):
        zeroed = got == 0
        if not np.allclose(got[~zeroed], x[~zeroed], rtol=1e-6, atol=1e-7):
            fail(label, "entries that are not masked must keep their value exactly (no rescaling by "
                        "1 / (1 - rate) as in dropout, no added noise).")
        _expect_fraction(label, zeroed, rate, "zeroed")
    if not np.allclose(results[2], cases[2][0]):
        fail(label, "with rate=0 nothing should change.")
    if np.any(results[3] != 0):
        fail(label, "with rate=1 every entry should be zero.")
    _expect_uses_generator(label, results)
    return "masking noise zeroes the right fraction of entries and leaves the rest unchanged"


check_masking_noise = Check("ex-3-masking", IMPLEMENT, inputs=_masking_inputs, judge=_judge_masking,
                            keep_inputs=True)


def _expect_fair_independent_coin(label, got, x, corrupted, rate):
    """Fails unless which entries are hit, and salt (1) or pepper (0), do not depend on the value or the neighbours."""
    salt = got == 1
    for part, name in ((x < 0.5, "below 0.5"), (x >= 0.5, "0.5 or above")):
        hit = np.mean(corrupted[part])
        if abs(hit - rate) > 0.02:
            fail(label, f"with rate={rate:g}, {hit:.3f} of the entries whose clean value is {name} were "
                        "corrupted: which entries are corrupted must not depend on their value.")
        fraction = np.mean(salt[corrupted & part])
        if abs(fraction - 0.5) > 0.03:
            fail(label, f"among corrupted entries whose clean value is {name}, {fraction:.2f} became 1 "
                        "instead of about half: choose 0 or 1 with a fair coin, whatever the value was.")
    both = corrupted[:, 1:] & corrupted[:, :-1]
    same = np.mean(salt[:, 1:][both] == salt[:, :-1][both])
    if abs(same - 0.5) > 4 / np.sqrt(both.sum()):  # eight standard deviations
        fail(label, f"neighbouring corrupted entries got the same value {same:.0%} of the time instead of "
                    "about half: draw an independent coin for every corrupted entry.")


def _salt_inputs(rng):
    return _noise_cases(rng, 0.05, 0.95, (0.1, 0.4, 0.0))  # never 0 or 1: corrupted entries are recognisable


def _judge_salt(cases, results):
    label = "ex-3-salt-pepper"
    _expect_noise_shapes(label, cases, results)
    for (x, rate, _), got in zip(cases[:2], results[:2]):
        corrupted = (got == 0) | (got == 1)
        if not np.allclose(got[~corrupted], x[~corrupted], rtol=1e-6, atol=1e-7):
            fail(label, "every entry must be either unchanged or exactly 0 or 1.")
        _expect_fraction(label, corrupted, rate, "set to 0 or 1")
        salt = np.mean(got[corrupted] == 1)
        if abs(salt - 0.5) > 0.02:
            fail(label, f"{salt:.2f} of the corrupted entries are 1 (salt) instead of about half: "
                        "choose 0 or 1 with a fair coin for each corrupted entry.")
        _expect_fair_independent_coin(label, got, x, corrupted, rate)
    if not np.allclose(results[2], cases[2][0]):
        fail(label, "with rate=0 nothing should change.")
    _expect_uses_generator(label, results)
    return "salt-and-pepper noise sets the right fraction of entries to 0 or 1, half each"


check_salt_and_pepper = Check("ex-3-salt-pepper", IMPLEMENT, inputs=_salt_inputs, judge=_judge_salt,
                              keep_inputs=True)


def _emphasized_inputs(rng):
    x, z = rng.random((9, 30)), rng.random((9, 30))
    corrupted = (rng.random((9, 30)) < 0.4).astype("float64")
    return [(x, z, corrupted, alpha, beta) for alpha, beta in ((1.0, 0.5), (0.7, 2.0), (1.0, 0.0))]


def _judge_emphasized(cases, results):
    label = "ex-3-emphasized"
    for (x, z, corrupted, alpha, beta), got in zip(cases, results):
        expect_shape(label, got, (len(x),), "Return one loss per example.")
        expected = keras.ops.convert_to_numpy(denoising.emphasized_loss(x, z, corrupted, alpha, beta))
        expect_close(label, got, expected,
                     f"the losses with alpha={alpha:g}, beta={beta:g} (alpha weights the corrupted "
                     "entries, beta the others; sum over the entries, do not average)")
    return "emphasized loss matches the reference"


check_emphasized_loss = Check("ex-3-emphasized", IMPLEMENT, inputs=_emphasized_inputs, judge=_judge_emphasized)


def _psnr_inputs(rng):
    cases = []
    for shape, max_value in (((6, 784), 1.0), ((4, 28, 28), 1.0), ((5, 784), 255.0)):
        x = rng.random(shape) * max_value
        noise_level = rng.uniform(0.02, 0.3, size=(shape[0],) + (1,) * (len(shape) - 1))
        cases.append((x, x + noise_level * max_value * rng.normal(size=shape), max_value))
    return cases


def _judge_psnr(cases, results):
    label = "ex-3-psnr"
    for (x, x_hat, max_value), got in zip(cases, results):
        expect_shape(label, got, (len(x),), "Return one PSNR per image: average the squared error over every "
                                            "axis except the first.")
        expect_close(label, got, denoising.psnr(x, x_hat, max_value),
                     f"the PSNRs with max_value={max_value:g} (10 log10(max_value**2 / MSE), MSE the "
                     "mean over the pixels of each image)", rtol=1e-4, atol=1e-4)
    return "per-image PSNR matches the reference"


check_psnr = Check("ex-3-psnr", IMPLEMENT, inputs=_psnr_inputs, judge=_judge_psnr)

# ----------------------------------------------------------------------------- train: a DAE on the ring

RING_POINTS, RING_SIGMA, RING_THICKNESS, RING_BOUND = 2000, 0.3, 0.03, 0.15
# The posterior mean lies about 0.049 inside or outside the ring on average (it shrinks towards the centre);
# a projection onto the ring gives 0, the ideal denoisers for sigma 0.1 or 0.2 about 0.021, a half-length field 0.126.
RING_DISTANCE = (0.035, 0.065)


def _ring(rng, n):
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0, RING_THICKNESS, (n, 2))


def _ring_inputs(rng):
    return [(_ring(rng, RING_POINTS).astype("float32"),)]


def reference_ring_denoise(x, weights):
    """`relu(relu(x W1 + b1) W2 + b2) W3 + b3`: the output of a Dense(relu)-Dense(relu)-Dense(linear) network."""
    w1, b1, w2, b2, w3, b3 = (np.asarray(w, "float64") for w in weights)
    return np.maximum(np.maximum(x @ w1 + b1, 0.0) @ w2 + b2, 0.0) @ w3 + b3


def _judge_ring_dae(cases, results):
    label = "ex-3-ring-dae"
    weights = results[0]
    shapes = [np.shape(w) for w in weights]
    if len(shapes) != 6 or shapes[0][:1] != (2,) or shapes[-1] != (2,) or shapes[-2][1:] != (2,):
        fail(label, "expected a model Dense(units, relu) -> Dense(units, relu) -> Dense(2) on 2-D points, "
                    f"i.e. six weight arrays from (2, units) to (2,); got shapes {shapes}.")
    if not all(np.all(np.isfinite(w)) for w in weights):
        fail(label, "the trained weights contain NaN or infinite values (a learning rate too large?).")
    rng = np.random.default_rng()  # fresh points the learner's code never sees
    noisy = _ring(rng, 4000) + rng.normal(0, RING_SIGMA, (4000, 2))
    tweedie = RING_SIGMA ** 2 * score.ring_score(noisy, RING_SIGMA, thickness=RING_THICKNESS)
    field = reference_ring_denoise(noisy, weights) - noisy
    error = np.linalg.norm(field - tweedie, axis=1).mean() / np.linalg.norm(tweedie, axis=1).mean()
    if not error < RING_BOUND:
        fail(label, f"on fresh corrupted points the field r(x~) - x~ is {error:.2f} away from Tweedie's "
                    f"σ² ∇log p_σ (relative), not below {RING_BOUND:g}. Train on clean targets from inputs "
                    f"with fresh Gaussian noise of σ = {RING_SIGMA:g} (not on clean inputs), with squared error, "
                    "for longer, and let the learning rate decay (a constant rate leaves the field noisy).")
    distance = np.abs(np.linalg.norm(noisy + field, axis=1) - 1.0).mean()
    if not RING_DISTANCE[0] < distance < RING_DISTANCE[1]:
        fail(label, f"your outputs lie {distance:.3f} from the circle on average; the posterior mean E[x | x~] "
                    f"lies between {RING_DISTANCE[0]:g} and {RING_DISTANCE[1]:g} from it (it averages over the "
                    f"ring points a noisy input could have come from). Train with σ = {RING_SIGMA:g}, not another "
                    "level, and do not project onto the circle.")
    return (f"the DAE's field matches Tweedie's σ² ∇log p_σ within {RING_BOUND:g} (relative), at the right "
            "distance from the ring")


check_ring_dae = Check("ex-3-ring-dae", TRAIN, inputs=_ring_inputs, judge=_judge_ring_dae)

# ----------------------------------------------------------------------------- derive: Tweedie for Gaussian data

TWEEDIE_MEAN, TWEEDIE_VARIANCE, TWEEDIE_SIGMA, TWEEDIE_NOISY = 1.0, 4.0, 1.5, 3.0


def _judge_tweedie(cases, results):
    label = "ex-3-tweedie"
    got = results[0]
    if got.size != 1:
        fail(label, f"give one number; got an array of shape {got.shape}.")
    smoothed = TWEEDIE_VARIANCE + TWEEDIE_SIGMA ** 2
    expected = TWEEDIE_NOISY + TWEEDIE_SIGMA ** 2 * (TWEEDIE_MEAN - TWEEDIE_NOISY) / smoothed
    value = float(got.reshape(()))
    if abs(value - expected) < 1e-6:
        return "E[x | x~] for Gaussian data is right"
    data_score = TWEEDIE_NOISY + TWEEDIE_SIGMA ** 2 * (TWEEDIE_MEAN - TWEEDIE_NOISY) / TWEEDIE_VARIANCE
    if abs(value - data_score) < 1e-6:
        fail(label, f"{value:g} uses the score of the data density p; Tweedie's formula needs the score of "
                    "the noise-smoothed density p_σ, the density of x~ (what is its variance?).")
    fail(label, f"{value:g} is not E[x | x~]. Write p_σ (the density of x~ = x + σ ε), its score at x~, "
                "and apply Tweedie's formula.")


check_tweedie = Check("ex-3-tweedie", DERIVE, judge=_judge_tweedie)
