"""Checks of chapter 9, image restoration with convolutional autoencoders."""

import keras
import numpy as np
from scipy.signal import convolve

from aecourse import denoising
from aecourse.checks import (DERIVE, EXPLAIN, IMPLEMENT, TRAIN, Check, expect_close, fail, fashion_training_sample,
                             held_out_test_images)

# ----------------------------------------------------------------------------- implement: one Richardson-Lucy step


def reference_richardson_lucy_step(estimate, blurred, psf):
    """`estimate * ((blurred / (estimate * psf)) * flipped psf)`, `*` a 'same'-size convolution."""
    estimate, blurred, psf = (np.asarray(a, "float64") for a in (estimate, blurred, psf))
    ratio = blurred / convolve(estimate, psf, mode="same")
    return estimate * convolve(ratio, psf[::-1, ::-1], mode="same")


def _gaussian_psf(size, width_x, width_y, shift_x, shift_y):
    grid = np.arange(size) - size // 2
    psf = np.exp(-(grid[:, None] - shift_y) ** 2 / (2 * width_y ** 2) - (grid[None, :] - shift_x) ** 2 / (2 * width_x ** 2))
    return psf / psf.sum()


def _rl_inputs(rng):
    cases = []
    for side, size, widths, shifts in ((28, 5, (1.0, 1.0), (0.0, 0.0)), (20, 7, (0.8, 1.6), (-0.7, 1.2)),
                                       (16, 3, (0.7, 0.7), (0.0, 0.0))):
        clean = rng.uniform(0.05, 1.0, (side, side))
        psf = _gaussian_psf(size, *widths, *shifts)  # the second is lopsided both ways: a step without the full flip fails it
        blurred = convolve(clean, psf, mode="same") + rng.uniform(0.0, 0.02, (side, side))
        cases.append((rng.uniform(0.3, 0.7, (side, side)), blurred, psf))
    return cases


def _judge_rl(cases, results):
    label = "ex-9-rl-step"
    for (estimate, blurred, psf), got in zip(cases, results):
        reference = reference_richardson_lucy_step(estimate, blurred, psf)
        unflipped = estimate * convolve(blurred / convolve(estimate, psf, mode="same"), psf, mode="same")
        if np.shape(got) == estimate.shape and np.allclose(got, unflipped, rtol=1e-4) and not np.allclose(
                unflipped, reference, rtol=1e-4):
            fail(label, "the ratio must be convolved with the point-spread function flipped in both directions "
                        "(psf[::-1, ::-1], the adjoint of the blur), not with the psf itself.")
        expect_close(label, got, reference,
                     f"the updated estimate of a {estimate.shape[0]}x{estimate.shape[1]} image",
                     rtol=1e-4, atol=1e-7)
    return "one Richardson-Lucy update matches the reference, lopsided blur included"


check_richardson_lucy_step = Check("ex-9-rl-step", IMPLEMENT, inputs=_rl_inputs, judge=_judge_rl, keep_inputs=True)

# ----------------------------------------------------------------------------- train: a residual convolutional denoiser

DENOISER_TRAIN_IMAGES = 4000
DENOISER_SIGMA = 0.3
DENOISER_PSNR_BOUND = 19.9  # see the exercise text for calibration
DENOISER_MAX_LAYERS, DENOISER_MAX_CHANNELS, DENOISER_TEST_IMAGES = 6, 64, 500


def _convolution_shapes(label, weights):
    """Checks that `weights` are `[kernel, bias] * L` of a residual CNN from 1 channel to 1; returns them in pairs."""
    shapes = [np.shape(w) for w in weights]
    pairs = list(zip(weights[::2], weights[1::2]))
    ok = len(weights) % 2 == 0 and 2 <= len(pairs) <= DENOISER_MAX_LAYERS
    channels = 1
    for kernel, bias in pairs if ok else ():
        kh, kw, c_in, c_out = np.shape(kernel) if np.ndim(kernel) == 4 else (0, 0, 0, 0)
        ok = ok and kh == kw and kh % 2 == 1 and kh <= 7 and c_in == channels and np.shape(bias) == (c_out,) and (
            c_out <= DENOISER_MAX_CHANNELS)
        channels = c_out
    if not (ok and channels == 1):
        fail(label, f"expected 2 to {DENOISER_MAX_LAYERS} Conv2D layers with odd square kernels (at most 7x7), "
                    f"padding 'same', from 1 channel to at most {DENOISER_MAX_CHANNELS} and back to 1, i.e. weights "
                    f"[(k, k, 1, C1), (C1,), (k, k, C1, C2), (C2,), ..., (k, k, C, 1), (1,)]; got {shapes}.")
    if not all(np.all(np.isfinite(w)) for w in weights):
        fail(label, "the trained weights contain NaN or infinite values (a learning rate too large?).")
    return pairs


