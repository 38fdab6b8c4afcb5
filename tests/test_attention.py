"""Attention layers (MultiHeadAttention, Attention, AdditiveAttention): forward vs NumPy implementations of Keras 3's
equations and vs PyTorch with the same weights (float64), Keras weight names/shapes/parameter counts, causal masks,
call conventions, a small transformer block that trains and round-trips through the model file, invalid configs."""
import numpy as np
import pytest

import pydl
from pydl import layers

TOL = dict(rtol=1e-10, atol=1e-10)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _causal(t, s):
    """Keras's causal mask: row_index >= col_index (from the top-left corner, also for t != s)."""
    return np.arange(t)[:, None] >= np.arange(s)[None, :]


def _np_mha(q, v, k, ws, key_dim, causal=False, use_bias=True):
    """Keras 3 MultiHeadAttention._compute_attention with its EinsumDense projections, in NumPy."""
    if use_bias:
        wq, bq, wk, bk, wv, bv, wo, bo = ws
    else:
        (wq, wk, wv, wo), bq = ws, None
    Q = np.einsum("btd,dhe->bthe", q, wq)
    K = np.einsum("bsd,dhe->bshe", k, wk)
    V = np.einsum("bsd,dhe->bshe", v, wv)
    if use_bias:
        Q, K, V = Q + bq, K + bk, V + bv
    Q = Q * (1.0 / np.sqrt(float(key_dim)))
    scores = np.einsum("bshe,bthe->bhts", K, Q)
    if causal:
        scores = np.where(_causal(scores.shape[-2], scores.shape[-1]), scores, -1e9)
    probs = _softmax(scores)
    o = np.einsum("bhts,bshe->bthe", probs, V)
    y = np.tensordot(o, wo, axes=([2, 3], [0, 1]))
    return y + bo if use_bias else y


