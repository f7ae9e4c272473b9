"""Corruption layers C(x~|x) for denoising autoencoders.

Each layer corrupts its inputs only in training (like `keras.layers.Dropout`)
unless built with `always=True`, draws its noise from a
`keras.random.SeedGenerator` it owns, and can also return **which** entries it
corrupted (`corrupt_with_mask`), which the emphasized denoising loss needs
(`aecourse.denoising.emphasized_loss`).

Mask convention: `1.0` where an entry was corrupted, `0.0` where it was left
untouched. Gaussian noise touches every entry, so its mask is all ones.
"""

import keras
from keras import ops


def _check_rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1]. Received: {name}={value!r}")
    return float(value)


class Corruption(keras.layers.Layer):
    """Base class of the corruption layers: training-only noise with a mask.

    Subclasses implement `corrupt_with_mask(inputs)`; `call` returns only the
    corrupted inputs, and only when `training=True` or `always=True`.

    Args:
        always: corrupt in inference too (to make noisy test images, for example).
        seed: integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: base `Layer` arguments such as `name`.
    """

    def __init__(self, always=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.always = bool(always)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def corrupt_with_mask(self, inputs):
        """Corrupts `inputs` and returns `(corrupted, mask)`.

        Args:
            inputs: a float tensor.

        Returns:
            The corrupted tensor and a float mask of the same shape, 1 where an
            entry was corrupted and 0 where it was left unchanged.
        """
        raise NotImplementedError

    def call(self, inputs, training=False):
        if training or self.always:
            return self.corrupt_with_mask(inputs)[0]
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"always": self.always, "seed": self.seed})
        return config


@keras.saving.register_keras_serializable(package="aecourse")
class GaussianCorruption(Corruption):
    """Additive isotropic Gaussian noise, `x~ = x + eps` with `eps ~ N(0, stddev^2)`.

    Args:
        stddev: standard deviation of the noise, non-negative.
        clip: clip the corrupted values to [0, 1] (pixels stay pixels).
        always: corrupt in inference too.
        seed: integer seed of the layer's `SeedGenerator`.
        **kwargs: base `Layer` arguments such as `name`.

    Example:

    >>> noisy = GaussianCorruption(0.3, always=True, seed=0)(keras.ops.ones((2, 5)) * 0.5)
    >>> noisy.shape
    (2, 5)
    """

    def __init__(self, stddev, clip=True, always=False, seed=None, **kwargs):
        super().__init__(always=always, seed=seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"stddev must be a non-negative number. Received: stddev={stddev!r}")
        self.stddev, self.clip = float(stddev), bool(clip)

    def corrupt_with_mask(self, inputs):
        inputs = ops.convert_to_tensor(inputs, dtype=self.compute_dtype)
        noise = keras.random.normal(ops.shape(inputs), stddev=self.stddev,
                                    dtype=inputs.dtype, seed=self.seed_generator)
        corrupted = inputs + noise
        if self.clip:
            corrupted = ops.clip(corrupted, 0.0, 1.0)
        return corrupted, ops.ones_like(inputs)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "clip": self.clip})
        return config


@keras.saving.register_keras_serializable(package="aecourse")
class MaskingCorruption(Corruption):
    """Masking noise: each entry is set to zero independently with probability `rate`.

    Unlike `Dropout`, the surviving entries are **not** rescaled: a masked
    pixel is simply missing (black). The lecture notes suggest masking 30-50 %
    of the inputs.

    Args:
        rate: probability of zeroing an entry, in [0, 1].
        always: corrupt in inference too.
        seed: integer seed of the layer's `SeedGenerator`.
        **kwargs: base `Layer` arguments such as `name`.

    Example:

    >>> x = keras.ops.ones((1000, 100))
    >>> masked = MaskingCorruption(0.4, always=True, seed=0)(x)
    >>> round(float(keras.ops.mean(masked == 0)), 1)
    0.4
    """

    def __init__(self, rate, always=False, seed=None, **kwargs):
        super().__init__(always=always, seed=seed, **kwargs)
        self.rate = _check_rate("rate", rate)

    def corrupt_with_mask(self, inputs):
        inputs = ops.convert_to_tensor(inputs, dtype=self.compute_dtype)
        uniform = keras.random.uniform(ops.shape(inputs), dtype=inputs.dtype, seed=self.seed_generator)
        mask = ops.cast(uniform < self.rate, inputs.dtype)
        return inputs * (1.0 - mask), mask

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate})
        return config


