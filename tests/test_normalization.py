"""Normalization layers (BatchNormalization, LayerNormalization, GroupNormalization): forward vs NumPy references of
Keras 3's formulas and vs PyTorch (float64, where semantics match), training vs inference, the moving-statistics
update, weights order/shapes/counts, center/scale flags, ranks 2-4, save/load, invalid configs, and training.
"""
import re

import numpy as np
import pytest

import pydl
from pydl import _array, _jvm, layers, optimizers
from helpers import check

torch = pytest.importorskip("torch")


def model_of(*ls, input_shape, dtype="float64", seed=0):
    m = pydl.Sequential([layers.Input(input_shape), *ls], seed=seed, dtype=dtype)
    m.build()
    return m


def train_forward(layer, x, dtype=np.float64):
    """The layer's training-mode forward pass on x (runs the Java layer directly; updates its moving stats)."""
    ctx = _jvm.jclass("org.pydl.nn.Layer$Context")(True, 0)
    ng = _jvm.jclass("org.pydl.ops.Autograd").noGrad()
    try:
        out = layer._java.forward(_array.to_java(x, dtype), ctx)
        return np.array(_array.to_numpy(out))
    finally:
        ng.close()


def summary_of(m):
    lines = []
    m.summary(print_fn=lines.append)
    return "\n".join(lines)


