"""BernoulliRBM: formulas against brute-force enumeration, CD against the exact gradient, training, saving."""

import itertools

import keras
import numpy as np
import pytest

from aecourse import rbm as R
from aecourse.runtime import steps_per_execution


def _random_rbm(n_visible=5, n_hidden=4, scale=1.0, seed=0, **kwargs):
    model = R.BernoulliRBM(n_visible, n_hidden, seed=seed, **kwargs)
    rng = np.random.default_rng(seed)
    model.kernel.assign(scale * rng.normal(size=(n_visible, n_hidden)).astype("float32"))
    model.visible_bias.assign(rng.normal(size=n_visible).astype("float32"))
    model.hidden_bias.assign(rng.normal(size=n_hidden).astype("float32"))
    return model


def _states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _brute_force(model):
    """Energies of every (v, h) pair, shape (2**n_visible, 2**n_hidden), from the energy formula."""
    w, b, c = R.parameters(model)
    vs, hs = _states(model.n_visible), _states(model.n_hidden)
    energy = -(vs @ b)[:, None] - (hs @ c)[None, :] - vs @ w @ hs.T
    return vs, hs, energy


def _toy_data(n=600, n_visible=8, seed=0):
    rng = np.random.default_rng(seed)
    prototypes = (rng.random((3, n_visible)) < 0.5).astype("float32")
    x = prototypes[rng.integers(3, size=n)]
    return np.abs(x - (rng.random(x.shape) < 0.05)).astype("float32")


def test_energy_matches_formula_on_all_pairs():
    model = _random_rbm()
    vs, hs, energy = _brute_force(model)
    v = np.repeat(vs, len(hs), axis=0)
    h = np.tile(hs, (len(vs), 1))
    got = keras.ops.convert_to_numpy(model.energy(v, h)).reshape(len(vs), len(hs))
    np.testing.assert_allclose(got, energy, rtol=1e-5, atol=1e-5)


def test_free_energy_is_minus_log_sum_over_hidden_states():
    model = _random_rbm()
    vs, _, energy = _brute_force(model)
    expected = -np.log(np.exp(-energy).sum(axis=1))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.free_energy(vs)), expected, rtol=1e-5, atol=1e-5)


def test_log_partition_and_likelihood_match_brute_force_on_both_sides():
    for n_visible, n_hidden in ((5, 4), (3, 6)):  # enumerates hidden, then visible states
        model = _random_rbm(n_visible, n_hidden)
        vs, _, energy = _brute_force(model)
        log_z = np.log(np.exp(-energy).sum())
        assert R.log_partition(model) == pytest.approx(log_z, rel=1e-9)
        joint = np.exp(-energy - log_z)
        np.testing.assert_allclose(np.exp(R.log_likelihood(model, vs)), joint.sum(axis=1), rtol=1e-6)
        assert np.exp(R.log_likelihood(model, vs)).sum() == pytest.approx(1.0)


def test_conditionals_factorise_and_match_enumeration():
    model = _random_rbm()
    vs, hs, energy = _brute_force(model)
    joint = np.exp(-energy)
    p_h_given_v = joint / joint.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.hidden_probabilities(vs)),
                               p_h_given_v @ hs, rtol=1e-5, atol=1e-6)
    p_v_given_h = joint / joint.sum(axis=0, keepdims=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.visible_probabilities(hs)),
                               p_v_given_h.T @ vs, rtol=1e-5, atol=1e-6)
    # Factorised: p(h | v) is the product of its per-unit marginals.
    q = keras.ops.convert_to_numpy(model.hidden_probabilities(vs)).astype("float64")
    product = np.prod(np.where(hs[None] == 1, q[:, None], 1 - q[:, None]), axis=2)
    np.testing.assert_allclose(product, p_h_given_v, rtol=1e-5, atol=1e-7)


def test_gibbs_samples_follow_the_conditionals():
    model = _random_rbm(scale=0.5)
    v = np.tile(_states(5)[[3]], (4000, 1))
    h = keras.ops.convert_to_numpy(model.sample_hidden(v))
    assert set(np.unique(h)) <= {0.0, 1.0}
    expected = keras.ops.convert_to_numpy(model.hidden_probabilities(v[:1]))[0]
    np.testing.assert_allclose(h.mean(axis=0), expected, atol=0.03)


