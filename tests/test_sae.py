"""aecourse.sae: the SparseAutoencoder (ReLU + L1 and TopK), its training helper and dead-latent resampling."""

import numpy as np
import pytest

import keras

from aecourse import interpret, sae


def _numpy_forward(model, x):
    W_dec, W_enc, b_enc, b_dec = (keras.ops.convert_to_numpy(w).astype("float64") for w in
                                  (model.decoder_kernel, model.encoder_kernel, model.encoder_bias, model.decoder_bias))
    pre = (x - b_dec) @ W_enc + b_enc
    if model.k is None:
        codes = np.maximum(pre, 0)
    else:
        kth = -np.sort(-pre, axis=1)[:, model.k - 1:model.k]
        codes = np.maximum(np.where(pre >= kth, pre, 0), 0)
    return codes, codes @ W_dec + b_dec


@pytest.mark.parametrize("k", [None, 3])
def test_forward_matches_numpy(k):
    model = sae.SparseAutoencoder(6, 20, k=k, seed=1)
    rng = np.random.default_rng(0)
    model.encoder_bias.assign(rng.normal(scale=0.1, size=20).astype("float32"))
    model.decoder_bias.assign(rng.normal(size=6).astype("float32"))
    x = rng.normal(size=(9, 6)).astype("float32")
    codes, x_hat = _numpy_forward(model, x)
    np.testing.assert_allclose(sae.codes_of(model, x), codes, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sae.reconstruct(model, x), x_hat, rtol=1e-5, atol=1e-5)
    if k is not None:
        assert np.all(np.count_nonzero(codes, axis=1) <= k)


def test_initial_decoder_rows_are_unit_and_encoder_is_their_transpose():
    model = sae.SparseAutoencoder(5, 12, seed=2)
    W_dec = keras.ops.convert_to_numpy(model.decoder_kernel)
    np.testing.assert_allclose(np.linalg.norm(W_dec, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.encoder_kernel), W_dec.T)


def test_topk_relu_drops_negative_kept_entries():
    pre = np.array([[3.0, -1.0, -2.0, 0.5], [-0.5, -0.2, -3.0, -4.0]], "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(sae.topk_relu(pre, 2)), [[3.0, 0, 0, 0.5], [0, 0, 0, 0]])


def test_l1_penalty_added_to_the_loss():
    model = sae.SparseAutoencoder(4, 8, l1=0.5, seed=0)
    x = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    model(x)
    codes, _ = _numpy_forward(model, x)
    assert float(keras.ops.convert_to_numpy(model.losses[0])) == pytest.approx(0.5 * codes.sum(axis=1).mean(), rel=1e-5)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="k must be at most"):
        sae.SparseAutoencoder(4, 8, k=9)
    with pytest.raises(ValueError, match="not both"):
        sae.SparseAutoencoder(4, 8, k=2, l1=0.1)
    with pytest.raises(ValueError, match="l1"):
        sae.SparseAutoencoder(4, 8, l1=-1.0)
    with pytest.raises(ValueError, match="latents"):
        sae.SparseAutoencoder(4, 0)
    model = sae.SparseAutoencoder(4, 8)
    with pytest.raises(ValueError, match="4 columns"):
        sae.codes_of(model, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="resample_at"):
        sae.fit_sae(model, np.zeros((10, 4)), epochs=2, resample_at=(2,))


def _synthetic(rng, n, directions, density=0.08):
    present = rng.random((n, len(directions))) < density
    return ((present * rng.uniform(0.5, 1.5, present.shape)) @ directions).astype("float32")


def test_training_keeps_unit_rows_and_topk_finds_planted_directions():
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(12, 8))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    x = _synthetic(rng, 3000, directions)
    keras.utils.set_random_seed(0)
    model = sae.SparseAutoencoder(8, 24, k=2, seed=0)
    sae.fit_sae(model, x, epochs=12, batch_size=64, learning_rate=3e-3)
    W_dec = keras.ops.convert_to_numpy(model.decoder_kernel)
    np.testing.assert_allclose(np.linalg.norm(W_dec, axis=1), 1.0, rtol=1e-4)
    held_out = _synthetic(rng, 1000, directions)
    assert interpret.normalized_mse(held_out, sae.reconstruct(model, held_out)) < 0.3
    found = np.mean(np.max(W_dec @ directions.T, axis=0) > 0.9)
    assert found >= 0.75


def test_resampling_revives_dead_latents():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5)).astype("float32")
    model = sae.SparseAutoencoder(5, 10, seed=0)
    bias = np.zeros(10, "float32")
    bias[:4] = -100.0  # latents 0-3 can never fire
    model.encoder_bias.assign(bias)
    assert interpret.dead_latents(sae.codes_of(model, x)) >= 4
    resampled = sae.resample_dead_latents(model, x, np.random.default_rng(0))
    assert resampled >= 4
    codes = sae.codes_of(model, x)
    assert np.all(codes[:, :4].max(axis=0) > 0)
    np.testing.assert_allclose(np.linalg.norm(keras.ops.convert_to_numpy(model.decoder_kernel), axis=1), 1.0,
                               rtol=1e-5)
    assert sae.resample_dead_latents(model, x, np.random.default_rng(0)) == interpret.dead_latents(codes)


def test_sae_survives_save_and_reload(tmp_path):
    model = sae.SparseAutoencoder(4, 8, k=3, seed=5)
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    before = sae.reconstruct(model, x)
    path = tmp_path / "sae.keras"
    model.save(path)
    again = keras.models.load_model(path)
    assert again.k == 3 and again.latents == 8
    np.testing.assert_allclose(sae.reconstruct(again, x), before, rtol=1e-6)
