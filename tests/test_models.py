import numpy as np
import pytest

import keras

from aecourse.layers import DenseTied
from aecourse.models import DenseAutoencoder


def _x(n=32, d=20):
    return np.random.default_rng(0).random((n, d)).astype("float32")


def test_shapes_and_reusable_halves():
    ae = DenseAutoencoder(20, code_dim=3, hidden_units=(8, 5))
    x = _x()
    h = ae.encoder.predict(x, verbose=0)
    assert h.shape == (32, 3)
    np.testing.assert_allclose(ae.decoder.predict(h, verbose=0), ae.predict(x, verbose=0), atol=1e-6)
    assert [layer.units for layer in ae.encoder.layers[1:]] == [8, 5, 3]
    assert [layer.units for layer in ae.decoder.layers[1:]] == [5, 8, 20]


def test_sigmoid_output_in_unit_range_and_linear_option():
    x = _x() * 10
    assert ae_out(DenseAutoencoder(20, 3)).min() >= 0
    linear = DenseAutoencoder(20, 3, activation=None, output_activation=None)
    # A linear autoencoder is a linear map plus a constant: check additivity.
    f = lambda v: linear.predict(v, verbose=0)
    np.testing.assert_allclose(f(x[:1] + x[1:2]) - f(x[:1]), f(x[1:2]) - f(np.zeros_like(x[:1])), atol=1e-4)


def ae_out(ae):
    return ae.predict(_x(), verbose=0)


def test_training_reduces_loss():
    rng = np.random.default_rng(0)
    x = (1 / (1 + np.exp(-rng.normal(size=(256, 3)) @ rng.normal(size=(3, 20))))).astype("float32")
    ae = DenseAutoencoder(20, 4, hidden_units=(16,))
    ae.compile(keras.optimizers.Adam(1e-2), "mse")
    history = ae.fit(x, x, epochs=20, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


@pytest.mark.parametrize("tied", [False, True])
def test_save_and_reload(tmp_path, tied):
    x = _x()
    ae = DenseAutoencoder(20, 3, hidden_units=(8,), tied=tied)
    ae.compile("adam", "mse")
    ae.fit(x, x, epochs=1, verbose=0)
    ae.save(tmp_path / "ae.keras")
    reloaded = keras.models.load_model(tmp_path / "ae.keras")
    assert isinstance(reloaded, DenseAutoencoder) and reloaded.tied == tied
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), ae.predict(x, verbose=0), atol=1e-6)
    if tied:  # the tie survives the reload: one kernel, shared
        assert reloaded.decoder.layers[-1].tied_to is reloaded.encoder.layers[1]


def test_tied_weights_are_shared_and_halve_parameters():
    untied = DenseAutoencoder(20, 3, hidden_units=(8,))
    tied = DenseAutoencoder(20, 3, hidden_units=(8,), tied=True)
    kernels = 20 * 8 + 8 * 3
    assert untied.count_params() - tied.count_params() == kernels
    tied_layer = tied.decoder.layers[-1]
    tied_layer.tied_to.kernel.assign(np.ones((20, 8), "float32"))
    h = np.ones((1, 8), "float32")
    expected = 1 / (1 + np.exp(-(8.0 + keras.ops.convert_to_numpy(tied_layer.bias))))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tied_layer(h)), expected[None], rtol=1e-5)


def test_dense_tied_matches_transpose_and_trains_shared_kernel():
    encode = keras.layers.Dense(4, activation=None)
    decode = DenseTied(encode, activation=None)
    x = _x(8, 6)
    out = keras.ops.convert_to_numpy(decode(encode(x)))
    w = keras.ops.convert_to_numpy(encode.kernel)
    b = keras.ops.convert_to_numpy(encode.bias)
    np.testing.assert_allclose(out, (x @ w + b) @ w.T, rtol=1e-5, atol=1e-5)
    assert decode.compute_output_shape((None, 4)) == (None, 6)


def test_dense_tied_standalone_save(tmp_path):
    encode = keras.layers.Dense(5)
    model = keras.Sequential([keras.Input((7,)), encode, DenseTied(encode, activation="sigmoid")])
    model.save(tmp_path / "m.keras")
    x = _x(3, 7)
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "m.keras").predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="code_dim"):
        DenseAutoencoder(20, 0)
    with pytest.raises(ValueError, match="hidden_units"):
        DenseAutoencoder(20, 3, hidden_units=(8, -1))
    with pytest.raises(ValueError, match="Dense"):
        DenseTied("not a layer")
    encode = keras.layers.Dense(4)
    encode.build((None, 6))
    with pytest.raises(ValueError, match="4 features"):
        DenseTied(encode)(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="called once"):
        DenseTied(keras.layers.Dense(4))(np.zeros((2, 4), "float32"))


@pytest.mark.parametrize("output_activation", ["sigmoid", None])
def test_data_mean_centres_the_input_and_starts_the_output_at_the_mean(tmp_path, output_activation):
    x = _x()
    mean = x.mean(axis=0)
    ae = DenseAutoencoder(20, 3, hidden_units=(8,), output_activation=output_activation, data_mean=mean)
    plain = DenseAutoencoder(20, 3, hidden_units=(8,), output_activation=output_activation)
    for source, target in zip(ae.encoder.layers[2:], plain.encoder.layers[1:]):
        target.set_weights(source.get_weights())
    # The encoder sees x - mean: same weights, centred input, same code.
    np.testing.assert_allclose(ae.encoder.predict(x, verbose=0), plain.encoder.predict(x - mean, verbose=0),
                               atol=1e-5)
    # With a silent last hidden layer the decoder outputs the mean.
    last = ae.decoder.layers[-1]
    last.kernel.assign(np.zeros(last.kernel.shape, "float32"))
    np.testing.assert_allclose(ae.predict(x[:2], verbose=0), np.stack([mean, mean]), atol=1e-5)
    ae.save(tmp_path / "ae.keras")
    reloaded = keras.models.load_model(tmp_path / "ae.keras")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), ae.predict(x, verbose=0), atol=1e-6)


def test_data_mean_bad_arguments():
    with pytest.raises(ValueError, match="data_mean must be"):
        DenseAutoencoder(20, 3, data_mean=np.zeros(5))
    with pytest.raises(ValueError, match="output_activation"):
        DenseAutoencoder(20, 3, output_activation="relu", data_mean=np.full(20, 0.5))
