"""Regularizers (L1, L2, L1L2, activity_regularizer) and constraints (MaxNorm, NonNeg, UnitNorm, MinMaxNorm) on any
layer: penalties vs NumPy in evaluate's loss, gradients by central differences (float64), constraints applied
after each optimizer step vs NumPy formulas written here, Keras identifiers and configs, model-file round trip,
and invalid options."""
import numpy as np
import pytest

import pydl
from pydl import constraints, layers, optimizers, regularizers

from helpers import fd_check_kernel


def penalty(w, l1=0.0, l2=0.0):
    return l1 * np.abs(w).sum() + l2 * np.square(w).sum()


def seq(*ls, shape, seed=0):
    return pydl.Sequential([layers.Input(shape), *ls], dtype="float64", seed=seed)


# ---- identifiers ------------------------------------------------------------------------------------------------
def test_keras_identifiers_and_defaults():
    assert regularizers.get("l1") == regularizers.L1(0.01)
    assert regularizers.get("l2") == regularizers.L2(0.01)
    assert regularizers.get("l1_l2") == regularizers.L1L2(0.0, 0.0)       # Keras 3's L1L2 defaults
    assert regularizers.l1_l2(l1=0.1).get_config() == {"l1": 0.1, "l2": 0.0}
    assert regularizers.get({"class_name": "L1L2", "config": {"l1": 0.2, "l2": 0.3}}) == regularizers.L1L2(0.2, 0.3)
    assert regularizers.serialize(regularizers.l1(0.5)) == {"class_name": "L1", "config": {"l1": 0.5}}
    assert constraints.get("max_norm") == constraints.MaxNorm(2, 0)
    assert constraints.get("non_neg") == constraints.NonNeg()
    assert constraints.get({"class_name": "MinMaxNorm", "config": {"min_value": 0.5, "max_value": 2.0,
                                                                   "rate": 0.5, "axis": [0, 1]}}) \
        == constraints.min_max_norm(0.5, 2.0, 0.5, [0, 1])
    assert constraints.serialize(constraints.unit_norm(1)) == {"class_name": "UnitNorm", "config": {"axis": 1}}


# ---- weight penalties -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reg, l1, l2", [
    (regularizers.l1(0.3), 0.3, 0.0), (regularizers.l2(0.2), 0.0, 0.2), (regularizers.l1_l2(0.1, 0.4), 0.1, 0.4),
    ("l1", 0.01, 0.0), ({"class_name": "L1L2", "config": {"l1": 0.05, "l2": 0.02}}, 0.05, 0.02),
])
def test_kernel_penalty_in_loss_and_gradient(reg, l1, l2):
    r = np.random.default_rng(0)
    x, y = r.standard_normal((8, 3)), r.standard_normal((8, 2))
    m = seq(layers.Dense(2, kernel_regularizer=reg, bias_regularizer=regularizers.l1(0.7), bias_initializer="ones",
                         name="d"), shape=(3,))
    plain = seq(layers.Dense(2, name="d"), shape=(3,))
    m.compile(optimizer="sgd", loss="mse")
    plain.compile(optimizer="sgd", loss="mse")
    plain.set_weights(m.get_weights())
    k, b = m.get_weights()
    want = plain.evaluate(x, y, verbose=0) + penalty(k, l1, l2) + penalty(b, l1=0.7)
    assert m.evaluate(x, y, verbose=0) == pytest.approx(want, rel=1e-12)
    fd_check_kernel(m, x, y, "d", [(0, 0), (1, 1), (2, 0)])


@pytest.mark.parametrize("make, weight, key", [
    (lambda: layers.Conv2D(2, 2, kernel_regularizer=regularizers.l1_l2(0.1, 0.2)), 0, "kernel"),
    (lambda: layers.SeparableConv2D(2, 2, pointwise_regularizer=regularizers.l1(0.1)), 1, "pointwise"),
    (lambda: layers.DepthwiseConv2D(2, depthwise_regularizer=regularizers.l2(0.3)), 0, "depthwise"),
    (lambda: layers.BatchNormalization(gamma_regularizer=regularizers.l2(0.5), gamma_initializer="ones"), 0, "gamma"),
])
def test_any_layer_takes_penalties_by_kerass_names(make, weight, key):
    r = np.random.default_rng(1)
    x = r.standard_normal((4, 4, 4, 3))
    layer = make()
    m = seq(layer, layers.Flatten(), shape=(4, 4, 3))
    m.compile(optimizer="sgd", loss="mse")
    y = np.zeros((4, m.predict(x).shape[1]))
    w = m.layers[0].get_weights()[weight]
    cfg = layer.get_config()[f"{key}_regularizer"]
    want = np.mean((m.predict(x) - y) ** 2) + penalty(w, cfg["config"].get("l1", 0), cfg["config"].get("l2", 0))
    assert m.evaluate(x, y, batch_size=4, verbose=0) == pytest.approx(want, rel=1e-10)


