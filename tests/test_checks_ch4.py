"""Every chapter-4 check passes the reference and rejects plausible wrong answers."""

import numpy as np
import pytest

from aecourse.checks import ExerciseFailure, ch4


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_sigmoid_derivative(capsys):
    ch4.check_sigmoid_derivative(lambda a: _sigmoid(a) * (1 - _sigmoid(a)))
    assert capsys.readouterr().out == "\u2714 ex-4-slope: sigmoid derivative matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda a: _sigmoid(a),                          # the sigmoid itself
    lambda a: _sigmoid(a) * (1 - a),                # 1 - a instead of 1 - s(a)
    lambda a: np.exp(-a) / (1 + np.exp(-a)),        # denominator not squared: 1 - s(a)
])
def test_sigmoid_derivative_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-4-slope"):
        ch4.check_sigmoid_derivative(wrong)


def _penalty(x, w, b, square_slope=True, column_norms=True, total=np.sum):
    h = _sigmoid(x @ w + b)
    slope = h * (1 - h)
    weights = np.sum(w**2, axis=0) if column_norms else np.sum(w**2)
    return total((slope**2 if square_slope else slope) * weights, axis=1)


def test_contractive_penalty(capsys):
    ch4.check_contractive_penalty(_penalty)
    assert capsys.readouterr().out == "\u2714 ex-4-penalty: closed-form contractive penalty matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda x, w, b: _penalty(x, w, b, square_slope=False),     # slope not squared
    lambda x, w, b: _penalty(x, w, b, column_norms=False),     # all of W instead of column j
    lambda x, w, b: _penalty(x, w, b, total=np.mean),          # mean over units, not sum
    lambda x, w, b: np.sum(_penalty(x, w, b)),                 # one number for the batch
    lambda x, w, b: np.sum(_sigmoid(x @ w + b) ** 2 * np.sum(w**2, axis=1), axis=1),  # h, not h(1-h); wrong axis
])
def test_contractive_penalty_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-4-penalty"):
        ch4.check_contractive_penalty(wrong)


def _jacobian(function, x, step, central=True, divide=2.0, transpose=False):
    columns = []
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = step
        if central:
            columns.append((function(x + e) - function(x - e)) / (divide * step))
        else:
            columns.append((function(x + e) - function(x)) / step)
    jac = np.stack(columns, axis=1)
    return jac.T if transpose else jac


def test_finite_difference_jacobian(capsys):
    ch4.check_finite_difference_jacobian(_jacobian)
    assert capsys.readouterr().out.startswith("\u2714 ex-4-fd-jacobian:")


@pytest.mark.parametrize("kwargs", [{"central": False}, {"divide": 1.0}, {"transpose": True}])
def test_finite_difference_jacobian_rejects(kwargs):
    with pytest.raises(ExerciseFailure, match="^ex-4-fd-jacobian"):
        ch4.check_finite_difference_jacobian(lambda f, x, s: _jacobian(f, x, s, **kwargs))


def _ratio(encode, x, eps):
    return np.linalg.norm(encode(x + eps) - encode(x), axis=1) / np.linalg.norm(eps, axis=1)


def test_contraction_ratio(capsys):
    ch4.check_contraction_ratio(_ratio)
    assert capsys.readouterr().out == "\u2714 ex-4-ratio: contraction ratio matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda f, x, e: _ratio(f, x, e) ** 2,                                  # squared norms
    lambda f, x, e: 1 / _ratio(f, x, e),                                   # inverted
    lambda f, x, e: np.mean(_ratio(f, x, e)),                              # one number
    lambda f, x, e: np.linalg.norm(f(x + e) - f(x), axis=1),               # not divided by ||eps||
])
def test_contraction_ratio_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-4-ratio"):
        ch4.check_contraction_ratio(wrong)


def test_unanswered_fails_clearly():
    def unanswered(*args):
        raise NotImplementedError

    for check in (ch4.check_sigmoid_derivative, ch4.check_contractive_penalty,
                  ch4.check_finite_difference_jacobian, ch4.check_contraction_ratio):
        with pytest.raises(ExerciseFailure, match="not answered yet"):
            check(unanswered)


# ----------------------------------------------------------------------------- issue 16: train, derive, explain

def _contractive_sigmoid(slope_power=2, total=False, weight_decay=False, scale=True):
    """The ContractiveSigmoid layer of ex-4-train-cae; the keyword arguments make the wrong versions."""
    import keras

    class ContractiveSigmoid(keras.layers.Layer):
        def __init__(self, units, contraction):
            super().__init__()
            self.units, self.contraction = units, contraction

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, x, training=False):
            h = keras.ops.sigmoid(keras.ops.matmul(x, self.kernel) + self.bias)
            if training and self.contraction:
                norms = keras.ops.sum(keras.ops.square(self.kernel), axis=0)
                penalty = (keras.ops.sum(norms) * keras.ops.ones_like(h[:, 0]) if weight_decay
                           else keras.ops.sum((h * (1 - h)) ** slope_power * norms, axis=-1))
                reduced = keras.ops.sum(penalty) if total else keras.ops.mean(penalty)
                self.add_loss(self.contraction * reduced if scale else reduced)
            return h

    return ContractiveSigmoid


