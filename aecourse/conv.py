"""Stacked convolutional autoencoder: conv, ReLU, batch norm, pooling / upsampling, conv.

The lecture notes' (seed 000) recipe: each encoder block is a convolution, a
ReLU, batch normalization and 2x2 max pooling, which halves the image's
height and width; each decoder block undoes one pooling with 2x2 upsampling
followed by a convolution and a ReLU; a last convolution with a sigmoid
draws the reconstruction.
"""

import keras
import numpy as np

from aecourse.models import _check_units


def encoder_block(filters, kernel_size=3, name=None):
    """One encoder block: `Conv2D -> ReLU -> BatchNormalization -> MaxPooling2D(2)`.

    Args:
        filters: number of convolution filters (output channels).
        kernel_size: side of the square convolution kernel ('same' padding).
        name: prefix of the block's layer names.

    Returns:
        A `keras.Sequential` block mapping `(h, w, c)` to `(h // 2, w // 2, filters)`.

    Example:

    >>> encoder_block(8)(keras.ops.zeros((1, 28, 28, 1))).shape
    (1, 14, 14, 8)
    """
    _check_units("filters", filters)
    _check_units("kernel_size", kernel_size)
    return keras.Sequential([
        keras.layers.Conv2D(filters, kernel_size, padding="same"),
        keras.layers.ReLU(),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(2),
    ], name=name)


def decoder_block(filters, kernel_size=3, name=None):
    """One decoder block: `UpSampling2D(2) -> Conv2D -> ReLU`.

    Args:
        filters: number of convolution filters (output channels).
        kernel_size: side of the square convolution kernel ('same' padding).
        name: prefix of the block's layer names.

    Returns:
        A `keras.Sequential` block mapping `(h, w, c)` to `(2 h, 2 w, filters)`.
    """
    _check_units("filters", filters)
    _check_units("kernel_size", kernel_size)
    return keras.Sequential([
        keras.layers.UpSampling2D(2),
        keras.layers.Conv2D(filters, kernel_size, padding="same"),
        keras.layers.ReLU(),
    ], name=name)


def encoder_shapes(input_shape, filters):
    """Shapes of the feature maps after each encoder block, computed by hand.

    A block's 'same' convolution keeps height and width and sets the channels
    to its filters; its 2x2 pooling halves height and width.

    Args:
        input_shape: `(height, width, channels)` of the images.
        filters: filters of the encoder blocks, input side first.

    Returns:
        List of `(height, width, channels)` tuples, one per block; the last
        is the code's shape.

    Example:

    >>> encoder_shapes((28, 28, 1), (16, 8))
    [(14, 14, 16), (7, 7, 8)]
    """
    height, width = int(input_shape[0]), int(input_shape[1])
    shapes = []
    for f in filters:
        height, width = height // 2, width // 2
        shapes.append((height, width, int(f)))
    return shapes


def decoder_filters(filters):
    """Filters of the decoder blocks that mirror encoder blocks with `filters`.

    Decoder block `i` undoes encoder block `B - 1 - i`, so it outputs the
    channels that encoder block's input had (`filters[B - 2 - i]`); the last
    one, at full resolution, keeps `filters[0]` channels for the final
    convolution to work with.

    Args:
        filters: filters of the encoder blocks, input side first.

    Returns:
        Tuple of the decoder blocks' filters, code side first.

    Example:

    >>> decoder_filters((32, 16, 8))
    (16, 32, 32)
    """
    filters = tuple(filters)
    return tuple(reversed(filters[:-1])) + filters[:1]


