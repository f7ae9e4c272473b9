"""Chapter-2 checks pass the reference, reject plausible wrong answers; the hand-derived
sparsity gradient matches finite differences and the backend's autodiff."""

import numpy as np
import pytest

import keras

from aecourse.checks import ExerciseFailure, ch2
from aecourse.regularizers import KLSparsity

RHO, BETA, ALPHA = 0.1, 3.0, 1e-3


def _kl(rho, q):
    return rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q))


def test_mean_activation(capsys):
    ch2.check_mean_activation(lambda h: np.mean(h, axis=0))
    assert capsys.readouterr().out == "\u2714 ex-2-mean: mean activation per hidden unit matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda h: np.mean(h, axis=1),          # mean over units
    lambda h: np.sum(h, axis=0),           # sum, not mean
    lambda h: np.mean(h),                  # one number
    lambda h: np.mean(h > 0.5, axis=0),    # fraction "active", not mean activation
])
def test_mean_activation_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-2-mean"):
        ch2.check_mean_activation(wrong)


def test_kl_penalty(capsys):
    ch2.check_kl_penalty(lambda rho, q, beta: beta * np.sum(_kl(rho, q)))
    assert capsys.readouterr().out == "\u2714 ex-2-kl: KL sparsity penalty matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda rho, q, beta: beta * np.sum(_kl(q, rho)),                       # reversed KL
    lambda rho, q, beta: beta * np.sum(rho * np.log(rho / q)),             # missing (1 - rho) term
    lambda rho, q, beta: beta * np.mean(_kl(rho, q)),                      # mean over units
    lambda rho, q, beta: np.sum(_kl(rho, q)),                              # beta forgotten
    lambda rho, q, beta: beta * np.sum((q - rho) ** 2),                    # squared distance
])
def test_kl_penalty_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-2-kl"):
        ch2.check_kl_penalty(wrong)


def test_l1_penalty(capsys):
    ch2.check_l1_penalty(lambda h, lam: lam * np.mean(np.sum(np.abs(h), axis=1)))
    assert capsys.readouterr().out == "\u2714 ex-2-l1: L1 activity penalty matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda h, lam: lam * np.mean(np.sum(h, axis=1)),                 # no absolute value
    lambda h, lam: lam * np.sum(np.abs(h)),                          # sum over the batch
    lambda h, lam: lam * np.mean(np.abs(h)),                         # mean over units too
    lambda h, lam: lam * np.mean(np.sum(h ** 2, axis=1)),            # L2, not L1
])
def test_l1_penalty_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-2-l1"):
        ch2.check_l1_penalty(wrong)


def _delta(d, w, h, rho, beta, sign=1.0, rho_hat=None, derivative=True):
    q = h.mean(axis=0) if rho_hat is None else rho_hat(h)
    out = d @ w.T + sign * beta * (-rho / q + (1 - rho) / (1 - q))
    return out * h * (1 - h) if derivative else out


def test_hidden_delta(capsys):
    ch2.check_hidden_delta(_delta)
    assert capsys.readouterr().out == "\u2714 ex-2-delta: hidden delta with the sparsity term matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda d, w, h, rho, beta: _delta(d, w, h, rho, beta, sign=-1.0),               # seed's sign mix-up
    lambda d, w, h, rho, beta: _delta(d, w, h, rho, beta, derivative=False),        # f'(z) forgotten
    lambda d, w, h, rho, beta: _delta(d, w, h, rho, beta, rho_hat=lambda h: h),     # per-example rho_hat
    lambda d, w, h, rho, beta: _delta(d, w, h, rho, 0.0),                           # sparsity term missing
    lambda d, w, h, rho, beta: (d @ w.T + beta * (-rho / h.mean(0) + (1 - rho) / (1 - h.mean(0))))
    * (1 - h ** 2),                                                                 # tanh derivative
])
def test_hidden_delta_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-2-delta"):
        ch2.check_hidden_delta(wrong)


