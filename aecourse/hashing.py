"""Semantic hashing: binary codes, Hamming search and retrieval metrics.

A hashing autoencoder's code layer is pushed towards binary values so that
thresholding it at zero loses little (Salakhutdinov & Hinton's semantic
hashing; lecture notes 000). Its codes are then compared with the Hamming
distance, computed on packed bits with XOR and a population count. This
module holds the penalties of seed 000 (binary relaxation, bit balance,
pairwise decorrelation), the hashing autoencoder, two classical baselines
(random-hyperplane LSH with scikit-learn's `GaussianRandomProjection`, and
PCA with iterative quantisation, Gong & Lazebnik 2011), and the retrieval
metrics (mean average precision, precision@k).
"""

import math

import numpy as np
from sklearn.decomposition import PCA
from sklearn.random_projection import GaussianRandomProjection

import keras
from keras import ops

from aecourse.regularizers import ActivityPenalty, _check_weight, _Penalty

# ----------------------------------------------------------------------------- penalties on a code batch b (n, bits)


def binary_relaxation(b):
    """Seed 000's binary relaxation term (its eq. 2): `1/N sum_n sum_i | |b_ni| - 1 |`.

    Zero exactly when every code value is -1 or +1.

    Args:
        b: `(n, bits)` code activations (tanh units, in [-1, 1]).

    Returns:
        A scalar tensor.
    """
    return ops.mean(ops.sum(ops.abs(ops.abs(b) - 1.0), axis=-1))


def bit_balance(b):
    """`sum_i (mean_n b_ni)^2`: zero when every bit is +1 and -1 equally often on average.

    For codes of exactly +-1 a bit's variance is `1 - mean^2`, so this term
    is also `bits - sum_i var_i`: minimising it maximises the variance of
    each bit (seed 000).

    Args:
        b: `(n, bits)` code activations.

    Returns:
        A scalar tensor.
    """
    return ops.sum(ops.square(ops.mean(b, axis=0)))


def bit_decorrelation(b):
    """`sum_{i != j} (1/N sum_n b_ni b_nj)^2`: zero when every pair of bits is uncorrelated.

    The off-diagonal entries of the second-moment matrix `B^T B / N`; with
    balanced bits (zero means) they are the covariances.

    Args:
        b: `(n, bits)` code activations.

    Returns:
        A scalar tensor.
    """
    n = ops.cast(ops.shape(b)[0], b.dtype)
    moments = ops.matmul(ops.transpose(b), b) / n
    return ops.sum(ops.square(moments)) - ops.sum(ops.square(ops.diagonal(moments)))


@keras.saving.register_keras_serializable(package="aecourse")
class HashingPenalty(_Penalty):
    """Seed 000's hashing terms: `relaxation * binary_relaxation + balance * bit_balance
    + decorrelation * bit_decorrelation`, on each batch of codes.

    Add it after a tanh code layer with `regularizers.ActivityPenalty(HashingPenalty(...))`.

    Args:
        relaxation: weight of the binary relaxation term (pushes codes to +-1).
        balance: weight of the bit balance term (each bit on for half the inputs).
        decorrelation: weight of the pairwise decorrelation term.

    Example:

    >>> h = keras.layers.Dense(32, activation="tanh")(keras.Input((784,)))
    >>> h = ActivityPenalty(HashingPenalty(relaxation=0.1, balance=1.0, decorrelation=0.1))(h)
    """

    def __init__(self, relaxation=0.1, balance=0.0, decorrelation=0.0):
        self.relaxation = _check_weight("relaxation", relaxation)
        self.balance = _check_weight("balance", balance)
        self.decorrelation = _check_weight("decorrelation", decorrelation)

    def terms(self, b):
        """The three unweighted terms `(relaxation, balance, decorrelation)` of a batch `b`."""
        return binary_relaxation(b), bit_balance(b), bit_decorrelation(b)

    def penalty(self, b):
        """The weighted sum of the three terms for a batch `b`."""
        relaxation, balance, decorrelation = self.terms(b)
        return self.relaxation * relaxation + self.balance * balance + self.decorrelation * decorrelation

    def get_config(self):
        return {"relaxation": self.relaxation, "balance": self.balance, "decorrelation": self.decorrelation}


