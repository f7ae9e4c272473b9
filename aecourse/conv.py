"""Stacked convolutional autoencoder: conv, ReLU, batch norm, pooling / upsampling, conv.

The lecture notes' (seed 000) recipe: each encoder block is a convolution, a
ReLU, batch normalization and 2x2 max pooling, which halves the image's
height and width; each decoder block undoes one pooling with 2x2 upsampling
followed by a convolution and a ReLU; a last convolution with a sigmoid
draws the reconstruction.
"""

import keras
import numpy as np

from aecourse import reuse
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


def _block_decoder(channels, kernel_size, first, name=None):
    """The decoder of one greedy block: `UpSampling2D(2) -> Conv2D(channels)`, sigmoid for pixels, linear above."""
    return keras.Sequential([
        keras.layers.UpSampling2D(2),
        keras.layers.Conv2D(channels, kernel_size, padding="same", activation="sigmoid" if first else None),
    ], name=name)


def _check_images(images, filters):
    images, filters = np.asarray(images, "float32"), tuple(filters)
    if images.ndim != 4:
        raise ValueError(f"images must be (n, height, width, channels). Received: images.shape={images.shape}")
    factor = 2 ** len(filters)
    if not filters or images.shape[1] % factor or images.shape[2] % factor:
        raise ValueError(f"filters must be non-empty and height, width divisible by 2 ** len(filters). "
                         f"Received: images.shape={images.shape}, filters={filters}")
    return images, filters


def conv_stack(input_shape, filters, kernel_size=3):
    """The untrained encoder and decoder of a greedy convolutional stack (Keras's initialisation).

    The encoder is one `encoder_block` per entry of `filters`; the decoder
    applies the blocks' greedy decoders (`UpSampling2D(2) -> Conv2D` back to
    the channels of the block's input; a sigmoid for the pixels, linear
    above) in reverse order. `greedy_conv_pretrain` trains this
    architecture block by block; `train_conv_autoencoder` trains it as a
    whole.

    Args:
        input_shape: `(height, width, channels)` of the images.
        filters: filters of the encoder blocks, input side first.
        kernel_size: side of every convolution kernel.

    Returns:
        `(encoder, decoder)` Keras `Sequential` models.

    Example:

    >>> encoder, decoder = conv_stack((8, 8, 1), (16, 4))
    >>> encoder.output_shape, decoder.output_shape
    ((None, 2, 2, 4), (None, 8, 8, 1))
    """
    input_shape, filters = tuple(int(v) for v in input_shape), tuple(int(f) for f in filters)
    channels = (input_shape[2],) + filters[:-1]
    blocks = [encoder_block(f, kernel_size, name=f"encoder_block_{k}") for k, f in enumerate(filters)]
    decoders = [_block_decoder(c, kernel_size, k == 0, name=f"decoder_block_{k}") for k, c in enumerate(channels)]
    code_shape = encoder_shapes(input_shape, filters)[-1]
    encoder = keras.Sequential([keras.Input(input_shape)] + blocks, name="encoder")
    decoder = keras.Sequential([keras.Input(code_shape)] + decoders[::-1], name="decoder")
    return encoder, decoder