def test_unanswered_fails_clearly():
    def unanswered(h):
        raise NotImplementedError

    with pytest.raises(ExerciseFailure, match="not answered yet"):
        ch2.check_mean_activation(unanswered)


def test_hand_derived_gradient_matches_central_differences():
    x, params = ch2.random_sparse_ae(np.random.default_rng(0))
    grads = ch2.reference_sparse_ae_gradients(x, params, RHO, BETA, ALPHA)
    step = 1e-6
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            for sign in (1, -1):
                shifted = {k: v.copy() for k, v in params.items()}
                shifted[name][index] += sign * step
                numeric[index] += sign * ch2.reference_sparse_ae_loss(x, shifted, RHO, BETA, ALPHA) / (2 * step)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def _keras_loss(x, params):
    """The same objective built from keras.ops and the package's KLSparsity (float32)."""
    ops = keras.ops
    h = ops.sigmoid(ops.matmul(x, params["W1"]) + params["b1"])
    z = ops.sigmoid(ops.matmul(h, params["W2"]) + params["b2"])
    reconstruction = ops.mean(0.5 * ops.sum((x - z) ** 2, axis=1))
    decay = 0.5 * ALPHA * (ops.sum(params["W1"] ** 2) + ops.sum(params["W2"] ** 2))
    return reconstruction + KLSparsity(RHO, BETA).penalty(h) + decay


def _autodiff(fn, x, params):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        variables = {k: tf.Variable(v) for k, v in params.items()}
        with tf.GradientTape() as tape:
            loss = fn(tf.constant(x), variables)
        return {k: g.numpy() for k, g in zip(variables, tape.gradient(loss, list(variables.values())))}
    if backend == "jax":
        import jax

        return {k: np.asarray(g) for k, g in jax.grad(lambda p: fn(x, p))(params).items()}
    pytest.skip(f"no autodiff helper for backend {backend}")


def test_hand_derived_gradient_matches_autodiff_of_the_package_penalty():
    x, params = ch2.random_sparse_ae(np.random.default_rng(1))
    grads = ch2.reference_sparse_ae_gradients(x, params, RHO, BETA, ALPHA)
    auto = _autodiff(_keras_loss, x.astype("float32"), {k: v.astype("float32") for k, v in params.items()})
    for name in params:
        np.testing.assert_allclose(auto[name], grads[name], rtol=1e-3, atol=1e-5, err_msg=name)


# --- ex-2-wta (a Keras layer used in a model), ex-2-topk-train, ex-2-l1-gradient, ex-2-lifetime

def _wta_numpy(h, rate, training, axis=0, rounding=np.ceil):
    h = np.asarray(h, "float64")
    if not training:
        return h
    keep = max(1, int(rounding(rate * h.shape[axis])))
    kth = np.take(-np.sort(-h, axis=axis), [keep - 1], axis=axis)
    return np.where(h >= kth, h, 0.0)


class LifetimeWTA(keras.layers.Layer):
    """The model answer's layer; the batch size may be unknown while tracing (TensorFlow's fit)."""

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if not training:
            return inputs
        n = keras.ops.shape(inputs)[0]
        keep = keras.ops.cast(keras.ops.ceil(self.rate * keras.ops.cast(n, "float32")), "int32")
        kth = keras.ops.sort(inputs, axis=0)[n - keep]  # each unit's keep-th largest activation
        return keras.ops.where(inputs >= kth, inputs, keras.ops.zeros_like(inputs))


def _wta_autoencoder(x, rate):
    inputs = keras.Input((784,))
    relu_codes = keras.layers.Dense(32, activation="relu")(inputs)
    codes = LifetimeWTA(rate)(relu_codes)
    autoencoder = keras.Model(inputs, keras.layers.Dense(784, activation="sigmoid")(codes))
    autoencoder.compile(keras.optimizers.Adam(1e-3), loss="mse")
    autoencoder.fit(x, x, epochs=1, batch_size=64, verbose=0)
    x = np.asarray(x, "float32")
    return np.stack([keras.ops.convert_to_numpy(keras.Model(inputs, relu_codes)(x)),
                     keras.ops.convert_to_numpy(keras.Model(inputs, codes)(x, training=True)),
                     keras.ops.convert_to_numpy(keras.Model(inputs, codes)(x, training=False))])


