"""Convolutional restorers: a small U-Net and the degradations it learns to undo.

A restorer is a denoising autoencoder whose corruption is the degradation to
undo (noise, blur, a hidden block) and whose encoder and decoder are
convolutional. `unet` builds one, `degrade` makes its training pairs,
`train_restorer` trains it on a mix of degradations and `restore` applies it.
Images are flat `(n, height * width)` arrays in [0, 1], as elsewhere in the
package; the network sees each image with a second channel, the mask of
known pixels (0 inside an inpainting hole, 1 elsewhere).
"""

import keras
import numpy as np

from aecourse.denoising import corrupt, gaussian_blur
from aecourse.noise import BlockMaskingCorruption, GaussianCorruption

DEGRADATIONS = ("noise", "blur", "inpaint")


def _check_images(images, image_shape):
    images = np.asarray(images, "float32")
    size = int(np.prod(image_shape))
    if images.ndim != 2 or images.shape[1] != size:
        raise ValueError(f"Expected flat images of shape (n, {size}). Received: shape={images.shape}")
    return images


def degrade(images, kind, seed, noise_sigma=0.2, blur_sigma=1.0, blur_noise=0.01, hole=12, image_shape=(28, 28)):
    """Degrades each image one way, returning what a restorer is given.

    - `"noise"`: additive Gaussian noise of standard deviation `noise_sigma`
      (`aecourse.noise.GaussianCorruption`, not clipped, so the noise level
      is exactly `noise_sigma`);
    - `"blur"`: a Gaussian blur of width `blur_sigma` pixels
      (`aecourse.denoising.gaussian_blur`), then Gaussian noise of standard
      deviation `blur_noise`;
    - `"inpaint"`: a `hole x hole` block at a uniformly random position
      inside the image is set to 0 and marked unknown
      (`aecourse.noise.BlockMaskingCorruption`, chapter 3's inpainting task).

    Args:
        images: flat `(n, height * width)` clean images in [0, 1].
        kind: one of `DEGRADATIONS`.
        seed: integer seed of the random draws (the same seed, the same degradation).
        noise_sigma: noise level of `"noise"`.
        blur_sigma: blur width of `"blur"`, in pixels.
        blur_noise: noise level added after the blur.
        hole: side of the hidden block of `"inpaint"`, in pixels.
        image_shape: `(height, width)` of one image.

    Returns:
        `(degraded, known)`, two float32 arrays of the shape of `images`;
        `known` is 1 at observed pixels and 0 inside the hole.
    """
    images = _check_images(images, image_shape)
    if kind == "noise":
        return corrupt(GaussianCorruption(noise_sigma, clip=False, seed=seed), images)[0], np.ones_like(images)
    if kind == "blur":
        blurred = gaussian_blur(images, blur_sigma, image_shape)
        return corrupt(GaussianCorruption(blur_noise, clip=False, seed=seed), blurred)[0], np.ones_like(images)
    if kind == "inpaint":
        degraded, hidden = corrupt(BlockMaskingCorruption(hole, tuple(image_shape), seed=seed), images)
        return degraded, 1.0 - hidden
    raise ValueError(f"kind must be one of {DEGRADATIONS}. Received: kind={kind!r}")


def blur_kernel(blur_sigma):
    """The point-spread function of `degrade(..., "blur")`, for deconvolution.

    Returns:
        A square float64 array summing to 1: the blur applied to a single
        bright pixel, `2 * round(4 * blur_sigma) + 1` pixels wide (the
        filter's full support).
    """
    if not blur_sigma > 0:
        raise ValueError(f"blur_sigma must be positive. Received: blur_sigma={blur_sigma!r}")
    size = 2 * int(4 * blur_sigma + 0.5) + 1
    delta = np.zeros((1, size, size))
    delta[0, size // 2, size // 2] = 1.0
    return gaussian_blur(delta, blur_sigma, (size, size))[0].astype("float64")


def model_inputs(degraded, known, image_shape=(28, 28)):
    """Stacks degraded images and their known-pixel masks into `(n, height, width, 2)` network inputs."""
    degraded, known = _check_images(degraded, image_shape), _check_images(known, image_shape)
    if degraded.shape != known.shape:
        raise ValueError(f"degraded and known must have the same shape. Received: {degraded.shape} and {known.shape}")
    return np.stack([degraded, known], axis=-1).reshape((-1,) + tuple(image_shape) + (2,))


def unet(filters=(16, 32), skips=True, residual=True, image_shape=(28, 28), name="unet"):
    """A small U-Net (Ronneberger et al. 2015) that restores one-channel images.

    The encoder has one level per entry of `filters`: two 3x3 ReLU
    convolutions, then 2x2 max pooling; a 3x3 convolution with
    `2 * filters[-1]` channels works at the lowest resolution; the decoder
    mirrors the encoder with stride-2 transposed convolutions. With `skips`,
    each decoder level also receives the encoder's feature maps of the same
    resolution (concatenated); with `residual`, the network's output is
    added to the degraded input, so it learns the correction. Without both,
    it is a plain convolutional autoencoder: everything passes through the
    lowest resolution.

    Args:
        filters: channels of each encoder level, from fine to coarse.
        skips: whether the decoder receives the encoder's feature maps.
        residual: whether the output is the input plus a learned correction.
        image_shape: `(height, width)`, each divisible by `2 ** len(filters)`.
        name: the model's name.

    Returns:
        A `keras.Model` from `(n, height, width, 2)` inputs (degraded image,
        known-pixel mask; see `model_inputs`) to `(n, height, width, 1)`.
    """
    filters = tuple(int(f) for f in filters)
    if not filters or min(filters) < 1:
        raise ValueError(f"filters must be a non-empty sequence of positive channel counts. Received: {filters!r}")
    if any(side % 2 ** len(filters) for side in image_shape):
        raise ValueError(f"image_shape {tuple(image_shape)} must be divisible by 2 ** len(filters) = "
                         f"{2 ** len(filters)}; use fewer levels.")
    layers = keras.layers
    inputs = keras.Input(tuple(image_shape) + (2,))
    x, encoder_maps = inputs, []
    for level, channels in enumerate(filters):
        for i in range(2):
            x = layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"down{level}_{i}")(x)
        encoder_maps.append(x)
        x = layers.MaxPooling2D(name=f"pool{level}")(x)
    x = layers.Conv2D(2 * filters[-1], 3, padding="same", activation="relu", name="bottom")(x)
    for level in reversed(range(len(filters))):
        x = layers.Conv2DTranspose(filters[level], 2, strides=2, name=f"up{level}")(x)
        if skips:
            x = layers.Concatenate(name=f"skip{level}")([x, encoder_maps[level]])
        for i in range(2):
            x = layers.Conv2D(filters[level], 3, padding="same", activation="relu", name=f"dec{level}_{i}")(x)
    outputs = layers.Conv2D(1, 1, name="correction" if residual else "output")(x)
    if residual:
        outputs = layers.Add(name="restored")([inputs[..., :1], outputs])
    return keras.Model(inputs, outputs, name=name)