def greedy_conv_pretrain(images, filters, epochs=3, batch_size=128, learning_rate=1e-3, kernel_size=3, seed=0):
    """Greedy layer-wise pretraining of a convolutional stack (Masci et al. 2011's procedure).

    Block `k` (`encoder_block(filters[k])`) is trained as a shallow
    convolutional autoencoder on the feature maps of the blocks below it,
    with a decoder `UpSampling2D(2) -> Conv2D(channels of its input)`: a
    sigmoid and the cross-entropy for the first block (pixels), a linear
    output and the squared error above it. Then its batch-norm statistics are
    set to those of its whole training set (`refresh_batch_norm`), it is
    frozen, and its feature maps are the next block's training set. Each shallow architecture is compiled once per
    process (`aecourse.reuse`), so repeated runs cost no recompilation.

    Args:
        images: `(n, height, width, channels)` images in [0, 1]; height and
            width divisible by `2 ** len(filters)`.
        filters: filters of the encoder blocks, input side first.
        epochs: training epochs of each block.
        batch_size: minibatch size.
        learning_rate: Adam's learning rate.
        kernel_size: side of every convolution kernel.
        seed: seed of the epochs' shuffling (the initial weights come from the global seed).

    Returns:
        `(encoder, decoder)` Keras models as `conv_stack` builds them, trained:
        the blocks in order, and the blocks' decoders in reverse order.
        `train_conv_autoencoder(..., start=(encoder, decoder))` fine-tunes them.
    """
    from aecourse.stacked import fit_epochs  # local: stacked imports nothing of conv

    images, filters = _check_images(images, filters)
    _check_units("epochs", epochs)
    encoder, decoder = conv_stack(images.shape[1:], filters, kernel_size)
    inputs = images
    for k, (block, block_decoder) in enumerate(zip(encoder.layers, decoder.layers[::-1])):
        first = k == 0
        loss = "binary_crossentropy" if first else "mse"

        def build(shape=inputs.shape[1:], units=filters[k], channels=inputs.shape[-1], first=first):
            x = keras.Input(shape)
            return keras.Model(x, _block_decoder(channels, kernel_size, first)(encoder_block(units, kernel_size)(x)))

        key = ("conv-layer", tuple(inputs.shape[1:]), filters[k], kernel_size, loss)
        autoencoder = reuse.compiled(key, build, loss)
        reuse.restart(autoencoder, block.get_weights() + block_decoder.get_weights(), learning_rate)
        fit_epochs(autoencoder, inputs, inputs, epochs, batch_size, seed + 1000 * k)
        trained = autoencoder.get_weights()
        block.set_weights(trained[:len(block.weights)])
        block_decoder.set_weights(trained[len(block.weights):])
        refresh_batch_norm(block, inputs)
        inputs = keras.ops.convert_to_numpy(block(inputs, training=False))
    return encoder, decoder


def refresh_batch_norm(block, inputs):
    """Sets the moving statistics of a block's batch-norm layers to their inputs' statistics over `inputs`.

    Batch norm trains on each batch's statistics but computes at inference
    with moving averages (momentum 0.99). After a short greedy run of a few
    hundred steps those still hold a large part of their starting values
    (0.99 ** 160 = 0.2 of mean 0 and variance 1), so the frozen block would
    hand the next block other features than it was trained on. One pass over
    all of `inputs` in training mode with momentum 0 replaces them with the
    statistics of the whole training set.

    Args:
        block: a Keras model or layer stack (e.g. `encoder_block`), built.
        inputs: the block's training inputs, one array.
    """
    for layer in getattr(block, "layers", []):
        if isinstance(layer, keras.layers.BatchNormalization):
            momentum, layer.momentum = layer.momentum, 0.0
            try:
                block(inputs, training=True)
            finally:
                layer.momentum = momentum


def train_conv_autoencoder(images, filters, start=None, epochs=10, batch_size=64, learning_rate=1e-3,
                           kernel_size=3, seed=0):
    """Trains the convolutional stack of `conv_stack` end to end (cross-entropy on the pixels, Adam).

    Args:
        images: `(n, height, width, channels)` images in [0, 1].
        filters: filters of the encoder blocks, input side first.
        start: `(encoder, decoder)` from `greedy_conv_pretrain` to fine-tune, or
            `None` for Keras's random initialisation (drawn from the global seed).
        epochs, batch_size, learning_rate: Adam's budget and step size.
        kernel_size: side of every convolution kernel.
        seed: seed of the epochs' shuffling.

    Returns:
        The trained `keras.Sequential([encoder, decoder])`, compiled once per
        process and restarted per run: use or copy it before the next run.
    """
    from aecourse.stacked import fit_epochs

    images, filters = _check_images(images, filters)

    def build():
        return keras.Sequential(list(conv_stack(images.shape[1:], filters, kernel_size)), name="conv_stack")

    if start is None:
        initial = build().get_weights()
    else:
        initial = [w for part in start for w in part.get_weights()]
        if [w.shape for w in initial] != [tuple(w.shape) for w in build().weights]:
            raise ValueError(f"start must be the (encoder, decoder) of greedy_conv_pretrain with filters {filters}. "
                             f"Received weights of shapes {[w.shape for w in initial]}")
    model = reuse.compiled(("conv-deep", tuple(images.shape[1:]), filters, kernel_size), build,
                           "binary_crossentropy")
    reuse.restart(model, initial, learning_rate)
    fit_epochs(model, images, images, epochs, batch_size, seed)
    return model
