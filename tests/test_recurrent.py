"""Recurrent layers (SimpleRNN, LSTM, GRU) and the wrappers Bidirectional and TimeDistributed: forward vs a NumPy
implementation of Keras's equations (float64, Keras weight layout), cross-checks against torch.nn.RNN / LSTM / GRU
with the same weights, shapes and ordering of return_sequences / go_backwards, parameter counts, initialisers,
model-file round trips, invalid configurations, and a small sequence task that trains.
"""
import numpy as np
import pytest

import pydl
from pydl import layers
from helpers import check

F64 = dict(rtol=1e-12, atol=1e-13)
B, T, F, U = 3, 5, 4, 6


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACT = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z,
       "hard_sigmoid": lambda z: np.clip(z / 6 + 0.5, 0, 1)}


# ---- NumPy references (Keras 3 equations) --------------------------------------------------------------------
def ref_rnn(kind, x, weights, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
            return_sequences=False, go_backwards=False, reset_after=True):
    act, ract = ACT[activation], ACT[recurrent_activation]
    k, rk = weights[0], weights[1]
    b = weights[2] if use_bias else None
    n = x.shape[0]
    h = np.zeros((n, units))
    c = np.zeros((n, units))
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    outs = []
    u = units
    for t in steps:
        xt = x[:, t]
        if kind == "SimpleRNN":
            h = act(xt @ k + (b if use_bias else 0) + h @ rk)
        elif kind == "LSTM":
            z = xt @ k + h @ rk + (b if use_bias else 0)
            i, f, g, o = ract(z[:, :u]), ract(z[:, u:2 * u]), act(z[:, 2 * u:3 * u]), ract(z[:, 3 * u:])
            c = f * c + i * g
            h = o * act(c)
        elif kind == "GRU":
            if reset_after:
                bi, br = (b[0], b[1]) if use_bias else (0, 0)
                mx = xt @ k + bi
                mh = h @ rk + br
                z = ract(mx[:, :u] + mh[:, :u])
                r = ract(mx[:, u:2 * u] + mh[:, u:2 * u])
                hh = act(mx[:, 2 * u:] + r * mh[:, 2 * u:])
            else:
                mx = xt @ k + (b if use_bias else 0)
                z = ract(mx[:, :u] + h @ rk[:, :u])
                r = ract(mx[:, u:2 * u] + h @ rk[:, u:2 * u])
                hh = act(mx[:, 2 * u:] + (r * h) @ rk[:, 2 * u:])
            h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, axis=1) if return_sequences else h


def make(layer, shape=(T, F), dtype="float64", seed=0):
    return pydl.Sequential([layers.Input(shape), layer], dtype=dtype, seed=seed)


def random_weights(m, seed=1, scale=0.6):
    r = np.random.default_rng(seed)
    ws = [r.uniform(-scale, scale, w.shape) for w in m.get_weights()]
    m.set_weights(ws)
    return ws


def seq(seed=2, shape=(B, T, F)):
    return np.random.default_rng(seed).standard_normal(shape)


GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
CASES = [
    ("SimpleRNN", {}), ("SimpleRNN", dict(activation="relu")), ("SimpleRNN", dict(use_bias=False)),
    ("LSTM", {}), ("LSTM", dict(use_bias=False)), ("LSTM", dict(activation="relu", recurrent_activation="hard_sigmoid")),
    ("GRU", {}), ("GRU", dict(reset_after=False)), ("GRU", dict(use_bias=False)),
    ("GRU", dict(reset_after=False, use_bias=False)), ("GRU", dict(recurrent_activation="tanh", activation="linear")),
]