def residual_cnn(pairs):
    """The network the exercise asks for, rebuilt from its weights: ReLU convolutions, a last linear one, plus the input."""
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for i, (kernel, _) in enumerate(pairs):
        x = keras.layers.Conv2D(np.shape(kernel)[-1], np.shape(kernel)[0], padding="same",
                                activation="relu" if i < len(pairs) - 1 else None)(x)
    model = keras.Model(inputs, keras.layers.Add()([inputs, x]))
    model.set_weights([np.asarray(w, "float32") for pair in pairs for w in pair])
    return model


def _judge_denoiser(cases, results):
    label = "ex-9-denoiser"
    model = residual_cnn(_convolution_shapes(label, results[0]))
    clean = held_out_test_images(DENOISER_TEST_IMAGES)
    noisy = clean + DENOISER_SIGMA * np.random.default_rng().standard_normal(clean.shape)
    restored = model.predict(noisy.reshape(-1, 28, 28, 1).astype("float32"), batch_size=250, verbose=0)
    psnr = float(np.mean(denoising.psnr(clean, np.clip(restored.reshape(len(clean), -1), 0.0, 1.0))))
    if not psnr >= DENOISER_PSNR_BOUND:
        fail(label, f"on {DENOISER_TEST_IMAGES} held-out test images with noise of standard deviation "
                    f"{DENOISER_SIGMA:g}, your network's outputs (input plus its correction, clipped to [0, 1]) "
                    f"average {psnr:.2f} dB, not at least {DENOISER_PSNR_BOUND:g}. Train on noisy copies of the "
                    f"training images (noise of standard deviation {DENOISER_SIGMA:g}, fresh each epoch) with the "
                    "squared error to the clean image, for a few hundred Adam steps or more, and make the last "
                    "layer linear: the network outputs the correction, the check adds the input. The check rebuilds "
                    "your layers with ReLU activations.")
    return (f"your denoiser reaches at least {DENOISER_PSNR_BOUND:g} dB on held-out test images at noise "
            f"{DENOISER_SIGMA:g}")


check_denoiser = Check("ex-9-denoiser", TRAIN, inputs=fashion_training_sample(DENOISER_TRAIN_IMAGES),
                       judge=_judge_denoiser)

# ----------------------------------------------------------------------------- derive: the Wiener gain at one frequency

WIENER_H, WIENER_S, WIENER_N = 0.2, 0.01, 6e-4


def wiener_answer():
    """`(G, MSE with G, MSE of the inverse filter 1 / H)` at one frequency."""
    gain = WIENER_H * WIENER_S / (WIENER_H ** 2 * WIENER_S + WIENER_N)
    mse = lambda g: (1 - g * WIENER_H) ** 2 * WIENER_S + g ** 2 * WIENER_N
    return np.array([gain, mse(gain), mse(1 / WIENER_H)])


def _judge_wiener(cases, results):
    label = "ex-9-wiener-gain"
    got = results[0]
    if np.shape(got) != (3,):
        fail(label, f"give three numbers (G, its error, the inverse filter's error); got shape {np.shape(got)}.")
    expected = wiener_answer()
    if np.isclose(got[0], 1 / WIENER_H, rtol=1e-3):
        fail(label, "G = 1 / H is the inverse filter: it undoes the blur and multiplies the noise by 1 / H. "
                    "Minimise the expected squared error, which weighs the noise against the signal.")
    if np.isclose(got[0], WIENER_H / (WIENER_H ** 2 + WIENER_N), rtol=1e-3):
        fail(label, "the gain must weigh the noise power against the SIGNAL power S, not against 1.")
    if not np.isclose(got[0], expected[0], rtol=1e-3):
        fail(label, f"G = {got[0]:.4g} does not minimise (1 - G H)^2 S + G^2 N: set its derivative in G to zero.")
    if np.isclose(got[2], WIENER_S, rtol=1e-3):
        fail(label, f"{got[2]:g} is the error of doing nothing (G = 0), not of the inverse filter G = 1 / H.")
    expect_close(label, got[1:], expected[1:], "the two squared errors ((1 - G H)^2 S + G^2 N at G and at 1 / H)",
                 rtol=1e-3, atol=1e-7)
    return "the Wiener gain and the two errors are right"


check_wiener_gain = Check("ex-9-wiener-gain", DERIVE, judge=_judge_wiener)

# ----------------------------------------------------------------------------- explain: why the filled hole is blurry

check_blurry_fill = Check("ex-9-blurry-fill", EXPLAIN, min_words=40)
