"""Recurrent layers in functional graphs: masks (Embedding(mask_zero), Masking), initial states, return_state,
Bidirectional (merge_mode None, states, masks) and dropout, for the fused native path and the composed Ops path.
The reference is a NumPy implementation of Keras's masked recurrence (float64, tolerance 1e-10): a masked step keeps
the previous states and repeats the previous output (zeros before the first step, or always zeros with
zero_output_for_mask, which Bidirectional uses with return_sequences)."""
import numpy as np
import pytest

import pydl
from pydl import layers

TOL = dict(rtol=1e-10, atol=1e-10)
B, T, F, U = 4, 6, 3, 5


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _cell(kind, x, states, w):
    k, rk, b = w
    h = states[0]
    if kind == "SimpleRNN":
        return [np.tanh(x @ k + h @ rk + b)]
    if kind == "LSTM":
        z = x @ k + h @ rk + b
        i, f, g, o = (z[:, j * U:(j + 1) * U] for j in range(4))
        c = _sigmoid(f) * states[1] + _sigmoid(i) * np.tanh(g)
        return [_sigmoid(o) * np.tanh(c), c]
    mx, mh = x @ k + b[0], h @ rk + b[1]           # GRU, reset_after=True
    z = _sigmoid(mx[:, :U] + mh[:, :U])
    r = _sigmoid(mx[:, U:2 * U] + mh[:, U:2 * U])
    hh = np.tanh(mx[:, 2 * U:] + r * mh[:, 2 * U:])
    return [z * h + (1 - z) * hh]


def ref(kind, x, w, mask=None, init=None, go_backwards=False, zero_out=False):
    """Returns (outputs in processing order [B, T, U], last output, final states)."""
    n = 2 if kind == "LSTM" else 1
    states = [np.zeros((len(x), U)) for _ in range(n)] if init is None else [s.copy() for s in init]
    prev = np.zeros((len(x), U))
    outs = []
    for t in (range(T - 1, -1, -1) if go_backwards else range(T)):
        new = _cell(kind, x[:, t], states, w)
        m = np.ones((len(x), 1)) if mask is None else mask[:, t:t + 1].astype(float)
        states = [m * a + (1 - m) * s for a, s in zip(new, states)]
        out = m * new[0] + (0 if zero_out else (1 - m) * prev)
        prev = out
        outs.append(out)
    return np.stack(outs, 1), prev, states


def _weights(layer, seed):
    r = np.random.default_rng(seed)
    ws = [r.uniform(-0.6, 0.6, w.shape) for w in layer.get_weights()]
    layer.set_weights(ws)
    return ws


def _ids(seed):
    ids = np.random.default_rng(seed).integers(1, 9, (B, T))
    ids[1, 4:] = 0          # trailing padding
    ids[2, :2] = 0          # leading padding
    ids[3, :] = 0           # all padding
    ids[0, 3] = 0           # a hole
    return ids