def _torch_mha(q, v, k, ws, causal=False):
    """The same computation with torch.nn.functional.scaled_dot_product_attention."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    t = [torch.from_numpy(np.ascontiguousarray(a)) for a in (q, v, k, *ws)]
    q_, v_, k_, wq, bq, wk, bk, wv, bv, wo, bo = t
    Q = (torch.einsum("btd,dhe->bhte", q_, wq) + bq.unsqueeze(1).unsqueeze(0))
    K = (torch.einsum("bsd,dhe->bhse", k_, wk) + bk.unsqueeze(1).unsqueeze(0))
    V = (torch.einsum("bsd,dhe->bhse", v_, wv) + bv.unsqueeze(1).unsqueeze(0))
    mask = torch.from_numpy(_causal(Q.shape[2], K.shape[2])) if causal else None
    o = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)  # scale defaults to 1/sqrt(key_dim)
    y = torch.einsum("bhte,heo->bto", o, wo) + bo
    return y.numpy()


def _rand_weights(layer, seed=0):
    r = np.random.default_rng(seed)
    ws = [r.standard_normal(w.shape) * 0.5 for w in layer.get_weights()]
    layer.set_weights(ws)
    return ws


def _names(layer):
    return [str(p.name).split("/", 1)[1] for p in layer._java.parameters()]


def _mha_model(q_shape, v_shape, k_shape=None, **kw):
    q, v = layers.Input(q_shape), layers.Input(v_shape)
    ins = [q, v]
    mha = layers.MultiHeadAttention(**kw)
    if k_shape is None:
        y = mha(q, v)
    else:
        k = layers.Input(k_shape)
        ins.append(k)
        y = mha(q, v, k)
    return pydl.Model(ins, y, dtype="float64", seed=1), mha


# ---- MultiHeadAttention --------------------------------------------------------------------------------------
def test_mha_weights_names_shapes_and_count_like_keras():
    x = layers.Input((5, 8))
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    m = pydl.Model(x, mha(x, x), dtype="float64")
    assert _names(mha) == ["query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
                           "attention_output/kernel", "attention_output/bias"]
    assert [w.shape for w in mha.get_weights()] == [(8, 2, 4), (2, 4), (8, 2, 4), (2, 4), (8, 2, 4), (2, 4),
                                                   (2, 4, 8), (8,)]
    assert m.count_params() == 3 * (8 * 2 * 4 + 2 * 4) + (2 * 4 * 8 + 8)
    # biases start at zero, kernels are glorot_uniform with Keras's fans (fan_in = 2*8, fan_out = 4*8 for [8, 2, 4])
    ws = mha.get_weights()
    assert all(np.all(ws[i] == 0) for i in (1, 3, 5, 7))
    assert np.abs(ws[0]).max() <= np.sqrt(6.0 / (16 + 32)) and np.abs(ws[0]).std() > 0


def test_mha_cross_attention_value_dim_key_and_no_bias_shapes():
    m, mha = _mha_model((5, 8), (7, 6), (7, 3), num_heads=3, key_dim=4, value_dim=5, output_shape=10)
    assert [w.shape for w in mha.get_weights()] == [(8, 3, 4), (3, 4), (3, 3, 4), (3, 4), (6, 3, 5), (3, 5),
                                                   (3, 5, 10), (10,)]
    assert m.count_params() == (8 * 12 + 12) + (3 * 12 + 12) + (6 * 15 + 15) + (15 * 10 + 10)
    m2, mha2 = _mha_model((5, 8), (7, 6), num_heads=2, key_dim=4, use_bias=False)
    assert _names(mha2) == ["query/kernel", "key/kernel", "value/kernel", "attention_output/kernel"]
    assert m2.count_params() == 8 * 8 + 6 * 8 + 6 * 8 + 8 * 8


def test_mha_attention_axes_of_rank4_inputs_vs_numpy():
    """Keras's attention_axes: over axis 2 of (batch, 3, 4, f), axis 1 acts as a batch axis (= rank-3 attention per
    slice); over (1, 2) (the default) one softmax covers all 3*4 positions (= rank-3 attention on the flattened axes).
    The scores come out as Keras's (batch, others..., heads, query positions..., key positions...)."""
    q, v = layers.Input((3, 4, 6)), layers.Input((3, 5, 2))
    per = layers.MultiHeadAttention(2, key_dim=3, attention_axes=-2, name="per")
    joint = layers.MultiHeadAttention(2, key_dim=3, value_dim=2, output_shape=5, name="joint")
    y1, scores = per(q, v, return_attention_scores=True)
    m = pydl.Model([q, v], [y1, scores, joint(q, q)], dtype="float64")
    w1, w2 = _rand_weights(per), _rand_weights(joint, seed=1)
    r = np.random.default_rng(2)
    xq, xv = r.standard_normal((2, 3, 4, 6)), r.standard_normal((2, 3, 5, 2))
    a, sc, b = m.predict([xq, xv])
    assert a.shape == (2, 3, 4, 6) and sc.shape == (2, 3, 2, 4, 5) and b.shape == (2, 3, 4, 5)
    for i in range(3):
        np.testing.assert_allclose(a[:, i], _np_mha(xq[:, i], xv[:, i], xv[:, i], w1, 3), **TOL)
    np.testing.assert_allclose(sc.sum(-1), 1.0, **TOL)
    flat = xq.reshape(2, 12, 6)
    np.testing.assert_allclose(b.reshape(2, 12, 5), _np_mha(flat, flat, flat, w2, 3), **TOL)


def test_mha_attention_axes_errors_name_the_layer():
    x = layers.Input((3, 4, 6))
    with pytest.raises(ValueError, match="MultiHeadAttention layer 'm'.*attention_axes.*\\[3\\]"):
        pydl.Model(x, layers.MultiHeadAttention(2, 3, attention_axes=3, name="m")(x, x))     # the feature axis
    with pytest.raises(ValueError, match="MultiHeadAttention layer 'c'.*use_causal_mask"):
        pydl.Model(x, layers.MultiHeadAttention(2, 3, name="c")(x, x, use_causal_mask=True))
    y = layers.Input((2, 4, 6))
    with pytest.raises(ValueError, match="MultiHeadAttention layer 'o'.*same sizes on the axes not in attention"):
        pydl.Model([x, y], layers.MultiHeadAttention(2, 3, attention_axes=2, name="o")(x, y))


@pytest.mark.parametrize("causal", [False, True])
def test_mha_self_attention_vs_numpy_and_torch(causal):
    x = layers.Input((6, 8))
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4, use_causal_mask=causal)
    m = pydl.Model(x, mha(x, x), dtype="float64")
    ws = _rand_weights(mha)
    xs = np.random.default_rng(1).standard_normal((3, 6, 8))
    y = m.predict(xs)
    assert y.shape == (3, 6, 8)
    np.testing.assert_allclose(y, _np_mha(xs, xs, xs, ws, 4, causal), **TOL)
    np.testing.assert_allclose(y, _torch_mha(xs, xs, xs, ws, causal), **TOL)