def test_recurrent_and_embedding_penalties():
    r = np.random.default_rng(2)
    x = r.integers(0, 10, (5, 6))
    m = seq(layers.Embedding(10, 4, embeddings_regularizer=regularizers.l1(0.2)),
            layers.LSTM(3, recurrent_regularizer=regularizers.l2(0.4), kernel_regularizer=regularizers.l1(0.1)),
            shape=(6,))
    m.compile(optimizer="sgd", loss="mse")
    y = np.zeros((5, 3))
    emb = m.layers[0].get_weights()[0]
    kernel, rec = m.layers[1].get_weights()[:2]
    want = np.mean(m.predict(x) ** 2) + penalty(emb, l1=0.2) + penalty(rec, l2=0.4) + penalty(kernel, l1=0.1)
    assert m.evaluate(x, y, verbose=0) == pytest.approx(want, rel=1e-10)


# ---- activity regularizer -----------------------------------------------------------------------------------------
def test_activity_penalty_is_on_the_batch_output_as_keras3():
    r = np.random.default_rng(3)
    x, y = r.standard_normal((6, 3)), r.standard_normal((6, 2))
    m = seq(layers.Dense(4, activation="tanh", activity_regularizer=regularizers.l1_l2(0.05, 0.1), name="h"),
            layers.Dense(2, name="o"), shape=(3,))
    m.compile(optimizer="sgd", loss="mse")
    h = np.tanh(x @ m.layers[0].get_weights()[0] + m.layers[0].get_weights()[1])
    mse = np.mean((m.predict(x) - y) ** 2)
    # Keras 3 adds regularizer(output) for the whole batch (not divided by the batch size); evaluate averages the
    # per-batch penalties weighted by batch size, as its loss tracker does
    assert m.evaluate(x, y, batch_size=6, verbose=0) == pytest.approx(mse + penalty(h, 0.05, 0.1), rel=1e-12)
    per_batch = (penalty(h[:4], 0.05, 0.1) * 4 + penalty(h[4:], 0.05, 0.1) * 2) / 6
    assert m.evaluate(x, y, batch_size=4, verbose=0) == pytest.approx(mse + per_batch, rel=1e-12)
    fd_check_kernel(m, x, y, "h", [(0, 0), (2, 3)])


def test_activity_penalty_on_fused_softmax_output_and_functional_model():
    r = np.random.default_rng(4)
    x, y = r.standard_normal((5, 3)), r.integers(0, 3, 5)
    inp = layers.Input(3)
    out = layers.Dense(3, activation="softmax", activity_regularizer=regularizers.l2(0.3), name="p")(inp)
    m = pydl.Model(inp, out, dtype="float64")
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    p = m.predict(x)
    ce = np.mean(-np.log(p[np.arange(5), y]))
    assert m.evaluate(x, y, verbose=0) == pytest.approx(ce + penalty(p, l2=0.3), rel=1e-12)
    h = m.fit(x, y, epochs=1, batch_size=5, verbose=0, shuffle=False)
    assert h.history["loss"][0] == pytest.approx(ce + penalty(p, l2=0.3), rel=1e-12)


# ---- constraints --------------------------------------------------------------------------------------------------
EPS = 1e-7


def norms(w, axis):
    return np.sqrt((w * w).sum(axis=tuple(np.atleast_1d(axis)), keepdims=True))