def test_long_gibbs_chains_sample_the_model_distribution():
    model = _random_rbm(4, 3, scale=0.7)
    chains = keras.ops.convert_to_numpy(model.gibbs_chain(np.zeros((3000, 4), "float32"), 30))
    codes = chains @ (2 ** np.arange(3, -1, -1))
    empirical = np.bincount(codes.astype(int), minlength=16) / len(codes)
    exact = np.exp(R.log_likelihood(model, _states(4)))
    assert 0.5 * np.abs(empirical - exact).sum() < 0.05  # total variation distance


def test_cd_gradient_points_along_the_exact_gradient():
    model = _random_rbm(8, 4, scale=0.3)
    x = _toy_data()
    exact = np.concatenate([g.ravel() for g in R.exact_gradient(model, x)])
    v_model = keras.ops.convert_to_numpy(model.gibbs_chain(np.repeat(x, 5, axis=0), 1))
    cd = np.concatenate([g.ravel() for g in R.cd_gradient(model, x, v_model)])
    assert cd @ exact / np.linalg.norm(cd) / np.linalg.norm(exact) > 0.5
    # With exact samples from the model, the statistics give the exact gradient.
    states = _states(8)
    p = np.exp(R.log_likelihood(model, states))
    exact_samples = states[np.random.default_rng(0).choice(len(states), 200000, p=p / p.sum())]
    sampled = np.concatenate([g.ravel() for g in R.cd_gradient(model, x, exact_samples)])
    np.testing.assert_allclose(sampled, exact, atol=0.01)


def test_one_fit_step_follows_the_exact_gradient():
    model = _random_rbm(8, 4, scale=0.3, cd_steps=1)
    x = _toy_data(n=3000)
    before = [w.copy() for w in R.parameters(model)]
    exact = np.concatenate([g.ravel() for g in R.exact_gradient(model, x)])
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.fit(x, epochs=1, batch_size=len(x), verbose=0)
    step = np.concatenate([(a - b).ravel() for a, b in zip(R.parameters(model), before)])
    assert step @ exact / np.linalg.norm(step) / np.linalg.norm(exact) > 0.5


@pytest.mark.parametrize("kwargs", [{"cd_steps": 1}, {"cd_steps": 5}, {"persistent": True, "n_chains": 50}])
def test_exact_log_likelihood_rises_under_training(kwargs):
    x = _toy_data()
    model = R.BernoulliRBM(8, 4, seed=0, **kwargs)
    start = R.log_likelihood(model, x).mean()
    model.compile(optimizer=keras.optimizers.SGD(0.1), steps_per_execution=steps_per_execution(10))
    model.fit(x, epochs=10, batch_size=20, verbose=0)
    assert R.log_likelihood(model, x).mean() > start + 1.0
    if kwargs.get("persistent"):
        assert keras.ops.convert_to_numpy(model.persistent_chains).any()


def test_ais_matches_the_exact_log_partition():
    model = _random_rbm(10, 12, scale=0.5)
    base = R.base_rate_visible_bias(_toy_data(n_visible=10))
    log_z, spread = R.ais_log_partition(model, base, n_chains=100, n_betas=1000)
    assert log_z == pytest.approx(R.log_partition(model), abs=0.1)
    assert spread < 1.0


def test_ais_log_weights_and_effective_sample_size():
    model = _random_rbm(10, 12, scale=0.5)
    base = R.base_rate_visible_bias(_toy_data(n_visible=10))
    log_z, log_weights = R.ais_log_partition(model, base, n_chains=50, n_betas=200, return_log_weights=True)
    assert log_weights.shape == (50,)
    assert log_z == pytest.approx(R.ais_log_partition(model, base, n_chains=50, n_betas=200)[0])
    assert R.effective_sample_size(np.zeros(8)) == pytest.approx(8.0)
    assert R.effective_sample_size([0.0, -1000.0, -1000.0]) == pytest.approx(1.0)
    assert 1.0 <= R.effective_sample_size(log_weights) <= 50.0


def _copies_brute_force(model, r, s):
    """log p(v, every visible copy = v) by enumerating all copies of both layers."""
    w, b, c = (np.asarray(keras.ops.convert_to_numpy(x), "float64")
               for x in (model.kernel, model.visible_bias, model.hidden_bias))
    d, k = w.shape
    vs = _states(d)
    hs = _states(k * s)
    all_v = _states(d * r)
    def log_p_star(v_copies):   # v_copies: (r, d)
        u = v_copies.sum(axis=0)
        h_sum = hs.reshape(-1, s, k).sum(axis=1)
        return np.log(np.sum(np.exp(u @ b + h_sum @ c + u @ w @ h_sum.T)))
    log_z = np.log(np.sum([np.exp(log_p_star(x.reshape(r, d))) for x in all_v]))
    return np.array([log_p_star(np.tile(v, (r, 1))) for v in vs]) - log_z, vs, log_z


