"""Sparse autoencoders (SAEs) for interpretability: a dictionary of features for a network's activations.

An SAE rewrites an activation vector `x` (dimension `d`) as a sparse,
non-negative combination of `L > d` learned directions (the decoder rows):

    f = act(W_enc^T (x - b_dec) + b_enc),      x_hat = f W_dec + b_dec,

with `W_enc` of shape `(d, L)`, `W_dec` of shape `(L, d)` (row `j` is latent
`j`'s direction, kept at unit length) and `b_dec` a shared offset, started at
the data mean and subtracted before encoding. Two ways to make `f` sparse:

- **ReLU + L1** (Bricken et al. 2023): `act = ReLU` and the loss adds
  `l1 * sum_j f_j`; with unit-norm decoder rows the penalty cannot be dodged by
  shrinking `f` and growing `W_dec`;
- **TopK** (Gao et al. 2024; Makhzani & Frey 2013): keep the `k` largest
  pre-activations of each input, zero the rest, then ReLU. The number of
  active latents is at most `k` by construction; no penalty to tune.

The reconstruction loss is the squared error summed over the `d` dimensions,
averaged over the batch. `fit_sae` trains an SAE with Adam and can *resample*
dead latents (latents that fire on no training input): each is pointed at an
input the SAE reconstructs badly (Bricken et al. 2023's remedy, simplified).
"""

import keras
import numpy as np
from keras import ops

from aecourse.runtime import steps_per_execution
from aecourse.sparse import kth_largest


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return value


def _check_activations(x, dim=None, name="x"):
    x = np.asarray(x, dtype="float32")
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be a finite 2-D array of activations, shape (n, d). "
                         f"Received: {name} with shape {x.shape}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} columns (the SAE's input_dim). Received: {name}.shape={x.shape}")
    return x


def topk_relu(pre, k):
    """Keeps the `k` largest entries of each row of `pre`, zeros the others, then applies a ReLU.

    Entries tied with the `k`-th largest are all kept (see `kth_largest`).
    Gradients flow only through the kept, positive entries.

    Args:
        pre: tensor of shape `(batch, latents)`.
        k: entries kept per row, `1 <= k <= latents`.

    Returns:
        Tensor of the same shape: at most `k` non-zero (positive) entries per row.
    """
    pre = ops.convert_to_tensor(pre)
    return ops.relu(ops.where(ops.greater_equal(pre, kth_largest(pre, k)), pre, ops.zeros_like(pre)))


@keras.saving.register_keras_serializable(package="aecourse")
class SparseAutoencoder(keras.Model):
    """A sparse autoencoder with unit-norm decoder rows: ReLU + L1 or TopK.

    Args:
        input_dim: dimension `d` of the activations.
        latents: number of latents `L` (the dictionary size).
        k: keep the `k` largest pre-activations per input (TopK SAE); `None`
            for a ReLU SAE.
        l1: weight of the L1 penalty `l1 * mean_batch sum_j f_j` (ReLU SAE);
            0 for none. A TopK SAE takes `l1=0`.
        seed: seed of the initial weights.

    The decoder rows start as random unit vectors and the encoder as their
    transpose; `b_dec` starts at 0 (`fit_sae` sets it to the data mean). The
    decoder kernel carries a `keras.constraints.UnitNorm(axis=1)`, which the
    optimizer applies after every step.

    Call arguments:
        inputs: activations, shape `(batch, d)`. Returns the reconstructions.

    Example:

    >>> sae = SparseAutoencoder(64, 512, k=8)
    >>> codes = sae.encode(np.zeros((3, 64), "float32"))  # shape (3, 512)
    """

    def __init__(self, input_dim, latents, k=None, l1=0.0, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = _check_positive_int("input_dim", input_dim)
        self.latents = _check_positive_int("latents", latents)
        if k is not None:
            _check_positive_int("k", k)
            if k > latents:
                raise ValueError(f"k must be at most latents={latents}. Received: k={k}")
        if isinstance(l1, bool) or not isinstance(l1, (int, float)) or not np.isfinite(l1) or l1 < 0:
            raise ValueError(f"l1 must be a non-negative number. Received: l1={l1!r}")
        if k is not None and l1:
            raise ValueError(f"A TopK SAE needs no L1 penalty: pass k or l1, not both. Received: k={k}, l1={l1}")
        self.k, self.l1, self.seed = k, float(l1), seed
        rows = np.random.default_rng(seed).normal(size=(latents, input_dim))
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        self.decoder_kernel = self.add_weight(
            shape=(latents, input_dim), name="decoder_kernel",
            initializer=keras.initializers.Constant(rows.astype("float32")),
            constraint=keras.constraints.UnitNorm(axis=1))
        self.encoder_kernel = self.add_weight(shape=(input_dim, latents), name="encoder_kernel",
                                              initializer=keras.initializers.Constant(rows.T.astype("float32")))
        self.encoder_bias = self.add_weight(shape=(latents,), name="encoder_bias", initializer="zeros")
        self.decoder_bias = self.add_weight(shape=(input_dim,), name="decoder_bias", initializer="zeros")

    def pre_activations(self, inputs):
        """`W_enc^T (x - b_dec) + b_enc`, shape `(batch, latents)`."""
        x = ops.convert_to_tensor(inputs, "float32")
        return ops.matmul(x - self.decoder_bias, self.encoder_kernel) + self.encoder_bias

    def encode(self, inputs):
        """The sparse codes `f`, shape `(batch, latents)`, non-negative."""
        pre = self.pre_activations(inputs)
        return ops.relu(pre) if self.k is None else topk_relu(pre, self.k)

    def decode(self, codes):
        """`f W_dec + b_dec`, shape `(batch, input_dim)`."""
        return ops.matmul(ops.convert_to_tensor(codes, "float32"), self.decoder_kernel) + self.decoder_bias

    def call(self, inputs):
        codes = self.encode(inputs)
        if self.l1:
            self.add_loss(self.l1 * ops.mean(ops.sum(codes, axis=-1)))
        return self.decode(codes)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "latents": self.latents, "k": self.k,
                "l1": self.l1, "seed": self.seed}