@pytest.mark.parametrize("kind,kw", CASES, ids=[f"{k}-{'-'.join(f'{a}={b}' for a, b in kw.items()) or 'default'}"
                                                 for k, kw in CASES])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_forward_vs_numpy_keras_equations(kind, kw, return_sequences, go_backwards):
    layer = getattr(layers, kind)(U, return_sequences=return_sequences, go_backwards=go_backwards, **kw)
    m = make(layer)
    ws = random_weights(m)
    x = seq()
    out = m.predict(x)
    ref = ref_rnn(kind, x, ws, U, return_sequences=return_sequences, go_backwards=go_backwards, **kw)
    assert out.shape == ((B, T, U) if return_sequences else (B, U))
    check(out, ref, **F64, what=f"{kind} {kw}")


def test_float32_forward_vs_numpy():
    m = make(layers.LSTM(U, return_sequences=True), dtype="float32")
    ws = [w.astype(np.float64) for w in m.get_weights()]
    x = seq().astype(np.float32)
    check(m.predict(x), ref_rnn("LSTM", x.astype(np.float64), ws, U, return_sequences=True).astype(np.float32),
          atol=1e-5, rtol=1e-5)


def test_return_sequences_and_go_backwards_ordering():
    """go_backwards: the returned sequence is in processing order (last input step first), as in Keras; its last
    element equals the plain last-step output."""
    x = seq()
    m_seq = make(layers.GRU(U, return_sequences=True, go_backwards=True))
    ws = random_weights(m_seq)
    m_last = make(layers.GRU(U, go_backwards=True))
    m_last.set_weights(ws)
    full = m_seq.predict(x)
    check(m_last.predict(x), full[:, -1], **F64)
    # the first output saw only the last input step
    m_one = make(layers.GRU(U), shape=(1, F))
    m_one.set_weights(ws)
    check(full[:, 0], m_one.predict(x[:, -1:]), **F64)
    # going backwards over x == going forwards over reversed x
    m_fwd = make(layers.GRU(U, return_sequences=True))
    m_fwd.set_weights(ws)
    check(full, m_fwd.predict(x[:, ::-1].copy()), **F64)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_single_step_and_stacked(kind):
    """One time step (the recurrent kernel is unused: h_0 = 0), and two stacked layers (the second one's input
    needs a gradient); a model with T = 1 still trains."""
    m = make(getattr(layers, kind)(U), shape=(1, F))
    ws = random_weights(m)
    x = seq(shape=(B, 1, F))
    check(m.predict(x), ref_rnn(kind, x, ws, U), **F64)
    m.compile(optimizer="adam", loss="mse")
    m.fit(x, np.zeros((B, U)), epochs=2, verbose=0)
    m = pydl.Sequential([layers.Input((T, F)), getattr(layers, kind)(U, return_sequences=True),
                         layers.GRU(4, go_backwards=True)], dtype="float64", seed=0)
    ws = random_weights(m)
    n = len(ws) - 3
    x = seq()
    ref = ref_rnn("GRU", ref_rnn(kind, x, ws[:n], U, return_sequences=True), ws[n:], 4, go_backwards=True)
    check(m.predict(x), ref, **F64)


# ---- torch cross-checks ---------------------------------------------------------------------------------------
torch = pytest.importorskip("torch")


def _torch_run(mod, x):
    torch.set_num_threads(1)
    with torch.no_grad():
        out, _ = mod(torch.from_numpy(x))
    return out.numpy()


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_simplernn_vs_torch(activation):
    m = make(layers.SimpleRNN(U, activation=activation, return_sequences=True))
    k, rk, b = random_weights(m)
    t = torch.nn.RNN(F, U, nonlinearity=activation, batch_first=True).double()
    with torch.no_grad():
        t.weight_ih_l0.copy_(torch.from_numpy(k.T))
        t.weight_hh_l0.copy_(torch.from_numpy(rk.T))
        t.bias_ih_l0.copy_(torch.from_numpy(b))
        t.bias_hh_l0.zero_()
    x = seq()
    check(m.predict(x), _torch_run(t, x), rtol=1e-10, atol=1e-12)