@pytest.fixture(params=[True, False], ids=["fused", "composed"])
def path(request):
    J = pydl._jvm.jclass("org.pydl.nn.Recurrent")
    J.setFusedKernels(request.param)
    yield request.param
    J.setFusedKernels(True)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_rnn_with_states_vs_numpy(path, kind, return_sequences, go_backwards):
    ids_in = layers.Input((T,))
    emb = layers.Embedding(9, F, mask_zero=True)
    rnn = getattr(layers, kind)(U, return_sequences=return_sequences, go_backwards=go_backwards, return_state=True)
    outs = rnn(emb(ids_in))
    m = pydl.Model(ids_in, outs, dtype="float64", seed=1)
    w = _weights(rnn, 2)
    ids = _ids(3)
    got = m.predict(ids)
    seq, last, states = ref(kind, emb.get_weights()[0][ids], w, ids != 0, None, go_backwards)
    np.testing.assert_allclose(got[0], seq if return_sequences else last, **TOL)
    for g, s in zip(got[1:], states):
        np.testing.assert_allclose(g, s, **TOL)
    assert len(got) == (3 if kind == "LSTM" else 2)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_initial_states_vs_numpy(path, kind):
    n = 2 if kind == "LSTM" else 1
    x_in, s_in = layers.Input((T, F)), [layers.Input((U,)) for _ in range(n)]
    rnn = getattr(layers, kind)(U, return_sequences=True)
    m = pydl.Model([x_in, *s_in], rnn(x_in, initial_state=s_in), dtype="float64", seed=1)
    w = _weights(rnn, 4)
    r = np.random.default_rng(5)
    x, init = r.standard_normal((B, T, F)), [r.standard_normal((B, U)) for _ in range(n)]
    np.testing.assert_allclose(m.predict([x, *init]), ref(kind, x, w, init=init)[0], **TOL)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_initial_state_call_computes_without_the_mask_but_keeps_it(path, kind):
    """As Keras 3: a recurrent layer called with initial_state (two tensor arguments) gets no automatic mask, so
    its steps ignore the padding; its return_sequences output still carries the mask to the next RNN, which uses it.
    The list form layer([x, *states]) (Keras 2's call) uses the mask."""
    n = 2 if kind == "LSTM" else 1
    tok, s_in = layers.Input((T,)), [layers.Input((U,)) for _ in range(n)]
    emb = layers.Embedding(9, F, mask_zero=True)
    rnn, nxt = getattr(layers, kind)(U, return_sequences=True), layers.SimpleRNN(U, return_sequences=True)
    mid = rnn(emb(tok), initial_state=s_in)
    m = pydl.Model([tok, *s_in], [mid, nxt(mid)], dtype="float64", seed=1)
    r = np.random.default_rng(2)
    t = r.integers(1, 9, (B, T))
    t[0, -2:] = 0
    init = [r.standard_normal((B, U)) for _ in range(n)]
    out, after = m.predict([t, *init])
    x = emb.get_weights()[0][t]
    w = [np.asarray(a, np.float64) for a in rnn.get_weights()]
    np.testing.assert_allclose(out, ref(kind, x, w, init=init)[0], **TOL)             # no mask in the steps
    mask = (t != 0).astype(np.float64)
    np.testing.assert_allclose(after, ref("SimpleRNN", out, nxt.get_weights(), mask=mask)[0], **TOL)
    listed = pydl.Model([tok, *s_in], rnn([emb(tok), *s_in]), dtype="float64", seed=1)
    listed.set_weights(m.get_weights()[:len(listed.get_weights())])
    np.testing.assert_allclose(listed.predict([t, *init]), ref(kind, x, w, init=init, mask=mask)[0], **TOL)


