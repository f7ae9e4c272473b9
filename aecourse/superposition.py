"""The toy model of superposition (Elhage et al. 2022): many sparse features in few dimensions.

A synthetic input has `n` features `x_i`. Each feature is zero with
probability `S` (the *sparsity*) and otherwise uniform on [0, 1], independently
of the others. The model squeezes `x` into `m < n` dimensions with a matrix
`W` of shape `(m, n)` and reads it back through a ReLU,

    h = W x,        x' = ReLU(W^T h + b) = ReLU(W^T W x + b),

and is trained to minimise the importance-weighted squared error
`sum_i I_i (x_i - x'_i)^2`. Column `W_i` is the direction (in the hidden
space) that represents feature `i`; its length `|W_i|` says whether the
feature is represented at all (about 1) or dropped (about 0). With dense
features the model keeps the `m` most important ones on orthogonal directions,
as PCA would; with sparse features it packs more than `m` features into the
`m` dimensions at the cost of *interference*, which the ReLU and a negative
bias filter out.

`ToyModels` trains many such models at once (one per *instance*, each with its
own sparsity and importances) as one Keras model; it samples its own inputs
from a `keras.random.SeedGenerator`, so `fit` needs only a dummy input that
fixes the number of steps. The measures follow the paper: `feature_norms`,
`interference` (`sum_{j != i} (W_i_hat . W_j)^2`) and `dimensions_per_feature`
(`m / ||W||_F^2`).
"""

import functools

import keras
import numpy as np
from keras import ops

from aecourse.runtime import steps_per_execution


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return value


def sample_features(rng, n_samples, sparsity, n_features):
    """Synthetic sparse features: zero with probability `sparsity`, else uniform on [0, 1].

    Args:
        rng: a NumPy `Generator`.
        n_samples: number of inputs.
        sparsity: probability that a feature is zero, in [0, 1); a float, or an
            array of shape `(instances,)` for one sparsity per instance.
        n_features: number of features `n`.

    Returns:
        Float32 array of shape `(n_samples, n_features)` for a scalar sparsity,
        `(n_samples, instances, n_features)` for an array.

    Example:

    >>> x = sample_features(np.random.default_rng(0), 1000, 0.9, 5)
    >>> x.shape
    (1000, 5)
    """
    _check_positive_int("n_samples", n_samples)
    _check_positive_int("n_features", n_features)
    s = np.asarray(sparsity, dtype="float64")
    if s.ndim > 1 or np.any(s < 0) or np.any(s >= 1):
        raise ValueError(f"sparsity must be a number or a 1-D array of numbers in [0, 1). Received: sparsity={sparsity!r}")
    shape = (n_samples, n_features) if s.ndim == 0 else (n_samples, len(s), n_features)
    s = s if s.ndim == 0 else s[:, None]
    present = rng.random(shape) >= s
    return np.where(present, rng.random(shape), 0.0).astype("float32")