def test_lstm_vs_torch():
    """torch's gate order i, f, g, o is Keras's i, f, c, o; torch's two biases sum to Keras's one."""
    m = make(layers.LSTM(U, return_sequences=True))
    k, rk, b = random_weights(m)
    t = torch.nn.LSTM(F, U, batch_first=True).double()
    with torch.no_grad():
        t.weight_ih_l0.copy_(torch.from_numpy(k.T))
        t.weight_hh_l0.copy_(torch.from_numpy(rk.T))
        t.bias_ih_l0.copy_(torch.from_numpy(b / 2))
        t.bias_hh_l0.copy_(torch.from_numpy(b / 2))
    x = seq()
    check(m.predict(x), _torch_run(t, x), rtol=1e-10, atol=1e-12)


def test_gru_reset_after_vs_torch():
    """Keras GRU(reset_after=True) == torch.nn.GRU: Keras gate order z, r, h -> torch r, z, n; Keras bias row 0 is
    torch's bias_ih, row 1 bias_hh."""
    m = make(layers.GRU(U, return_sequences=True))
    k, rk, b = random_weights(m)

    def reorder(w):  # [..., 3U] z, r, h -> r, z, h
        return np.concatenate([w[..., U:2 * U], w[..., :U], w[..., 2 * U:]], axis=-1)

    t = torch.nn.GRU(F, U, batch_first=True).double()
    with torch.no_grad():
        t.weight_ih_l0.copy_(torch.from_numpy(reorder(k).T.copy()))
        t.weight_hh_l0.copy_(torch.from_numpy(reorder(rk).T.copy()))
        t.bias_ih_l0.copy_(torch.from_numpy(reorder(b[0])))
        t.bias_hh_l0.copy_(torch.from_numpy(reorder(b[1])))
    x = seq()
    check(m.predict(x), _torch_run(t, x), rtol=1e-10, atol=1e-12)


# ---- the fused sequence op (Ops.rnn: initial states, masks, gradients) ----------------------------------------
def _jvm_classes():
    from pydl import _jvm
    return _jvm.jclass("org.pydl.ops.Ops"), _jvm.jclass("org.pydl.ops.RnnCell"), _jvm.jclass("org.pydl.nn.Recurrent")


def _fused(cell, x, k, rk, b, h0=None, c0=None, mask=None, go_backwards=False, weights=None):
    """Runs Ops.rnn in float64; returns its outputs and, with `weights` (one array per output), the gradients of
    sum(output_i * weights_i) w.r.t. x, kernel, recurrent_kernel, bias, h0, c0 (None where absent)."""
    from pydl import _array
    Ops, RnnCell, _ = _jvm_classes()
    ins = [None if a is None else _array.to_java(np.ascontiguousarray(a, dtype=np.float64))
           for a in (x, k, rk, b, h0, c0)]
    jm = None if mask is None else _array.to_java(mask.astype(np.float64))
    for a in ins:
        if a is not None and weights is not None:
            a.setRequiresGrad(True)
    outs = Ops.rnn(getattr(RnnCell, cell), *ins, jm, go_backwards, False, False)
    res = [_array.to_numpy(o).copy() for o in outs]
    if weights is None:
        return res, None
    total = None
    for o, w in zip(outs, weights):
        term = Ops.sum(Ops.mul(o, _array.to_java(w)))
        total = term if total is None else Ops.add(total, term)
    total.backward()
    return res, [None if a is None else _array.to_numpy(a.grad()).copy() for a in ins]


def _torch_lstm(k, rk, b):
    t = torch.nn.LSTM(k.shape[0], rk.shape[0], batch_first=True).double()
    with torch.no_grad():
        t.weight_ih_l0.copy_(torch.from_numpy(k.T.copy()))
        t.weight_hh_l0.copy_(torch.from_numpy(rk.T.copy()))
        t.bias_ih_l0.copy_(torch.from_numpy(b))
        t.bias_hh_l0.zero_()
    return t