@pytest.mark.parametrize("r,s", [(2, 1), (1, 2)])
def test_copies_free_energy_and_conditionals_match_enumeration(r, s):
    model = _random_rbm(3, 2, visible_copies=r, hidden_copies=s)
    expected, vs, log_z = _copies_brute_force(model, r, s)
    free = keras.ops.convert_to_numpy(model.free_energy(vs)).astype("float64")
    # -F(v) - log Z is log p(all copies = v): the free energy sums every hidden copy out
    np.testing.assert_allclose(-free - log_z, expected, atol=1e-5)
    w, b, c = (np.asarray(keras.ops.convert_to_numpy(x), "float64")
               for x in (model.kernel, model.visible_bias, model.hidden_bias))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.hidden_probabilities(vs)),
                               1 / (1 + np.exp(-(r * vs @ w + c))), rtol=1e-5)
    with pytest.raises(ValueError, match="copies"):
        R.log_partition(model)


def test_copies_gibbs_step_draws_sums_of_independent_copies():
    model = _random_rbm(3, 2, visible_copies=2)
    v = np.tile(np.array([[1.0, 0.0, 1.0]], "float32"), (4000, 1))
    samples = keras.ops.convert_to_numpy(model.gibbs_step(2 * v))
    assert set(np.unique(samples)) <= {0.0, 1.0, 2.0}
    w, b, c = (np.asarray(keras.ops.convert_to_numpy(x), "float64")
               for x in (model.kernel, model.visible_bias, model.hidden_bias))
    sigmoid = lambda x: 1 / (1 + np.exp(-x))
    p_h = sigmoid(2 * v[0] @ w + c)
    hs = _states(2)
    p_hs = np.prod(np.where(hs == 1, p_h, 1 - p_h), axis=1)
    expected = 2 * (p_hs @ sigmoid(hs @ w.T + b))          # E[sum of two copies] = 2 E[p(v|h)]
    np.testing.assert_allclose(samples.mean(axis=0), expected, atol=0.06)


def test_weight_decay_adds_the_l2_penalty_on_weights_only():
    plain, decayed = _random_rbm(4, 3, seed=0), _random_rbm(4, 3, seed=0, weight_decay=0.1)
    x = _toy_data(n=8, n_visible=4)
    plain_loss = keras.ops.convert_to_numpy(plain.free_energy(x)).mean()
    w = keras.ops.convert_to_numpy(decayed.kernel)
    copy = _random_rbm(4, 3, seed=0, weight_decay=0.1, cd_steps=1)
    assert copy.get_config()["weight_decay"] == 0.1
    # the penalty is the only difference between the two losses on the same negative samples
    neg = x[::-1]
    penalty = 0.5 * 0.1 * np.sum(w ** 2)
    gap = lambda m: (keras.ops.convert_to_numpy(m.free_energy(x)).mean()
                     - keras.ops.convert_to_numpy(m.free_energy(neg)).mean())
    assert gap(decayed) == pytest.approx(gap(plain), rel=1e-5)
    decayed.negative_samples = lambda v: keras.ops.convert_to_tensor(neg)
    plain.negative_samples = lambda v: keras.ops.convert_to_tensor(neg)
    loss_gap = (keras.ops.convert_to_numpy(decayed.contrastive_divergence_loss(x))
                - keras.ops.convert_to_numpy(plain.contrastive_divergence_loss(x)))
    assert loss_gap == pytest.approx(penalty, rel=1e-4)
    assert plain_loss == pytest.approx(keras.ops.convert_to_numpy(decayed.free_energy(x)).mean(), rel=1e-6)


def test_enumeration_refuses_large_models():
    with pytest.raises(ValueError, match="at most 20 units"):
        R.log_partition(R.BernoulliRBM(30, 25))
    with pytest.raises(ValueError, match="at most 20 units"):
        R.exact_gradient(R.BernoulliRBM(30, 5), np.zeros((2, 30)))