@keras.saving.register_keras_serializable(package="aecourse")
class ToyModels(keras.Model):
    """Many toy models of superposition, `x' = ReLU(W^T W x + b)`, trained at once.

    Instance `t` has its own weights `W[t]` of shape `(n_hidden, n_features)`,
    bias `b[t]`, sparsity `sparsity[t]` and importances `importance[t]`. The
    model samples its own training inputs (`sample_features`' distribution,
    with the backend's random numbers) in `train_step`'s forward pass, so train
    it with `fit(dummy, epochs=1, batch_size=B)` on a dummy array of shape
    `(steps * B, 1)`: one step per batch. Its loss (added with `add_loss`) is
    the importance-weighted squared error summed over features, averaged over
    the batch, summed over instances (the instances do not interact).

    Args:
        n_features: features per input, `n`.
        n_hidden: hidden dimensions, `m`.
        sparsity: sequence of sparsities in [0, 1), one per instance.
        importance: importances, shape `(n_features,)` (shared) or
            `(instances, n_features)`, all positive.
        seed: integer seed of the input sampler.

    Call arguments:
        inputs: features, shape `(batch, instances, n_features)`: the model
            returns their reconstructions, same shape. A dummy input of shape
            `(batch, 1)` (what `fit` gets) is replaced by `batch` fresh samples
            of every instance's features, and the loss is added.

    Example:

    >>> toy = ToyModels(5, 2, sparsity=[0.0, 0.9], importance=0.9 ** np.arange(5))
    >>> toy.compile(keras.optimizers.Adam(1e-2))
    >>> toy.fit(np.zeros((1024 * 100, 1)), batch_size=1024, verbose=0)  # 100 steps  # doctest: +SKIP
    """

    def __init__(self, n_features, n_hidden, sparsity, importance, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.n_features = _check_positive_int("n_features", n_features)
        self.n_hidden = _check_positive_int("n_hidden", n_hidden)
        sparsity = np.asarray(sparsity, dtype="float64")
        if sparsity.ndim != 1 or len(sparsity) == 0 or np.any(sparsity < 0) or np.any(sparsity >= 1):
            raise ValueError("sparsity must be a non-empty sequence of numbers in [0, 1), one per instance. "
                             f"Received: sparsity={sparsity.tolist()!r}")
        self.instances = len(sparsity)
        importance = np.asarray(importance, dtype="float64")
        if importance.ndim == 1:
            importance = np.broadcast_to(importance, (self.instances, importance.shape[0]))
        if importance.shape != (self.instances, n_features) or np.any(importance <= 0):
            raise ValueError(f"importance must be positive, of shape ({n_features},) or ({self.instances}, "
                             f"{n_features}). Received: importance with shape {importance.shape}")
        self.sparsity = sparsity.tolist()
        self.importance = importance.tolist()
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.W = self.add_weight(shape=(self.instances, n_hidden, n_features), name="W",
                                 initializer=keras.initializers.GlorotNormal(seed=seed))
        self.b = self.add_weight(shape=(self.instances, n_features), name="b", initializer="zeros")

    def reconstruct(self, x):
        """`ReLU(W^T W x + b)` for features `x` of shape `(batch, instances, n_features)`."""
        h = ops.einsum("bif,ihf->bih", x, self.W)
        return ops.relu(ops.einsum("bih,ihf->bif", h, self.W) + self.b)

    def sample(self, batch_size):
        """Fresh features of every instance, shape `(batch_size, instances, n_features)`.

        `sample_features`' distribution, drawn with the backend's random numbers
        from one uniform `u` per feature: the feature is present when `u >= S`,
        and then `(u - S) / (1 - S)` is its value, uniform on [0, 1). One draw
        instead of two (presence, value) halves the sampling, which dominates a
        training step of these tiny models.
        """
        shape = (batch_size, self.instances, self.n_features)
        u = keras.random.uniform(shape, seed=self.seed_generator)
        s = ops.convert_to_tensor(self.sparsity, "float32")[:, None]
        return ops.where(u >= s, (u - s) / (1.0 - s), ops.zeros_like(u))

    def call(self, inputs, training=False):
        sampled = len(inputs.shape) == 2  # a dummy (batch, 1) input: draw fresh features
        if sampled:
            x = self.sample(ops.shape(inputs)[0])
        else:
            x = ops.convert_to_tensor(inputs, "float32")
        out = self.reconstruct(x)
        if sampled:
            weighted = ops.convert_to_tensor(self.importance, "float32") * ops.square(x - out)
            self.add_loss(ops.sum(ops.mean(ops.sum(weighted, axis=-1), axis=0)))
        return out

    def instance_losses(self, x):
        """Importance-weighted squared error of each instance on features `x`, averaged over the batch.

        Args:
            x: features, shape `(batch, instances, n_features)`.

        Returns:
            NumPy array of shape `(instances,)`.
        """
        x = np.asarray(x, dtype="float32")
        out = keras.ops.convert_to_numpy(self.reconstruct(ops.convert_to_tensor(x)))
        return np.mean(np.sum(np.asarray(self.importance) * (x - out) ** 2, axis=-1), axis=0)

    def get_config(self):
        return {**super().get_config(), "n_features": self.n_features, "n_hidden": self.n_hidden,
                "sparsity": self.sparsity, "importance": self.importance, "seed": self.seed}


def train_toy_models(n_features, n_hidden, sparsity, importance, steps, batch_size=1024, learning_rate=1e-2,
                     seed=0):
    """Builds and trains `ToyModels` with Adam (cosine-decayed rate) for `steps` steps.

    Args:
        n_features: features per input.
        n_hidden: hidden dimensions.
        sparsity: one sparsity per instance.
        importance: importances, `(n_features,)` or `(instances, n_features)`.
        steps: optimisation steps (each on `batch_size` fresh inputs).
        batch_size: inputs per step.
        learning_rate: Adam's initial learning rate.
        seed: seed of the weights and of the input sampler.

    Returns:
        The trained `ToyModels`.
    """
    _check_positive_int("steps", steps)
    _check_positive_int("batch_size", batch_size)
    model = ToyModels(n_features, n_hidden, sparsity, importance, seed=seed)
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
                  steps_per_execution=steps_per_execution(10 if steps % 10 == 0 else 1))
    model.fit(np.zeros((steps * batch_size, 1), "float32"), batch_size=batch_size, epochs=1, verbose=0,
              shuffle=False)
    return model