@keras.saving.register_keras_serializable(package="aecourse")
class ConvAutoencoder(keras.Model):
    """A stacked convolutional autoencoder with reusable halves.

    The encoder stacks one `encoder_block` per entry of `filters`; the code is
    a `(h / 2^B, w / 2^B, filters[-1])` feature map for `B = len(filters)`
    blocks. The decoder mirrors it with `decoder_block`s (their filters from
    `decoder_filters`, so each one restores the shape of the matching encoder
    feature map) and ends with a convolution to the input's channels.

    Args:
        input_shape: `(height, width, channels)` of the images; height and
            width must be divisible by `2 ** len(filters)`.
        filters: filters of the encoder blocks, input side first.
        kernel_size: side of every convolution kernel.
        output_activation: activation of the last convolution (`"sigmoid"`
            for pixels in [0, 1]).
        **kwargs: base `Model` arguments such as `name`.

    Example:

    >>> ae = ConvAutoencoder((28, 28, 1), filters=(16, 8))
    >>> ae.encoder.output_shape, ae.decoder.output_shape
    ((None, 7, 7, 8), (None, 28, 28, 1))
    """

    def __init__(self, input_shape=(28, 28, 1), filters=(16, 8), kernel_size=3,
                 output_activation="sigmoid", **kwargs):
        super().__init__(**kwargs)
        input_shape, filters = tuple(input_shape), tuple(filters)
        if len(input_shape) != 3:
            raise ValueError(
                f"input_shape must be (height, width, channels). Received: input_shape={input_shape}"
            )
        if not filters:
            raise ValueError("filters must name at least one encoder block. Received: filters=()")
        for value in input_shape + filters:
            _check_units("input_shape and filters entries", value)
        factor = 2 ** len(filters)
        if input_shape[0] % factor or input_shape[1] % factor:
            raise ValueError(
                f"Height and width must be divisible by 2 ** len(filters) = {factor} so that "
                f"upsampling restores them. Received: input_shape={input_shape}, filters={filters}"
            )
        self.image_shape, self.filters = input_shape, filters
        self.kernel_size, self.output_activation = kernel_size, output_activation

        x = keras.Input(input_shape, name="x")
        h = x
        for i, f in enumerate(filters):
            h = encoder_block(f, kernel_size, name=f"encoder_block_{i}")(h)
        self.encoder = keras.Model(x, h, name="encoder")

        code = keras.Input(tuple(h.shape[1:]), name="h")
        r = code
        for i, f in enumerate(decoder_filters(filters)):
            r = decoder_block(f, kernel_size, name=f"decoder_block_{i}")(r)
        r = keras.layers.Conv2D(input_shape[2], kernel_size, padding="same",
                                activation=output_activation, name="reconstruction")(r)
        self.decoder = keras.Model(code, r, name="decoder")
        self.built = True

    def call(self, inputs, training=False):
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_shape": list(self.image_shape), "filters": list(self.filters),
            "kernel_size": self.kernel_size, "output_activation": self.output_activation,
        })
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def greedy_conv_pretrain(images, filters, epochs=3, batch_size=128, learning_rate=1e-3, kernel_size=3, seed=0):
    """Greedy layer-wise pretraining of a convolutional stack (Masci et al. 2011's procedure).

    Block `k` (`encoder_block(filters[k])`) is trained as a shallow
    convolutional autoencoder on the feature maps of the blocks below it,
    with a decoder `UpSampling2D(2) -> Conv2D(channels of its input)`: a
    sigmoid and the cross-entropy for the first block (pixels), a linear
    output and the squared error above it. Then it is frozen, and its
    feature maps are the next block's training set.

    Args:
        images: `(n, height, width, channels)` images in [0, 1]; height and
            width divisible by `2 ** len(filters)`.
        filters: filters of the encoder blocks, input side first.
        epochs: training epochs of each block.
        batch_size: minibatch size.
        learning_rate: Adam's learning rate.
        kernel_size: side of every convolution kernel.
        seed: seed of the epochs' shuffling.

    Returns:
        `(encoder, decoder)` Keras models: the blocks in order, and the
        blocks' decoders in reverse order. `keras.Sequential([encoder,
        decoder])` is the stacked autoencoder, ready for fine-tuning.
    """
    from aecourse.stacked import fit_epochs  # local: stacked imports nothing of conv

    images = np.asarray(images, "float32")
    if images.ndim != 4:
        raise ValueError(f"images must be (n, height, width, channels). Received: images.shape={images.shape}")
    filters = tuple(filters)
    factor = 2 ** len(filters)
    if not filters or images.shape[1] % factor or images.shape[2] % factor:
        raise ValueError(f"filters must be non-empty and height, width divisible by 2 ** len(filters). "
                         f"Received: images.shape={images.shape}, filters={filters}")
    blocks, decoders, inputs = [], [], images
    for k, f in enumerate(filters):
        first = k == 0
        block = encoder_block(f, kernel_size, name=f"encoder_block_{k}")
        decoder = keras.Sequential([
            keras.layers.UpSampling2D(2),
            keras.layers.Conv2D(inputs.shape[-1], kernel_size, padding="same",
                                activation="sigmoid" if first else None),
        ], name=f"decoder_block_{k}")
        x = keras.Input(inputs.shape[1:])
        autoencoder = keras.Model(x, decoder(block(x)))
        autoencoder.compile(keras.optimizers.Adam(learning_rate), loss="binary_crossentropy" if first else "mse")
        fit_epochs(autoencoder, inputs, inputs, epochs, batch_size, seed + 1000 * k)
        blocks.append(block)
        decoders.append(decoder)
        inputs = keras.ops.convert_to_numpy(block(inputs, training=False))
    encoder = keras.Sequential([keras.Input(images.shape[1:])] + blocks, name="encoder")
    decoder = keras.Sequential([keras.Input(inputs.shape[1:])] + decoders[::-1], name="decoder")
    return encoder, decoder