def test_fused_lstm_vs_torch_with_initial_states_and_gradients():
    """Ops.rnn(LSTM) with h0/c0: outputs, final states and every gradient (x, weights, bias, h0, c0) equal
    torch.nn.LSTM's autograd ones (float64)."""
    r = np.random.default_rng(5)
    x, k, rk, b = seq(), r.uniform(-.6, .6, (F, 4 * U)), r.uniform(-.6, .6, (U, 4 * U)), r.uniform(-.6, .6, 4 * U)
    h0, c0 = r.uniform(-1, 1, (B, U)), r.uniform(-1, 1, (B, U))
    ws = [r.standard_normal((B, T, U)), r.standard_normal((B, U)), r.standard_normal((B, U))]
    (out, h, c), grads = _fused("LSTM", x, k, rk, b, h0, c0, weights=ws)
    t = _torch_lstm(k, rk, b)
    tx, th0, tc0 = (torch.from_numpy(a).requires_grad_() for a in (x, h0, c0))
    to, (th, tc) = t(tx, (th0[None], tc0[None]))
    ((to * torch.from_numpy(ws[0])).sum() + (th[0] * torch.from_numpy(ws[1])).sum()
     + (tc[0] * torch.from_numpy(ws[2])).sum()).backward()
    tol = dict(rtol=1e-10, atol=1e-12)
    check(out, to.detach().numpy(), **tol, what="sequence")
    check(h, th[0].detach().numpy(), **tol, what="final h")
    check(c, tc[0].detach().numpy(), **tol, what="final c")
    check(grads[0], tx.grad.numpy(), **tol, what="d x")
    check(grads[1], t.weight_ih_l0.grad.numpy().T, **tol, what="d kernel")
    check(grads[2], t.weight_hh_l0.grad.numpy().T, **tol, what="d recurrent_kernel")
    check(grads[3], t.bias_ih_l0.grad.numpy(), **tol, what="d bias")
    check(grads[4], th0.grad.numpy(), **tol, what="d h0")
    check(grads[5], tc0.grad.numpy(), **tol, what="d c0")


def test_fused_mask_final_states_vs_torch_packed_sequences():
    """A post-padding mask (lengths 5, 3, 1) gives the final states of torch's packed sequences (the state at each
    row's last real step); Keras's masked outputs repeat the last real output."""
    r = np.random.default_rng(6)
    x, k, rk, b = seq(), r.uniform(-.6, .6, (F, 4 * U)), r.uniform(-.6, .6, (U, 4 * U)), r.uniform(-.6, .6, 4 * U)
    lengths = [5, 3, 1]
    mask = (np.arange(T)[None, :] < np.array(lengths)[:, None]).astype(np.float64)
    (out, h, c), _ = _fused("LSTM", x, k, rk, b, mask=mask)
    t = _torch_lstm(k, rk, b)
    with torch.no_grad():
        packed = torch.nn.utils.rnn.pack_padded_sequence(torch.from_numpy(x), lengths, batch_first=True)
        to, (th, tc) = t(packed)
        to, _ = torch.nn.utils.rnn.pad_packed_sequence(to, batch_first=True, total_length=T)
    check(h, th[0].numpy(), rtol=1e-10, atol=1e-12, what="final h")
    check(c, tc[0].numpy(), rtol=1e-10, atol=1e-12, what="final c")
    for i, n in enumerate(lengths):
        check(out[i, :n], to[i, :n].numpy(), rtol=1e-10, atol=1e-12, what=f"row {i} real steps")
        check(out[i, n:], np.repeat(out[i, n - 1:n], T - n, axis=0), rtol=0, atol=0, what=f"row {i} masked steps")


FUSED_CASES = [("SimpleRNN", {}), ("LSTM", {}), ("LSTM", dict(use_bias=False)), ("GRU", {}),
               ("GRU", dict(reset_after=False)), ("GRU", dict(use_bias=False, reset_after=False))]


