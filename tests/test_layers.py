"""Layers: hand-checkable values, contracts (weights, shapes, counts, summary), activations vs NumPy, dropout,
L2 regularisation, initializer statistics, seeding, and invalid configurations.

Float64 models are compared with rtol 1e-12 / atol 1e-13; float32 with rtol 1e-5 / atol 1e-6.
"""
import math
import re

import numpy as np
import pytest

import pydl
from pydl import layers, optimizers, regularizers
from helpers import check, erf, fd_check_kernel

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def model_of(*ls, input_shape=(2,), dtype="float64", seed=0):
    return pydl.Sequential([layers.Input(input_shape), *ls], seed=seed, dtype=dtype)


# ---- Dense: a 2x2 case by hand ---------------------------------------------------------------------------------
def test_dense_2x2_by_hand():
    m = model_of(layers.Dense(2))
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([0.5, -1.0])
    m.set_weights([W, b])
    x = np.array([[1.0, 1.0], [2.0, -1.0]])
    # [1,1] @ W + b = [4, 6] + b = [4.5, 5];  [2,-1] @ W + b = [-1, 0] + b = [-0.5, -1]
    check(m.predict(x), np.array([[4.5, 5.0], [-0.5, -1.0]]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_2x2_relu_and_sigmoid(dtype):
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([0.5, -1.0])
    x = np.array([[1.0, 1.0], [2.0, -1.0]])
    m = model_of(layers.Dense(2, activation="relu"), dtype=dtype)
    m.set_weights([W, b])
    check(m.predict(x), np.array([[4.5, 5.0], [0.0, 0.0]], dtype=dtype))
    m = model_of(layers.Dense(2, activation="sigmoid"), dtype=dtype)
    m.set_weights([W, b])
    z = np.array([[4.5, 5.0], [-0.5, -1.0]])
    check(m.predict(x), (1 / (1 + np.exp(-z))).astype(dtype))


def test_dense_no_bias_and_batched_input():
    m = model_of(layers.Dense(4, use_bias=False), input_shape=(5, 3))
    (W,) = m.get_weights()
    assert W.shape == (3, 4)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    out = m.predict(x)
    check(out, x @ W)
    assert m.count_params() == 12


def test_dense_random_vs_numpy_float32_and_batch_size():
    r = np.random.default_rng(1)
    m = model_of(layers.Dense(7, activation="tanh"), layers.Dense(3), input_shape=(5,), dtype="float32")
    W1, b1, W2, b2 = [w.astype(np.float64) for w in m.get_weights()]
    x = r.standard_normal((50, 5)).astype(np.float32)
    ref = np.tanh(x @ W1 + b1) @ W2 + b2
    check(m.predict(x), ref.astype(np.float32), atol=1e-5)
    check(m.predict(x, batch_size=7), ref.astype(np.float32), atol=1e-5)


# ---- contracts -----------------------------------------------------------------------------------------------
def test_weights_shapes_counts_and_summary():
    m = pydl.Sequential([layers.Input(4), layers.Dense(3, activation="relu", name="hidden"), layers.Dropout(0.5),
                         layers.Activation("tanh"), layers.Dense(2, use_bias=False), layers.Dense(5)], seed=1)
    ws = m.get_weights()
    assert [w.shape for w in ws] == [(4, 3), (3,), (3, 2), (2, 5), (5,)]
    assert all(w.dtype == np.float32 for w in ws)
    assert [len(l.get_weights()) for l in m.layers] == [2, 0, 0, 1, 2]
    assert m.count_params() == 4 * 3 + 3 + 3 * 2 + 2 * 5 + 5 == 36
    assert m.predict(np.zeros((7, 4))).shape == (7, 5)
    assert [l.name for l in m.layers] == ["hidden", "dropout", "activation", "dense", "dense_1"]
    lines = []
    m.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for name, typ, shape, count in (("hidden", "Dense", "(None, 3)", 15), ("dropout", "Dropout", "(None, 3)", 0),
                                    ("activation", "Activation", "(None, 3)", 0), ("dense", "Dense", "(None, 2)", 6),
                                    ("dense_1", "Dense", "(None, 5)", 15)):
        assert re.search(rf"^{name} \({typ}\)\s+{re.escape(shape)}\s+{count}$", text, re.M), (name, text)
    assert re.search(r"Total params: 36\b", text) and re.search(r"Trainable params: 36\b", text)
    assert re.search(r"Non-trainable params: 0\b", text)


def test_get_weights_returns_copies_and_set_weights_validates():
    m = model_of(layers.Dense(3))
    W, b = m.get_weights()
    W[:] = 123.0
    assert not np.any(m.get_weights()[0] == 123.0)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        m.set_weights([np.zeros((3, 2)), b])
    with pytest.raises(ValueError, match="2 weights, received 1"):
        m.layers[0].set_weights([W])
    with pytest.raises(ValueError, match="left over"):
        m.set_weights([W, b, b])


def test_non_trainable_layer_keeps_weights():
    m = model_of(layers.Dense(3, trainable=False, name="frozen"), layers.Dense(1))
    m.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    before = m.get_weights()
    x, y = np.random.default_rng(0).standard_normal((8, 2)), np.ones((8, 1))
    m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    after = m.get_weights()
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    assert np.max(np.abs(after[2] - before[2])) > 1e-4
    lines = []
    m.summary(print_fn=lines.append)
    assert re.search(r"Non-trainable params: 9\b", "\n".join(lines))


# ---- activations by name -------------------------------------------------------------------------------------
def _sig(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


ACTIVATIONS = {
    "linear": lambda z: z, "relu": lambda z: np.maximum(z, 0), "sigmoid": _sig, "tanh": np.tanh,
    "softmax": _softmax, "log_softmax": lambda z: np.log(_softmax(z)),
    "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(z)),
    "gelu": lambda z: 0.5 * z * (1 + erf(z / math.sqrt(2))),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "softplus": lambda z: np.logaddexp(0, z), "softsign": lambda z: z / (1 + np.abs(z)),
    "swish": lambda z: z * _sig(z), "silu": lambda z: z * _sig(z),
    "hard_sigmoid": lambda z: np.clip(z + 3, 0, 6) / 6, "relu6": lambda z: np.clip(z, 0, 6),
    "exponential": np.exp,
    "hard_swish": lambda z: z * np.clip(z + 3, 0, 6) / 6, "hard_silu": lambda z: z * np.clip(z + 3, 0, 6) / 6,
    "mish": lambda z: z * np.tanh(np.logaddexp(0, z)),
    "gelu_tanh": lambda z: 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3))),
    "hard_sigmoid_keras2": lambda z: np.clip(0.2 * z + 0.5, 0, 1),     # Keras 2's; "hard_sigmoid" is Keras 3's
}


