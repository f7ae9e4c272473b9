"""Bernoulli restricted Boltzmann machines: a Keras model trained by `fit()`.

An RBM with binary visible units `v` and hidden units `h` has the energy
`E(v, h) = -b.v - c.h - v'Wh` and the free energy
`F(v) = -b.v - sum_j softplus(c_j + (v'W)_j)`, so `p(v) = exp(-F(v)) / Z`.
`BernoulliRBM` trains by contrastive divergence (CD-k) or persistent CD:
its training loss is `mean F(v_data) - mean F(v_model)` with the negative
samples `v_model` held constant (`keras.ops.stop_gradient`), whose gradient
is the CD estimate of the negative log-likelihood gradient. Plain
`model.fit(x)` therefore trains it on every backend.

The NumPy functions below evaluate small RBMs exactly, by enumerating every
state of the smaller layer (`log_partition`, `log_likelihood`,
`exact_gradient`), and large ones approximately, by annealed importance
sampling (`ais_log_partition`, Salakhutdinov & Murray 2008).
"""

import keras
import numpy as np
from keras import ops

MAX_ENUMERATED_UNITS = 20  # 2**20 states: about a second of NumPy work


def _check_positive_int(name, value):
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0):
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


def bernoulli_sample(probabilities, seed):
    """Draws 0/1 samples with the given probabilities.

    Args:
        probabilities: tensor of probabilities in [0, 1].
        seed: a `keras.random.SeedGenerator` (or an integer seed).

    Returns:
        A float tensor of 0s and 1s with the shape of `probabilities`.
    """
    noise = keras.random.uniform(ops.shape(probabilities), seed=seed)
    return ops.cast(noise < probabilities, probabilities.dtype)