@pytest.mark.parametrize("con, ref", [
    (constraints.max_norm(0.5), lambda w: w * np.clip(norms(w, 0), 0, 0.5) / (EPS + norms(w, 0))),
    (constraints.MaxNorm(max_value=0.7, axis=1), lambda w: w * np.clip(norms(w, 1), 0, 0.7) / (EPS + norms(w, 1))),
    ("non_neg", lambda w: np.where(w >= 0, w, 0.0)),
    (constraints.unit_norm(axis=0), lambda w: w / (EPS + norms(w, 0))),
    (constraints.unit_norm(axis=[0, 1]), lambda w: w / (EPS + norms(w, [0, 1]))),
    (constraints.min_max_norm(0.9, 1.1, rate=0.5), lambda w: w * (0.5 * np.clip(norms(w, 0), 0.9, 1.1)
                                                                  + 0.5 * norms(w, 0)) / (EPS + norms(w, 0))),
])
def test_constraint_applied_after_each_step(con, ref):
    r = np.random.default_rng(5)
    x, y = r.standard_normal((8, 4)), r.standard_normal((8, 3))
    m = seq(layers.Dense(3, kernel_constraint=con, bias_constraint="non_neg", bias_initializer="ones", name="d"),
            shape=(4,))
    m.compile(optimizer=optimizers.SGD(0.5), loss="mse")
    k, b = m.get_weights()
    # one SGD step on the unconstrained objective, then the projection (Keras: constraint after apply_gradients)
    d = 2 * (x @ k + b - y) / y.size
    k1, b1 = k - 0.5 * x.T @ d, b - 0.5 * d.sum(0)
    m.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    got_k, got_b = m.get_weights()
    np.testing.assert_allclose(got_k, ref(k1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_b, np.maximum(b1, 0), rtol=1e-12, atol=1e-14)


def test_prelu_alpha_constraint_and_python_matches_java():
    c = constraints.max_norm(0.1)
    w = np.random.default_rng(6).standard_normal((4, 3))
    np.testing.assert_allclose(c(w), w * np.clip(norms(w, 0), 0, 0.1) / (EPS + norms(w, 0)), rtol=1e-15)
    m = seq(layers.PReLU(alpha_initializer="ones", alpha_constraint=constraints.non_neg()), shape=(3,))
    m.compile(optimizer=optimizers.SGD(10.0), loss="mse")
    m.fit(-np.ones((4, 3)), np.ones((4, 3)), epochs=1, batch_size=4, verbose=0)
    assert np.all(m.get_weights()[0] == 0)    # a large step drives alpha negative; the constraint clips it


# ---- round trip and Java config ------------------------------------------------------------------------------------
def test_round_trip_keeps_options(tmp_path):
    r = np.random.default_rng(7)
    x, y = r.standard_normal((6, 3)), r.standard_normal((6, 2))
    m = seq(layers.Dense(2, kernel_regularizer=regularizers.l1_l2(0.1, 0.2), kernel_constraint=constraints.max_norm(1.5),
                         activity_regularizer="l2", name="d"), shape=(3,))
    m.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    m.fit(x, y, epochs=1, verbose=0)
    m.save(tmp_path / "m.pydl")
    m2 = pydl.load(tmp_path / "m.pydl")
    cfg = m2.get_layer("d").get_config()
    assert cfg["kernel_regularizer"] == {"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}
    assert cfg["kernel_constraint"] == {"class_name": "MaxNorm", "config": {"max_value": 1.5, "axis": 0}}
    assert cfg["activity_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    assert m2.evaluate(x, y, verbose=0) == m.evaluate(x, y, verbose=0)
    h1 = m.fit(x, y, epochs=1, verbose=0, seed=1)
    h2 = m2.fit(x, y, epochs=1, verbose=0, seed=1)
    assert h1.history == h2.history


# ---- invalid options ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, exc, text", [
    (lambda: regularizers.l1(-0.1), ValueError, r"L1: l1 must be .*Received: l1=-0.1"),
    (lambda: regularizers.L1L2(l2=float("nan")), ValueError, "l2=nan"),
    (lambda: regularizers.l2("x"), ValueError, "l2='x'"),
    (lambda: layers.Dense(2, kernel_regularizer="l3"), ValueError, r"Dense: .*kernel_regularizer='l3'.*'l1_l2'"),
    (lambda: layers.Dense(2, bias_constraint="clip"), ValueError, r"Dense: .*bias_constraint='clip'.*max_norm"),
    (lambda: layers.Dense(2, activity_regularizer=3), ValueError, "activity_regularizer=3"),
    (lambda: constraints.max_norm(-1), ValueError, "max_value=-1"),
    (lambda: constraints.min_max_norm(2.0, 1.0), ValueError, r"MinMaxNorm: max_value .*Received: max_value=1.0"),
    (lambda: constraints.min_max_norm(rate=1.5), ValueError, "rate=1.5"),
    (lambda: constraints.unit_norm(axis="0"), ValueError, "axis='0'"),
])
def test_invalid_options(make, exc, text):
    with pytest.raises(exc, match=text):
        make()


@pytest.mark.parametrize("layer, shape, text", [
    (lambda: layers.Flatten(kernel_regularizer="l2"), (2, 3), r"Flatten layer 'flatten': has no weight for "
                                                               r"kernel_regularizer.*no regularizers"),
    (lambda: layers.Dense(2, recurrent_constraint="non_neg"), (3,), r"Dense .*recurrent_constraint.*only "
                                                                    r"bias_regularizer / bias_constraint, kernel_"),
    (lambda: layers.Dense(2, kernel_constraint=constraints.unit_norm(axis=3)), (3,), "UnitNorm: axis=3"),
])
def test_invalid_for_the_layer(layer, shape, text):
    m = seq(layer(), shape=shape)
    with pytest.raises(ValueError, match=text):
        m.compile(optimizer="sgd", loss="mse")
        m.fit(np.ones((2, *shape)), np.ones((2, *m.layers[0]._java.outputShape())), verbose=0)