@keras.saving.register_keras_serializable(package="aecourse")
class SaltAndPepperCorruption(Corruption):
    """Salt-and-pepper noise: each entry, with probability `rate`, becomes 0 or 1 (fair coin).

    Vincent et al. (2010) set a fraction of the inputs to their minimum or
    maximum value; here each entry is picked independently, so the fraction
    is `rate` on average.

    Args:
        rate: probability of corrupting an entry, in [0, 1].
        always: corrupt in inference too.
        seed: integer seed of the layer's `SeedGenerator`.
        **kwargs: base `Layer` arguments such as `name`.

    Example:

    >>> x = keras.ops.ones((4, 10)) * 0.5
    >>> noisy = SaltAndPepperCorruption(0.2, always=True, seed=0)(x)
    >>> noisy.shape
    (4, 10)
    """

    def __init__(self, rate, always=False, seed=None, **kwargs):
        super().__init__(always=always, seed=seed, **kwargs)
        self.rate = _check_rate("rate", rate)

    def corrupt_with_mask(self, inputs):
        inputs = ops.convert_to_tensor(inputs, dtype=self.compute_dtype)
        shape = ops.shape(inputs)
        mask = ops.cast(keras.random.uniform(shape, dtype=inputs.dtype, seed=self.seed_generator)
                        < self.rate, inputs.dtype)
        salt = ops.cast(keras.random.uniform(shape, dtype=inputs.dtype, seed=self.seed_generator)
                        < 0.5, inputs.dtype)
        return inputs * (1.0 - mask) + salt * mask, mask

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate})
        return config


@keras.saving.register_keras_serializable(package="aecourse")
class BlockMaskingCorruption(Corruption):
    """Zeroes one random square block per image, for inpainting.

    Works on flat `(n, height * width)` or `(n, height, width)` inputs; the
    block lies entirely inside the image, at a uniformly random position.

    Args:
        block_size: side of the square block, in pixels.
        image_shape: `(height, width)` of one image.
        always: corrupt in inference too.
        seed: integer seed of the layer's `SeedGenerator`.
        **kwargs: base `Layer` arguments such as `name`.

    Example:

    >>> layer = BlockMaskingCorruption(10, (28, 28), always=True, seed=0)
    >>> int(keras.ops.sum(layer(keras.ops.ones((1, 784))) == 0))
    100
    """

    def __init__(self, block_size, image_shape, always=False, seed=None, **kwargs):
        super().__init__(always=always, seed=seed, **kwargs)
        image_shape = tuple(image_shape)
        if len(image_shape) != 2 or not all(isinstance(s, int) and s > 0 for s in image_shape):
            raise ValueError(
                f"image_shape must be (height, width), two positive integers. Received: image_shape={image_shape!r}"
            )
        if not (isinstance(block_size, int) and 0 < block_size <= min(image_shape)):
            raise ValueError(
                f"block_size must be an integer in [1, {min(image_shape)}] (the image's smaller side). "
                f"Received: block_size={block_size!r}"
            )
        self.block_size, self.image_shape = block_size, image_shape

    def corrupt_with_mask(self, inputs):
        inputs = ops.convert_to_tensor(inputs, dtype=self.compute_dtype)
        height, width = self.image_shape
        if tuple(inputs.shape[1:]) not in ((height * width,), (height, width)):
            raise ValueError(
                f"Expected images of shape (n, {height * width}) or (n, {height}, {width}). "
                f"Received: shape={tuple(inputs.shape)}"
            )
        corners = keras.random.uniform((ops.shape(inputs)[0], 2), dtype="float32", seed=self.seed_generator)
        top = ops.floor(corners[:, 0:1] * (height - self.block_size + 1))
        left = ops.floor(corners[:, 1:2] * (width - self.block_size + 1))
        rows = ops.cast(ops.arange(height), "float32")[None, :]
        cols = ops.cast(ops.arange(width), "float32")[None, :]
        in_rows = ops.logical_and(rows >= top, rows < top + self.block_size)  # (n, height)
        in_cols = ops.logical_and(cols >= left, cols < left + self.block_size)  # (n, width)
        mask = ops.cast(ops.logical_and(in_rows[:, :, None], in_cols[:, None, :]), inputs.dtype)
        mask = ops.reshape(mask, ops.shape(inputs))
        return inputs * (1.0 - mask), mask

    def get_config(self):
        config = super().get_config()
        config.update({"block_size": self.block_size, "image_shape": list(self.image_shape)})
        return config