def degrade_mixed(images, kinds, seed, **degradation):
    """Degrades each image by a kind drawn uniformly from `kinds` (keyword arguments go to `degrade`).

    Returns:
        `(degraded, known, kind_index)`: as `degrade`, plus each image's index into `kinds`.
    """
    if not kinds or any(kind not in DEGRADATIONS for kind in kinds):
        raise ValueError(f"kinds must be a non-empty sequence of {DEGRADATIONS}. Received: kinds={kinds!r}")
    images = np.asarray(images, "float32")
    which = np.random.default_rng(seed).integers(len(kinds), size=len(images))
    degraded, known = np.empty_like(images), np.empty_like(images)
    for index, kind in enumerate(kinds):  # every kind on the whole batch: same shapes each call, no recompiling
        chosen = which == index
        all_degraded, all_known = degrade(images, kind, seed + index, **degradation)
        degraded[chosen], known[chosen] = all_degraded[chosen], all_known[chosen]
    return degraded, known, which


def train_restorer(model, clean, kinds=DEGRADATIONS, steps=600, batch_size=32, learning_rate=2e-3, chunk=100,
                   seed=0, **degradation):
    """Trains a restorer on freshly degraded images, minimising the squared error to the clean image.

    Each step draws `batch_size` training images at random and degrades each
    by a kind drawn from `kinds`, so no degraded image is seen twice. Adam,
    with the learning rate decayed to 0 over `steps` by a cosine. Steps run
    `chunk` at a time through one `fit` call each.

    Args:
        model: a restorer from `unet` (recompiled here).
        clean: flat `(n, height * width)` clean training images in [0, 1].
        kinds: the degradations to learn, a subset of `DEGRADATIONS`.
        steps: the number of Adam steps.
        batch_size: images per step.
        learning_rate: Adam's initial learning rate.
        chunk: steps per `fit` call (the training loss is recorded per chunk).
        seed: seed of the image and degradation draws.
        **degradation: keyword arguments of `degrade` (noise level, hole size...).

    Returns:
        float64 array: the mean training loss of each chunk.
    """
    if not (steps >= 1 and batch_size >= 1 and chunk >= 1):
        raise ValueError(f"steps, batch_size and chunk must be positive. "
                         f"Received: steps={steps!r}, batch_size={batch_size!r}, chunk={chunk!r}")
    height, width = model.input_shape[1:3]
    clean = _check_images(clean, (height, width))
    rng = np.random.default_rng(seed)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    losses = []
    for start in range(0, steps, chunk):
        batch = clean[rng.integers(0, len(clean), min(chunk, steps - start) * batch_size)]
        degraded, known, _ = degrade_mixed(batch, kinds, int(rng.integers(2 ** 31)), image_shape=(height, width),
                                           **degradation)
        history = model.fit(model_inputs(degraded, known, (height, width)), batch.reshape((-1, height, width, 1)),
                            batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        losses.append(history.history["loss"][0])
    return np.array(losses, "float64")


def restore(model, degraded, known, batch_size=500):
    """Applies a restorer to flat degraded images; returns flat restored images clipped to [0, 1]."""
    height, width = model.input_shape[1:3]
    restored = model.predict(model_inputs(degraded, known, (height, width)), batch_size=batch_size, verbose=0)
    return np.clip(restored.reshape(len(restored), -1), 0.0, 1.0)