def test_activation_table_covers_every_name():
    assert set(ACTIVATIONS) == layers._ACTIVATIONS


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_dense_activation_by_name(name, dtype):
    r = np.random.default_rng(2)
    m = model_of(layers.Dense(4, activation=name), input_shape=(3,), dtype=dtype)
    W, b = r.standard_normal((3, 4)) * 2, r.standard_normal(4)
    m.set_weights([W, b])
    x = r.standard_normal((6, 3)) * 2
    z = x.astype(dtype).astype(np.float64) @ W.astype(dtype).astype(np.float64) + b.astype(dtype)
    check(m.predict(x), ACTIVATIONS[name](z).astype(dtype), atol=1e-5 if dtype == "float32" else None,
          what=name)
    assert m.layers[0].get_config()["activation"] == name


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_layer_by_name(name):
    x = np.random.default_rng(3).uniform(-7, 7, (5, 4))
    m = model_of(layers.Activation(name), input_shape=(4,))
    assert m.get_weights() == [] and m.count_params() == 0
    check(m.predict(x), ACTIVATIONS[name](x), what=name)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradient_by_central_differences(name):
    r = np.random.default_rng(11)
    m = model_of(layers.Dense(5, name="d"), layers.Activation(name), input_shape=(4,))
    x = r.standard_normal((6, 4)) * 2          # pre-activations of a few units: the clipped ranges are reached
    fd_check_kernel(m, x, r.standard_normal((6, 5)), "d", [(0, 0), (1, 3), (3, 4)])