def _check_w(W):
    W = np.asarray(W, dtype="float64")
    if W.ndim not in (2, 3):
        raise ValueError("W must have shape (n_hidden, n_features) or (instances, n_hidden, n_features). "
                         f"Received: W.shape={W.shape}")
    return W


def feature_norms(W):
    """Length `|W_i|` of each feature's direction (columns of `W`).

    Args:
        W: `(n_hidden, n_features)` or `(instances, n_hidden, n_features)`.

    Returns:
        `(n_features,)` or `(instances, n_features)`.
    """
    return np.linalg.norm(_check_w(W), axis=-2)


def interference(W):
    """Elhage et al.'s superposition measure of each feature, `sum_{j != i} (W_i_hat . W_j)^2`.

    `W_i_hat` is the unit vector along column `i` (a zero column gives 0). The
    value is 0 when feature `i` shares its direction with no other feature
    (orthogonal to all, or not represented), and grows as other features
    project onto it.

    Args:
        W: `(n_hidden, n_features)` or `(instances, n_hidden, n_features)`.

    Returns:
        `(n_features,)` or `(instances, n_features)`.

    Example:

    >>> interference(np.array([[1.0, -1.0]]))  # an antipodal pair in one dimension
    array([1., 1.])
    """
    W = _check_w(W)
    norms = np.linalg.norm(W, axis=-2, keepdims=True)
    unit = np.divide(W, norms, out=np.zeros_like(W), where=norms > 0)
    gram = np.einsum("...hi,...hj->...ij", unit, W) ** 2
    return gram.sum(axis=-1) - np.diagonal(gram, axis1=-2, axis2=-1)


def dimensions_per_feature(W):
    """`m / ||W||_F^2`: hidden dimensions per represented feature (Elhage et al. 2022).

    Each represented feature has `|W_i|` about 1, so `||W||_F^2` counts them;
    a value of 1 means one dimension per feature (no superposition), 1/2 two
    features per dimension (e.g. antipodal pairs), and so on.

    Args:
        W: `(n_hidden, n_features)` or `(instances, n_hidden, n_features)`.

    Returns:
        A float, or an array of shape `(instances,)`.
    """
    W = _check_w(W)
    frobenius = np.sum(W ** 2, axis=(-2, -1))
    with np.errstate(divide="ignore"):
        return W.shape[-2] / frobenius


PHASE_STATES = ("not represented", "dedicated dimension", "superposition")


@functools.lru_cache(maxsize=8)
def _quadrature(n):
    """Gauss-Legendre nodes and weights on [0, 1], and their 2-D product grid."""
    g, wq = np.polynomial.legendre.leggauss(n)
    u, wu = (g + 1) / 2, wq / 2
    U, V = np.meshgrid(u, u, indexing="ij")
    return u, wu, U, V, np.outer(wu, wu)


