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


def _first_block_error(encoder, decoder, images):
    """Squared error of the first block's own autoencoder (block 0, then its greedy decoder)."""
    block, block_decoder = encoder.layers[0], decoder.layers[-1]
    reconstruction = keras.ops.convert_to_numpy(block_decoder(block(images, training=False)))
    return float(np.mean((images - reconstruction) ** 2))


def test_greedy_conv_pretrain_trains_each_block_to_reconstruct_its_input():
    rng = np.random.default_rng(0)
    images = np.repeat(np.repeat(rng.random((128, 4, 4, 1)), 2, axis=1), 2, axis=2).astype("float32")
    keras.utils.set_random_seed(0)
    untrained = conv.conv_stack((8, 8, 1), (4, 2))
    keras.utils.set_random_seed(0)
    trained = conv.greedy_conv_pretrain(images, (4, 2), epochs=20, batch_size=16, learning_rate=1e-2)
    assert _first_block_error(*trained, images) < 0.5 * _first_block_error(*untrained, images)


def test_conv_stack_is_the_greedy_architecture():
    encoder, decoder = conv.conv_stack((8, 8, 1), (4, 2))
    greedy = conv.greedy_conv_pretrain(np.zeros((16, 8, 8, 1), "float32"), (4, 2), epochs=1)
    assert [w.shape for w in encoder.weights + decoder.weights] == [w.shape for w in greedy[0].weights + greedy[1].weights]


def test_train_conv_autoencoder_starts_from_the_stack_and_restarts_like_a_fresh_model():
    rng = np.random.default_rng(1)
    images = rng.random((32, 8, 8, 1)).astype("float32")
    start = conv.greedy_conv_pretrain(images, (4, 2), epochs=1, batch_size=16)
    tuned = conv.train_conv_autoencoder(images, (4, 2), start, epochs=1, batch_size=16, learning_rate=1e-9)
    expected = start[0].trainable_weights + start[1].trainable_weights
    for got, want in zip(tuned.trainable_weights, expected):  # batch norm's moving statistics do move
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(want), atol=1e-5)
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        runs.append(conv.train_conv_autoencoder(images, (4, 2), epochs=2, batch_size=16, learning_rate=1e-2,
                                                seed=3).predict(images, verbose=0))
        conv.reuse.clear()  # the second run compiles a fresh model
    np.testing.assert_allclose(runs[0], runs[1], atol=1e-5)
    with pytest.raises(ValueError, match="start must be"):
        conv.train_conv_autoencoder(images, (4, 3), start, epochs=1)


def test_greedy_blocks_compute_at_inference_what_they_were_trained_on():
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).random((64, 8, 8, 1)).astype("float32")
    encoder, _ = conv.greedy_conv_pretrain(images, (4, 2), epochs=2, batch_size=16, learning_rate=1e-2)
    block = encoder.layers[0]
    batch_stats = keras.ops.convert_to_numpy(block(images, training=True))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(block(images, training=False)), batch_stats, atol=1e-3)