def test_activation_none_is_linear_and_names_are_case_insensitive():
    assert layers.Dense(2).activation == "linear" and layers.Dense(2, activation=None).activation == "linear"
    x = np.random.default_rng(4).standard_normal((3, 2))
    check(model_of(layers.Activation("ReLU")).predict(x), np.maximum(x, 0))


# ---- dropout -------------------------------------------------------------------------------------------------
def test_dropout_inactive_in_predict_and_evaluate():
    m = model_of(layers.Dense(3), layers.Dropout(0.9), input_shape=(4,))
    W, b = m.get_weights()
    x = np.random.default_rng(5).standard_normal((20, 4))
    check(m.predict(x), x @ W + b)
    check(m.predict(x), m.predict(x), rtol=0, atol=0)
    m.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    y = np.zeros((20, 3))
    assert m.evaluate(x, y, batch_size=20) == pytest.approx(np.mean((x @ W + b) ** 2), rel=1e-12)


def test_dropout_active_in_fit():
    # lr = 0: weights never change, so any difference between the training loss and evaluate's is dropout's
    m = model_of(layers.Dense(3), layers.Dropout(0.5), input_shape=(4,))
    m.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    x = np.random.default_rng(6).standard_normal((512, 4))
    y = np.zeros((512, 3))
    clean = m.evaluate(x, y, batch_size=512)
    h = m.fit(x, y, epochs=3, batch_size=512, shuffle=False, verbose=0)
    losses = h.history["loss"]
    # E[(mask*z)^2] = z^2 / (1 - rate) = 2 z^2: the training loss is about twice the clean one (the ratio's
    # std is ~0.1 for 1536 values)
    assert all(abs(l / clean - 2.0) < 0.5 for l in losses), (losses, clean)
    assert len(set(losses)) == 3, "each step draws a new mask"


# ---- L2 regularisation ---------------------------------------------------------------------------------------
def _mse_grads(W, b, x, y):
    d = x @ W + b - y
    c = 2.0 / d.size
    return c * x.T @ d, c * d.sum(0)


@pytest.mark.parametrize("kernel_l2,bias_l2", [(0.1, 0.0), (0.0, 0.2), (0.05, 0.3)])
def test_l2_adds_exactly_l2_sum_w2_to_the_training_loss(kernel_l2, bias_l2):
    # The training objective is mse + l2 * sum(w^2): one SGD step moves w by -lr * (dmse/dw + 2 * l2 * w).
    r = np.random.default_rng(7)
    m = model_of(layers.Dense(2, kernel_regularizer=regularizers.l2(kernel_l2) if kernel_l2 else None,
                              bias_regularizer=regularizers.l2(bias_l2) if bias_l2 else None,
                              bias_initializer="ones"), input_shape=(3,))
    m.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    W, b = m.get_weights()
    x, y = r.standard_normal((6, 3)), r.standard_normal((6, 2))
    m.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)
    gW, gb = _mse_grads(W, b, x, y)
    W1, b1 = m.get_weights()
    check(W1, W - 0.1 * (gW + 2 * kernel_l2 * W))
    check(b1, b - 0.1 * (gb + 2 * bias_l2 * b))
    cfg = m.layers[0].get_config()
    assert cfg.get("kernel_regularizer") == ({"class_name": "L2", "config": {"l2": kernel_l2}} if kernel_l2 else None)


