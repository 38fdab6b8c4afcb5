"""Keras masks (Embedding(mask_zero=True), Masking) flowing through functional and Sequential models into the
attention layers, plus the attention call arguments (attention_mask input, use_causal_mask, return_attention_scores).
References are NumPy implementations of Keras 3's equations (float64, tolerance 1e-10)."""
import numpy as np
import pytest

import pydl
from pydl import layers

TOL = dict(rtol=1e-10, atol=1e-10)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_mha(q, v, ws, key_dim, mask=None):
    """Keras 3 MultiHeadAttention with an attention mask (batch, T, S): where(mask, scores, -1e9), softmax, * mask.
    Returns (output, probabilities)."""
    wq, bq, wk, bk, wv, bv, wo, bo = ws
    Q = (np.einsum("btd,dhe->bthe", q, wq) + bq) / np.sqrt(float(key_dim))
    K = np.einsum("bsd,dhe->bshe", v, wk) + bk
    V = np.einsum("bsd,dhe->bshe", v, wv) + bv
    scores = np.einsum("bshe,bthe->bhts", K, Q)
    if mask is not None:
        m = mask[:, None].astype(bool)
        probs = _softmax(np.where(m, scores, -1e9)) * m
    else:
        probs = _softmax(scores)
    o = np.einsum("bhts,bshe->bthe", probs, V)
    return np.tensordot(o, wo, axes=([2, 3], [0, 1])) + bo, probs


def _np_attention(q, v, q_mask=None, v_mask=None, causal=False):
    """Keras 3 Attention (dot, no scale): scores -= 1e9 * padding, softmax, @ v, * query mask."""
    s = q @ v.transpose(0, 2, 1)
    keep = np.ones(s.shape, bool)
    if v_mask is not None:
        keep &= v_mask[:, None, :].astype(bool)
    if causal:
        keep &= np.arange(s.shape[1])[:, None] >= np.arange(s.shape[2])[None, :]
    w = _softmax(s - 1e9 * (~keep))
    out = w @ v
    if q_mask is not None:
        out = out * q_mask[:, :, None]
    return out, w


def _ids(rng, batch, length, vocab, pads):
    """Integer ids in [1, vocab) with `pads[b]` trailing zeros (padding) in row b."""
    ids = rng.integers(1, vocab, size=(batch, length))
    for b, p in enumerate(pads):
        if p:
            ids[b, length - p:] = 0
    return ids


def _randomize(layer, seed, scale=0.5):
    r = np.random.default_rng(seed)
    ws = [r.standard_normal(w.shape) * scale for w in layer.get_weights()]
    layer.set_weights(ws)
    return ws


# ---- MultiHeadAttention ------------------------------------------------------------------------------------
def test_mha_uses_embedding_masks_and_zeroes_fully_masked_rows():
    ids_in = layers.Input((6,))
    emb = layers.Embedding(20, 8, mask_zero=True)
    x = emb(ids_in)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    y, scores = mha(x, x, return_attention_scores=True)
    m = pydl.Model(ids_in, [y, scores], dtype="float64", seed=3)
    ws = _randomize(mha, 1)
    ids = _ids(np.random.default_rng(0), 4, 6, 20, [0, 2, 5, 6])   # the last row is all padding
    got_y, got_s = m.predict(ids)
    e = emb.get_weights()[0][ids]
    keep = ids != 0
    want_y, want_s = _np_mha(e, e, ws, 4, keep[:, :, None] & keep[:, None, :])
    assert got_s.shape == (4, 2, 6, 6)
    np.testing.assert_allclose(got_s, want_s, **TOL)
    np.testing.assert_allclose(got_y, want_y, **TOL)
    assert np.all(got_s[3] == 0), "a fully masked row has zero probabilities (Keras 3)"
    np.testing.assert_allclose(got_y[3], np.broadcast_to(ws[7], (6, 8)), **TOL)


@pytest.mark.parametrize("causal", [False, True])
def test_mha_attention_mask_input_and_causal_call_argument(causal):
    q_in, v_in, m_in = layers.Input((4, 5)), layers.Input((7, 3)), layers.Input((4, 7))
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=2)
    y = mha(q_in, v_in, attention_mask=m_in, use_causal_mask=causal)
    m = pydl.Model([q_in, v_in, m_in], y, dtype="float64")
    ws = _randomize(mha, 2)
    r = np.random.default_rng(5)
    q, v = r.standard_normal((3, 4, 5)), r.standard_normal((3, 7, 3))
    am = r.random((3, 4, 7)) > 0.4
    am[0, 1] = False                                             # one fully masked query row
    want_mask = am.copy()
    if causal:
        want_mask &= np.arange(4)[:, None] >= np.arange(7)[None, :]
    np.testing.assert_allclose(m.predict([q, v, am.astype(np.float64)]), _np_mha(q, v, ws, 2, want_mask)[0], **TOL)