def test_lifetime_wta_accepts_a_keras_layer_trained_in_a_model(capsys):
    ch2.check_lifetime_wta(_wta_autoencoder)
    assert capsys.readouterr().out == (
        "\u2714 ex-2-wta: lifetime winner-take-all layer works in a trained model: in training each unit keeps its "
        "ceil(rate * n) largest activations of the batch, at inference the codes pass unchanged\n")


def _fake_wta(train=None, infer=None, before=None):
    """An answer that returns ReLU codes of a random encoder, with the given (wrong) layer behaviour."""
    def answer(x, rate):
        rng = np.random.default_rng(0)
        relu = np.maximum(np.asarray(x, "float64") @ rng.normal(0, 0.05, (784, 32)) + rng.normal(0, 0.1, 32), 0.0)
        relu += (relu > 0) * rng.uniform(1e-3, 2e-3, relu.shape)  # no ties
        training = (train or (lambda h, rate: _wta_numpy(h, rate, True)))(relu, rate)
        inference = (infer or (lambda h, rate: h))(relu, rate)
        return np.stack([(before or (lambda h: h))(relu), training, inference])
    return answer


def test_the_fake_wta_answer_passes():  # so that the wrong ones below fail for their fault alone
    ch2.check_lifetime_wta(_fake_wta())


@pytest.mark.parametrize("wrong", [
    _fake_wta(train=lambda h, rate: _wta_numpy(h, rate, True, axis=1)),             # per input: population WTA
    _fake_wta(infer=lambda h, rate: _wta_numpy(h, rate, True)),                     # sparsifies at inference too
    _fake_wta(train=lambda h, rate: _wta_numpy(h, rate, True, rounding=np.floor)),  # floor instead of ceil
    _fake_wta(train=lambda h, rate: _wta_numpy(h, rate, True, rounding=np.round)),  # round instead of ceil
    _fake_wta(train=lambda h, rate: h),                                             # never sparsifies
    _fake_wta(train=lambda h, rate: np.concatenate([_wta_numpy(part, rate, True)    # per mini-batch of 64
                                                    for part in np.split(h, 4)])),
    _fake_wta(before=lambda h: h - 1.0),                                            # not the ReLU codes
    lambda x, rate: np.zeros((2, len(x), 32)),                                      # two arrays, not three
])
def test_lifetime_wta_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-2-wta"):
        ch2.check_lifetime_wta(wrong)