@pytest.mark.parametrize("kind,kw", FUSED_CASES, ids=[f"{k}-{kw}" for k, kw in FUSED_CASES])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_kernels_match_composed_path_float32(kind, kw, go_backwards):
    """float32, 16 units (the packed per-step kernel): the fused path equals the composed per-step Ops path."""
    _, _, Recurrent = _jvm_classes()
    m = make(getattr(layers, kind)(16, return_sequences=True, go_backwards=go_backwards, **kw), dtype="float32")
    random_weights(m, scale=0.4)
    x = seq().astype(np.float32)
    fused = m.predict(x)
    Recurrent.setFusedKernels(False)
    try:
        composed = m.predict(x)
    finally:
        Recurrent.setFusedKernels(True)
    check(fused, composed, rtol=1e-5, atol=2e-6, what=f"{kind} {kw}")


# ---- weights, counts, initialisers ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind,kw,shapes", [
    ("SimpleRNN", {}, [(F, U), (U, U), (U,)]),
    ("LSTM", {}, [(F, 4 * U), (U, 4 * U), (4 * U,)]),
    ("GRU", {}, [(F, 3 * U), (U, 3 * U), (2, 3 * U)]),
    ("GRU", dict(reset_after=False), [(F, 3 * U), (U, 3 * U), (3 * U,)]),
    ("LSTM", dict(use_bias=False), [(F, 4 * U), (U, 4 * U)]),
])
def test_weight_layouts_and_param_counts(kind, kw, shapes):
    m = make(getattr(layers, kind)(U, **kw))
    assert [w.shape for w in m.get_weights()] == shapes
    g = GATES[kind]
    bias = 0 if kw.get("use_bias") is False else g * U * (2 if kind == "GRU" and kw.get("reset_after", True) else 1)
    assert m.count_params() == g * (F * U + U * U) + bias
    if kind == "LSTM" and not kw:
        assert m.count_params() == 4 * (F * U + U * U + U)


def test_default_initialisers():
    m = make(layers.LSTM(8), shape=(T, 10), seed=3)
    k, rk, b = m.get_weights()
    limit = np.sqrt(6 / (10 + 32))  # glorot_uniform on [10, 32]
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.8 * limit
    # orthogonal [8, 32]: rows orthonormal
    check(rk @ rk.T, np.eye(8), rtol=0, atol=1e-12)
    # unit_forget_bias: zeros except the forget gate's ones
    check(b, np.concatenate([np.zeros(8), np.ones(8), np.zeros(16)]))
    b2 = make(layers.LSTM(8, unit_forget_bias=False), shape=(T, 10)).get_weights()[2]
    assert not b2.any()
    # square orthogonal (SimpleRNN): Q^T Q = I; seeded: same seed, same weights; other seed, other weights
    rk = make(layers.SimpleRNN(5), seed=4).get_weights()[1]
    check(rk.T @ rk, np.eye(5), rtol=0, atol=1e-12)
    check(make(layers.SimpleRNN(5), seed=4).get_weights()[1], rk, rtol=0, atol=0)
    assert not np.allclose(make(layers.SimpleRNN(5), seed=5).get_weights()[1], rk)
    # glorot recurrent initializer is accepted
    rk = make(layers.GRU(4, recurrent_initializer="glorot_uniform")).get_weights()[1]
    assert np.abs(rk @ rk.T - np.eye(4)).max() > 1e-3


# ---- wrappers -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_vs_numpy(merge_mode, return_sequences):
    m = make(layers.Bidirectional(layers.LSTM(U, return_sequences=return_sequences), merge_mode=merge_mode))
    ws = random_weights(m)
    assert [w.shape for w in ws] == [(F, 4 * U), (U, 4 * U), (4 * U,)] * 2
    assert m.count_params() == 2 * 4 * (F * U + U * U + U)
    x = seq()
    fw = ref_rnn("LSTM", x, ws[:3], U, return_sequences=return_sequences)
    bw = ref_rnn("LSTM", x, ws[3:], U, return_sequences=return_sequences, go_backwards=True)
    if return_sequences:
        bw = bw[:, ::-1]
    ref = {"concat": lambda: np.concatenate([fw, bw], -1), "sum": lambda: fw + bw, "mul": lambda: fw * bw,
           "ave": lambda: (fw + bw) / 2}[merge_mode]()
    check(m.predict(x), ref, **F64)