def expected_loss_two_in_one(params, density, relative_importance, n_quadrature=48):
    """Exact expected loss of the toy model with 2 features in 1 dimension, by quadrature.

    The model is `x' = ReLU(W^T W x + b)` with `W = [w0, w1]` (shape `(1, 2)`),
    feature 0 of importance 1 and feature 1 of importance `r`, each present
    with probability `density` (uniform on [0, 1] when present). The expected
    loss `E[(x0 - x0')^2 + r (x1 - x1')^2]` is a sum over which features are
    present; the integrals over the uniform values use Gauss-Legendre
    quadrature (exact up to the ReLU's kinks; 48 points give about 4 digits).

    Args:
        params: `(w0, w1, b0, b1)`.
        density: probability `1 - S` that a feature is present, in (0, 1].
        relative_importance: `r > 0`.
        n_quadrature: quadrature points per dimension.

    Returns:
        The expected loss, a float.

    Example:

    >>> round(expected_loss_two_in_one((1, 0, 0, 0), 0.1, 1.0), 4)  # feature 1 dropped: p E[U^2] = p / 3
    0.0333
    """
    w0, w1, b0, b1 = (float(v) for v in params)
    p, r = float(density), float(relative_importance)
    u, wu, U, V, wuv = _quadrature(int(n_quadrature))
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
    none = relu(b0) ** 2 + r * relu(b1) ** 2
    h = w0 * u
    only0 = np.sum(wu * ((u - relu(w0 * h + b0)) ** 2 + r * relu(w1 * h + b1) ** 2))
    h = w1 * u
    only1 = np.sum(wu * (relu(w0 * h + b0) ** 2 + r * (u - relu(w1 * h + b1)) ** 2))
    h = w0 * U + w1 * V
    both = np.sum(wuv * ((U - relu(w0 * h + b0)) ** 2 + r * (V - relu(w1 * h + b1)) ** 2))
    return float((1 - p) ** 2 * none + p * (1 - p) * (only0 + only1) + p * p * both)


def phase_state(W, threshold=0.5):
    """0 (feature 1 not represented), 1 (dedicated: only feature 1) or 2 (superposition: both), per `|W_i| > threshold`.

    Args:
        W: array of shape `(..., 2)`, the weights `(w0, w1)` of 2-feature, 1-dimension models.
        threshold: the norm above which a feature counts as represented.

    Returns:
        Integer array of shape `W.shape[:-1]`.
    """
    keeps = np.abs(np.asarray(W, dtype="float64")) > threshold
    return np.where(~keeps[..., 1], 0, np.where(~keeps[..., 0], 1, 2))


def optimal_phase_diagram(densities, relative_importances, n_quadrature=24, maxiter=1000):
    """The optimum of the 2-feature, 1-dimension toy model at each grid point, by direct minimisation.

    Compares the two one-feature solutions (exact losses in closed form) with
    the best superposed one: `expected_loss_two_in_one` minimised over
    `(w0, w1, b0, b1)` by Nelder-Mead from three antipodal starts. This is
    the "theory" diagram to compare a trained one with (Elhage et al. 2022
    compare theirs with a closed-form analysis).

    Args:
        densities: feature densities, shape `(D,)`.
        relative_importances: importances `r` of feature 1, shape `(R,)`.
        n_quadrature: quadrature points per dimension.
        maxiter: Nelder-Mead iterations per start.

    Returns:
        `(state, W, loss)`: integer states `(R, D)` (see `phase_state`), the
        optimal `(w0, w1)` of shape `(R, D, 2)` and the optimal losses `(R, D)`.
    """
    from scipy.optimize import minimize

    densities, relative_importances = np.asarray(densities, float), np.asarray(relative_importances, float)
    W = np.zeros((len(relative_importances), len(densities), 2))
    loss = np.zeros((len(relative_importances), len(densities)))
    for i, r in enumerate(relative_importances):
        for j, p in enumerate(densities):
            # One feature alone: w = 1 reads it exactly, the dropped feature's best constant read-out is its
            # mean p / 2 (bias p / 2), leaving its variance p / 3 - p^2 / 4 times its importance.
            variance = p / 3 - p * p / 4
            candidates = [(r * variance, (1.0, 0.0)), (variance, (0.0, 1.0))]
            for start in ((1, -1, -0.1, -0.1), (1, -0.5, 0, 0), (0.5, -1, 0, 0)):
                result = minimize(expected_loss_two_in_one, start, args=(p, r, n_quadrature), method="Nelder-Mead",
                                  options=dict(xatol=1e-5, fatol=1e-9, maxiter=maxiter))
                candidates.append((result.fun, tuple(result.x[:2])))
            loss[i, j], W[i, j] = min(candidates, key=lambda c: c[0])
    return phase_state(W), W, loss