def test_causal_call_argument_equals_config_flag():
    x = layers.Input((5, 6))
    a = layers.MultiHeadAttention(2, 3)
    b = layers.MultiHeadAttention(2, 3, use_causal_mask=True)
    ma = pydl.Model(x, a(x, x, use_causal_mask=True), dtype="float64")
    mb = pydl.Model(x, b(x, x), dtype="float64")
    mb.set_weights(ma.get_weights())
    xs = np.random.default_rng(1).standard_normal((2, 5, 6))
    np.testing.assert_allclose(ma.predict(xs), mb.predict(xs), **TOL)
    ws = a.get_weights()
    np.testing.assert_allclose(ma.predict(xs), _np_mha(xs, xs, ws, 3, np.tril(np.ones((2, 5, 5), bool)))[0], **TOL)


# ---- Attention, Masking, merges ------------------------------------------------------------------------------
@pytest.mark.parametrize("causal", [False, True])
def test_attention_with_masks_and_scores(causal):
    q_ids, v_ids = layers.Input((5,)), layers.Input((6,))
    eq, ev = layers.Embedding(30, 4, mask_zero=True), layers.Embedding(30, 4, mask_zero=True)
    att = layers.Attention()
    out, w = att([eq(q_ids), ev(v_ids)], return_attention_scores=True, use_causal_mask=causal)
    m = pydl.Model([q_ids, v_ids], [out, w], dtype="float64")
    rng = np.random.default_rng(3)
    qi, vi = _ids(rng, 3, 5, 30, [0, 2, 4]), _ids(rng, 3, 6, 30, [1, 0, 3])
    got_out, got_w = m.predict([qi, vi])
    want_out, want_w = _np_attention(eq.get_weights()[0][qi], ev.get_weights()[0][vi], (qi != 0) * 1.0,
                                     (vi != 0) * 1.0, causal)
    np.testing.assert_allclose(got_w, want_w, **TOL)
    np.testing.assert_allclose(got_out, want_out, **TOL)


def test_masking_layer_zeroes_steps_and_masks_attention():
    x_in = layers.Input((5, 3))
    mk = layers.Masking(mask_value=-1.0)
    h = mk(x_in)
    out = layers.Attention()([h, h])
    m = pydl.Model(x_in, [h, out], dtype="float64")
    x = np.random.default_rng(2).standard_normal((2, 5, 3))
    x[0, 3:] = -1.0
    x[1, 0] = -1.0
    x[1, 2, 0] = -1.0            # only one feature equal to mask_value: not masked
    keep = (x != -1.0).any(-1)
    got_h, got_out = m.predict(x)
    np.testing.assert_array_equal(got_h, x * keep[:, :, None])
    np.testing.assert_allclose(got_out, _np_attention(got_h, got_h, keep * 1.0, keep * 1.0)[0], **TOL)


def test_merge_masks_are_anded():
    """Add of a masked and an unmasked embedding: the mask is the masked one's (Keras: and, missing = all ones)."""
    ids_a, ids_b = layers.Input((6,)), layers.Input((6,))
    ea, eb = layers.Embedding(10, 4, mask_zero=True), layers.Embedding(10, 4)
    s = layers.Add()([ea(ids_a), eb(ids_b)])
    out = layers.Attention()([s, s])
    m = pydl.Model([ids_a, ids_b], out, dtype="float64")
    rng = np.random.default_rng(4)
    a, b = _ids(rng, 2, 6, 10, [2, 0]), _ids(rng, 2, 6, 10, [0, 3])
    sv = ea.get_weights()[0][a] + eb.get_weights()[0][b]
    keep = (a != 0) * 1.0
    np.testing.assert_allclose(m.predict([a, b]), _np_attention(sv, sv, keep, keep)[0], **TOL)


def test_masks_flow_through_sequential_and_elementwise_layers():
    """Embedding(mask_zero) -> Dense -> Dropout in a functional model: the mask still reaches the attention layer."""
    ids_in = layers.Input((6,))
    emb = layers.Embedding(12, 4, mask_zero=True)
    h = layers.Dropout(0.5)(layers.Dense(4)(emb(ids_in)))
    out = layers.Attention()([h, h])
    m = pydl.Model(ids_in, [h, out], dtype="float64")
    ids = _ids(np.random.default_rng(6), 3, 6, 12, [0, 3, 1])
    hv, got = m.predict(ids)
    keep = (ids != 0) * 1.0
    np.testing.assert_allclose(got, _np_attention(hv, hv, keep, keep)[0], **TOL)


