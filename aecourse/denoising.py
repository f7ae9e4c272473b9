"""Denoising autoencoders: the emphasized loss, the DAE model, PSNR and baselines.

A denoising autoencoder (Vincent et al. 2008, 2010) reconstructs the clean
input `x` from a corrupted copy `x~ ~ C(x~|x)`. `DenoisingAutoencoder` wraps
any autoencoder and any `aecourse.noise` corruption layer: in training it
corrupts the batch, reconstructs it, and adds the (emphasized) loss against
the clean batch with `add_loss`, so `compile(optimizer)` and `fit(x)` train it
on every backend.
"""

import keras
import numpy as np
from keras import ops

from aecourse.noise import Corruption

RECONSTRUCTION_LOSSES = ("squared_error", "cross_entropy")


def _check_weight(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} must be a non-negative number. Received: {name}={value!r}")
    return float(value)


def emphasized_loss(x, reconstruction, corrupted, alpha=1.0, beta=1.0, kind="squared_error"):
    """The emphasized denoising loss of each example (lecture notes 000, eq. 4).

    `L = alpha * sum_{i corrupted} l(x_i, z_i) + beta * sum_{i clean} l(x_i, z_i)`,
    with `l` the squared error `(x_i - z_i)^2` or the cross-entropy
    `-x_i log z_i - (1 - x_i) log(1 - z_i)`. `alpha = beta = 1` is the plain loss.

    Args:
        x: clean inputs, shape `(n, ...)`.
        reconstruction: reconstructions `z` of the corrupted inputs, same shape.
        corrupted: mask of the same shape, 1 where the entry was corrupted.
        alpha: weight of the corrupted entries.
        beta: weight of the untouched entries.
        kind: `"squared_error"` or `"cross_entropy"` (for `z` in (0, 1)).

    Returns:
        A tensor of shape `(n,)`: the loss of each example, summed over its entries.

    Example:

    >>> x = np.array([[1.0, 0.0]]); z = np.array([[0.5, 0.5]])
    >>> float(emphasized_loss(x, z, np.array([[1.0, 0.0]]), alpha=1.0, beta=0.5)[0])
    0.375
    """
    alpha, beta = _check_weight("alpha", alpha), _check_weight("beta", beta)
    if kind not in RECONSTRUCTION_LOSSES:
        raise ValueError(f"kind must be one of {RECONSTRUCTION_LOSSES}. Received: kind={kind!r}")
    x = ops.convert_to_tensor(x)
    reconstruction = ops.cast(ops.convert_to_tensor(reconstruction), x.dtype)
    corrupted = ops.cast(ops.convert_to_tensor(corrupted), x.dtype)
    if kind == "squared_error":
        per_entry = ops.square(x - reconstruction)
    else:
        z = ops.clip(reconstruction, 1e-7, 1.0 - 1e-7)
        per_entry = -(x * ops.log(z) + (1.0 - x) * ops.log(1.0 - z))
    weights = alpha * corrupted + beta * (1.0 - corrupted)
    return ops.sum(ops.reshape(weights * per_entry, (ops.shape(x)[0], -1)), axis=1)