def test_bidirectional_backward_layer():
    """A different backward layer (Keras's ``backward_layer``): its output is reversed to input order."""
    m = make(layers.Bidirectional(layers.LSTM(U, return_sequences=True),
                                  backward_layer=layers.GRU(2, go_backwards=True, return_sequences=True)))
    ws = random_weights(m)
    x = seq()
    fw = ref_rnn("LSTM", x, ws[:3], U, return_sequences=True)
    bw = ref_rnn("GRU", x, ws[3:], 2, return_sequences=True, go_backwards=True)[:, ::-1]
    check(m.predict(x), np.concatenate([fw, bw], -1), **F64)
    with pytest.raises(ValueError, match="Bidirectional layer 'bidirectional'.*go_backwards"):
        make(layers.Bidirectional(layers.LSTM(U), backward_layer=layers.LSTM(U))).build()
    with pytest.raises(ValueError, match="merge_mode=sum needs.*3 and 2"):
        make(layers.Bidirectional(layers.LSTM(3), merge_mode="sum",
                                  backward_layer=layers.LSTM(2, go_backwards=True))).build()


def test_bidirectional_gru_vs_torch():
    m = make(layers.Bidirectional(layers.GRU(U, return_sequences=True)))
    ws = random_weights(m)

    def reorder(w):
        return np.concatenate([w[..., U:2 * U], w[..., :U], w[..., 2 * U:]], axis=-1)

    t = torch.nn.GRU(F, U, batch_first=True, bidirectional=True).double()
    with torch.no_grad():
        for sfx, (k, rk, b) in (("", ws[:3]), ("_reverse", ws[3:])):
            getattr(t, "weight_ih_l0" + sfx).copy_(torch.from_numpy(reorder(k).T.copy()))
            getattr(t, "weight_hh_l0" + sfx).copy_(torch.from_numpy(reorder(rk).T.copy()))
            getattr(t, "bias_ih_l0" + sfx).copy_(torch.from_numpy(reorder(b[0])))
            getattr(t, "bias_hh_l0" + sfx).copy_(torch.from_numpy(reorder(b[1])))
    x = seq()
    check(m.predict(x), _torch_run(t, x), rtol=1e-10, atol=1e-12)


def test_time_distributed_dense():
    m = pydl.Sequential([layers.Input((T, F)), layers.TimeDistributed(layers.Dense(7, activation="tanh")),
                         layers.LSTM(U)], dtype="float64", seed=0)
    ws = random_weights(m)
    assert [w.shape for w in ws[:2]] == [(F, 7), (7,)]
    assert m.count_params() == F * 7 + 7 + 4 * (7 * U + U * U + U)
    x = seq()
    check(m.predict(x), ref_rnn("LSTM", np.tanh(x @ ws[0] + ws[1]), ws[2:], U), **F64)


# ---- model file -----------------------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    m = pydl.Sequential([layers.Input((T, F)),
                         layers.Bidirectional(layers.GRU(4, return_sequences=True, reset_after=False), merge_mode="sum"),
                         layers.TimeDistributed(layers.Dense(3)),
                         layers.LSTM(5, return_sequences=True, go_backwards=True, unit_forget_bias=False),
                         layers.SimpleRNN(2, activation="relu")], dtype="float64", seed=7)
    random_weights(m)
    x = seq()
    p = tmp_path / "rnn.pdl"
    m.save(p)
    m2 = pydl.load(p)
    assert [l.class_name for l in m2.layers] == ["Bidirectional", "TimeDistributed", "LSTM", "SimpleRNN"]
    assert m2.layers[2].go_backwards and not m2.layers[2].unit_forget_bias and m2.layers[0].merge_mode == "sum"
    assert np.array_equal(m.predict(x), m2.predict(x))
    for a, b in zip(m.get_weights(), m2.get_weights()):
        assert np.array_equal(a, b)
    # a loaded model trains and saves again
    m2.compile(optimizer="adam", loss="mse")
    m2.fit(x, np.zeros((B, 2)), epochs=1, verbose=0)
    m2.save(tmp_path / "again.pdl")
    assert np.array_equal(pydl.load(tmp_path / "again.pdl").predict(x), m2.predict(x))