# ---- training, model files, bad input ---------------------------------------------------------------------
def test_masked_transformer_classifier_trains_and_round_trips(tmp_path):
    ids_in, pad_in = layers.Input((8,), name="ids"), layers.Input((8, 8), name="attn")
    x = layers.Embedding(16, 8, mask_zero=True)(ids_in)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    a, s = mha(x, x, attention_mask=pad_in, return_attention_scores=True, use_causal_mask=True)
    h = layers.LayerNormalization()(layers.Add()([x, a]))
    y = layers.Dense(2, activation="softmax")(layers.Flatten()(h))
    m = pydl.Model([ids_in, pad_in], [y, s], seed=1)
    m.compile("adam", loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.0])
    rng = np.random.default_rng(0)
    ids = _ids(rng, 64, 8, 16, rng.integers(0, 5, 64))
    am = np.ones((64, 8, 8), np.float32)
    labels = (ids[:, 0] > 8).astype(np.int32)
    hist = m.fit([ids, am], [labels, np.zeros((64, 2, 8, 8), np.float32)], epochs=15, batch_size=16, verbose=0)
    losses = hist.history["loss"]
    assert losses[-1] < 0.7 * losses[0]
    path = tmp_path / "masked.pydl"
    m.save(path)
    m2 = pydl.load(path)
    for p1, p2 in zip(m.predict([ids[:5], am[:5]]), m2.predict([ids[:5], am[:5]])):
        np.testing.assert_allclose(p1, p2, rtol=1e-6, atol=1e-6)


def test_bad_attention_call_arguments():
    q, v = layers.Input((4, 5)), layers.Input((6, 5))
    with pytest.raises(ValueError, match=r"attention_mask must have shape \(None, 4, 6\).*received \(None, 6, 4\)"):
        am = layers.Input((6, 4))
        pydl.Model([q, v, am], layers.MultiHeadAttention(2, 2)(q, v, attention_mask=am))
    with pytest.raises(ValueError, match="return_attention_scores"):
        layers.Attention()([q, v], return_attention_scores="yes")
    with pytest.raises(ValueError, match="explicit `mask`"):
        layers.Attention()([q, v], mask=[None, None])
    with pytest.raises(ValueError, match="mask_value"):
        layers.Masking(mask_value=float("nan"))
    with pytest.raises(ValueError, match=r"Masking layer .*rank >= 3"):
        x = layers.Input((5,))
        pydl.Model(x, layers.Masking()(x))


def test_loss_of_a_masked_sequence_output_averages_unmasked_steps():
    """Keras 3: the output's mask weights the loss; the mean is over the steps the mask keeps (here vs NumPy)."""
    ids_in = layers.Input((5,))
    emb, dense = layers.Embedding(9, 4, mask_zero=True), layers.Dense(3, activation="softmax")
    m = pydl.Model(ids_in, dense(emb(ids_in)), dtype="float64")
    m.compile("sgd", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    ids = _ids(rng, 6, 5, 9, [0, 2, 4, 0, 3, 1])
    y = rng.integers(0, 3, (6, 5)).astype(np.int32)
    p = m.predict(ids)
    per = -np.log(np.take_along_axis(p, y[..., None], -1))[..., 0]
    keep = ids != 0
    np.testing.assert_allclose(m.evaluate(ids, y), (per * keep).sum() / keep.sum(), rtol=1e-12)
    # the padded steps' labels do not matter for training either
    y2 = np.where(keep, y, (y + 1) % 3).astype(np.int32)
    w0 = m.get_weights()
    h1 = m.fit(ids, y, epochs=2, batch_size=3, shuffle=False, verbose=0).history["loss"]
    w1 = m.get_weights()
    m.set_weights(w0)
    h2 = m.fit(ids, y2, epochs=2, batch_size=3, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h1, h2, rtol=1e-12)
    for a, b in zip(w1, m.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_global_average_pooling_1d_averages_unmasked_steps():
    ids_in = layers.Input((6,))
    emb = layers.Embedding(10, 4, mask_zero=True)
    h = layers.Dense(3)(emb(ids_in))
    m = pydl.Model(ids_in, [h, layers.GlobalAveragePooling1D()(h), layers.GlobalMaxPooling1D()(h)], dtype="float64")
    ids = _ids(np.random.default_rng(7), 4, 6, 10, [0, 2, 5, 1])
    hv, avg, mx = m.predict(ids)
    keep = (ids != 0)[:, :, None]
    np.testing.assert_allclose(avg, (hv * keep).sum(1) / keep.sum(1), **TOL)
    np.testing.assert_allclose(mx, hv.max(1), **TOL)          # Keras 3's GlobalMaxPooling1D ignores masks