@pytest.mark.training
def test_k_sparse_judge_passes_a_trained_model_and_rejects_weak_or_wrong_ones():
    check = ch2.check_k_sparse_autoencoder
    cases = check.cases(np.random.default_rng(0))
    x_train = cases[0][0]
    keras.utils.set_random_seed(0)
    inputs = keras.Input((784,))
    from aecourse.sparse import TopK
    hidden = TopK(20)(keras.layers.Dense(256, activation="relu")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(784, activation="sigmoid")(hidden))
    untrained = [w.copy() for w in model.get_weights()]
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(5e-3, 10 * 20)),
                  loss="binary_crossentropy")
    raw = keras.models.clone_model(model)
    mean = x_train.mean(axis=0)
    model.fit(x_train - mean, x_train, epochs=10, batch_size=100, verbose=0)  # the model answer: 13.7 +- 0.1
    kernel, bias, *rest = model.get_weights()
    assert "reconstructs held-out" in check.judge(cases, [[kernel, bias - mean @ kernel, *rest]])
    raw.set_weights(untrained)
    raw.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(5e-3, 10 * 20)),
                loss="binary_crossentropy")
    raw.fit(x_train, x_train, epochs=10, batch_size=100, verbose=0)  # the same on raw pixels: 20.2 +- 0.3
    with pytest.raises(ExerciseFailure, match="^ex-2-topk-train: with 20 active units"):
        check.judge(cases, [raw.get_weights()])
    weak = keras.models.clone_model(model)
    weak.set_weights(untrained)
    weak.compile(keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    weak.fit(x_train, x_train, epochs=1, batch_size=100, verbose=0)  # 20 steps: the bound must reject it
    with pytest.raises(ExerciseFailure, match="^ex-2-topk-train: with 20 active units"):
        check.judge(cases, [weak.get_weights()])
    with pytest.raises(ExerciseFailure, match="^ex-2-topk-train: with 20 active units"):
        check.judge(cases, [untrained])
    with pytest.raises(ExerciseFailure, match="^ex-2-topk-train: expected Dense"):
        check.judge(cases, [model.get_weights()[:2]])
    with pytest.raises(ExerciseFailure, match="NaN"):
        check.judge(cases, [[w * np.nan for w in model.get_weights()]])


def test_k_sparse_reference_keeps_the_k_largest_units():
    rng = np.random.default_rng(1)
    kernel, bias = rng.normal(0, 0.01, (784, 30)), 1.0 + rng.random(30)  # 30 positive, distinct codes
    kernel_out = rng.normal(0, 0.1, (30, 784))
    x = rng.random((5, 784))
    h = x @ kernel + bias
    kept = np.where(h >= np.sort(h, axis=1)[:, -20:-19], h, 0.0)
    assert ((kept != 0).sum(axis=1) == 20).all()
    expected = 1 / (1 + np.exp(-(kept @ kernel_out)))
    np.testing.assert_allclose(ch2.reference_k_sparse_reconstruct(x, [kernel, bias, kernel_out, np.zeros(784)], k=20),
                               expected, rtol=1e-12)


def _softplus_gradient(lam=0.2, a=(-2.0, 3.0)):
    return lam / (1 + np.exp(-np.array(a)))


def test_l1_softplus_gradient(capsys):
    ch2.check_l1_softplus_gradient(np.round(_softplus_gradient(), 4))  # "to 4 decimals" passes
    assert capsys.readouterr().out == (
        "\u2714 ex-2-l1-gradient: the L1 gradient at a softplus unit's pre-activation is right\n")


_A = np.array([-2.0, 3.0])
_S = 1 / (1 + np.exp(-_A))


@pytest.mark.parametrize("wrong, hint", [
    (np.array([0.2, 0.2]), "sign"),                                   # d/dh, not d/da
    (0.2 * np.logaddexp(0, _A), "lambda \\* h"),                      # the penalty itself
    (0.2 * _S * (1 - _S), "sigmoid"),                                 # the sigmoid unit's formula
    (0.2 * _S[::-1], "order"),                                        # swapped
    (0.2 * (1 - _S), "is not"),                                       # sign of a flipped
    (_S, "is not"),                                                   # lambda forgotten
    (0.02384, "2 numbers"),                                           # one number only
    (np.array([0.0238, 0.1905, 0.0]), "2 numbers"),                   # three numbers
])
def test_l1_softplus_gradient_rejects(wrong, hint):
    with pytest.raises(ExerciseFailure, match=f"^ex-2-l1-gradient: .*{hint}"):
        ch2.check_l1_softplus_gradient(wrong)


def test_lifetime_answer_needs_a_real_answer():
    ch2.check_lifetime_population_answer(" ".join(["word"] * 30))  # explain: the instructor reads it
    with pytest.raises(ExerciseFailure, match="^ex-2-lifetime"):
        ch2.check_lifetime_population_answer("it is not sparse")
    with pytest.raises(ExerciseFailure, match="^ex-2-lifetime"):
        ch2.check_lifetime_population_answer(...)