# ---- invalid configurations -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_invalid_configs(kind):
    cls = getattr(layers, kind)
    for bad in (0, -3, 2.5, True, "4"):
        with pytest.raises(ValueError, match=rf"{kind}.*units={bad!r}".replace("(", r"\(")):
            cls(bad)
    with pytest.raises(ValueError, match=rf"{kind}.*activation='tanhh'"):
        cls(4, activation="tanhh")
    if kind != "SimpleRNN":
        with pytest.raises(ValueError, match=rf"{kind}.*recurrent_activation='nope'"):
            cls(4, recurrent_activation="nope")
    with pytest.raises(ValueError, match=rf"{kind}.*recurrent_initializer='identity'"):
        cls(4, recurrent_initializer="identity")
    with pytest.raises(ValueError, match=rf"Sequential.*{kind}\) has \d outputs.*functional Model"):
        pydl.Sequential([layers.Input((5, 3)), cls(4, return_state=True)]).build()
    # rank-2 input: the error names the layer and the received shape
    with pytest.raises(ValueError, match=rf"{kind} layer '{kind.lower() if kind != 'SimpleRNN' else 'simple_rnn'}'"
                                         r".*rank 3.*\(None, 5\)"):
        pydl.Sequential([layers.Input(5), cls(4)]).build()
    with pytest.raises(ValueError, match=rf"{kind}.*rank 3.*input_shape=\(5,\)"):
        cls(4, input_shape=(5,))
    # wrong feature count at predict time
    m = make(cls(2))
    with pytest.raises(ValueError, match=r"\(None, 5, 4\)"):
        m.predict(np.zeros((1, 5, 3)))


def test_invalid_wrapper_configs():
    with pytest.raises(ValueError, match="merge_mode='max'"):
        layers.Bidirectional(layers.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="Bidirectional.*'Dense'"):
        layers.Bidirectional(layers.Dense(3))
    with pytest.raises(ValueError, match="TimeDistributed.*layer=3"):
        layers.TimeDistributed(3)
    with pytest.raises(ValueError, match="TimeDistributed.*rank >= 3.*\\(None, 5\\)"):
        pydl.Sequential([layers.Input(5), layers.TimeDistributed(layers.Dense(2))]).build()


# ---- training -------------------------------------------------------------------------------------------------
TRAIN_CASES = {
    "LSTM": lambda: layers.LSTM(12),
    "GRU": lambda: layers.GRU(12),
    "GRU-reset_before": lambda: layers.GRU(12, reset_after=False),
    "SimpleRNN": lambda: layers.SimpleRNN(12),
    "Bidirectional-LSTM": lambda: layers.Bidirectional(layers.LSTM(6)),
}


@pytest.mark.parametrize("case", list(TRAIN_CASES))
def test_sequence_task_trains(case):
    """Regress the first element of the sequence (needs memory over 6 steps): the loss drops at least 10-fold
    (measured: 35x to 800x)."""
    r = np.random.default_rng(0)
    x = r.uniform(-1, 1, (256, 6, 2)).astype(np.float32)
    y = x[:, 0, :1] * 0.8
    m = pydl.Sequential([layers.Input((6, 2)), TRAIN_CASES[case](), layers.Dense(1)], seed=0)
    m.compile(optimizer=pydl.optimizers.Adam(learning_rate=0.02), loss="mse")
    h = m.fit(x, y, epochs=25, batch_size=32, verbose=0, shuffle=True)
    loss = h.history["loss"]
    assert loss[-1] < 0.1 * loss[0], loss