@keras.saving.register_keras_serializable(package="aecourse")
class BernoulliRBM(keras.Model):
    """A restricted Boltzmann machine with binary visible and hidden units.

    Training with `fit(x)` (no targets) minimises the contrastive-divergence
    loss `mean F(x) - mean F(v_model)`, where `v_model` is the end of a
    `cd_steps`-step Gibbs chain (held constant). The chain starts at the data
    (CD-k) or, with `persistent=True`, continues `n_chains` persistent chains
    from one update to the next (PCD, Tieleman 2008). The reported `loss` is
    this free-energy gap, not a log-likelihood; use `log_likelihood` (small
    RBMs) or `ais_log_partition` to measure the model. Calling the model
    returns the mean-field reconstruction `p(v | p(h | x))`.

    Args:
        n_visible: number of visible units (784 for flattened 28x28 images).
        n_hidden: number of hidden units.
        cd_steps: Gibbs steps `k` per update (CD-k or PCD-k).
        persistent: if `True`, train by persistent CD.
        n_chains: number of persistent chains (used only when `persistent`).
        init_std: standard deviation of the initial weights (biases start at 0).
        weight_decay: L2 penalty `weight_decay / 2 * sum(W**2)` added to the
            loss (weights only, not biases), as Hinton's practical guide advises.
        visible_copies: `r`, the number of tied copies of the visible layer.
            With `r = 2` the hidden units receive `2 W'v` from the data (the
            doubled bottom-up input of the first RBM of a DBM, Salakhutdinov
            & Hinton 2009). The model is an ordinary RBM on `r` visible
            copies that share `W` and `b`; training clamps every copy to the
            data, and Gibbs sampling draws each copy independently, so the
            chains carry the sum of the copies (values 0..r).
        hidden_copies: `s`, the number of tied copies of the hidden layer
            (`s = 2`: the doubled top-down input `2 W h` of the last RBM).
        exact: if `True`, train on the exact negative log-likelihood
            `mean F(v) + log Z`, with `log Z` summed over every state of one
            layer (`hidden_copies == 1`: the hidden layer; else the visible
            layer, which then must have one copy) in `keras.ops`, so its
            gradient is the exact log-likelihood gradient of the mini-batch.
            For small RBMs only (at most 20 units on the enumerated side).
        seed: seed of the model's `keras.random.SeedGenerator` (Gibbs sampling).
        **kwargs: base `Model` arguments such as `name`.

    Example:

    >>> rbm = BernoulliRBM(784, 128, cd_steps=1)
    >>> rbm.compile(optimizer=keras.optimizers.SGD(0.05))
    >>> rbm.fit(x_binary, epochs=5, batch_size=64)
    >>> features = rbm.transform(x_binary)            # p(h = 1 | v)
    >>> samples = rbm.gibbs_chain(x_binary[:10], n_steps=1000)
    """

    def __init__(self, n_visible, n_hidden, cd_steps=1, persistent=False, n_chains=100,
                 init_std=0.01, weight_decay=0.0, visible_copies=1, hidden_copies=1, exact=False, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        for name, value in (("n_visible", n_visible), ("n_hidden", n_hidden),
                            ("cd_steps", cd_steps), ("n_chains", n_chains),
                            ("visible_copies", visible_copies), ("hidden_copies", hidden_copies)):
            _check_positive_int(name, value)
        if not init_std > 0:
            raise ValueError(f"init_std must be positive. Received: init_std={init_std!r}")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be non-negative. Received: weight_decay={weight_decay!r}")
        self.n_visible, self.n_hidden = int(n_visible), int(n_hidden)
        self.cd_steps, self.persistent, self.n_chains = int(cd_steps), bool(persistent), int(n_chains)
        self.init_std, self.weight_decay, self.seed = float(init_std), float(weight_decay), seed
        self.visible_copies, self.hidden_copies = int(visible_copies), int(hidden_copies)
        self.exact = bool(exact)
        if self.exact:
            if self.visible_copies > 1 and self.hidden_copies > 1:
                raise ValueError("exact=True needs one copy of one layer. Received: "
                                 f"visible_copies={visible_copies}, hidden_copies={hidden_copies}")
            enumerated = self.n_hidden if self.hidden_copies == 1 else self.n_visible
            self._enumerated_states = all_binary_states(enumerated).astype("float32")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.kernel = self.add_weight(
            shape=(self.n_visible, self.n_hidden), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=self.init_std, seed=seed))
        self.visible_bias = self.add_weight(shape=(self.n_visible,), name="visible_bias", initializer="zeros")
        self.hidden_bias = self.add_weight(shape=(self.n_hidden,), name="hidden_bias", initializer="zeros")
        if self.persistent:
            self.persistent_chains = self.add_weight(
                shape=(self.n_chains, self.n_visible), name="persistent_chains",
                initializer="zeros", trainable=False)
        self.built = True

    def _visible(self, v):
        v = ops.convert_to_tensor(v, dtype=self.kernel.dtype)
        if len(v.shape) != 2 or v.shape[-1] != self.n_visible:
            raise ValueError(
                f"Expected visible vectors of shape (batch, {self.n_visible}). Received: shape={tuple(v.shape)}")
        return v

    def _hidden(self, h):
        h = ops.convert_to_tensor(h, dtype=self.kernel.dtype)
        if len(h.shape) != 2 or h.shape[-1] != self.n_hidden:
            raise ValueError(
                f"Expected hidden vectors of shape (batch, {self.n_hidden}). Received: shape={tuple(h.shape)}")
        return h

    def energy(self, v, h):
        """`E(v, h) = -b.v - c.h - v'Wh`, one value per row of `v` and `h`."""
        v, h = self._visible(v), self._hidden(h)
        interaction = ops.sum(ops.matmul(v, self.kernel) * h, axis=-1)
        return -(ops.matmul(v, self.visible_bias) + ops.matmul(h, self.hidden_bias) + interaction)

    def free_energy(self, v):
        """`F(v) = -log sum_h exp(-E(v, h)) = -b.v - sum_j softplus(c_j + (v'W)_j)`.

        With copies, `v` is the state of every visible copy (all equal, as
        when clamped to data): `F = -r b.v - s sum_j softplus(c_j + r (v'W)_j)`.
        """
        return self._free_energy_of_sum(self.visible_copies * self._visible(v))

    def _free_energy_of_sum(self, u):
        """Free energy of visible copies whose sum is `u`: `-b.u - s sum_j softplus(c_j + (u'W)_j)`."""
        hidden_input = ops.matmul(u, self.kernel) + self.hidden_bias
        return -ops.matmul(u, self.visible_bias) - self.hidden_copies * ops.sum(ops.softplus(hidden_input), axis=-1)

    def hidden_probabilities(self, v):
        """`p(h_j = 1 | v) = sigmoid(c_j + r (v'W)_j)` for every hidden unit (`r = 1` unless copies)."""
        return ops.sigmoid(self.visible_copies * ops.matmul(self._visible(v), self.kernel) + self.hidden_bias)

    def visible_probabilities(self, h):
        """`p(v_i = 1 | h) = sigmoid(b_i + s (W h)_i)` for every visible unit (`s = 1` unless copies)."""
        return ops.sigmoid(self.hidden_copies * ops.matmul(self._hidden(h), ops.transpose(self.kernel))
                           + self.visible_bias)

    def sample_hidden(self, v):
        """A sample `h ~ p(h | v)` (the units are independent given `v`)."""
        return bernoulli_sample(self.hidden_probabilities(v), self.seed_generator)

    def sample_visible(self, h):
        """A sample `v ~ p(v | h)` (the units are independent given `h`)."""
        return bernoulli_sample(self.visible_probabilities(h), self.seed_generator)

    def _sample_sum(self, probabilities, copies):
        """The sum of `copies` independent Bernoulli samples (a binomial draw)."""
        total = bernoulli_sample(probabilities, self.seed_generator)
        for _ in range(copies - 1):
            total = total + bernoulli_sample(probabilities, self.seed_generator)
        return total

    def gibbs_step(self, v):
        """One block-Gibbs step `v -> h ~ p(h|v) -> v' ~ p(v|h)`; returns `v'`.

        With copies, `v` and the result are sums over the visible copies
        (each copy sampled independently), and `h` the sum over the hidden ones.
        """
        v = self._visible(v)
        if self.visible_copies == 1 and self.hidden_copies == 1:
            return self.sample_visible(self.sample_hidden(v))
        h = self._sample_sum(ops.sigmoid(ops.matmul(v, self.kernel) + self.hidden_bias), self.hidden_copies)
        return self._sample_sum(ops.sigmoid(ops.matmul(h, ops.transpose(self.kernel)) + self.visible_bias),
                                self.visible_copies)

    def gibbs_chain(self, v, n_steps, return_probabilities=False):
        """Runs `n_steps` Gibbs steps from `v`.

        Args:
            v: starting visible vectors, shape `(batch, n_visible)`.
            n_steps: number of block-Gibbs steps (non-negative).
            return_probabilities: if `True`, return `p(v | h)` of the last
                step (smoother images) instead of the binary sample.

        Returns:
            The chains' visible states after `n_steps` steps.
        """
        if not (isinstance(n_steps, int) and n_steps >= 0):
            raise ValueError(f"n_steps must be a non-negative integer. Received: n_steps={n_steps!r}")
        v = self._visible(v)
        for _ in range(n_steps - 1 if return_probabilities else n_steps):
            v = self.gibbs_step(v)
        if return_probabilities and n_steps > 0:
            return self.visible_probabilities(self.sample_hidden(v))
        return v

    def reconstruct(self, v):
        """Mean-field up-down pass `p(v | h = p(h | v))`: forward, backward, compare."""
        return self.visible_probabilities(self.hidden_probabilities(v))

    def transform(self, v):
        """Hidden features `p(h = 1 | v)`, as scikit-learn's `BernoulliRBM.transform`."""
        return self.hidden_probabilities(v)

    def negative_samples(self, v):
        """The negative phase: `cd_steps` Gibbs steps from `v` (CD) or from the persistent chains (PCD).

        With visible copies the samples are sums over the copies (CD starts at `r v`).
        """
        start = self.persistent_chains if self.persistent else self.visible_copies * self._visible(v)
        samples = self.gibbs_chain(start, self.cd_steps)
        if self.persistent:
            self.persistent_chains.assign(samples)
        return ops.stop_gradient(samples)

    def exact_log_partition(self):
        """`log Z` by enumeration, in `keras.ops` (differentiable); needs `exact=True`."""
        if not self.exact:
            raise ValueError("exact_log_partition needs a model built with exact=True.")
        states = ops.convert_to_tensor(self._enumerated_states, dtype=self.kernel.dtype)
        if self.hidden_copies == 1:   # sum over h: c.h + r sum_i softplus(b_i + (W h)_i)
            terms = ops.matmul(states, self.hidden_bias) + self.visible_copies * ops.sum(
                ops.softplus(ops.matmul(states, ops.transpose(self.kernel)) + self.visible_bias), axis=-1)
        else:                         # sum over v (one copy): -F(v) with s hidden copies
            terms = -self._free_energy_of_sum(states)
        return ops.logsumexp(terms)

    def contrastive_divergence_loss(self, v):
        """`mean F(v) - mean F(v_model)` (+ weight decay): its gradient is the CD estimate of `-d log p(v)`.

        With `exact=True` the loss is `mean F(v) + log Z`, the exact negative log-likelihood.
        """
        v = self._visible(v)
        if self.exact:
            loss = ops.mean(self.free_energy(v)) + self.exact_log_partition()
        else:
            loss = ops.mean(self.free_energy(v)) - ops.mean(self._free_energy_of_sum(self.negative_samples(v)))
        if self.weight_decay:
            loss = loss + 0.5 * self.weight_decay * ops.sum(ops.square(self.kernel))
        return loss

    def call(self, inputs, training=False):
        if training:
            self.add_loss(self.contrastive_divergence_loss(inputs))
        return self.reconstruct(inputs)

    def get_config(self):
        config = super().get_config()
        config.update({
            "n_visible": self.n_visible, "n_hidden": self.n_hidden, "cd_steps": self.cd_steps,
            "persistent": self.persistent, "n_chains": self.n_chains, "init_std": self.init_std,
            "weight_decay": self.weight_decay, "visible_copies": self.visible_copies,
            "hidden_copies": self.hidden_copies, "exact": self.exact, "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


# ---------------------------------------------------------------------------
# Exact and AIS evaluation (NumPy, float64)
# ---------------------------------------------------------------------------

def parameters(rbm):
    """An RBM's `(W, b, c)` as float64 NumPy arrays (`W` has shape `(n_visible, n_hidden)`).

    Args:
        rbm: a `BernoulliRBM`, or a `(W, b, c)` tuple of arrays (returned as float64).
    """
    if not isinstance(rbm, tuple) and (rbm.visible_copies, rbm.hidden_copies) != (1, 1):
        raise ValueError(f"{rbm.name} has copies (visible_copies={rbm.visible_copies}, hidden_copies="
                         f"{rbm.hidden_copies}); the (W, b, c) functions evaluate one-copy RBMs only.")
    weights = rbm if isinstance(rbm, tuple) else (rbm.kernel, rbm.visible_bias, rbm.hidden_bias)
    return tuple(np.asarray(keras.ops.convert_to_numpy(w), dtype="float64") for w in weights)


def _softplus(x):
    """`log(1 + exp(x))` without overflow (faster than `np.logaddexp(0, x)`)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def all_binary_states(n_units):
    """Every binary vector of length `n_units`, shape `(2**n_units, n_units)`.

    Raises:
        ValueError: if `n_units` exceeds `MAX_ENUMERATED_UNITS` (20).
    """
    _check_positive_int("n_units", n_units)
    if n_units > MAX_ENUMERATED_UNITS:
        raise ValueError(
            f"Enumerating 2**{n_units} states is too slow; exact evaluation needs at most "
            f"{MAX_ENUMERATED_UNITS} units on the enumerated side (use ais_log_partition for "
            f"larger RBMs). Received: n_units={n_units}")
    return ((np.arange(2 ** n_units)[:, None] >> np.arange(n_units)[::-1]) & 1).astype("float64")


def unnormalized_log_marginal(states, own_bias, other_bias, weights):
    """`log sum_other exp(-E)` for states of one layer: `s.a + sum_j softplus(o_j + (s W)_j)`.

    With `(v, b, c, W)` this is `-F(v)`; with `(h, c, b, W.T)` it is the
    log-marginal of hidden states, `-F(h)`.
    """
    return states @ own_bias + _softplus(other_bias + states @ weights).sum(axis=-1)


def _logsumexp(values, axis=None):
    """`log sum exp(values)` over `axis` (all entries when `None`) without overflow."""
    top = np.max(values, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(values - top), axis=axis))


def log_partition(rbm, chunk_size=2 ** 14):
    """The exact `log Z` of a small RBM, by enumerating its smaller layer.

    Args:
        rbm: a `BernoulliRBM` (or a `(W, b, c)` tuple of arrays) with at most
            20 units in its smaller layer.
        chunk_size: states evaluated at once (bounds the memory).

    Returns:
        `log Z` as a Python float.

    Raises:
        ValueError: if both layers have more than 20 units.
    """
    weights, visible_bias, hidden_bias = parameters(rbm)
    n_visible, n_hidden = weights.shape
    if n_hidden <= n_visible:
        own_bias, other_bias, w = hidden_bias, visible_bias, weights.T
    else:
        own_bias, other_bias, w = visible_bias, hidden_bias, weights
    states = all_binary_states(min(n_visible, n_hidden))
    parts = [_logsumexp(unnormalized_log_marginal(states[i:i + chunk_size], own_bias, other_bias, w))
             for i in range(0, len(states), chunk_size)]
    return float(_logsumexp(np.array(parts)))


def log_likelihood(rbm, v, log_z=None):
    """Exact `log p(v) = -F(v) - log Z` of each row of `v`.

    Args:
        rbm: a `BernoulliRBM` (or `(W, b, c)` tuple).
        v: binary visible vectors, shape `(n, n_visible)`.
        log_z: `log Z` if known (e.g. from `ais_log_partition`); by default
            computed exactly with `log_partition`.

    Returns:
        float64 array of shape `(n,)`.
    """
    weights, visible_bias, hidden_bias = parameters(rbm)
    v = np.asarray(v, dtype="float64")
    if v.ndim != 2 or v.shape[1] != weights.shape[0]:
        raise ValueError(f"Expected v of shape (n, {weights.shape[0]}). Received: shape={v.shape}")
    if log_z is None:
        log_z = log_partition((weights, visible_bias, hidden_bias))
    return unnormalized_log_marginal(v, visible_bias, hidden_bias, weights) - log_z


class ExactLogLikelihood(keras.callbacks.Callback):
    """Adds the exact average log-likelihood of some data sets to the logs after every epoch.

    For small RBMs (at most 20 units in one layer); the values end up in the
    `History` returned by `fit`, under the names given.

    Args:
        **datasets: name -> binary data of shape `(n, n_visible)`.

    Example:

    >>> history = rbm.fit(x, epochs=10, callbacks=[ExactLogLikelihood(train_ll=x, test_ll=x_test)])
    >>> history.history["test_ll"]
    """

    def __init__(self, **datasets):
        super().__init__()
        if not datasets:
            raise ValueError("Pass at least one data set, e.g. ExactLogLikelihood(train_ll=x). Received: none")
        self.datasets = datasets

    def on_epoch_end(self, epoch, logs=None):
        log_z = log_partition(self.model)
        for name, v in self.datasets.items():
            logs[name] = float(log_likelihood(self.model, v, log_z=log_z).mean())


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _statistics(v, weights, hidden_bias, probabilities=None):
    """`(mean v p(h|v)', mean v, mean p(h|v))`, weighted by `probabilities` (default: uniform)."""
    v = np.asarray(v, dtype="float64")
    if probabilities is None:
        probabilities = np.full(len(v), 1.0 / len(v))
    h = _sigmoid(v @ weights + hidden_bias)
    return (v * probabilities[:, None]).T @ h, probabilities @ v, probabilities @ h


def cd_gradient(rbm, v_data, v_model):
    """Positive minus negative statistics: the (CD) ascent direction of `log p`.

    `dW = mean(v p(h|v)')_data - mean(v p(h|v)')_model`, likewise `db` with `v`
    and `dc` with `p(h|v)`. With exact model samples it is the exact gradient
    of the average log-likelihood; with the ends of CD-k chains it is CD-k.

    Returns:
        `(dW, db, dc)` as float64 arrays.
    """
    weights, _, hidden_bias = parameters(rbm)
    data = _statistics(v_data, weights, hidden_bias)
    model = _statistics(v_model, weights, hidden_bias)
    return tuple(d - m for d, m in zip(data, model))


def exact_gradient(rbm, v_data):
    """The exact gradient of the average `log p(v_data)` with respect to `(W, b, c)`.

    The model statistics are expectations under `p(v)`, summed over all
    `2**n_visible` visible states, so `n_visible` must be at most 20.

    Returns:
        `(dW, db, dc)` as float64 arrays.
    """
    weights, visible_bias, hidden_bias = parameters(rbm)
    states = all_binary_states(weights.shape[0])
    log_p = unnormalized_log_marginal(states, visible_bias, hidden_bias, weights)
    model = _statistics(states, weights, hidden_bias, np.exp(log_p - _logsumexp(log_p)))
    data = _statistics(v_data, weights, hidden_bias)
    return tuple(d - m for d, m in zip(data, model))


def base_rate_visible_bias(v, smoothing=1.0):
    """Visible biases of the independent-pixel model fitted to `v`: `logit` of the smoothed pixel means."""
    v = np.asarray(v, dtype="float64")
    p = (v.sum(axis=0) + smoothing) / (len(v) + 2 * smoothing)
    return np.log(p) - np.log1p(-p)


def effective_sample_size(log_weights):
    """`(sum w)^2 / sum w^2` of importance weights given as logs: how many chains the estimate rests on."""
    log_weights = np.asarray(log_weights, dtype="float64")
    return float(np.exp(2 * _logsumexp(log_weights) - _logsumexp(2 * log_weights)))


def ais_log_partition(rbm, base_visible_bias, n_chains=100, n_betas=2000, seed=0, return_log_weights=False):
    """Estimates `log Z` by annealed importance sampling (Neal 2001; Salakhutdinov & Murray 2008).

    The chains anneal from a base RBM with no weights and visible biases
    `base_visible_bias` (whose `log Z` is known) to the target RBM through
    `n_betas` intermediate distributions
    `p_beta(v) ~ exp((1 - beta) a.v) * exp(-beta F(v))`, with one Gibbs
    transition at each `beta`.

    Args:
        rbm: a `BernoulliRBM` (or `(W, b, c)` tuple).
        base_visible_bias: visible biases `a` of the base model, e.g.
            `base_rate_visible_bias(x_train)`.
        n_chains: number of independent AIS runs.
        n_betas: number of inverse temperatures from 0 to 1.
        seed: NumPy seed of the chains.
        return_log_weights: return the chains' log-weights instead of their
            standard deviation (e.g. for `effective_sample_size`).

    Returns:
        `(log_z, log_z_std)`: the estimate and the standard deviation of the
        importance log-weights (a large spread means too few `n_betas`), or
        `(log_z, log_weights)` with `return_log_weights`.
    """
    _check_positive_int("n_chains", n_chains)
    if not (isinstance(n_betas, int) and n_betas >= 2):
        raise ValueError(f"n_betas must be an integer >= 2. Received: n_betas={n_betas!r}")
    weights, visible_bias, hidden_bias = parameters(rbm)
    base = np.asarray(base_visible_bias, dtype="float64")
    rng = np.random.default_rng(seed)
    n_hidden = weights.shape[1]
    weights32 = weights.astype("float32")  # the two products per step dominate: float32 halves their cost

    def log_p_star(v_terms, hidden_input, beta):
        """`log p*_beta(v)` from the precomputed `(v.a, v.b)` and `v W + c`."""
        return (1 - beta) * v_terms[0] + beta * v_terms[1] + _softplus(beta * hidden_input).sum(axis=1)

    v = (rng.random((n_chains, len(base))) < _sigmoid(base)).astype("float32")
    log_weights = np.zeros(n_chains)
    betas = np.linspace(0.0, 1.0, n_betas)
    for previous, beta in zip(betas[:-1], betas[1:]):
        v_terms = (v @ base, v @ visible_bias)
        hidden_input = (v @ weights32).astype("float64") + hidden_bias
        log_weights += log_p_star(v_terms, hidden_input, beta) - log_p_star(v_terms, hidden_input, previous)
        h = (rng.random(hidden_input.shape) < _sigmoid(beta * hidden_input)).astype("float32")
        visible_input = (1 - beta) * base + beta * ((h @ weights32.T).astype("float64") + visible_bias)
        v = (rng.random(visible_input.shape) < _sigmoid(visible_input)).astype("float32")
    log_z_base = _softplus(base).sum() + n_hidden * np.log(2.0)
    log_z = log_z_base + _logsumexp(log_weights) - np.log(n_chains)
    if return_log_weights:
        return float(log_z), log_weights
    return float(log_z), float(np.std(log_weights))