@pytest.mark.parametrize("causal", [False, True])
def test_mha_cross_attention_vs_numpy_and_torch(causal):
    """Different lengths and feature dims for query, value and key; value_dim != key_dim; output_shape."""
    m, mha = _mha_model((4, 5), (7, 6), (7, 3), num_heads=3, key_dim=2, value_dim=5, output_shape=9,
                        use_causal_mask=causal)
    ws = _rand_weights(mha, 3)
    r = np.random.default_rng(2)
    q, v, k = r.standard_normal((2, 4, 5)), r.standard_normal((2, 7, 6)), r.standard_normal((2, 7, 3))
    y = m.predict([q, v, k])
    assert y.shape == (2, 4, 9)
    np.testing.assert_allclose(y, _np_mha(q, v, k, ws, 2, causal), **TOL)
    np.testing.assert_allclose(y, _torch_mha(q, v, k, ws, causal), **TOL)
    # key omitted: the value is the key
    m2, mha2 = _mha_model((4, 5), (7, 6), num_heads=3, key_dim=2, value_dim=5, use_causal_mask=causal)
    ws2 = _rand_weights(mha2, 4)
    y2 = m2.predict([q, v])
    np.testing.assert_allclose(y2, _np_mha(q, v, v, ws2, 2, causal), **TOL)
    np.testing.assert_allclose(y2, _torch_mha(q, v, v, ws2, causal), **TOL)


def test_mha_causal_mask_blocks_the_future():
    x = layers.Input((5, 4))
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, use_causal_mask=True)
    m = pydl.Model(x, mha(x, x), dtype="float64")
    _rand_weights(mha)
    xs = np.random.default_rng(0).standard_normal((2, 5, 4))
    y = m.predict(xs)
    changed = xs.copy()
    changed[:, 3:] += 5.0  # changing positions 3, 4 leaves outputs 0..2 unchanged
    y2 = m.predict(changed)
    np.testing.assert_allclose(y2[:, :3], y[:, :3], **TOL)
    assert np.abs(y2[:, 3:] - y[:, 3:]).max() > 1e-3


def test_mha_no_bias_and_multi_dim_output_shape_vs_numpy():
    m, mha = _mha_model((3, 4), (5, 4), num_heads=2, key_dim=3, use_bias=False, output_shape=(2, 3))
    assert [w.shape for w in mha.get_weights()] == [(4, 2, 3), (4, 2, 3), (4, 2, 3), (2, 3, 2, 3)]
    ws = _rand_weights(mha)
    r = np.random.default_rng(5)
    q, v = r.standard_normal((2, 3, 4)), r.standard_normal((2, 5, 4))
    y = m.predict([q, v])
    assert y.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(y, _np_mha(q, v, v, ws, 3, use_bias=False), **TOL)


def test_mha_dropout_only_in_training_and_call_forms():
    x, z = layers.Input((4, 6)), layers.Input((3, 6))
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.5)
    m = pydl.Model([x, z], mha([x, z, z]), dtype="float64")   # list form, key given
    ws = _rand_weights(mha)
    r = np.random.default_rng(0)
    a, b = r.standard_normal((2, 4, 6)), r.standard_normal((2, 3, 6))
    np.testing.assert_allclose(m.predict([a, b]), _np_mha(a, b, b, ws, 3), **TOL)  # inference: no dropout
    # a shared layer applied twice (positional and list calls) shares its weights
    x2 = layers.Input((4, 6))
    shared = layers.MultiHeadAttention(num_heads=1, key_dim=2)
    m2 = pydl.Model(x2, layers.Add()([shared(x2, x2), shared([x2, x2])]), dtype="float64")
    assert m2.count_params() == 3 * (6 * 2 + 2) + (2 * 6 + 6)
    w2 = _rand_weights(shared)
    np.testing.assert_allclose(m2.predict(a), 2 * _np_mha(a, a, a, w2, 2), **TOL)


# ---- Attention / AdditiveAttention ----------------------------------------------------------------------------
def _np_attention(q, v, k, mode="dot", scale=None, concat_w=None, causal=False, additive_scale=None,
                  additive=False):
    if additive:
        t = np.tanh(q[:, :, None, :] + k[:, None, :, :])
        s = np.sum((1.0 if additive_scale is None else additive_scale) * t, axis=-1)
    elif mode == "dot":
        s = q @ k.transpose(0, 2, 1)
        if scale is not None:
            s = s * scale
    else:
        z = q[:, :, None, :] + k[:, None, :, :]
        s = concat_w * np.sum(np.tanh(z if scale is None else scale * z), axis=-1)
    if causal:
        s = s - 1e9 * (~_causal(s.shape[-2], s.shape[-1]))
    return _softmax(s) @ v