def test_evaluate_includes_regularisation():
    # like Keras: evaluate's loss is the data loss plus the penalty; the same model without l2 lacks the penalty
    r = np.random.default_rng(8)
    x, y = r.standard_normal((6, 3)), r.standard_normal((6, 2))
    a = model_of(layers.Dense(2, kernel_regularizer=regularizers.l2(0.5)), input_shape=(3,), seed=3)
    b = model_of(layers.Dense(2), input_shape=(3,), seed=3)
    for m in (a, b):
        m.compile(optimizer="sgd", loss="mse")
    W, bias = a.get_weights()
    data_loss = np.mean((x @ W + bias - y) ** 2)
    assert a.evaluate(x, y) == pytest.approx(data_loss + 0.5 * np.sum(W ** 2), rel=1e-12)
    assert b.evaluate(x, y) == pytest.approx(data_loss, rel=1e-12)


# Like Keras, the loss that fit reports (and evaluate returns) includes the regularisation penalty it trains on.
def test_fit_history_loss_includes_l2_penalty():
    r = np.random.default_rng(9)
    x, y = r.standard_normal((6, 3)), r.standard_normal((6, 2))
    m = model_of(layers.Dense(2, kernel_regularizer=regularizers.l2(0.5)), input_shape=(3,))
    m.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    W, b = m.get_weights()
    h = m.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)
    want = np.mean((x @ W + b - y) ** 2) + 0.5 * np.sum(W ** 2)
    assert h.history["loss"][0] == pytest.approx(want, rel=1e-12)
    assert m.evaluate(x, y) == pytest.approx(want, rel=1e-12)  # SGD(0.0): weights unchanged by fit


# ---- initializers --------------------------------------------------------------------------------------------
FAN_IN, FAN_OUT = 400, 300


def _kernel(init, seed=0, dtype="float64"):
    m = model_of(layers.Dense(FAN_OUT, kernel_initializer=init), input_shape=(FAN_IN,), seed=seed, dtype=dtype)
    return m.get_weights()[0]


def test_glorot_uniform_bounds_and_variance():
    w = _kernel("glorot_uniform")
    limit = math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert w.shape == (FAN_IN, FAN_OUT)
    assert np.all(np.abs(w) <= limit) and np.max(np.abs(w)) > 0.999 * limit
    assert abs(w.mean()) < 0.01 * limit  # std of the mean: limit/sqrt(3*120000) ~ 0.0017 limit
    assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.02)
    # uniform: a quarter of the values in each quarter of [-limit, limit]
    hist = np.histogram(w, bins=4, range=(-limit, limit))[0] / w.size
    np.testing.assert_allclose(hist, 0.25, atol=0.01)


def test_he_uniform_bounds():
    w = _kernel("he_uniform")
    limit = math.sqrt(6 / FAN_IN)
    assert np.all(np.abs(w) <= limit) and np.max(np.abs(w)) > 0.999 * limit
    assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.02)