@keras.saving.register_keras_serializable(package="aecourse")
class DenoisingAutoencoder(keras.Model):
    """An autoencoder trained to reconstruct clean inputs from corrupted ones.

    In training, each batch `x` is corrupted by `corruption`
    (`x~, mask = corruption.corrupt_with_mask(x)`), reconstructed
    (`z = autoencoder(x~)`) and scored with `emphasized_loss(x, z, mask, alpha,
    beta)` through `add_loss`. Compile without a loss and call `fit(x)`.
    In inference the input is not corrupted (unless the corruption layer has
    `always=True`) and the reported loss is the plain, unweighted one.

    Args:
        autoencoder: a built Keras model mapping inputs to reconstructions,
            e.g. `aecourse.models.DenseAutoencoder`.
        corruption: an `aecourse.noise` corruption layer.
        alpha: loss weight of the corrupted entries.
        beta: loss weight of the untouched entries.
        reconstruction_loss: `"squared_error"` or `"cross_entropy"`.
        **kwargs: base `Model` arguments such as `name`.

    Example:

    >>> from aecourse import models, noise
    >>> dae = DenoisingAutoencoder(models.DenseAutoencoder(784, 64), noise.MaskingCorruption(0.3))
    >>> dae.compile(optimizer="adam")
    >>> # dae.fit(x_train, epochs=5) ; dae.predict(x_noisy) denoises
    """

    def __init__(self, autoencoder, corruption, alpha=1.0, beta=1.0,
                 reconstruction_loss="squared_error", **kwargs):
        super().__init__(**kwargs)
        if isinstance(autoencoder, dict):
            autoencoder = keras.saving.deserialize_keras_object(autoencoder)
        if isinstance(corruption, dict):
            corruption = keras.saving.deserialize_keras_object(corruption)
        if not isinstance(autoencoder, keras.layers.Layer) or not autoencoder.built:
            raise ValueError(
                "autoencoder must be a built Keras model, e.g. aecourse.models.DenseAutoencoder. "
                f"Received: autoencoder={autoencoder!r}"
            )
        if not isinstance(corruption, Corruption):
            raise ValueError(
                "corruption must be an aecourse.noise corruption layer such as MaskingCorruption. "
                f"Received: corruption={corruption!r}"
            )
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(
                f"reconstruction_loss must be one of {RECONSTRUCTION_LOSSES}. "
                f"Received: reconstruction_loss={reconstruction_loss!r}"
            )
        self.autoencoder, self.corruption = autoencoder, corruption
        self.alpha, self.beta = _check_weight("alpha", alpha), _check_weight("beta", beta)
        self.reconstruction_loss = reconstruction_loss
        self.built = True  # the autoencoder is built and the corruption has no weights

    def call(self, inputs, training=False):
        if training or self.corruption.always:
            corrupted, mask = self.corruption.corrupt_with_mask(inputs)
            alpha, beta = self.alpha, self.beta
        else:
            corrupted, mask, alpha, beta = inputs, ops.zeros_like(inputs), 1.0, 1.0
        reconstruction = self.autoencoder(corrupted, training=training)
        self.add_loss(ops.mean(emphasized_loss(inputs, reconstruction, mask, alpha, beta,
                                               self.reconstruction_loss)))
        return reconstruction

    def get_config(self):
        config = super().get_config()
        config.update({
            "autoencoder": keras.saving.serialize_keras_object(self.autoencoder),
            "corruption": keras.saving.serialize_keras_object(self.corruption),
            "alpha": self.alpha, "beta": self.beta,
            "reconstruction_loss": self.reconstruction_loss,
        })
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def corrupt(corruption, x, batch_size=1000):
    """Applies a corruption layer to a NumPy array, returning NumPy arrays.

    Args:
        corruption: an `aecourse.noise` corruption layer.
        x: array of inputs.
        batch_size: examples corrupted per call.

    Returns:
        `(corrupted, mask)` as float32 NumPy arrays of the shape of `x`.
    """
    x = np.asarray(x, dtype="float32")
    pieces = [corruption.corrupt_with_mask(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    return tuple(np.concatenate([ops.convert_to_numpy(p[k]) for p in pieces]) for k in (0, 1))


def psnr(x, x_hat, max_value=1.0):
    """Peak signal-to-noise ratio of each image, in decibels.

    `PSNR = 10 log10(max_value^2 / MSE)`, with the mean squared error taken
    over the pixels of one image. Identical images give `inf`.

    Args:
        x: reference images, shape `(n, ...)`.
        x_hat: images to score, same shape.
        max_value: the largest possible pixel value (1 for images in [0, 1]).

    Returns:
        float64 array of shape `(n,)`.

    Example:

    >>> psnr(np.zeros((1, 4)), np.full((1, 4), 0.1)).round(6)
    array([20.])
    """
    x, x_hat = np.asarray(x, "float64"), np.asarray(x_hat, "float64")
    if x.shape != x_hat.shape or x.ndim < 2:
        raise ValueError(
            f"x and x_hat must have the same shape (n, ...), one row per image. "
            f"Received: x.shape={x.shape}, x_hat.shape={x_hat.shape}"
        )
    if max_value <= 0:
        raise ValueError(f"max_value must be positive. Received: max_value={max_value!r}")
    mse = np.mean((x - x_hat) ** 2, axis=tuple(range(1, x.ndim)))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(max_value ** 2 / mse)


def gaussian_blur(images, sigma, image_shape=(28, 28)):
    """Blurs each image with a Gaussian filter: the classic denoising baseline.

    Args:
        images: flat `(n, height * width)` or `(n, height, width)` images.
        sigma: standard deviation of the filter, in pixels (0: no blur).
        image_shape: `(height, width)` of one image.

    Returns:
        The blurred images, in the shape of `images`.
    """
    from scipy.ndimage import gaussian_filter

    images = np.asarray(images, dtype="float32")
    if images.ndim not in (2, 3) or images[0].size != int(np.prod(image_shape)):
        raise ValueError(
            f"Expected images of shape (n, {int(np.prod(image_shape))}) or (n, *{tuple(image_shape)}). "
            f"Received: shape={images.shape}"
        )
    blurred = gaussian_filter(images.reshape((-1,) + tuple(image_shape)), sigma=(0, sigma, sigma))
    return blurred.reshape(images.shape)


def select_by_psnr(denoise, candidates, x_noisy, x_clean):
    """Picks the parameter of a denoiser that gives the best mean PSNR.

    Tunes a baseline fairly (a blur's width, a PCA's number of components)
    on held-out images before comparing it with a DAE on test images.

    Args:
        denoise: function `denoise(x_noisy, parameter)` returning denoised images.
        candidates: parameter values to try.
        x_noisy: corrupted validation images.
        x_clean: their clean versions.

    Returns:
        `(best_parameter, best_mean_psnr)`.
    """
    scores = {c: float(np.mean(psnr(x_clean, denoise(x_noisy, c)))) for c in candidates}
    if not scores:
        raise ValueError(f"candidates must hold at least one value. Received: candidates={candidates!r}")
    best = max(scores, key=scores.get)
    return best, scores[best]


def filter_roughness(kernel, image_shape=(28, 28)):
    """How noise-like each filter is: 1 for white noise, near 0 for smooth filters.

    The mean squared difference between horizontally or vertically
    neighbouring weights, divided by twice the mean squared weight. For
    independent zero-mean weights (a filter that looks like noise) the
    expected value is 1; smooth strokes and blobs give values near 0.

    Args:
        kernel: `(D, units)` weight matrix of a `Dense` layer fed with images.
        image_shape: `(height, width)` with `height * width == D`.

    Returns:
        `(units,)` float64 roughness of each filter.

    Example:

    >>> smooth = np.ones((784, 1)); float(filter_roughness(smooth)[0])
    0.0
    """
    kernel = np.asarray(kernel, "float64")
    if kernel.ndim != 2 or kernel.shape[0] != int(np.prod(image_shape)):
        raise ValueError(f"kernel must have shape (height * width, units) for image_shape={tuple(image_shape)}. "
                         f"Received: kernel.shape={kernel.shape}")
    tiles = kernel.T.reshape((-1,) + tuple(image_shape))
    differences = np.concatenate([np.diff(tiles, axis=1).reshape(len(tiles), -1),
                                  np.diff(tiles, axis=2).reshape(len(tiles), -1)], axis=1)
    power = np.mean(tiles.reshape(len(tiles), -1) ** 2, axis=1)
    return np.mean(differences ** 2, axis=1) / (2 * np.maximum(power, 1e-300))


def train_stacked_denoising(x, layer_units, rate, epochs, batch_size=128, learning_rate=1e-3, seed=0):
    """Greedy layer-wise training of a stacked denoising autoencoder (SDAE).

    Vincent et al. (2010): train a one-hidden-layer DAE with masking noise on
    `x`, encode `x` with its clean encoder, train the next DAE on those codes,
    and so on. The corruption is applied only to each layer's own input while
    it is trained; the stack encodes clean inputs. `rate=0` gives a stacked
    plain autoencoder (SAE), the paper's baseline.

    Args:
        x: `(n, D)` training inputs in [0, 1].
        layer_units: hidden units of each layer, e.g. `(256, 128)`.
        rate: masking-noise rate of every layer, in [0, 1].
        epochs: training epochs per layer.
        batch_size: batch size.
        learning_rate: Adam's learning rate.
        seed: seed of the first layer's noise (layer `i` uses `seed + i`).

    Returns:
        The list of trained per-layer `DenoisingAutoencoder`s; encode with
        `encode_stack(daes, x)`.
    """
    from aecourse.models import DenseAutoencoder
    from aecourse.noise import MaskingCorruption

    codes, daes = np.asarray(x, dtype="float32"), []
    for i, units in enumerate(layer_units):
        dae = DenoisingAutoencoder(
            DenseAutoencoder(codes.shape[1], units, code_activation="sigmoid", name=f"ae_{i}"),
            MaskingCorruption(rate, seed=seed + i), reconstruction_loss="cross_entropy",
            name=f"dae_{i}",
        )
        dae.compile(keras.optimizers.Adam(learning_rate))
        dae.fit(codes, epochs=epochs, batch_size=batch_size, verbose=0)
        codes = encode_stack([dae], codes)
        daes.append(dae)
    return daes


def encode_stack(daes, x, batch_size=1000):
    """Encodes clean inputs through the encoders of a stack of autoencoders.

    Args:
        daes: per-layer `DenoisingAutoencoder`s, first layer first, each
            wrapping an autoencoder with an `encoder` model.
        x: `(n, D)` inputs.
        batch_size: examples encoded per step.

    Returns:
        The top layer's codes as a NumPy array.
    """
    codes = np.asarray(x, dtype="float32")
    for dae in daes:
        codes = dae.autoencoder.encoder.predict(codes, batch_size=batch_size, verbose=0)
    return codes
