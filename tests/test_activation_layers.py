"""Activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax), the activations hard_swish / hard_silu / mish, and the
noise layers (GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D/2D/3D): forward passes vs NumPy
references of Keras 3's formulas, weight shapes, training-only noise (statistics over large arrays), determinism
for a model seed, the model file, and invalid configurations.

Training-mode forward passes call the Java layer directly with a ``Layer.Context(training=True, seed)``.
"""
import itertools
import math

import jpype
import numpy as np
import pytest

import pydl
from pydl import _array, layers, optimizers, regularizers
from helpers import check

ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


def model_of(*ls, input_shape=(2,), dtype="float64", seed=0):
    return pydl.Sequential([layers.Input(input_shape), *ls], seed=seed, dtype=dtype)


def train_forward(model, x, seed=0, index=0):
    """The layer's forward pass in training mode (noise on), as fit runs it."""
    model.build()
    ctx = jpype.JClass("org.pydl.nn.Layer$Context")(True, int(seed))
    xj = _array.to_java(np.asarray(x), model.dtype)
    out = model.layers[index]._java.forward(xj, ctx)
    return np.array(_array.to_numpy(out))


def _sig(z):
    return 1 / (1 + np.exp(-z))


# ---- NumPy references -----------------------------------------------------------------------------------------
def relu_ref(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras 3 activations.relu, step by step."""
    if negative_slope != 0 and max_value is None and threshold == 0:
        return np.where(x > 0, x, negative_slope * x)
    neg = np.maximum(threshold - x, 0) if negative_slope != 0 else None
    clip = max_value is not None
    if threshold != 0:
        y = x * (x > threshold)
    elif max_value == 6:
        y, clip = np.clip(x, 0, 6), False
    else:
        y = np.maximum(x, 0)
    if clip:
        y = np.clip(y, 0, max_value)
    if neg is not None:
        y = y - negative_slope * neg
    return y


def relu_piecewise(x, negative_slope, max_value, threshold):
    """Keras's documented piecewise definition (equal to relu_ref off x == threshold when max_value >= threshold)."""
    hi = np.inf if max_value is None else max_value
    return np.where(x > threshold, np.minimum(x, hi), negative_slope * (x - threshold))


def softmax_ref(x, axes):
    m = np.max(x, axis=axes, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=axes, keepdims=True)


# ---- ReLU -----------------------------------------------------------------------------------------------------
X_EDGES = np.array([-10.0, -6.0, -5.0, -2.0, -1.0, -0.5, -1e-9, 0.0, 1e-9, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 5.0, 6.0,
                    6.5, 10.0])
RELU_CASES = list(itertools.product([None, 0.0, 1.0, 2.0, 6.0, 100.0], [0.0, 0.1, 0.5, 1.0, 2.5],
                                    [0.0, 0.5, 1.0, 2.0]))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_relu_every_combination_vs_keras_formula(dtype):
    x = np.concatenate([X_EDGES, np.random.default_rng(0).uniform(-8, 8, 45)]).reshape(8, 8).astype(dtype)
    for max_value, slope, threshold in RELU_CASES:
        m = model_of(layers.ReLU(max_value=max_value, negative_slope=slope, threshold=threshold),
                     input_shape=(8,), dtype=dtype)
        ref = relu_ref(x.astype(np.float64), slope, max_value, threshold).astype(dtype)
        check(m.predict(x), ref, what=f"ReLU(max_value={max_value}, negative_slope={slope}, threshold={threshold})")
        if max_value is None or max_value >= threshold:
            off = x != np.asarray(threshold, dtype)
            check(m.predict(x)[off], relu_piecewise(x.astype(np.float64), slope, max_value, threshold)[off]
                  .astype(dtype), what="piecewise")


def test_relu_defaults_and_keras_docstring_example():
    m = model_of(layers.ReLU(), input_shape=(5,))
    x = np.array([[-10, -5, 0.0, 5, 10]])
    check(m.predict(x), np.array([[0.0, 0, 0, 5, 10]]))
    m = model_of(layers.ReLU(max_value=10, negative_slope=0.5, threshold=0), input_shape=(5,))
    check(m.predict(x), np.array([[-5.0, -2.5, 0.0, 5.0, 10.0]]))
    r = layers.ReLU()
    assert (r.max_value, r.negative_slope, r.threshold) == (None, 0.0, 0.0)
    assert m.layers[0].name == "re_lu"


def test_leaky_relu_elu_defaults_and_values():
    x = np.random.default_rng(1).standard_normal((6, 4)) * 3
    m = model_of(layers.LeakyReLU(), input_shape=(4,))
    assert layers.LeakyReLU().negative_slope == 0.3
    check(m.predict(x), np.where(x > 0, x, 0.3 * x))
    check(model_of(layers.LeakyReLU(negative_slope=0.05), input_shape=(4,)).predict(x), np.where(x > 0, x, 0.05 * x))
    check(model_of(layers.LeakyReLU(alpha=0.7), input_shape=(4,)).predict(x), np.where(x > 0, x, 0.7 * x))
    assert layers.ELU().alpha == 1.0
    check(model_of(layers.ELU(), input_shape=(4,)).predict(x), np.where(x > 0, x, np.expm1(x)))
    check(model_of(layers.ELU(alpha=0.4), input_shape=(4,)).predict(x), np.where(x > 0, x, 0.4 * np.expm1(x)))


# ---- PReLU ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("input_shape,shared_axes,alpha_shape", [
    ((5,), None, (5,)),
    ((4, 3), None, (4, 3)),
    ((4, 3), 1, (1, 3)),
    ((4, 3), [2], (4, 1)),
    ((3, 4, 2), [1, 2], (1, 1, 2)),
    ((3, 4, 2), (2, 3), (3, 1, 1)),
    ((3, 4, 2), [1, 2, 3], (1, 1, 1)),
])
def test_prelu_shared_axes_weight_shape_count_and_forward(input_shape, shared_axes, alpha_shape):
    m = model_of(layers.PReLU(shared_axes=shared_axes), input_shape=input_shape)
    (alpha,) = m.get_weights()
    assert alpha.shape == alpha_shape
    assert np.all(alpha == 0), "alpha_initializer defaults to zeros"
    assert m.count_params() == int(np.prod(alpha_shape))
    r = np.random.default_rng(2)
    x = r.standard_normal((5,) + input_shape)
    check(m.predict(x), np.maximum(x, 0))
    a = r.uniform(-0.5, 1.5, alpha_shape)
    m.set_weights([a])
    check(m.predict(x), np.maximum(x, 0) - a * np.maximum(-x, 0))
    check(m.predict(x), np.where(x >= 0, x, a * x))
    assert m.layers[0].get_config()["shared_axes"] == (None if shared_axes is None else
                                                       list(np.atleast_1d(shared_axes)))