def test_bad_arguments_and_shapes_raise():
    with pytest.raises(ValueError, match="Received: n_hidden=0"):
        R.BernoulliRBM(4, 0)
    with pytest.raises(ValueError, match="Received: cd_steps=1.5"):
        R.BernoulliRBM(4, 2, cd_steps=1.5)
    with pytest.raises(ValueError, match=r"shape \(batch, 4\)"):
        R.BernoulliRBM(4, 2).free_energy(np.zeros((3, 5)))


def test_reconstruct_and_transform():
    model = _random_rbm()
    v = _states(5)
    h = keras.ops.convert_to_numpy(model.transform(v))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.reconstruct(v)),
                               keras.ops.convert_to_numpy(model.visible_probabilities(h)), rtol=1e-6)
    np.testing.assert_allclose(model.predict(v, verbose=0), keras.ops.convert_to_numpy(model.reconstruct(v)),
                               rtol=1e-6)


@pytest.mark.parametrize("persistent", [False, True])
def test_save_and_reload(tmp_path, persistent):
    x = _toy_data()
    model = R.BernoulliRBM(8, 4, cd_steps=2, persistent=persistent, n_chains=10, seed=3)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.fit(x, epochs=1, batch_size=50, verbose=0)
    model.save(tmp_path / "rbm.keras")
    reloaded = keras.saving.load_model(tmp_path / "rbm.keras")
    assert isinstance(reloaded, R.BernoulliRBM)
    assert (reloaded.cd_steps, reloaded.persistent) == (2, persistent)
    for a, b in zip(R.parameters(model), R.parameters(reloaded)):
        np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(R.log_likelihood(reloaded, x), R.log_likelihood(model, x))
    if persistent:
        np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded.persistent_chains),
                                   keras.ops.convert_to_numpy(model.persistent_chains))


def test_exact_log_likelihood_callback_records_every_epoch():
    x = _toy_data()
    model = R.BernoulliRBM(8, 4, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    history = model.fit(x, epochs=3, batch_size=50, verbose=0,
                        callbacks=[R.ExactLogLikelihood(train_ll=x, half_ll=x[:300])])
    assert len(history.history["train_ll"]) == 3
    assert history.history["train_ll"][-1] == pytest.approx(R.log_likelihood(model, x).mean(), rel=1e-6)
    with pytest.raises(ValueError, match="at least one data set"):
        R.ExactLogLikelihood()


def test_exact_training_step_is_the_exact_gradient():
    """Autodiff of mean F(v) + log Z (keras.ops enumeration) against the closed-form gradient (NumPy)."""
    model = _random_rbm(8, 4, scale=0.3, exact=True)
    x = _toy_data(n=200)
    before = [w.copy() for w in R.parameters(_as_plain(model))]
    exact = R.exact_gradient(_as_plain(model), x)
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    model.fit(x, epochs=1, batch_size=len(x), verbose=0)
    after = R.parameters(_as_plain(model))
    for a, b, g in zip(after, before, exact):
        np.testing.assert_allclose(a - b, 0.01 * g, atol=2e-6)
    log_z = keras.ops.convert_to_numpy(model.exact_log_partition())
    assert float(log_z) == pytest.approx(R.log_partition(_as_plain(model)), abs=1e-4)


def _as_plain(model):
    return tuple(np.asarray(keras.ops.convert_to_numpy(w), "float64")
                 for w in (model.kernel, model.visible_bias, model.hidden_bias))


@pytest.mark.parametrize("r,s", [(2, 1), (1, 2)])
def test_exact_log_partition_with_copies_matches_enumeration(r, s):
    model = _random_rbm(3, 2, visible_copies=r, hidden_copies=s, exact=True)
    _, _, log_z = _copies_brute_force(model, r, s)
    assert float(keras.ops.convert_to_numpy(model.exact_log_partition())) == pytest.approx(log_z, abs=1e-4)
    with pytest.raises(ValueError, match="one copy of one layer"):
        R.BernoulliRBM(3, 2, visible_copies=2, hidden_copies=2, exact=True)


def test_logsumexp_matches_scipy_over_all_entries_and_along_an_axis():
    from scipy.special import logsumexp
    values = np.random.default_rng(0).normal(size=(5, 7)) * 300   # large: a naive exp overflows
    assert np.isclose(R._logsumexp(values), logsumexp(values))
    np.testing.assert_allclose(R._logsumexp(values, axis=0), logsumexp(values, axis=0))
    np.testing.assert_allclose(R._logsumexp(values, axis=1), logsumexp(values, axis=1))
