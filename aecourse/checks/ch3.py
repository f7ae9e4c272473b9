"""Checks of chapter 3, denoising autoencoders.

The noise exercises have random answers, so their checks test properties that
hold for any correct answer: on large inputs (200,000 entries) the fraction of
corrupted entries is within a fixed tolerance of the rate (more than eight
standard deviations, so a correct answer practically never fails), corrupted
entries take only the allowed values, untouched entries are unchanged, and
the noise depends on the generator it is given.
"""

import keras
import numpy as np

from aecourse import denoising
from aecourse.checks import call, expect_close, fail, fresh_rng, passed

NOISE_SHAPE = (400, 500)
TOTAL_TOLERANCE = 0.01  # on a fraction over 200,000 entries (standard deviation <= 0.0012)
SLICE_TOLERANCE = 0.2  # on a fraction over one row or one column (standard deviation <= 0.025)


def _noise_input(rng, low, high):
    return rng.uniform(low, high, size=NOISE_SHAPE)


def _call_noise(label, function, x, rate, seed):
    original = x.copy()
    got = call(label, function, x, rate, np.random.default_rng(seed))
    if not np.array_equal(x, original):
        fail(label, "your function changed its input x in place; return a corrupted copy instead.")
    if got.shape != x.shape:
        fail(label, f"the result should have the shape of x, {x.shape}; got {got.shape}.")
    return got


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


def _expect_uses_generator(label, function, x, rate, seed):
    first = _call_noise(label, function, x, rate, seed)
    second = _call_noise(label, function, x, rate, seed + 1)
    if np.array_equal(first, second):
        fail(label, "two different generators gave the same noise: draw the randomness from rng.")
    if not np.array_equal(first, _call_noise(label, function, x, rate, seed)):
        fail(label, "the same generator seed gave different noise: draw the randomness from rng only.")


def check_masking_noise(masking_noise):
    """Checks `masking_noise(x, rate, rng)`: each entry zeroed with probability `rate`."""
    label = "ex-3-masking"
    rng = fresh_rng()
    x = _noise_input(rng, 0.05, 1.0)
    seed = int(rng.integers(2**31))
    for rate in (0.3, 0.5):
        got = _call_noise(label, masking_noise, x, rate, seed)
        zeroed = got == 0
        if not np.allclose(got[~zeroed], x[~zeroed], rtol=1e-6, atol=1e-7):
            fail(label, "entries that are not masked must keep their value exactly (no rescaling by "
                        "1 / (1 - rate) as in dropout, no added noise).")
        _expect_fraction(label, zeroed, rate, "zeroed")
    if not np.allclose(_call_noise(label, masking_noise, x, 0.0, seed), x):
        fail(label, "with rate=0 nothing should change.")
    if np.any(_call_noise(label, masking_noise, x, 1.0, seed) != 0):
        fail(label, "with rate=1 every entry should be zero.")
    _expect_uses_generator(label, masking_noise, x, 0.4, seed)
    passed(label, "masking noise zeroes the right fraction of entries and leaves the rest unchanged")


def check_salt_and_pepper(salt_and_pepper):
    """Checks `salt_and_pepper(x, rate, rng)`: entries set to 0 or 1 with probability `rate`."""
    label = "ex-3-salt-pepper"
    rng = fresh_rng()
    x = _noise_input(rng, 0.05, 0.95)  # never 0 or 1, so corrupted entries are recognisable
    seed = int(rng.integers(2**31))
    for rate in (0.1, 0.4):
        got = _call_noise(label, salt_and_pepper, x, rate, seed)
        corrupted = (got == 0) | (got == 1)
        if not np.allclose(got[~corrupted], x[~corrupted], rtol=1e-6, atol=1e-7):
            fail(label, "every entry must be either unchanged or exactly 0 or 1.")
        _expect_fraction(label, corrupted, rate, "set to 0 or 1")
        salt = np.mean(got[corrupted] == 1)
        if abs(salt - 0.5) > 0.02:
            fail(label, f"{salt:.2f} of the corrupted entries are 1 (salt) instead of about half: "
                        "choose 0 or 1 with a fair coin for each corrupted entry.")
    if not np.allclose(_call_noise(label, salt_and_pepper, x, 0.0, seed), x):
        fail(label, "with rate=0 nothing should change.")
    _expect_uses_generator(label, salt_and_pepper, x, 0.3, seed)
    passed(label, "salt-and-pepper noise sets the right fraction of entries to 0 or 1, half each")


def check_emphasized_loss(emphasized_loss):
    """Checks `emphasized_loss(x, z, corrupted, alpha, beta)` against `aecourse.denoising`."""
    label = "ex-3-emphasized"
    rng = fresh_rng()
    x, z = rng.random((9, 30)), rng.random((9, 30))
    corrupted = (rng.random((9, 30)) < 0.4).astype("float64")
    for alpha, beta in ((1.0, 0.5), (0.7, 2.0), (1.0, 0.0)):
        got = call(label, emphasized_loss, x, z, corrupted, alpha, beta)
        if got.shape != (9,):
            fail(label, f"return one loss per example, shape (9,); got shape {got.shape}.")
        expected = keras.ops.convert_to_numpy(denoising.emphasized_loss(x, z, corrupted, alpha, beta))
        expect_close(label, got, expected,
                     f"the losses with alpha={alpha:g}, beta={beta:g} (alpha weights the corrupted "
                     "entries, beta the others; sum over the entries, do not average)")
    passed(label, "emphasized loss matches the reference")


def check_psnr(psnr):
    """Checks `psnr(x, x_hat, max_value)` against `aecourse.denoising.psnr`."""
    label = "ex-3-psnr"
    rng = fresh_rng()
    for shape, max_value in (((6, 784), 1.0), ((4, 28, 28), 1.0), ((5, 784), 255.0)):
        x = rng.random(shape) * max_value
        noise_level = rng.uniform(0.02, 0.3, size=(shape[0],) + (1,) * (len(shape) - 1))
        x_hat = x + noise_level * max_value * rng.normal(size=shape)
        got = call(label, psnr, x, x_hat, max_value)
        if got.shape != (shape[0],):
            fail(label, f"return one PSNR per image, shape ({shape[0]},); got shape {got.shape}. "
                        "Average the squared error over every axis except the first.")
        expect_close(label, got, denoising.psnr(x, x_hat, max_value),
                     f"the PSNRs with max_value={max_value:g} (10 log10(max_value**2 / MSE), MSE the "
                     "mean over the pixels of each image)", rtol=1e-4, atol=1e-4)
    passed(label, "per-image PSNR matches the reference")