# ---- NumPy references of Keras 3's formulas --------------------------------------------------------------------
def bn_ref(x, axis, gamma, beta, mean=None, var=None, eps=1e-3):
    """Training when mean/var are None (batch stats, biased variance), else inference with the given stats."""
    axis = axis % x.ndim
    red = tuple(i for i in range(x.ndim) if i != axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    if mean is None:
        mean, var = x.mean(axis=red), x.var(axis=red)
    r = lambda v: np.reshape(v, shape)  # noqa: E731
    return r(gamma) * (x - r(mean)) / np.sqrt(r(var) + eps) + r(beta)


def ln_ref(x, axes, gamma, beta, eps=1e-3):
    axes = tuple(sorted(a % x.ndim for a in np.atleast_1d(axes)))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = [x.shape[i] if i in axes else 1 for i in range(x.ndim)]
    return np.reshape(gamma, shape) * (x - mean) / np.sqrt(var + eps) + np.reshape(beta, shape)


def gn_ref(x, groups, gamma, beta, axis=-1, eps=1e-3):
    axis = axis % x.ndim
    c = x.shape[axis]
    xm = np.moveaxis(x, axis, -1)  # channels last
    g = xm.reshape(xm.shape[:-1] + (groups, c // groups))
    red = tuple(range(1, g.ndim - 2)) + (g.ndim - 1,)
    mean = g.mean(axis=red, keepdims=True)
    var = g.var(axis=red, keepdims=True)
    y = ((g - mean) / np.sqrt(var + eps)).reshape(xm.shape) * gamma + beta
    return np.moveaxis(y, -1, axis)


def rand_weights(r, c):
    return r.uniform(0.5, 1.5, c), r.standard_normal(c)


# ---- BatchNormalization --------------------------------------------------------------------------------------
SHAPES = [(6,), (5, 4), (3, 4, 5)]  # input shapes (without batch): rank 2, 3, 4 with channels last


@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_inference_uses_moving_stats(shape):
    r = np.random.default_rng(0)
    c = shape[-1]
    m = model_of(layers.BatchNormalization(), input_shape=shape)
    g, b = rand_weights(r, c)
    mm, mv = r.standard_normal(c), r.uniform(0.2, 2.0, c)
    m.set_weights([g, b, mm, mv])
    x = r.standard_normal((7,) + shape) * 2 + 0.5
    out = m.predict(x)
    check(out, bn_ref(x, -1, g, b, mm, mv))
    # PyTorch eval mode with the same statistics (channels first there)
    tb = {1: torch.nn.BatchNorm1d, 2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm2d}[len(shape)](
        c, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        tb.weight.copy_(torch.from_numpy(g))
        tb.bias.copy_(torch.from_numpy(b))
        tb.running_mean.copy_(torch.from_numpy(mm))
        tb.running_var.copy_(torch.from_numpy(mv))
    tb.eval()
    xt = torch.from_numpy(np.moveaxis(x, -1, 1).copy())
    check(out, np.moveaxis(tb(xt).detach().numpy(), 1, -1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_training_forward_and_moving_update_vs_torch(shape):
    r = np.random.default_rng(1)
    c = shape[-1]
    m = model_of(layers.BatchNormalization(momentum=0.9), input_shape=shape)
    g, b = rand_weights(r, c)
    m.set_weights([g, b, np.zeros(c), np.ones(c)])
    x = r.standard_normal((8,) + shape) * 3 - 1
    out = train_forward(m.layers[0], x)
    check(out, bn_ref(x, -1, g, b))
    red = tuple(range(x.ndim - 1))
    _, _, mm, mv = m.get_weights()
    check(mm, 0.1 * x.mean(axis=red))
    check(mv, 0.9 + 0.1 * x.var(axis=red))  # Keras 3: biased batch variance
    # PyTorch: momentum = 1 - Keras's, running_var from the unbiased variance
    tb = {1: torch.nn.BatchNorm1d, 2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm2d}[len(shape)](
        c, eps=1e-3, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        tb.weight.copy_(torch.from_numpy(g))
        tb.bias.copy_(torch.from_numpy(b))
    tb.train()
    yt = tb(torch.from_numpy(np.moveaxis(x, -1, 1).copy())).detach().numpy()
    check(out, np.moveaxis(yt, 1, -1), rtol=1e-12, atol=1e-12)
    n = x.size // c
    check(mm, tb.running_mean.numpy(), rtol=1e-12, atol=1e-14)
    check(mv, 0.9 + (tb.running_var.numpy() - 0.9) * (n - 1) / n, rtol=1e-12, atol=1e-14)


def test_batchnorm_fit_one_step_updates_moving_stats_only():
    """1-step fit with SGD(0.0): gamma/beta unchanged, moving stats follow Keras's formula; the reported loss is
    the loss of the training-mode (batch-statistics) output."""
    r = np.random.default_rng(2)
    m = model_of(layers.BatchNormalization(), input_shape=(3,))
    g, b = rand_weights(r, 3)
    mm0, mv0 = r.standard_normal(3), r.uniform(0.5, 2, 3)
    m.set_weights([g, b, mm0, mv0])
    m.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    x = r.standard_normal((16, 3)) * 2 + 3
    y = np.zeros((16, 3))
    hist = m.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    g1, b1, mm, mv = m.get_weights()
    np.testing.assert_array_equal(g1, g)
    np.testing.assert_array_equal(b1, b)
    check(mm, 0.99 * mm0 + 0.01 * x.mean(0))
    check(mv, 0.99 * mv0 + 0.01 * x.var(0))
    assert hist.history["loss"][0] == pytest.approx(np.mean(bn_ref(x, -1, g, b) ** 2), rel=1e-12)
    # inference afterwards uses the updated stats
    check(m.predict(x), bn_ref(x, -1, g, b, mm, mv))


def test_batchnorm_two_steps_and_momentum_edges():
    r = np.random.default_rng(3)
    x = r.standard_normal((8, 2)) + [1.0, -2.0]
    for momentum in (0.0, 0.5, 1.0):
        m = model_of(layers.BatchNormalization(momentum=momentum), input_shape=(2,))
        m.compile(optimizer=optimizers.SGD(0.0), loss="mse")
        m.fit(x, np.zeros_like(x), epochs=2, batch_size=4, shuffle=False, verbose=0)
        mm, mv = np.zeros(2), np.ones(2)
        for half in (x[:4], x[4:], x[:4], x[4:]):
            mm = mm * momentum + half.mean(0) * (1 - momentum)
            mv = mv * momentum + half.var(0) * (1 - momentum)
        check(m.get_weights()[2], mm)
        check(m.get_weights()[3], mv)


def test_batchnorm_axis_1_and_negative_axis():
    r = np.random.default_rng(4)
    x = r.standard_normal((6, 4, 5))
    for axis in (1, -2):
        m = model_of(layers.BatchNormalization(axis=axis), input_shape=(4, 5))
        assert [w.shape for w in m.get_weights()] == [(4,)] * 4
        g, b = rand_weights(r, 4)
        mm, mv = r.standard_normal(4), r.uniform(0.5, 2, 4)
        m.set_weights([g, b, mm, mv])
        check(m.predict(x), bn_ref(x, 1, g, b, mm, mv))
        check(train_forward(m.layers[0], x), bn_ref(x, 1, g, b))
        check(m.get_weights()[2], 0.99 * mm + 0.01 * x.mean(axis=(0, 2)))


@pytest.mark.parametrize("center,scale", [(True, True), (True, False), (False, True), (False, False)])
def test_batchnorm_center_scale_flags_weights_and_summary(center, scale):
    m = model_of(layers.BatchNormalization(center=center, scale=scale, name="bn"), layers.Dense(2),
                 input_shape=(5,))
    ws = m.layers[0].get_weights()
    names = [str(p.name) for p in m.layers[0]._java.parameters()]
    expected = (["bn/gamma"] if scale else []) + (["bn/beta"] if center else []) + ["bn/moving_mean",
                                                                                    "bn/moving_variance"]
    assert names == expected
    assert [w.shape for w in ws] == [(5,)] * len(expected)
    init = ([np.ones(5)] if scale else []) + ([np.zeros(5)] if center else []) + [np.zeros(5), np.ones(5)]
    for w, e in zip(ws, init):
        np.testing.assert_array_equal(w, e)
    n_bn = 5 * len(expected)
    assert m.count_params() == n_bn + 12
    text = summary_of(m)
    assert re.search(rf"^bn \(BatchNormalization\)\s+\(None, 5\)\s+{n_bn}$", text, re.M), text
    assert re.search(rf"Trainable params: {n_bn - 10 + 12}\b", text)
    assert re.search(r"Non-trainable params: 10\b", text)
    r = np.random.default_rng(5)
    x = r.standard_normal((9, 5))
    g = r.uniform(0.5, 1.5, 5)
    b = r.standard_normal(5)
    mm, mv = r.standard_normal(5), r.uniform(0.5, 2, 5)
    m.layers[0].set_weights(([g] if scale else []) + ([b] if center else []) + [mm, mv])
    check(train_forward(m.layers[0], x),
          bn_ref(x, -1, g if scale else np.ones(5), b if center else np.zeros(5)))


def test_batchnorm_frozen_layer_runs_in_inference_mode():
    """Keras 3: a BatchNormalization with trainable=False uses (and keeps) its moving statistics in fit."""
    r = np.random.default_rng(6)
    m = model_of(layers.BatchNormalization(trainable=False), layers.Dense(1), input_shape=(3,))
    before = m.get_weights()
    m.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    x = r.standard_normal((16, 3)) * 3 + 2
    m.fit(x, r.standard_normal((16, 1)), epochs=2, batch_size=8, verbose=0)
    after = m.get_weights()
    for a, b in zip(after[:4], before[:4]):
        np.testing.assert_array_equal(a, b)
    assert re.search(r"Non-trainable params: 12\b", summary_of(m))


def test_batchnorm_float32():
    r = np.random.default_rng(7)
    m = model_of(layers.BatchNormalization(), input_shape=(4,), dtype="float32")
    assert all(w.dtype == np.float32 for w in m.get_weights())
    g, b = rand_weights(r, 4)
    mm, mv = r.standard_normal(4), r.uniform(0.5, 2, 4)
    m.set_weights([g, b, mm, mv])
    x = r.standard_normal((10, 4)).astype(np.float32)
    ref = bn_ref(x.astype(np.float64), -1, *(w.astype(np.float32).astype(np.float64) for w in (g, b, mm, mv)))
    check(m.predict(x), ref.astype(np.float32), atol=1e-5)


def test_batchnorm_save_load_keeps_moving_stats(tmp_path):
    r = np.random.default_rng(8)
    m = model_of(layers.Dense(4), layers.BatchNormalization(), layers.Dense(1), input_shape=(3,))
    m.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    x = r.standard_normal((32, 3)) + 1
    m.fit(x, r.standard_normal((32, 1)), epochs=2, batch_size=8, verbose=0)
    ws = m.get_weights()
    assert not np.allclose(ws[4], 0) and not np.allclose(ws[5], 1)  # moving stats moved
    path = tmp_path / "bn.pydl"
    m.save(path)
    m2 = pydl.load(path)
    for a, b in zip(m2.get_weights(), ws):
        np.testing.assert_array_equal(a, b)
    check(m2.predict(x), m.predict(x))
    assert isinstance(m2.layers[1], layers.BatchNormalization)
    assert m2.layers[1].momentum == 0.99 and m2.layers[1].epsilon == 1e-3
    assert summary_of(m2) == summary_of(m)
    # training resumes from the loaded state (optimizer slots exist for trainable weights only)
    m.fit(x, np.zeros((32, 1)), epochs=1, batch_size=32, shuffle=False, verbose=0)
    m2.fit(x, np.zeros((32, 1)), epochs=1, batch_size=32, shuffle=False, verbose=0)
    for a, b in zip(m2.get_weights(), m.get_weights()):
        check(a, b)


def test_mlp_with_batchnorm_converges():
    from conftest import make_blobs

    x, y = make_blobs(n=240, features=4, classes=3, seed=1)
    m = pydl.Sequential([layers.Input(4), layers.Dense(16), layers.BatchNormalization(), layers.Activation("relu"),
                         layers.Dense(3, activation="softmax")], seed=0)
    m.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]
    loss, acc = m.evaluate(x, y, verbose=0)
    assert acc > 0.9, (loss, acc)


# ---- LayerNormalization --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6,), (4, 5), (3, 4, 5)])
def test_layernorm_vs_numpy_and_torch(shape):
    r = np.random.default_rng(9)
    c = shape[-1]
    m = model_of(layers.LayerNormalization(), input_shape=shape)
    assert [w.shape for w in m.get_weights()] == [(c,), (c,)]
    np.testing.assert_array_equal(m.get_weights()[0], np.ones(c))
    np.testing.assert_array_equal(m.get_weights()[1], np.zeros(c))
    g, b = rand_weights(r, c)
    m.set_weights([g, b])
    x = r.standard_normal((5,) + shape) * 2 + 1
    out = m.predict(x)
    check(out, ln_ref(x, -1, g, b))
    check(train_forward(m.layers[0], x), out)  # same in training
    tl = torch.nn.LayerNorm(c, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(g))
        tl.bias.copy_(torch.from_numpy(b))
    check(out, tl(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_rmsnorm_vs_numpy_and_torch(axis):
    r = np.random.default_rng(12)
    x = r.standard_normal((4, 3, 5)) * 2 + 1
    m = model_of(layers.RMSNormalization(axis=axis, epsilon=1e-5), input_shape=(3, 5))
    shape = (5,) if axis == -1 else (3, 5)
    np.testing.assert_array_equal(m.get_weights()[0], np.ones(shape))          # scale starts at ones
    s = r.standard_normal(shape)
    m.set_weights([s])
    axes = (-1,) if axis == -1 else (1, 2)
    out = m.predict(x)
    check(out, x / np.sqrt(np.mean(x ** 2, axis=axes, keepdims=True) + 1e-5) * s)   # no centring, no offset
    check(train_forward(m.layers[0], x), out)
    tl = torch.nn.RMSNorm(shape, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(s))
    check(out, tl(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="RMSNormalization: .*epsilon.*Received: epsilon=0"):
        layers.RMSNormalization(epsilon=0)


def test_layernorm_axis_list_and_axis_1():
    r = np.random.default_rng(10)
    x = r.standard_normal((4, 3, 5))
    m = model_of(layers.LayerNormalization(axis=[-2, -1]), input_shape=(3, 5))
    assert [w.shape for w in m.get_weights()] == [(3, 5), (3, 5)]
    g, b = r.uniform(0.5, 1.5, (3, 5)), r.standard_normal((3, 5))
    m.set_weights([g, b])
    out = m.predict(x)
    check(out, ln_ref(x, [1, 2], g, b))
    tl = torch.nn.LayerNorm((3, 5), eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(g))
        tl.bias.copy_(torch.from_numpy(b))
    check(out, tl(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    m = model_of(layers.LayerNormalization(axis=1, epsilon=0.1), input_shape=(3, 5))
    assert [w.shape for w in m.get_weights()] == [(3,), (3,)]
    g, b = rand_weights(r, 3)
    m.set_weights([g, b])
    check(m.predict(x), ln_ref(x, 1, g, b, eps=0.1))


@pytest.mark.parametrize("center,scale", [(True, False), (False, True), (False, False)])
def test_layernorm_center_scale_flags(center, scale):
    m = model_of(layers.LayerNormalization(center=center, scale=scale, name="ln"), input_shape=(4,))
    assert [str(p.name) for p in m.layers[0]._java.parameters()] == \
        (["ln/gamma"] if scale else []) + (["ln/beta"] if center else [])
    assert m.count_params() == 4 * (center + scale)
    x = np.random.default_rng(11).standard_normal((3, 4))
    check(m.predict(x), ln_ref(x, -1, np.ones(4), np.zeros(4)))


# ---- GroupNormalization --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,groups", [((6,), 3), ((5, 8), 4), ((3, 4, 6), 2), ((3, 4, 6), -1), ((5, 8), 1)])
def test_groupnorm_vs_numpy_and_torch(shape, groups):
    r = np.random.default_rng(12)
    c = shape[-1]
    m = model_of(layers.GroupNormalization(groups=groups), input_shape=shape)
    assert [w.shape for w in m.get_weights()] == [(c,), (c,)]
    g, b = rand_weights(r, c)
    m.set_weights([g, b])
    x = r.standard_normal((4,) + shape) * 2 + 1
    ng = c if groups == -1 else groups
    out = m.predict(x)
    check(out, gn_ref(x, ng, g, b))
    check(train_forward(m.layers[0], x), out)
    tg = torch.nn.GroupNorm(ng, c, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        tg.weight.copy_(torch.from_numpy(g))
        tg.bias.copy_(torch.from_numpy(b))
    yt = tg(torch.from_numpy(np.moveaxis(x, -1, 1).copy())).detach().numpy()
    check(out, np.moveaxis(yt, 1, -1), rtol=1e-12, atol=1e-12)


def test_groupnorm_channels_first_axis_and_flags():
    r = np.random.default_rng(13)
    x = r.standard_normal((3, 6, 5))
    m = model_of(layers.GroupNormalization(groups=3, axis=1), input_shape=(6, 5))
    g, b = rand_weights(r, 6)
    m.set_weights([g, b])
    out = m.predict(x)
    check(out, gn_ref(x, 3, g, b, axis=1))
    tg = torch.nn.GroupNorm(3, 6, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        tg.weight.copy_(torch.from_numpy(g))
        tg.bias.copy_(torch.from_numpy(b))
    check(out, tg(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    m = model_of(layers.GroupNormalization(groups=2, center=False, name="gn"), input_shape=(4,))
    assert [str(p.name) for p in m.layers[0]._java.parameters()] == ["gn/gamma"]
    m = model_of(layers.GroupNormalization(groups=2, scale=False, center=False), input_shape=(4,))
    assert m.get_weights() == [] and m.count_params() == 0


def test_default_groups_is_32_and_configs_round_trip(tmp_path):
    gn = layers.GroupNormalization()
    assert (gn.groups, gn.axis, gn.epsilon, gn.center, gn.scale) == (32, -1, 1e-3, True, True)
    bn = layers.BatchNormalization()
    assert (bn.axis, bn.momentum, bn.epsilon, bn.center, bn.scale) == (-1, 0.99, 1e-3, True, True)
    ln = layers.LayerNormalization()
    assert (ln.axis, ln.epsilon, ln.center, ln.scale) == (-1, 1e-3, True, True)
    m = model_of(layers.GroupNormalization(), layers.LayerNormalization(axis=[1, 2], center=False),
                 layers.BatchNormalization(axis=1, momentum=0.5, epsilon=0.01, scale=False), input_shape=(2, 64))
    r = np.random.default_rng(14)
    m.set_weights([r.standard_normal(w.shape) if i != len(m.get_weights()) - 1 else r.uniform(0.5, 2, w.shape)
                   for i, w in enumerate(m.get_weights())])
    path = tmp_path / "norm.pydl"
    m.save(path)
    m2 = pydl.load(path)
    x = r.standard_normal((3, 2, 64))
    check(m2.predict(x), m.predict(x))
    assert m2.layers[0].groups == 32
    assert m2.layers[1].axis == [1, 2] and m2.layers[1].center is False
    assert (m2.layers[2].axis, m2.layers[2].momentum, m2.layers[2].epsilon) == (1, 0.5, 0.01)


# ---- invalid configurations ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make,match", [
    (lambda: layers.BatchNormalization(momentum=1.5), r"BatchNormalization.*momentum=1\.5"),
    (lambda: layers.BatchNormalization(momentum=-0.1), r"BatchNormalization.*momentum=-0\.1"),
    (lambda: layers.BatchNormalization(epsilon=0), r"BatchNormalization.*epsilon=0"),
    (lambda: layers.BatchNormalization(epsilon=-1e-3), r"BatchNormalization.*epsilon=-0\.001"),
    (lambda: layers.BatchNormalization(axis=0), r"BatchNormalization.*axis=0"),
    (lambda: layers.BatchNormalization(axis=1.5), r"BatchNormalization.*axis=1\.5"),
    (lambda: layers.BatchNormalization(axis=[1, 2]), r"BatchNormalization.*axis=\[1, 2\]"),
    (lambda: layers.LayerNormalization(epsilon=0.0), r"LayerNormalization.*epsilon=0\.0"),
    (lambda: layers.LayerNormalization(axis=[]), r"LayerNormalization.*axis=\[\]"),
    (lambda: layers.LayerNormalization(axis=[1, 1]), r"LayerNormalization.*axis=\[1, 1\]"),
    (lambda: layers.LayerNormalization(axis="x"), r"LayerNormalization.*axis='x'"),
    (lambda: layers.GroupNormalization(groups=0), r"GroupNormalization.*groups=0"),
    (lambda: layers.GroupNormalization(groups=2.0), r"GroupNormalization.*groups=2\.0"),
    (lambda: layers.GroupNormalization(groups=4, epsilon=-1), r"GroupNormalization.*epsilon=-1"),
    (lambda: layers.GroupNormalization(groups=4, beta_initializer="nope"), r"GroupNormalization.*'nope'"),
])
def test_invalid_configs_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer,shape,match", [
    (lambda: layers.GroupNormalization(groups=4, name="gn"), (6,), r"GroupNormalization layer 'gn'.*groups=4"),
    (lambda: layers.GroupNormalization(name="gn"), (16,), r"'gn'.*cannot be more than.*groups=32"),
    (lambda: layers.GroupNormalization(groups=2, axis=3, name="gn"), (4, 6), r"'gn'.*axis=3"),
    (lambda: layers.BatchNormalization(axis=2, name="bn"), (5,), r"BatchNormalization layer 'bn'.*axis=2"),
    (lambda: layers.BatchNormalization(axis=-3, name="bn"), (5,), r"'bn'.*axis=-3"),
    (lambda: layers.LayerNormalization(axis=[1, 3], name="ln"), (4, 5), r"LayerNormalization layer 'ln'.*axis=3"),
    (lambda: layers.LayerNormalization(axis=[1, -2], name="ln"), (4, 5), r"'ln'.*repeated axis"),
])
def test_invalid_configs_at_build(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        model_of(layer(), input_shape=shape)

