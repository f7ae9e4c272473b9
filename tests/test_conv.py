"""The stacked convolutional autoencoder (aecourse.conv)."""

import numpy as np
import pytest

import keras

from aecourse import conv


def test_shapes_blocks_and_hand_computed_shapes():
    ae = conv.ConvAutoencoder((16, 24, 2), filters=(8, 4, 3))
    assert ae.encoder.output_shape == (None, 2, 3, 3)
    assert ae.decoder.output_shape == (None, 16, 24, 2)
    blocks = ae.encoder.layers[1:]
    assert [tuple(block.output.shape[1:]) for block in blocks] == conv.encoder_shapes((16, 24, 2), (8, 4, 3))
    assert [type(layer).__name__ for layer in blocks[0].layers] == [
        "Conv2D", "ReLU", "BatchNormalization", "MaxPooling2D"]
    decoder_blocks = ae.decoder.layers[1:-1]
    assert [type(layer).__name__ for layer in decoder_blocks[0].layers] == ["UpSampling2D", "Conv2D", "ReLU"]
    # Each decoder block restores the shape of the matching encoder feature map.
    assert [tuple(block.output.shape[1:]) for block in decoder_blocks] == [(4, 6, 4), (8, 12, 8), (16, 24, 8)]
    assert conv.decoder_filters((8, 4, 3)) == (4, 8, 8)


def test_parameter_count_matches_the_formula():
    # conv k*k*c_in*f + f, batch norm 4 f (2 trained, 2 moving statistics), pooling nothing.
    ae = conv.ConvAutoencoder((8, 8, 1), filters=(4,), kernel_size=3)
    encoder = 3 * 3 * 1 * 4 + 4 + 4 * 4
    decoder = (3 * 3 * 4 * 4 + 4) + (3 * 3 * 4 * 1 + 1)
    assert ae.encoder.count_params() == encoder
    assert ae.count_params() == encoder + decoder


def test_trains_and_outputs_pixels():
    x = np.random.default_rng(0).random((64, 8, 8, 1)).astype("float32")
    ae = conv.ConvAutoencoder((8, 8, 1), filters=(4, 2))
    ae.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    history = ae.fit(x, x, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    r = ae.predict(x, verbose=0)
    assert r.shape == x.shape and r.min() >= 0 and r.max() <= 1


def test_save_and_reload(tmp_path):
    x = np.random.default_rng(1).random((4, 8, 8, 1)).astype("float32")
    ae = conv.ConvAutoencoder((8, 8, 1), filters=(4, 2))
    ae.compile("adam", "mse")
    ae.fit(x, x, epochs=1, verbose=0)
    path = tmp_path / "conv.keras"
    ae.save(path)
    reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded, conv.ConvAutoencoder)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), ae.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"input_shape": (28, 28)}, "height, width, channels"),
    ({"input_shape": (28, 28, 1), "filters": (8, 8, 8)}, "divisible"),
    ({"filters": ()}, "at least one"),
    ({"filters": (8, 0)}, "positive integer"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv.ConvAutoencoder(**kwargs)


def test_greedy_conv_pretrain_trains_block_by_block():
    rng = np.random.default_rng(0)
    images = (rng.random((64, 8, 8, 1)) > 0.5).astype("float32")
    encoder, decoder = conv.greedy_conv_pretrain(images, (4, 2), epochs=2, batch_size=16, learning_rate=1e-2)
    assert encoder.output_shape == (None, 2, 2, 2)
    assert decoder.output_shape == (None, 8, 8, 1)
    assert [type(layer).__name__ for layer in encoder.layers] == ["Sequential", "Sequential"]
    reconstruction = decoder.predict(encoder.predict(images, verbose=0), verbose=0)
    assert reconstruction.min() >= 0 and reconstruction.max() <= 1  # the first block's sigmoid decoder is last
    with pytest.raises(ValueError, match="divisible"):
        conv.greedy_conv_pretrain(images[:, :6, :6], (4, 2, 2))