def summed_squared_error(x, r):
    """Squared error summed over the features of each example (a Keras loss)."""
    return ops.sum(ops.square(ops.subtract(x, r)), axis=-1)


def hashing_autoencoder(input_dim, bits, hidden_units=256, penalty=None, data_mean=None, learning_rate=1e-3):
    """A hashing autoencoder `x -> Dense(relu) -> Dense(bits, tanh) -> Dense(relu) -> Dense(sigmoid)`.

    The code layer has tanh units, so that `sign(code)` gives the bits;
    `penalty` (a `HashingPenalty`) is added on the code. The reconstruction
    loss is the squared error summed over pixels. With `data_mean`, the
    encoder subtracts it from its input and the output bias starts at its
    logit.

    Args:
        input_dim: number of input features (784 for Fashion-MNIST).
        bits: code length, a positive integer.
        hidden_units: width of the hidden layer on each side.
        penalty: optional `HashingPenalty`.
        data_mean: optional `(input_dim,)` mean of the training inputs, in [0, 1].
        learning_rate: Adam's learning rate.

    Returns:
        `(autoencoder, encoder)`: the compiled autoencoder and the model from
        the input to the real-valued code (before the penalty layer).

    Example:

    >>> ae, encoder = hashing_autoencoder(784, 32, penalty=HashingPenalty(0.1, 1.0, 0.1))
    >>> encoder.output_shape
    (None, 32)
    """
    for name, value in (("input_dim", input_dim), ("bits", bits), ("hidden_units", hidden_units)):
        if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0):
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    if penalty is not None and not isinstance(penalty, HashingPenalty):
        raise ValueError(f"penalty must be a HashingPenalty or None. Received: penalty={penalty!r}")
    x = keras.Input((input_dim,), name="x")
    h = x
    if data_mean is not None:
        data_mean = np.asarray(data_mean, "float32")
        if data_mean.shape != (input_dim,) or data_mean.min() < 0 or data_mean.max() > 1:
            raise ValueError(f"data_mean must be an array of shape ({input_dim},) in [0, 1]. "
                             f"Received: shape={data_mean.shape}")
        h = keras.layers.Normalization(mean=data_mean, variance=np.ones(input_dim), name="subtract_mean")(h)
    h = keras.layers.Dense(hidden_units, activation="relu", name="encoder_0")(h)
    code = keras.layers.Dense(bits, activation="tanh", name="code")(h)
    c = ActivityPenalty(penalty, name="hashing_penalty")(code) if penalty is not None else code
    g = keras.layers.Dense(hidden_units, activation="relu", name="decoder_0")(c)
    out_layer = keras.layers.Dense(input_dim, activation="sigmoid", name="decoder_1")
    r = out_layer(g)
    if data_mean is not None:
        p = np.clip(data_mean, 1e-3, 1 - 1e-3)
        out_layer.bias.assign(np.log(p / (1 - p)).astype("float32"))
    autoencoder = keras.Model(x, r, name="hashing_autoencoder")
    autoencoder.compile(keras.optimizers.Adam(learning_rate), loss=summed_squared_error)
    return autoencoder, keras.Model(x, code, name="hashing_encoder")


# ----------------------------------------------------------------------------- baselines


def _check_bits(bits):
    if not (isinstance(bits, (int, np.integer)) and not isinstance(bits, bool) and bits > 0):
        raise ValueError(f"bits must be a positive integer. Received: bits={bits!r}")
    return int(bits)


class RandomHyperplaneLSH:
    """Locality-sensitive hashing with random hyperplanes (Charikar 2002): bit `i` is `sign((x - m) . w_i)`.

    The directions `w_i` are scikit-learn's `GaussianRandomProjection`; `m` is
    the training mean. The wider the angle between two centred vectors, the
    likelier a random hyperplane gives them different bits (the chapter's
    exercise ex-8-lsh works out how likely).

    Args:
        bits: code length.
        seed: seed of the random directions.
    """

    def __init__(self, bits, seed=0):
        self.bits = _check_bits(bits)
        self.projection = GaussianRandomProjection(n_components=self.bits, random_state=seed)

    def fit(self, x):
        x = np.asarray(x, "float64")
        self.mean_ = x.mean(axis=0)
        self.projection.fit(x - self.mean_)
        return self

    def codes(self, x):
        """`(n, bits)` boolean codes (`True` for a positive projection)."""
        return self.projection.transform(np.asarray(x, "float64") - self.mean_) > 0