def squared_error(x, x_hat):
    """The SAE's reconstruction loss: squared error summed over dimensions (a Keras loss, per example)."""
    return ops.sum(ops.square(x - x_hat), axis=-1)


def codes_of(sae, x, batch_size=4096):
    """The SAE's codes of activations `x` as a NumPy array, computed in batches."""
    x = _check_activations(x, sae.input_dim)
    return np.concatenate([ops.convert_to_numpy(sae.encode(x[i:i + batch_size]))
                           for i in range(0, len(x), batch_size)])


def reconstruct(sae, x, batch_size=4096):
    """The SAE's reconstructions of activations `x` as a NumPy array."""
    x = _check_activations(x, sae.input_dim)
    return np.concatenate([ops.convert_to_numpy(sae(x[i:i + batch_size]))
                           for i in range(0, len(x), batch_size)])


def resample_dead_latents(sae, x, rng, scale=1.0):
    """Points every dead latent (zero on every row of `x`) at a badly reconstructed input.

    For each dead latent, an input is drawn with probability proportional to
    its squared reconstruction error; the latent's decoder row becomes the unit
    vector along that input's residual `x - x_hat`, its encoder column the same
    vector times `scale` times the mean norm of the live latents' encoder
    columns, and its encoder bias 0 (after Bricken et al. 2023, who scale by
    0.2; a TopK latent that small never reaches the top `k` and dies again,
    hence our default 1). The optimizer's moment estimates of these weights
    are not reset.

    Args:
        sae: a `SparseAutoencoder`.
        x: activations, shape `(n, d)` (a sample of the training data).
        rng: NumPy `Generator`.
        scale: encoder norm of a resampled latent relative to the live ones.

    Returns:
        The number of latents resampled.
    """
    x = _check_activations(x, sae.input_dim)
    dead = np.flatnonzero(codes_of(sae, x).max(axis=0) <= 0)
    if len(dead) == 0:
        return 0
    residual = x - reconstruct(sae, x)
    error = np.sum(residual ** 2, axis=1).astype("float64")
    picks = rng.choice(len(x), size=len(dead), p=error / error.sum()) if error.sum() > 0 else rng.choice(len(x), len(dead))
    directions = residual[picks] / np.maximum(np.linalg.norm(residual[picks], axis=1, keepdims=True), 1e-12)
    decoder, encoder, bias = (ops.convert_to_numpy(w).copy() for w in
                              (sae.decoder_kernel, sae.encoder_kernel, sae.encoder_bias))
    alive = np.setdiff1d(np.arange(sae.latents), dead)
    norm = np.linalg.norm(encoder[:, alive], axis=0).mean() if len(alive) else 1.0
    decoder[dead] = directions
    encoder[:, dead] = (directions * scale * norm).T
    bias[dead] = 0.0
    sae.decoder_kernel.assign(decoder)
    sae.encoder_kernel.assign(encoder)
    sae.encoder_bias.assign(bias)
    return len(dead)


def fit_sae(sae, x, epochs, batch_size=256, learning_rate=1e-3, resample_at=(), resample_rows=8192, seed=0):
    """Trains a `SparseAutoencoder` on activations `x` with Adam (cosine-decayed rate).

    `b_dec` is first set to the mean of `x`. After each epoch listed in
    `resample_at` (1-based), dead latents are resampled on `resample_rows`
    random rows of `x` (`resample_dead_latents`).

    Args:
        sae: the `SparseAutoencoder` to train (modified in place).
        x: training activations, shape `(n, d)`.
        epochs: passes over `x`.
        batch_size: rows per step.
        learning_rate: Adam's initial rate.
        resample_at: epochs after which to resample dead latents.
        resample_rows: rows of `x` used to find dead latents.
        seed: seed of the resampling draws (Keras's seed shuffles the batches).

    Returns:
        A list with the number of latents resampled at each epoch of `resample_at`.
    """
    x = _check_activations(x, sae.input_dim)
    _check_positive_int("epochs", epochs)
    if any(not isinstance(e, int) or not 1 <= e < epochs for e in resample_at):
        raise ValueError(f"resample_at must list epochs in [1, {epochs - 1}]. Received: resample_at={resample_at!r}")
    steps = -(-len(x) // batch_size)
    sae.decoder_bias.assign(x.mean(axis=0))
    sae.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, epochs * steps)),
                loss=squared_error, steps_per_execution=steps_per_execution(_divisor(steps)))
    rng = np.random.default_rng(seed)
    resampled, done = [], 0
    for stop in sorted(resample_at) + [epochs]:
        sae.fit(x, x, initial_epoch=done, epochs=stop, batch_size=batch_size, verbose=0, shuffle=True)
        done = stop
        if stop < epochs:
            resampled.append(resample_dead_latents(sae, x[rng.choice(len(x), min(resample_rows, len(x)),
                                                                     replace=False)], rng))
    return resampled


def _divisor(steps, most=10):
    """The largest divisor of `steps` not above `most`: steps per execution that split an epoch evenly."""
    return max(d for d in range(1, min(steps, most) + 1) if steps % d == 0)