@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("score_mode", ["dot", "concat"])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_vs_numpy(use_scale, score_mode, causal):
    q_in, v_in, k_in = layers.Input((4, 3)), layers.Input((6, 5)), layers.Input((6, 3))
    att = layers.Attention(use_scale=use_scale, score_mode=score_mode, use_causal_mask=causal)
    m = pydl.Model([q_in, v_in, k_in], att(q_in, v_in, k_in), dtype="float64")
    names = _names(att)
    expected = (["scale"] if use_scale else []) + (["concat_score_weight"] if score_mode == "concat" else [])
    assert names == expected and all(w.shape == () for w in att.get_weights())
    assert all(np.all(w == 1.0) for w in att.get_weights())  # Keras: ones
    ws = [np.array(0.7), np.array(1.3)][:len(names)]
    att.set_weights(ws)
    scale = ws[0] if use_scale else None
    concat_w = ws[-1] if score_mode == "concat" else None
    r = np.random.default_rng(0)
    q, v, k = r.standard_normal((2, 4, 3)), r.standard_normal((2, 6, 5)), r.standard_normal((2, 6, 3))
    y = m.predict([q, v, k])
    assert y.shape == (2, 4, 5)
    np.testing.assert_allclose(y, _np_attention(q, v, k, score_mode, scale, concat_w, causal), **TOL)


@pytest.mark.parametrize("use_scale", [True, False])
@pytest.mark.parametrize("causal", [False, True])
def test_additive_attention_vs_numpy(use_scale, causal):
    q_in, v_in = layers.Input((5, 4)), layers.Input((3, 4))
    att = layers.AdditiveAttention(use_scale=use_scale, use_causal_mask=causal)
    m = pydl.Model([q_in, v_in], att([q_in, v_in]), dtype="float64")
    if use_scale:
        assert _names(att) == ["scale"]
        (s0,) = att.get_weights()
        assert s0.shape == (4,) and np.abs(s0).max() <= np.sqrt(6.0 / 8) and s0.std() > 0  # glorot_uniform, fans 4, 4
    else:
        assert att.get_weights() == []
    ws = _rand_weights(att)
    r = np.random.default_rng(1)
    q, v = r.standard_normal((3, 5, 4)), r.standard_normal((3, 3, 4))
    ref = _np_attention(q, v, v, additive=True, additive_scale=ws[0] if use_scale else None, causal=causal)
    np.testing.assert_allclose(m.predict([q, v]), ref, **TOL)


def test_attention_layers_train_and_round_trip(tmp_path):
    """Scalar () and vector weights train and survive save/load (with optimizer state)."""
    q_in, v_in = layers.Input((4, 3)), layers.Input((5, 3))
    a = layers.Attention(use_scale=True, score_mode="concat", name="luong")([q_in, v_in])
    b = layers.AdditiveAttention(name="bahdanau", use_causal_mask=True)([q_in, v_in])
    y = layers.Dense(1)(layers.Flatten()(layers.Concatenate()([a, b])))
    m = pydl.Model([q_in, v_in], y, dtype="float64", seed=3)
    r = np.random.default_rng(0)
    q, v, t = r.standard_normal((16, 4, 3)), r.standard_normal((16, 5, 3)), r.standard_normal((16, 1))
    m.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in m.get_layer("luong").get_weights()]
    h = m.fit([q, v], t, epochs=5, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert all(np.any(a0 != a1) for a0, a1 in zip(before, m.get_layer("luong").get_weights()))
    m.save(tmp_path / "att.pydl")
    m2 = pydl.load(tmp_path / "att.pydl")
    np.testing.assert_array_equal(m.predict([q, v]), m2.predict([q, v]))
    l2 = m2.get_layer("luong")
    assert (l2.use_scale, l2.score_mode, m2.get_layer("bahdanau").use_causal_mask) == (True, "concat", True)


# ---- a transformer block ------------------------------------------------------------------------------------
def _transformer(seed=0, dtype="float64"):
    x = layers.Input((6, 8), name="tokens")
    att = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1, use_causal_mask=True, name="mha")(x, x)
    h = layers.LayerNormalization(name="ln1")(layers.Add(name="res1")([x, att]))
    ff = layers.Dense(8, name="ff2")(layers.Dense(16, activation="relu", name="ff1")(h))
    h2 = layers.LayerNormalization(name="ln2")(layers.Add(name="res2")([h, ff]))
    y = layers.Dense(1, name="head")(layers.Flatten()(h2))
    return pydl.Model(x, y, name="block", seed=seed, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_transformer_block_trains_and_round_trips(tmp_path, dtype):
    r = np.random.default_rng(0)
    x = r.standard_normal((64, 6, 8)).astype(dtype)
    y = (x[:, :, 0].sum(axis=1, keepdims=True) * 0.5).astype(dtype)
    m = _transformer(dtype=dtype)
    m.compile(optimizer=pydl.optimizers.Adam(0.01), loss="mse")
    h = m.fit(x, y, epochs=12, batch_size=16, verbose=0, seed=1)
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]
    path = tmp_path / "block.pydl"
    m.save(path)
    m2 = pydl.load(path)
    assert [l.name for l in m2.layers] == [l.name for l in m.layers]
    mha2 = m2.get_layer("mha")
    assert (mha2.num_heads, mha2.key_dim, mha2.use_causal_mask, mha2.dropout) == (2, 4, True, 0.1)
    np.testing.assert_array_equal(m.predict(x), m2.predict(x))
    h1 = m.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=7)
    h2 = m2.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=7)
    assert h1.history == h2.history