def test_prelu_initializer_regularizer_and_training():
    m = model_of(layers.PReLU(alpha_initializer="ones"), input_shape=(3,))
    check(m.get_weights()[0], np.ones(3))
    x = np.random.default_rng(3).standard_normal((4, 3))
    check(m.predict(x), x)
    assert layers.PReLU(alpha_initializer="Zeros").alpha_initializer == "zeros"
    # alpha learns: target -0.5 x on negative inputs -> alpha goes to 0.5 from 0
    m = model_of(layers.PReLU(alpha_regularizer=regularizers.l2(1e-4), shared_axes=[1]), input_shape=(3,))
    m.compile(optimizer=optimizers.SGD(0.5), loss="mse")
    x = -np.abs(np.random.default_rng(4).standard_normal((64, 3)))
    m.fit(x, 0.5 * x, epochs=100, batch_size=64, verbose=0)
    (alpha,) = m.get_weights()
    assert alpha.shape == (1,)
    assert abs(alpha[0] - 0.5) < 0.01


def test_prelu_weights_save_load_round_trip(tmp_path):
    m = model_of(layers.Dense(3), layers.PReLU(shared_axes=[1]), input_shape=(2, 4))
    m.build()
    a = np.random.default_rng(5).uniform(0.1, 0.9, m.layers[-1].get_weights()[0].shape)
    m.layers[-1].set_weights([a])
    p = tmp_path / "prelu.pydl"
    m.save(p)
    m2 = pydl.load(p)
    assert [l.class_name for l in m2.layers] == [l.class_name for l in m.layers]
    np.testing.assert_array_equal(m2.layers[-1].get_weights()[0], a)
    for w1, w2 in zip(m.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(w1, w2)
    x = np.random.default_rng(6).standard_normal((7, 2, 4))
    np.testing.assert_array_equal(m2.predict(x), m.predict(x))
    assert m2.layers[-1].shared_axes == m.layers[-1].get_config()["shared_axes"]


def test_every_layer_config_round_trips_through_the_model_file(tmp_path):
    ls = [layers.ReLU(max_value=4.0, negative_slope=0.1, threshold=0.5), layers.LeakyReLU(0.2), layers.ELU(0.5),
          layers.PReLU(shared_axes=[1], alpha_initializer="ones"), layers.Softmax(axis=[1, 2]),
          layers.GaussianNoise(0.3), layers.GaussianDropout(0.2), layers.AlphaDropout(0.1, noise_shape=(None, 1, 3)),
          layers.SpatialDropout1D(0.25), layers.Softmax(axis=1)]
    m = model_of(*ls, input_shape=(2, 3))
    p = tmp_path / "all.pydl"
    m.save(p)
    m2 = pydl.load(p)
    for a, b in zip(m.layers, m2.layers):
        ca, cb = a.get_config(), b.get_config()
        assert ca == cb, (ca, cb)
    x = np.random.default_rng(7).standard_normal((5, 2, 3))
    np.testing.assert_array_equal(m2.predict(x), m.predict(x))


# ---- Softmax --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("input_shape,axis,axes", [
    ((5,), -1, (1,)),
    ((5,), 1, (1,)),
    ((3, 4), -1, (2,)),
    ((3, 4), 1, (1,)),
    ((3, 4), -2, (1,)),
    ((2, 3, 4), 2, (2,)),
    ((2, 3, 4), [1, 2], (1, 2)),
    ((2, 3, 4), (-1, 1), (1, 3)),
    ((2, 3, 4), [1, 2, 3], (1, 2, 3)),
    ((2, 3, 4), [2], (2,)),
])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_axes(input_shape, axis, axes, dtype):
    m = model_of(layers.Softmax(axis=axis), input_shape=input_shape, dtype=dtype)
    x = (np.random.default_rng(8).standard_normal((3,) + input_shape) * 4).astype(dtype)
    out = m.predict(x)
    check(out, softmax_ref(x.astype(np.float64), axes).astype(dtype))
    check(out.sum(axis=axes), np.ones(np.delete(out.shape, axes)).astype(dtype), atol=1e-5)