@pytest.mark.parametrize("init,std", [("he_normal", math.sqrt(2 / FAN_IN)),
                                      ("glorot_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
                                      ("lecun_normal", math.sqrt(1 / FAN_IN))])
def test_truncated_normal_std(init, std):
    # Keras: a normal of stddev std / 0.8796 truncated at 2 of its stddevs, so the result has stddev std
    w = _kernel(init)
    bound = 2 * std / 0.87962566103423978
    assert np.all(np.abs(w) <= bound) and np.max(np.abs(w)) > 0.99 * bound
    assert abs(w.mean()) < 0.01 * std
    assert w.std() == pytest.approx(std, rel=0.01)  # std error of the std estimate ~ 0.2% here
    # shape of a normal truncated at +-2 sigma: P(|z| < 1 | |z| < 2) = 0.6827 / 0.9545 = 0.7153, and
    # P(1.8 < |z| < 2 | |z| < 2) = 0.0276 (std errors ~0.0013 and ~0.0005 for 120000 samples)
    z = np.abs(w) / (bound / 2)
    assert np.mean(z < 1) == pytest.approx(math.erf(1 / math.sqrt(2)) / math.erf(math.sqrt(2)), abs=0.007)
    tail = (math.erf(math.sqrt(2)) - math.erf(1.8 / math.sqrt(2))) / math.erf(math.sqrt(2))
    assert np.mean(z > 1.8) == pytest.approx(tail, abs=0.003)


def test_random_normal_uniform_zeros_ones():
    w = _kernel("random_normal")
    assert w.std() == pytest.approx(0.05, rel=0.01) and abs(w.mean()) < 0.001
    assert np.max(np.abs(w)) > 3 * 0.05  # not truncated
    w = _kernel("random_uniform")
    assert np.all(np.abs(w) <= 0.05) and np.max(np.abs(w)) > 0.0499
    np.testing.assert_array_equal(_kernel("zeros"), 0.0)
    np.testing.assert_array_equal(_kernel("ones"), 1.0)


def test_bias_initializer():
    m = model_of(layers.Dense(1000, bias_initializer="ones"), input_shape=(3,))
    np.testing.assert_array_equal(m.get_weights()[1], 1.0)
    m = model_of(layers.Dense(1000), input_shape=(3,))
    np.testing.assert_array_equal(m.get_weights()[1], 0.0)
    # 1-D: fan_in = fan_out = 1000 (Keras compute_fans)
    m = model_of(layers.Dense(1000, bias_initializer="glorot_uniform"), input_shape=(3,))
    b = m.get_weights()[1]
    limit = math.sqrt(6 / 2000)
    assert np.all(np.abs(b) <= limit) and np.max(np.abs(b)) > 0.99 * limit


def test_float32_weights_are_the_float64_weights_rounded():
    np.testing.assert_array_equal(_kernel("he_normal", dtype="float32"),
                                  _kernel("he_normal", dtype="float64").astype(np.float32))


# ---- seeds ---------------------------------------------------------------------------------------------------
def _weights(seed):
    m = pydl.Sequential([layers.Input(5), layers.Dense(8, bias_initializer="random_normal"), layers.Dense(8),
                         layers.Dense(8)], seed=seed)
    return m.get_weights()


def test_same_seed_same_weights_different_seed_different():
    a, b, c = _weights(42), _weights(42), _weights(43)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert all(not np.array_equal(u, v) for u, v in zip(a, c) if np.any(u))


def test_layers_of_one_model_get_different_weights():
    w = _weights(0)
    k1, k2 = w[2], w[4]  # two (8, 8) kernels
    assert not np.allclose(k1, k2)
    assert abs(np.corrcoef(k1.ravel(), k2.ravel())[0, 1]) < 0.5


# ---- invalid configurations ----------------------------------------------------------------------------------
INVALID = [
    (lambda: layers.Dense(0), "units=0"),
    (lambda: layers.Dense(-1), "units=-1"),
    (lambda: layers.Dense("a"), "units='a'"),
    (lambda: layers.Dense(2.5), "units=2.5"),
    (lambda: layers.Dense(True), "units=True"),
    (lambda: layers.Dense(2, activation="foo"), "activation='foo'"),
    (lambda: layers.Dense(2, activation=3), "activation=3"),
    (lambda: layers.Dense(2, kernel_initializer="bar"), "kernel_initializer='bar'"),
    (lambda: layers.Dense(2, bias_initializer="nope"), "bias_initializer='nope'"),
    (lambda: layers.Dense(2, input_shape=(0,)), "shape=(0,)"),
    (lambda: layers.Dropout(1.0), "rate=1.0"),
    (lambda: layers.Dropout(-0.1), "rate=-0.1"),
    (lambda: layers.Dropout("0.5"), "rate='0.5'"),
    (lambda: layers.Dropout(float("nan")), "rate=nan"),
    (lambda: layers.Activation("foo"), "activation='foo'"),
    (lambda: layers.Input((3, -1)), "shape=(3, -1)"),
    (lambda: layers.Input(0), "shape=(0,)"),
    (lambda: layers.Input(()), "shape=()"),
    (lambda: layers.Input("x"), "shape='x'"),
    (lambda: layers.Input(2.5), "shape=2.5"),
    (lambda: layers.Input((2.5, 3)), "shape=(2.5, 3)"),
    (lambda: layers.Dense(2, name="a/b"), "name='a/b'"),
    (lambda: regularizers.l2(-0.1), "l2=-0.1"),
    (lambda: regularizers.l2(float("inf")), "l2=inf"),
    (lambda: regularizers.l2("x"), "l2='x'"),
]


@pytest.mark.parametrize("make,received", INVALID, ids=[r for _, r in INVALID])
def test_invalid_config_raises_with_received_value(make, received):
    with pytest.raises(ValueError) as e:
        make()
    assert received in str(e.value), str(e.value)


def test_duplicate_layer_names_and_unsupported_regularizer():
    with pytest.raises(ValueError, match="'x'"):
        pydl.Sequential([layers.Input(2), layers.Dense(2, name="x"), layers.Dense(2, name="x")]).build()

    class L1:
        l1 = 0.1

    with pytest.raises(ValueError, match="regularizer"):
        model_of(layers.Dense(2, kernel_regularizer=L1())).build()


# ---- the layers Keras's applications define: ConvNeXt's LayerScale, InceptionResNetV2's CustomScaleLayer ----------
def test_layer_scale_by_hand_trains_and_round_trips(tmp_path):
    ls = layers.LayerScale(1e-6, 3, name="ls")
    m = model_of(ls, input_shape=(2, 3))
    m.build()
    (g,) = ls.get_weights()
    np.testing.assert_array_equal(g, np.full(3, 1e-6))                 # Keras: Constant(init_values)
    assert str(ls._java.parameters()[0].name) == "ls/gamma"
    ls.set_weights([np.array([1.0, -2.0, 0.5])])
    x = np.arange(12.0).reshape(2, 2, 3)
    np.testing.assert_allclose(m.predict(x), x * np.array([1.0, -2.0, 0.5]), rtol=1e-12)
    m.compile("sgd", loss="mse")
    m.fit(x, np.zeros_like(x), epochs=1, verbose=0)
    assert not np.allclose(ls.get_weights()[0], [1.0, -2.0, 0.5])        # gamma is trainable
    m.save(tmp_path / "ls.pydl")
    np.testing.assert_array_equal(pydl.load(tmp_path / "ls.pydl").predict(x), m.predict(x))


def test_custom_scale_layer_by_hand_and_round_trip(tmp_path):
    a, b = layers.Input((2, 2)), layers.Input((2, 2))
    m = pydl.Model([a, b], layers.CustomScaleLayer(0.25, name="cs")([a, b]), dtype="float64")
    x, r = np.ones((1, 2, 2)), np.arange(4.0).reshape(1, 2, 2)
    np.testing.assert_allclose(m.predict([x, r]), x + 0.25 * r, rtol=1e-12)       # x + residual * scale
    m.save(tmp_path / "cs.pydl")
    np.testing.assert_array_equal(pydl.load(tmp_path / "cs.pydl").predict([x, r]), m.predict([x, r]))


def test_layer_scale_and_custom_scale_errors():
    with pytest.raises(ValueError, match="LayerScale layer 'ls'.*projection_dim=4.*\\(None, 2, 3\\)"):
        model_of(layers.LayerScale(1e-6, 4, name="ls"), input_shape=(2, 3)).build()
    with pytest.raises(ValueError, match="LayerScale: projection_dim must be a positive int. Received: "
                                         "projection_dim=0"):
        layers.LayerScale(1e-6, 0)
    with pytest.raises(ValueError, match="CustomScaleLayer: scale must be a finite number. Received: scale='x'"):
        layers.CustomScaleLayer("x")
    a, b = layers.Input((2, 2)), layers.Input((2, 3))
    with pytest.raises(ValueError, match="CustomScaleLayer layer 'cs'.*one shape.*\\(None, 2, 2\\), \\(None, 2, 3\\)"):
        pydl.Model([a, b], layers.CustomScaleLayer(0.5, name="cs")([a, b]))