class ITQ:
    """PCA with iterative quantisation (Gong & Lazebnik 2011).

    Projects centred data on its top `bits` principal components
    (scikit-learn's `PCA`), `V`, then alternates `B = sign(V R)` and the
    orthogonal Procrustes update of the rotation `R` that minimises the
    quantisation loss `||B - V R||_F^2`. The loss never increases;
    `quantization_losses_` records it after each `B` update.

    Args:
        bits: code length (at most the data's dimension).
        iterations: number of alternations (the paper uses 50).
        seed: seed of the random initial rotation and of the PCA solver.
    """

    def __init__(self, bits, iterations=50, seed=0):
        self.bits = _check_bits(bits)
        if not (isinstance(iterations, (int, np.integer)) and iterations >= 0):
            raise ValueError(f"iterations must be a non-negative integer. Received: iterations={iterations!r}")
        self.iterations, self.seed = int(iterations), seed

    def fit(self, x):
        x = np.asarray(x, "float64")
        if x.ndim != 2 or x.shape[1] < self.bits:
            raise ValueError(f"x must be 2-D with at least bits={self.bits} features. Received: shape={x.shape}")
        self.pca_ = PCA(self.bits, random_state=self.seed).fit(x)
        v = self.pca_.transform(x)
        rng = np.random.default_rng(self.seed)
        rotation, _ = np.linalg.qr(rng.normal(size=(self.bits, self.bits)))
        self.quantization_losses_ = []
        for _ in range(self.iterations):
            b = np.where(v @ rotation >= 0, 1.0, -1.0)
            self.quantization_losses_.append(float(np.sum((b - v @ rotation) ** 2)))
            s, _, s_hat_t = np.linalg.svd(b.T @ v)  # B^T V = S Omega S_hat^T
            rotation = s_hat_t.T @ s.T              # R = S_hat S^T
        self.rotation_ = rotation
        return self

    def codes(self, x):
        """`(n, bits)` boolean codes (`True` for a positive rotated projection)."""
        return self.pca_.transform(np.asarray(x, "float64")) @ self.rotation_ >= 0


# ----------------------------------------------------------------------------- packed codes and Hamming distance


def pack_bits(bits):
    """Packs `(n, b)` boolean codes into `(n, ceil(b / 64))` unsigned 64-bit words.

    Args:
        bits: `(n, b)` array of booleans (or 0/1).

    Returns:
        `(n, words)` `uint64` array; unused trailing bits are 0.

    Example:

    >>> pack_bits(np.ones((2, 70), bool)).shape
    (2, 2)
    """
    bits = np.asarray(bits)
    if bits.ndim != 2:
        raise ValueError(f"bits must be a 2-D (n, b) array. Received: shape={bits.shape}")
    if not np.all((bits == 0) | (bits == 1)):
        raise ValueError("bits must be booleans or 0/1: threshold real codes first (e.g. codes > 0).")
    packed = np.packbits(bits.astype(bool), axis=1)
    n_bytes = 8 * math.ceil(bits.shape[1] / 64)
    padded = np.zeros((len(bits), n_bytes), np.uint8)
    padded[:, :packed.shape[1]] = packed
    return padded.view(np.uint64)


_POPCOUNT_TABLE = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def _popcount(words):
    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.bitwise_count(words)
    as_bytes = words.view(np.uint8).reshape(*words.shape, 8)
    return _POPCOUNT_TABLE[as_bytes].sum(axis=-1, dtype=np.uint8)


def hamming_distances(query, database):
    """Hamming distances between packed codes: XOR, then count the set bits.

    Args:
        query: `(q, words)` `uint64` codes from `pack_bits`.
        database: `(n, words)` `uint64` codes from `pack_bits`.

    Returns:
        `(q, n)` `uint16` array of distances.

    Example:

    >>> a = pack_bits(np.array([[1, 0, 1, 1]], bool))
    >>> b = pack_bits(np.array([[0, 0, 1, 0], [1, 0, 1, 1]], bool))
    >>> hamming_distances(a, b).tolist()
    [[2, 0]]
    """
    query, database = np.asarray(query), np.asarray(database)
    if query.dtype != np.uint64 or database.dtype != np.uint64 or query.ndim != 2 or database.ndim != 2 \
            or query.shape[1] != database.shape[1]:
        raise ValueError("query and database must be uint64 arrays from pack_bits with the same number of words. "
                         f"Received: {query.dtype} {query.shape} and {database.dtype} {database.shape}")
    distances = np.zeros((len(query), len(database)), np.uint16)
    for word in range(query.shape[1]):
        distances += _popcount(query[:, word:word + 1] ^ database[:, word])
    return distances