def test_softmax_default_and_large_logits():
    assert layers.Softmax().axis == -1
    m = model_of(layers.Softmax(), input_shape=(3,))
    check(m.predict(np.array([[1.0, 2.0, 1.0]])), np.array([[0.21194155761708547, 0.5761168847658291,
                                                             0.21194155761708547]]))
    x = np.array([[1000.0, 1001.0, 999.0]])
    check(m.predict(x), softmax_ref(x, 1))
    m = model_of(layers.Softmax(axis=[1, 2]), input_shape=(2, 2))
    x = np.array([[[1000.0, 990.0], [1001.0, -1000.0]]])
    check(m.predict(x), softmax_ref(x, (1, 2)))


# ---- hard_swish, hard_silu, mish ------------------------------------------------------------------------------
EXTRA_ACTIVATIONS = {
    "hard_swish": lambda z: z * np.clip(z + 3, 0, 6) / 6,
    "hard_silu": lambda z: z * np.clip(z + 3, 0, 6) / 6,
    "mish": lambda z: z * np.tanh(np.logaddexp(0, z)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(EXTRA_ACTIVATIONS))
def test_extra_activations_by_name(name, dtype):
    assert name in layers._ACTIVATIONS
    x = np.concatenate([np.linspace(-8, 8, 33), [-40.0, -3.0, 3.0, 40.0]]).reshape(1, -1).astype(dtype)
    ref = EXTRA_ACTIVATIONS[name](x.astype(np.float64)).astype(dtype)
    check(model_of(layers.Activation(name), input_shape=(x.shape[1],), dtype=dtype).predict(x), ref)
    m = model_of(layers.Dense(3, activation=name), input_shape=(4,), dtype=dtype)
    W, b = [w.astype(np.float64) for w in m.get_weights()]
    xd = np.random.default_rng(9).standard_normal((5, 4)).astype(dtype)
    check(m.predict(xd), EXTRA_ACTIVATIONS[name](xd.astype(np.float64) @ W + b).astype(dtype),
          **({"atol": 1e-6, "rtol": 1e-5} if dtype == "float32" else {}))


def test_extra_activations_train():
    m = model_of(layers.Dense(8, activation="mish"), layers.Dense(4, activation="hard_swish"), layers.Dense(1),
                 input_shape=(3,))
    m.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    r = np.random.default_rng(10)
    x = r.standard_normal((64, 3))
    y = np.sin(x.sum(1, keepdims=True))
    h = m.fit(x, y, epochs=30, batch_size=64, verbose=0)
    assert h.history["loss"][-1] < 0.7 * h.history["loss"][0]


# ---- noise layers: identity at inference -----------------------------------------------------------------------
NOISE = [
    (lambda: layers.GaussianNoise(0.5), (6,)),
    (lambda: layers.GaussianDropout(0.4), (6,)),
    (lambda: layers.AlphaDropout(0.3), (6,)),
    (lambda: layers.AlphaDropout(0.3, noise_shape=(None, 1, 3)), (2, 3)),
    (lambda: layers.SpatialDropout1D(0.5), (4, 3)),
    (lambda: layers.SpatialDropout2D(0.5), (2, 4, 3)),
    (lambda: layers.SpatialDropout2D(0.5, data_format="channels_first"), (3, 2, 4)),
    (lambda: layers.SpatialDropout3D(0.5), (2, 2, 2, 3)),
]


@pytest.mark.parametrize("make,input_shape", NOISE, ids=[f"{i}" for i in range(len(NOISE))])
def test_noise_layers_identity_in_predict_and_evaluate(make, input_shape):
    m = model_of(make(), input_shape=input_shape)
    x = np.random.default_rng(11).standard_normal((9,) + input_shape)
    np.testing.assert_array_equal(m.predict(x), x)
    out = train_forward(m, x, seed=3)
    assert out.shape == x.shape and not np.array_equal(out, x), "training mode must be random"
    np.testing.assert_array_equal(out, train_forward(m, x, seed=3))
    assert not np.array_equal(out, train_forward(m, x, seed=4))
    assert m.count_params() == 0


# ---- noise layers: statistics in training ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gaussian_noise_statistics(dtype):
    m = model_of(layers.GaussianNoise(0.5), input_shape=(1000,), dtype=dtype)
    x = np.full((200, 1000), 3.0, dtype)
    noise = train_forward(m, x, seed=1).astype(np.float64) - 3.0
    n = noise.size
    assert abs(noise.mean()) < 4 * 0.5 / math.sqrt(n)
    assert abs(noise.std() - 0.5) < 4 * 0.5 / math.sqrt(2 * n)
    # roughly Gaussian: 68.3% within one stddev
    assert abs(np.mean(np.abs(noise) < 0.5) - 0.6827) < 0.005
    assert np.all(m.predict(x) == 3.0)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_gaussian_dropout_statistics(rate):
    m = model_of(layers.GaussianDropout(rate), input_shape=(1000,))
    x = np.full((200, 1000), 2.0)
    f = train_forward(m, x, seed=2) / 2.0
    sd = math.sqrt(rate / (1 - rate))
    n = f.size
    assert abs(f.mean() - 1.0) < 4 * sd / math.sqrt(n)
    assert abs(f.var() - rate / (1 - rate)) < 0.02 * rate / (1 - rate)


@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
def test_alpha_dropout_formula_and_moments(rate):
    m = model_of(layers.AlphaDropout(rate), input_shape=(1000,))
    x = np.random.default_rng(12).standard_normal((400, 1000))
    y = train_forward(m, x, seed=5)
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    b = -a * ALPHA_P * rate
    # every value is either a*x + b (kept) or a*alpha' + b (dropped)
    kept = np.isclose(y, a * x + b, rtol=1e-12, atol=1e-12)
    dropped = np.isclose(y, a * ALPHA_P + b, rtol=1e-12, atol=1e-12)
    assert np.all(kept | dropped)
    assert abs(dropped.mean() - rate) < 4 * math.sqrt(rate * (1 - rate) / x.size)
    # zero mean and unit variance are preserved for standard-normal input
    assert abs(y.mean()) < 0.01
    assert abs(y.var() - 1.0) < 0.01


def test_alpha_dropout_noise_shape_shares_the_mask():
    m = model_of(layers.AlphaDropout(0.5, noise_shape=(None, 1, 16)), input_shape=(8, 16))
    x = np.random.default_rng(13).standard_normal((32, 8, 16))
    y = train_forward(m, x, seed=6)
    a = (0.5 * (1 + 0.5 * ALPHA_P ** 2)) ** -0.5
    b = -a * ALPHA_P * 0.5
    dropped = np.isclose(y, a * ALPHA_P + b)
    assert np.all(dropped == dropped[:, :1, :]), "same mask for every step"
    assert 0.3 < dropped.mean() < 0.7


@pytest.mark.parametrize("cls,input_shape,channels_first", [
    (layers.SpatialDropout1D, (50, 40), False),
    (layers.SpatialDropout2D, (6, 7, 40), False),
    (layers.SpatialDropout2D, (40, 6, 7), True),
    (layers.SpatialDropout3D, (3, 4, 5, 40), False),
    (layers.SpatialDropout3D, (40, 3, 4, 5), True),
])
def test_spatial_dropout_zeroes_whole_channels(cls, input_shape, channels_first):
    rate = 0.4
    kw = {"data_format": "channels_first"} if channels_first else {}
    m = model_of(cls(rate, **kw), input_shape=input_shape)
    x = np.random.default_rng(14).uniform(0.5, 1.5, (30,) + input_shape)
    y = train_forward(m, x, seed=7)
    ratio = y / x
    caxis = 1 if channels_first else len(input_shape)
    spatial = tuple(i for i in range(1, len(input_shape) + 1) if i != caxis)
    per_channel = np.moveaxis(ratio, caxis, -1).reshape(30, -1, 40)  # (batch, positions, channels)
    first = per_channel[:, :1, :]
    np.testing.assert_allclose(per_channel, np.broadcast_to(first, per_channel.shape), rtol=1e-12)
    vals = np.unique(np.round(first, 9))
    np.testing.assert_allclose(vals, [0.0, 1 / (1 - rate)], rtol=1e-9)
    frac = np.mean(first == 0)
    assert abs(frac - rate) < 4 * math.sqrt(rate * (1 - rate) / first.size)
    assert spatial  # at least one spatial axis shared


# ---- determinism for a model seed ----------------------------------------------------------------------------
def _train(seed, noise, start=None):
    m = model_of(noise, layers.Dense(2), input_shape=(4,), seed=seed)
    if start is not None:
        m.set_weights(start)
    m.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(15).standard_normal((32, 4))
    y = np.random.default_rng(16).standard_normal((32, 2))
    h = m.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    return m.get_weights(), h.history["loss"]


@pytest.mark.parametrize("make", [lambda: layers.GaussianNoise(0.5), lambda: layers.GaussianDropout(0.5),
                                  lambda: layers.AlphaDropout(0.3), lambda: layers.SpatialDropout1D(0.5)],
                         ids=["GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D"])
def test_noise_is_deterministic_for_a_model_seed(make):
    if isinstance(make(), layers.SpatialDropout1D):
        def mk(seed, start=None):
            m = model_of(make(), layers.Dense(2), input_shape=(3, 4), seed=seed)
            if start is not None:
                m.set_weights(start)
            m.compile(optimizer=optimizers.SGD(0.1), loss="mse")
            x = np.random.default_rng(15).standard_normal((32, 3, 4))
            y = np.random.default_rng(16).standard_normal((32, 3, 2))
            h = m.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
            return m.get_weights(), h.history["loss"]
    else:
        def mk(seed, start=None):
            return _train(seed, make(), start)
    w1, l1 = mk(1)
    w2, l2 = mk(1)
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert l1 == l2
    start = model_of(make(), layers.Dense(2), input_shape=(3, 4) if isinstance(make(), layers.SpatialDropout1D)
                     else (4,), seed=1).get_weights()
    w3, l3 = mk(2, start)
    assert l3 != l1, "another model seed draws other noise"


def test_noise_active_in_fit_inactive_in_evaluate():
    # lr = 0: the weights never change, so training losses differ from evaluate's only through the noise
    m = model_of(layers.GaussianNoise(1.0), layers.Dense(3), input_shape=(4,))
    m.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    x = np.random.default_rng(17).standard_normal((256, 4))
    y = np.zeros((256, 3))
    clean = m.evaluate(x, y, batch_size=256)
    W, b = m.get_weights()
    assert clean == pytest.approx(np.mean((x @ W + b) ** 2), rel=1e-12)
    losses = m.fit(x, y, epochs=3, batch_size=256, shuffle=False, verbose=0).history["loss"]
    # E[((x + n) W + b)^2] = clean + E[(n W)^2] = clean + sum(W^2) / 3 (per output, averaged)
    expected = clean + np.sum(W ** 2) / 3
    assert all(abs(l / expected - 1) < 0.15 for l in losses), (losses, expected)
    assert len(set(losses)) == 3


# ---- gradients flow through the noise layers ------------------------------------------------------------------
def test_training_through_every_layer():
    m = model_of(layers.Dense(8), layers.PReLU(), layers.GaussianNoise(0.1), layers.AlphaDropout(0.1),
                 layers.GaussianDropout(0.1), layers.Dense(8), layers.ReLU(max_value=6.0, negative_slope=0.1,
                                                                          threshold=0.1),
                 layers.LeakyReLU(), layers.ELU(), layers.Dense(3), layers.Softmax(), input_shape=(4,))
    m.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    r = np.random.default_rng(18)
    x = r.standard_normal((128, 4))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    h = m.fit(x, y, epochs=40, batch_size=32, verbose=0)
    assert h.history["loss"][-1] < 0.6 * h.history["loss"][0]
    assert np.any(m.layers[1].get_weights()[0] != 0), "PReLU's alpha is trained"


# ---- summary names -------------------------------------------------------------------------------------------
def test_default_names_and_summary():
    m = model_of(layers.ReLU(), layers.PReLU(), layers.LeakyReLU(), layers.ELU(), layers.Softmax(),
                 layers.GaussianNoise(0.1), layers.GaussianDropout(0.1), layers.AlphaDropout(0.1), input_shape=(3,))
    m.build()
    # as Keras names them (PReLU is "p_re_lu" in Keras; pydl's snake_case gives "pre_lu")
    names = [l.name for l in m.layers]
    assert names[:1] + names[2:] == ["re_lu", "leaky_re_lu", "elu", "softmax", "gaussian_noise", "gaussian_dropout",
                                     "alpha_dropout"]
    lines = []
    m.summary(print_fn=lines.append)
    assert f"{names[1]} (PReLU)" in "\n".join(lines)
    assert m.count_params() == 3


# ---- invalid configurations ----------------------------------------------------------------------------------
INVALID = [
    (lambda: layers.ReLU(max_value=-1.0), "ReLU", "max_value=-1.0"),
    (lambda: layers.ReLU(negative_slope=-0.1), "ReLU", "negative_slope=-0.1"),
    (lambda: layers.ReLU(negative_slope=None), "ReLU", "negative_slope=None"),
    (lambda: layers.ReLU(threshold=-0.5), "ReLU", "threshold=-0.5"),
    (lambda: layers.ReLU(threshold=None), "ReLU", "threshold=None"),
    (lambda: layers.ReLU(max_value="6"), "ReLU", "max_value='6'"),
    (lambda: layers.ReLU(threshold=float("nan")), "ReLU", "threshold=nan"),
    (lambda: layers.LeakyReLU(negative_slope=-0.3), "LeakyReLU", "negative_slope=-0.3"),
    (lambda: layers.LeakyReLU(negative_slope=None), "LeakyReLU", "negative_slope=None"),
    (lambda: layers.ELU(alpha="1"), "ELU", "alpha='1'"),
    (lambda: layers.ELU(alpha=float("inf")), "ELU", "alpha=inf"),
    (lambda: layers.PReLU(shared_axes=0), "PReLU", "shared_axes=0"),
    (lambda: layers.PReLU(shared_axes=[1, -1]), "PReLU", "shared_axes=[1, -1]"),
    (lambda: layers.PReLU(shared_axes="1"), "PReLU", "shared_axes='1'"),
    (lambda: layers.PReLU(alpha_initializer="nope"), "PReLU", "alpha_initializer='nope'"),
    (lambda: layers.PReLU(alpha_constraint="clip"), "PReLU", "alpha_constraint='clip'"),
    (lambda: layers.Softmax(axis="1"), "Softmax", "axis='1'"),
    (lambda: layers.Softmax(axis=[]), "Softmax", "axis=[]"),
    (lambda: layers.Softmax(axis=[1, 1]), "Softmax", "axis=[1, 1]"),
    (lambda: layers.Softmax(axis=1.0), "Softmax", "axis=1.0"),
    (lambda: layers.GaussianNoise(-0.1), "GaussianNoise", "stddev=-0.1"),
    (lambda: layers.GaussianNoise(float("nan")), "GaussianNoise", "stddev=nan"),
    (lambda: layers.GaussianNoise("0.1"), "GaussianNoise", "stddev='0.1'"),
    (lambda: layers.GaussianDropout(-0.1), "GaussianDropout", "rate=-0.1"),
    (lambda: layers.GaussianDropout(1.0), "GaussianDropout", "rate=1.0"),
    (lambda: layers.GaussianDropout(1.5), "GaussianDropout", "rate=1.5"),
    (lambda: layers.AlphaDropout(-0.2), "AlphaDropout", "rate=-0.2"),
    (lambda: layers.AlphaDropout(1), "AlphaDropout", "rate=1"),
    (lambda: layers.AlphaDropout(0.1, noise_shape=(None, 0)), "AlphaDropout", "noise_shape=(None, 0)"),
    (lambda: layers.SpatialDropout1D(-0.5), "SpatialDropout1D", "rate=-0.5"),
    (lambda: layers.SpatialDropout2D(1.0), "SpatialDropout2D", "rate=1.0"),
    (lambda: layers.SpatialDropout3D(True), "SpatialDropout3D", "rate=True"),
    (lambda: layers.SpatialDropout2D(0.5, data_format="NHWC"), "SpatialDropout2D", "data_format='NHWC'"),
]


@pytest.mark.parametrize("make,layer,received", INVALID, ids=[r for _, _, r in INVALID])
def test_invalid_config_raises_naming_layer_and_value(make, layer, received):
    with pytest.raises(ValueError) as e:
        make()
    assert layer in str(e.value) and received in str(e.value), str(e.value)


INVALID_AT_BUILD = [
    (lambda: layers.Softmax(axis=3), (4, 5), "Softmax layer 'softmax'", "axis=3"),
    (lambda: layers.Softmax(axis=-4), (4, 5), "Softmax layer 'softmax'", "axis=-4"),
    (lambda: layers.Softmax(axis=[1, -2]), (4, 5), "Softmax layer 'softmax'", "axis=[1, -2]"),
    (lambda: layers.Softmax(axis=[1, 5]), (4, 5), "Softmax layer 'softmax'", "axis=[1, 5]"),
    (lambda: layers.PReLU(shared_axes=[3]), (4, 5), "PReLU layer", "shared_axes=[3]"),
    (lambda: layers.SpatialDropout1D(0.5), (4,), "SpatialDropout1D layer", "(None, 4)"),
    (lambda: layers.SpatialDropout2D(0.5), (4, 5), "SpatialDropout2D layer", "(None, 4, 5)"),
    (lambda: layers.SpatialDropout3D(0.5), (4, 5, 6), "SpatialDropout3D", "(None, 4, 5, 6)"),
    (lambda: layers.AlphaDropout(0.5, noise_shape=(None, 2)), (4,), "AlphaDropout layer", "noise_shape=[None, 2]"),
    (lambda: layers.AlphaDropout(0.5, noise_shape=(None, 1)), (4, 5), "AlphaDropout layer", "noise_shape=[None, 1]"),
]


@pytest.mark.parametrize("make,input_shape,layer,received", INVALID_AT_BUILD,
                         ids=[f"{i}-{r}" for i, (_, _, _, r) in enumerate(INVALID_AT_BUILD)])
def test_invalid_for_the_input_shape_fails_at_build(make, input_shape, layer, received):
    with pytest.raises(ValueError) as e:
        model_of(make(), input_shape=input_shape).build()
    assert layer in str(e.value) and received in str(e.value), str(e.value)