# ---- invalid configs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(num_heads=0, key_dim=4), "MultiHeadAttention.*num_heads=0"),
    (dict(num_heads=2, key_dim=-1), "MultiHeadAttention.*key_dim=-1"),
    (dict(num_heads=2, key_dim=2.5), "MultiHeadAttention.*key_dim=2.5"),
    (dict(num_heads=2, key_dim=4, value_dim=0), "MultiHeadAttention.*value_dim=0"),
    (dict(num_heads=2, key_dim=4, dropout=1.0), "MultiHeadAttention.*dropout=1.0"),
    (dict(num_heads=2, key_dim=4, output_shape=-3), "MultiHeadAttention.*output_shape=-3"),
    (dict(num_heads=2, key_dim=4, attention_axes="1"), "MultiHeadAttention.*attention_axes='1'"),
    (dict(num_heads=2, key_dim=4, attention_axes=()), "MultiHeadAttention.*attention_axes=\\(\\)"),
    (dict(num_heads=2, key_dim=4, kernel_initializer="nope"), "MultiHeadAttention.*kernel_initializer='nope'"),
])
def test_mha_invalid_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.MultiHeadAttention(**kwargs)


@pytest.mark.parametrize("cls, kwargs, match", [
    (layers.Attention, dict(score_mode="general"), "Attention.*score_mode='general'"),
    (layers.Attention, dict(dropout=-0.1), "Attention.*dropout=-0.1"),
    (layers.Attention, dict(use_scale="yes"), "Attention.*use_scale='yes'"),
    (layers.AdditiveAttention, dict(dropout=1.5), "AdditiveAttention.*dropout=1.5"),
    (layers.AdditiveAttention, dict(use_causal_mask=1), "AdditiveAttention.*use_causal_mask=1"),
])
def test_attention_invalid_config(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_invalid_inputs_fail_when_the_model_is_built():
    x, z = layers.Input((4, 6)), layers.Input((5, 6))
    w = layers.Input((3, 6))
    with pytest.raises(ValueError, match="MultiHeadAttention.*value.*key"):   # value and key lengths differ
        pydl.Model([x, z, w], layers.MultiHeadAttention(2, 3, name="m")(x, z, w))
    flat = layers.Input(6)
    with pytest.raises(ValueError, match="MultiHeadAttention layer 'mha'.*query has shape \\(None, 6\\)"):
        pydl.Model([flat, z], layers.MultiHeadAttention(2, 3, name="mha")(flat, z))
    with pytest.raises(ValueError, match="Attention layer 'att'.*query and key.*\\(None, 4, 6\\).*\\(None, 5, 2\\)"):
        k2 = layers.Input((5, 2))
        pydl.Model([x, z, k2], layers.Attention(name="att")(x, z, k2))
    with pytest.raises(ValueError, match="length 2 or 3.*Received length: 1"):
        layers.Attention()([x])
    with pytest.raises(ValueError, match="MultiHeadAttention: call it on a query and a value"):
        layers.MultiHeadAttention(2, 3)(x)
    with pytest.raises(TypeError, match="MultiHeadAttention"):
        layers.MultiHeadAttention(2, 3)(np.zeros((1, 4, 6)), np.zeros((1, 4, 6)))