def _contractive_model(x_train, contraction, units=128):
    """The reference answer of ex-4-train-cae: a sigmoid layer whose call adds the closed-form penalty."""
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((784,)), _contractive_sigmoid()(units, contraction),
                              keras.layers.Dense(784, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    model.fit(x_train, x_train, epochs=10, batch_size=64, verbose=0)
    return model


@pytest.mark.training
def test_trained_cae_passes_with_the_penalty_and_fails_without(capsys):
    ch4.check_trained_cae(lambda x: _contractive_model(x, 3e-3))
    assert capsys.readouterr().out.startswith("\u2714 ex-4-train-cae: the trained network has held-out error")
    with pytest.raises(ExerciseFailure, match="ex-4-train-cae: the mean .*J_f.* not below"):
        ch4.check_trained_cae(lambda x: _contractive_model(x, 0.0))     # penalty never added: a plain AE
    with pytest.raises(ExerciseFailure, match="100 <= K <= 256"):
        ch4.check_trained_cae(lambda x: _contractive_model(x, 0.0, units=64))  # narrow plain AE: small ||J||


@pytest.mark.parametrize("wrong, words", [
    (lambda x: [np.zeros((784, 128)), np.zeros(128), np.zeros((128, 784)), np.zeros(784)], "error .* not below"),
    (lambda x: [np.zeros((784, 512)), np.zeros(512), np.zeros((512, 784)), np.zeros(784)], "K <= 256"),
    (lambda x: [np.full((784, 128), np.nan), np.zeros(128), np.zeros((128, 784)), np.zeros(784)], "NaN"),
    (lambda x: "a model", "expected a Keras model"),
])
def test_trained_cae_rejects(wrong, words):
    with pytest.raises(ExerciseFailure, match=words):
        ch4.check_trained_cae(wrong)


def _layer_loss(training=True, **wrong):
    """ex-4-layer-loss through a real Keras layer; `wrong` (see `_contractive_sigmoid`) makes the wrong answers."""
    import keras

    def answer(x, W, b, contraction):
        layer = _contractive_sigmoid(**wrong)(W.shape[1], contraction)
        layer.build((None, W.shape[0]))
        layer.set_weights([W, b])
        layer(keras.ops.convert_to_tensor(x, "float32"), training=training)
        return float(keras.ops.convert_to_numpy(sum(layer.losses))) if layer.losses else 0.0

    return answer


def test_layer_loss_accepts_the_closed_form_layer(capsys):
    ch4.check_layer_loss(_layer_loss())
    assert capsys.readouterr().out.startswith("\u2714 ex-4-layer-loss")


@pytest.mark.parametrize("wrong", [dict(slope_power=1), dict(total=True), dict(weight_decay=True), dict(scale=False),
                                   dict(training=False)])
def test_layer_loss_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="ex-4-layer-loss"):
        ch4.check_layer_loss(_layer_loss(**wrong))


def test_noise_coefficient_is_checked_by_value(capsys):
    s = _sigmoid(4.0 * 0.1 - 1.0)
    first, second = 4.0 * s * (1 - s), 16.0 * s * (1 - s) * (1 - 2 * s)
    ch4.check_noise_coefficient(first**2 - (0.1 - s) * second)
    assert capsys.readouterr().out.startswith("\u2714 ex-4-cross-term:")
    for wrong in (first**2,                              # cross term dropped
                  first**2 + (0.1 - s) * second,         # its sign flipped
                  first**2 - 0.5 * (0.1 - s) * second,   # the 1/2 of the Taylor term kept
                  s * (1 - s),                           # the sigmoid's own slope
                  np.array([1.0, 1.0])):
        with pytest.raises(ExerciseFailure, match="ex-4-cross-term"):
            ch4.check_noise_coefficient(wrong)
    with pytest.raises(ExerciseFailure, match="not answered yet"):
        ch4.check_noise_coefficient(...)


def test_smooth_filters_answer_only_confirms_an_answer(capsys):
    ch4.check_smooth_filters_answer("The penalty depends on each weight vector only through its norm, so it is "
                                    "blind to smoothness; it decays the components orthogonal to the data, which "
                                    "keep their random initial speckle in a plain autoencoder.")
    assert capsys.readouterr().out.startswith("\u2714 ex-4-smooth-filters: answered")
    for wrong, words in ((..., "not answered yet"), ("Weight decay.", "at least 25 words"), (3, "string")):
        with pytest.raises(ExerciseFailure, match=words):
            ch4.check_smooth_filters_answer(wrong)