# ----------------------------------------------------------------------------- retrieval metrics


def average_precision(relevant):
    """Average precision of ranked lists: the mean, over the relevant items, of the precision at their rank.

    Args:
        relevant: `(n,)` or `(q, n)` booleans, `relevant[r]` for the item
            ranked `r + 1`.

    Returns:
        A float (1-D input) or a `(q,)` array; 0 for a list with no relevant item.

    Example:

    >>> average_precision(np.array([True, False, True]))  # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    relevant = np.asarray(relevant, bool)
    if relevant.ndim not in (1, 2) or relevant.shape[-1] == 0:
        raise ValueError(f"relevant must be a non-empty 1-D or 2-D boolean array. Received: shape={relevant.shape}")
    rel = np.atleast_2d(relevant)
    precision = np.cumsum(rel, axis=1) / np.arange(1, rel.shape[1] + 1)
    ap = np.sum(precision * rel, axis=1) / np.maximum(rel.sum(axis=1), 1)
    return float(ap[0]) if relevant.ndim == 1 else ap


def retrieval_scores(query, database, query_labels, database_labels, metric="hamming", k=100, seed=0,
                     chunk=100):
    """Ranks the database for each query and scores the ranking against class labels.

    A database item is relevant to a query when their labels are equal. Hamming
    distances take few values, so many items tie; ties are broken at random
    (one fixed random order of the database, then a stable sort), so that the
    scores are those of a random order within each distance.

    Args:
        query: `(q, ...)` queries: packed codes (`metric="hamming"`) or real vectors (`"cosine"`).
        database: `(n, ...)` database, in the same form.
        query_labels: `(q,)` labels.
        database_labels: `(n,)` labels.
        metric: `"hamming"` or `"cosine"`.
        k: the cut-off of precision@k.
        seed: seed of the tie-breaking order.
        chunk: queries ranked at once (memory: `chunk * n` distances).

    Returns:
        dict with `average_precision` and `precision_at_k`, each a `(q,)` array
        (their means are the mAP and the mean precision@k).
    """
    if metric not in ("hamming", "cosine"):
        raise ValueError(f"metric must be 'hamming' or 'cosine'. Received: metric={metric!r}")
    query_labels, database_labels = np.asarray(query_labels), np.asarray(database_labels)
    if len(query) != len(query_labels) or len(database) != len(database_labels):
        raise ValueError(f"one label per query and per database item. Received: {len(query)} queries, "
                         f"{len(query_labels)} labels; {len(database)} items, {len(database_labels)} labels")
    if not (isinstance(k, (int, np.integer)) and 0 < k <= len(database)):
        raise ValueError(f"k must be a positive integer at most the database size. Received: k={k!r}")
    order = np.random.default_rng(seed).permutation(len(database))
    database, database_labels = np.asarray(database)[order], database_labels[order]
    if metric == "cosine":
        database = np.asarray(database, "float32")
        database = database / np.maximum(np.linalg.norm(database, axis=1, keepdims=True), 1e-12)
    aps, precisions = [], []
    for start in range(0, len(query), chunk):
        q = np.asarray(query[start:start + chunk])
        if metric == "hamming":
            distances = hamming_distances(q, database)
        else:
            q = np.asarray(q, "float32")
            q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
            distances = -(q @ database.T)
        # stable: ties keep the random database order (radix sort for the small integers of Hamming distances)
        ranked = np.argsort(distances, axis=1, kind="stable" if metric == "hamming" else None)
        relevant = database_labels[ranked] == query_labels[start:start + chunk, None]
        aps.append(average_precision(relevant))
        precisions.append(relevant[:, :k].mean(axis=1))
    return {"average_precision": np.concatenate(aps), "precision_at_k": np.concatenate(precisions)}