def test_encoder_decoder_states_train_and_round_trip(path, tmp_path):
    """seq2seq: the encoder's states start the decoder; trains, and the file round-trips."""
    enc_in, dec_in = layers.Input((T, F)), layers.Input((4, F))
    _, h, c = layers.LSTM(8, return_state=True)(enc_in)
    dec = layers.LSTM(8, return_sequences=True)(dec_in, initial_state=[h, c])
    m = pydl.Model([enc_in, dec_in], layers.Dense(2)(dec), seed=0)
    m.compile(pydl.optimizers.Adam(0.02), "mse")
    r = np.random.default_rng(0)
    xe, xd = r.standard_normal((64, T, F)).astype(np.float32), r.standard_normal((64, 4, F)).astype(np.float32)
    y = np.repeat(xe[:, -1:, :2], 4, axis=1)              # only the encoder (through the states) knows it
    hist = m.fit([xe, xd], y, epochs=20, batch_size=16, verbose=0).history["loss"]
    assert hist[-1] < 0.6 * hist[0]
    m.save(tmp_path / "s2s.pydl")
    np.testing.assert_allclose(pydl.load(tmp_path / "s2s.pydl").predict([xe[:3], xd[:3]]), m.predict([xe[:3], xd[:3]]),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("merge_mode", ["concat", "ave", None])
def test_bidirectional_masks_states_and_merge_none(path, merge_mode):
    ids_in = layers.Input((T,))
    emb = layers.Embedding(9, F, mask_zero=True)
    bi = layers.Bidirectional(layers.GRU(U, return_sequences=True, return_state=True), merge_mode=merge_mode)
    outs = bi(emb(ids_in))
    m = pydl.Model(ids_in, outs, dtype="float64", seed=1)
    ws = _weights(bi, 6)
    ids = _ids(7)
    e, keep = emb.get_weights()[0][ids], ids != 0
    f_seq, _, f_st = ref("GRU", e, ws[:3], keep, zero_out=True)
    b_seq, _, b_st = ref("GRU", e, ws[3:], keep, go_backwards=True, zero_out=True)
    b_seq = b_seq[:, ::-1]
    got = m.predict(ids)
    if merge_mode is None:
        np.testing.assert_allclose(got[0], f_seq, **TOL)
        np.testing.assert_allclose(got[1], b_seq, **TOL)
        got = got[1:]
    else:
        want = np.concatenate([f_seq, b_seq], -1) if merge_mode == "concat" else (f_seq + b_seq) / 2
        np.testing.assert_allclose(got[0], want, **TOL)
    np.testing.assert_allclose(got[1], f_st[0], **TOL)
    np.testing.assert_allclose(got[2], b_st[0], **TOL)


def test_masking_layer_into_sequential_lstm_and_masked_output_mask():
    """Sequential: Masking -> LSTM(return_sequences) -> Dense; the sequence output keeps the mask (loss ignores it)."""
    m = pydl.Sequential([layers.Input((T, F)), layers.Masking(0.0), layers.LSTM(U, return_sequences=True),
                         layers.Dense(1)], dtype="float64", seed=0)
    m.build()
    lstm = m.layers[1]
    w = _weights(lstm, 8)
    x = np.random.default_rng(9).standard_normal((B, T, F))
    x[1, 3:] = 0
    keep = (x != 0).any(-1)
    h = m.activations(x)[lstm.name]
    np.testing.assert_allclose(h, ref("LSTM", x, w, keep)[0], **TOL)
    m.compile("sgd", "mse")
    y = np.random.default_rng(1).standard_normal((B, T, 1))
    per = ((m.predict(x) - y) ** 2)[..., 0]
    np.testing.assert_allclose(m.evaluate(x, y), (per * keep).sum() / keep.sum(), rtol=1e-10)


def test_dropout_and_recurrent_dropout_only_in_training():
    x_in = layers.Input((T, F))
    rnn = layers.LSTM(U, dropout=0.3, recurrent_dropout=0.3)
    m = pydl.Model(x_in, rnn(x_in), dtype="float64", seed=0)
    w = _weights(rnn, 10)
    x = np.random.default_rng(11).standard_normal((B, T, F))
    np.testing.assert_allclose(m.predict(x), ref("LSTM", x, w)[1], **TOL)      # inference: no dropout
    m.compile("sgd", "mse")
    h1 = m.fit(x, np.zeros((B, U)), epochs=3, batch_size=B, verbose=0).history["loss"]
    assert all(np.isfinite(h1))
    assert rnn.get_config()["recurrent_dropout"] == 0.3


def test_bad_recurrent_calls():
    x_in = layers.Input((T, F))
    with pytest.raises(ValueError, match=r"initial_state must hold 2"):
        layers.LSTM(U)(x_in, initial_state=[layers.Input((U,))])
    h = layers.Input((U + 1,))
    with pytest.raises(ValueError, match=r"initial states must have shape \(None, 5\), received \(None, 6\)"):
        pydl.Model([x_in, h], layers.GRU(U)(x_in, initial_state=[h]))
    with pytest.raises(ValueError, match="stateful"):
        layers.LSTM(U, stateful=True)
    with pytest.raises(ValueError, match="recurrent_dropout"):
        layers.GRU(U, recurrent_dropout=1.5)
