"""DepthwiseConv1D/2D, SeparableConv1D/2D and Conv1D/2D/3DTranspose: forward vs NumPy references of Keras/TensorFlow
semantics (padding split, strides, dilation, output_padding, deconv_output_length, channels_first) and vs PyTorch
(grouped conv2d, conv_transpose1d/2d/3d) with the same weights (float64, tol 1e-10); weight shapes and parameter
counts as Keras; gradients of every weight (and, through a 1x1 convolution in front, of the input) by central finite
differences; save/load round trips; invalid configurations."""
import itertools

import numpy as np
import pytest

import pydl
from pydl import layers

TOL = dict(rtol=1e-10, atol=1e-10)


# ---- references -------------------------------------------------------------------------------------------------
def _pads(n, k, s, d, padding):
    eff = (k - 1) * d + 1
    if padding == "valid":
        return 0, 0, (n - eff) // s + 1
    out = -(-n // s)
    total = max((out - 1) * s + eff - n, 0)
    return total // 2, total - total // 2, out


def ref_depthwise(x, w, strides, dilation, padding):
    """x [b, s.., c], w [k.., c, dm] -> [b, o.., c * dm], output channel c * dm + m (TensorFlow's order)."""
    r = x.ndim - 2
    pads, outs = [], []
    for i in range(r):
        lo, hi, o = _pads(x.shape[i + 1], w.shape[i], strides[i], dilation[i], padding)
        pads.append((lo, hi))
        outs.append(o)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    c, dm = w.shape[-2:]
    y = np.zeros((x.shape[0], *outs, c, dm))
    for ks in itertools.product(*[range(k) for k in w.shape[:r]]):
        sl = tuple(slice(ks[i] * dilation[i], ks[i] * dilation[i] + (outs[i] - 1) * strides[i] + 1, strides[i])
                   for i in range(r))
        y += xp[(slice(None),) + sl][..., None] * w[ks]
    return y.reshape(*y.shape[:-2], c * dm)


def deconv_output_length(n, k, padding, output_padding, stride, dilation):
    """Keras's keras.src.utils.conv_utils / backend_utils rule."""
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        return n * stride + max(k - stride, 0) if padding == "valid" else n * stride
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * stride + k - 2 * pad + output_padding


def _before(n, k, s, d, out):
    """TensorFlow's conv_transpose: 'before' padding of the forward conv whose input has the output length."""
    eff = (k - 1) * d + 1
    return max((n - 1) * s + eff - out, 0) // 2


def ref_conv_transpose(x, w, strides, dilation, outs):
    """x [b, n.., in], w [k.., f, in]: y[i * s + j * d - P] += x[i] @ w[j].T by loops (the definition)."""
    r = x.ndim - 2
    ks = w.shape[:r]
    befores = [_before(x.shape[i + 1], ks[i], strides[i], dilation[i], outs[i]) for i in range(r)]
    y = np.zeros((x.shape[0], *outs, w.shape[-2]))
    for pos in itertools.product(*[range(n) for n in x.shape[1:-1]]):
        for j in itertools.product(*[range(k) for k in ks]):
            o = tuple(pos[i] * strides[i] + j[i] * dilation[i] - befores[i] for i in range(r))
            if all(0 <= o[i] < outs[i] for i in range(r)):
                y[(slice(None),) + o] += x[(slice(None),) + pos] @ w[j].T
    return y


def torch_conv_transpose(torch, x, w, b, strides, dilation, outs):
    """The same with torch.nn.functional.conv_transposeNd: TensorFlow's 'before' padding P as torch's padding,
    output_padding for the extra trailing rows, then the output cropped to Keras's length."""
    r = x.ndim - 2
    fn = [None, torch.nn.functional.conv_transpose1d, torch.nn.functional.conv_transpose2d,
          torch.nn.functional.conv_transpose3d][r]
    pads, ops = [], []
    for i in range(r):
        n, k, s, d = x.shape[i + 1], w.shape[i], strides[i], dilation[i]
        p = _before(n, k, s, d, outs[i])
        full = (n - 1) * s + (k - 1) * d + 1
        pads.append(p)
        ops.append(max(outs[i] + 2 * p - full, 0))
    tx = torch.from_numpy(np.moveaxis(x, -1, 1).copy())
    tw = torch.from_numpy(np.transpose(w, (r + 1, r) + tuple(range(r))).copy())  # (k.., f, in) -> (in, f, k..)
    ty = fn(tx, tw, torch.from_numpy(b), stride=tuple(strides), padding=tuple(pads), output_padding=tuple(ops),
            dilation=tuple(dilation)).numpy()
    ty = np.moveaxis(ty, 1, -1)
    return ty[(slice(None),) + tuple(slice(0, o) for o in outs)]


def _model(layer, shape, dtype="float64"):
    return pydl.Sequential([layers.Input(shape), layer], seed=0, dtype=dtype)


def _tup(v, r):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * r


def _random_weights(m, seed):
    r = np.random.default_rng(seed)
    m.set_weights([r.standard_normal(w.shape) for w in m.get_weights()])
    return m.get_weights()


# ---- depthwise --------------------------------------------------------------------------------------------------
DEPTHWISE_CASES = [
    (layers.DepthwiseConv2D, (7, 6, 3), dict(kernel_size=3)),
    (layers.DepthwiseConv2D, (7, 6, 3), dict(kernel_size=(3, 2), strides=(2, 1), padding="same", depth_multiplier=2)),
    (layers.DepthwiseConv2D, (8, 8, 2), dict(kernel_size=3, dilation_rate=2, padding="same", depth_multiplier=3)),
    (layers.DepthwiseConv2D, (8, 7, 2), dict(kernel_size=3, dilation_rate=(2, 1), depth_multiplier=2)),
    (layers.DepthwiseConv2D, (5, 5, 4), dict(kernel_size=1, strides=2)),
    (layers.DepthwiseConv2D, (6, 5, 2), dict(kernel_size=2, strides=2, padding="same", use_bias=False)),
    (layers.DepthwiseConv1D, (9, 4), dict(kernel_size=3, strides=2, padding="same", depth_multiplier=2)),
    (layers.DepthwiseConv1D, (9, 3), dict(kernel_size=2, dilation_rate=3)),
]


@pytest.mark.parametrize("cls, shape, kw", DEPTHWISE_CASES)
def test_depthwise_forward_matches_reference(cls, shape, kw):
    r = len(shape) - 1
    m = _model(cls(**kw), shape)
    dm, c = kw.get("depth_multiplier", 1), shape[-1]
    ws = _random_weights(m, 1)
    assert ws[0].shape == (*_tup(kw["kernel_size"], r), c, dm)
    if kw.get("use_bias", True):
        assert ws[1].shape == (c * dm,)
    assert m.count_params() == ws[0].size + (c * dm if kw.get("use_bias", True) else 0)
    x = np.random.default_rng(2).standard_normal((2, *shape))
    want = ref_depthwise(x, ws[0], _tup(kw.get("strides", 1), r), _tup(kw.get("dilation_rate", 1), r),
                         kw.get("padding", "valid"))
    if kw.get("use_bias", True):
        want = want + ws[1]
    np.testing.assert_allclose(m.predict(x), want, **TOL)


@pytest.mark.parametrize("padding, strides, dilation", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2),
                                                        ("valid", (2, 1), 1)])
def test_depthwise2d_matches_torch_grouped_conv(padding, strides, dilation):
    torch = pytest.importorskip("torch")
    m = _model(layers.DepthwiseConv2D(3, strides=strides, padding=padding, depth_multiplier=2,
                                      dilation_rate=dilation), (9, 8, 3))
    w, b = _random_weights(m, 3)
    x = np.random.default_rng(3).standard_normal((2, 9, 8, 3))
    s, d = _tup(strides, 2), _tup(dilation, 2)
    pads = [_pads(n, 3, s[i], d[i], padding)[:2] for i, n in enumerate((9, 8))]
    tx = torch.nn.functional.pad(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()),
                                 (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    # Keras (kh, kw, c, dm) -> torch grouped (c * dm, 1, kh, kw): output channel c * dm + m
    tw = torch.from_numpy(w.reshape(3, 3, 1, 6).transpose(3, 2, 0, 1).copy())
    ty = torch.nn.functional.conv2d(tx, tw, torch.from_numpy(b), stride=s, dilation=d, groups=3)
    np.testing.assert_allclose(m.predict(x), ty.numpy().transpose(0, 2, 3, 1), **TOL)


# ---- separable --------------------------------------------------------------------------------------------------
SEPARABLE_CASES = [
    (layers.SeparableConv2D, (7, 6, 3), dict(filters=5, kernel_size=3, strides=2, padding="same",
                                             depth_multiplier=2)),
    (layers.SeparableConv2D, (8, 8, 2), dict(filters=4, kernel_size=(3, 2), dilation_rate=2)),
    (layers.SeparableConv2D, (6, 6, 3), dict(filters=2, kernel_size=3, use_bias=False, activation="tanh")),
    (layers.SeparableConv1D, (9, 4), dict(filters=3, kernel_size=3, depth_multiplier=1)),
    (layers.SeparableConv1D, (9, 2), dict(filters=3, kernel_size=2, strides=3, padding="same", depth_multiplier=3)),
]


@pytest.mark.parametrize("cls, shape, kw", SEPARABLE_CASES)
def test_separable_forward_matches_reference(cls, shape, kw):
    r = len(shape) - 1
    m = _model(cls(**kw), shape)
    dm, c, f = kw.get("depth_multiplier", 1), shape[-1], kw["filters"]
    ws = _random_weights(m, 4)
    assert ws[0].shape == (*_tup(kw["kernel_size"], r), c, dm)
    assert ws[1].shape == (*(1,) * r, c * dm, f)
    assert m.count_params() == ws[0].size + c * dm * f + (f if kw.get("use_bias", True) else 0)
    x = np.random.default_rng(5).standard_normal((2, *shape))
    d = ref_depthwise(x, ws[0], _tup(kw.get("strides", 1), r), _tup(kw.get("dilation_rate", 1), r),
                      kw.get("padding", "valid"))
    want = d @ ws[1].reshape(c * dm, f)
    if kw.get("use_bias", True):
        want = want + ws[2]
    if kw.get("activation") == "tanh":
        want = np.tanh(want)
    np.testing.assert_allclose(m.predict(x), want, **TOL)


@pytest.mark.parametrize("make, shape", [
    (lambda df: layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, data_format=df), (7, 6, 3)),
    (lambda df: layers.SeparableConv2D(4, 3, strides=2, data_format=df), (7, 6, 3)),
    (lambda df: layers.SeparableConv1D(4, 3, data_format=df), (9, 2)),
    (lambda df: layers.Conv2DTranspose(4, 3, strides=2, padding="same", data_format=df), (4, 5, 3)),
    (lambda df: layers.Conv1DTranspose(2, 3, strides=2, output_padding=1, data_format=df), (5, 3)),
])
def test_channels_first_equals_channels_last(make, shape):
    first = (shape[-1], *shape[:-1])
    a = _model(make("channels_first"), first)
    b = _model(make("channels_last"), shape)
    _random_weights(a, 6)
    b.set_weights(a.get_weights())
    x = np.random.default_rng(6).standard_normal((2, *shape))
    want = np.moveaxis(b.predict(x), -1, 1)
    np.testing.assert_allclose(a.predict(np.moveaxis(x, -1, 1)), want, **TOL)


# ---- transposed -------------------------------------------------------------------------------------------------
def _transpose_1d_cases():
    cases = []
    for padding, k, n in itertools.product(("valid", "same"), (1, 2, 3, 4), (1, 5)):
        for s, d in ((1, 1), (1, 2), (2, 1), (3, 1)):
            for op in [None] + list(range(s)):
                cases.append((padding, k, n, s, d, op))
    return cases


@pytest.mark.parametrize("padding, k, n, s, d, op", _transpose_1d_cases())
def test_conv1d_transpose_all_configs(padding, k, n, s, d, op):
    """Every padding / stride / dilation / output_padding combination Keras allows (kernel 1-4, input 1 and 5):
    output length as deconv_output_length, values as the definition and as torch's conv_transpose1d."""
    out = deconv_output_length(n, k, padding, op, s, d)
    layer = layers.Conv1DTranspose(3, k, strides=s, padding=padding, output_padding=op, dilation_rate=d)
    if out <= 0:  # e.g. same, even kernel, output_padding=0, one input step: TensorFlow cannot either
        with pytest.raises(ValueError, match="Conv1DTranspose.*empty"):
            _model(layer, (n, 2)).build()
        return
    m = _model(layer, (n, 2))
    w, b = _random_weights(m, 7)
    assert w.shape == (k, 3, 2) and b.shape == (3,)
    assert m.count_params() == k * 3 * 2 + 3
    x = np.random.default_rng(8).standard_normal((2, n, 2))
    y = m.predict(x)
    assert y.shape == (2, out, 3)
    np.testing.assert_allclose(y, ref_conv_transpose(x, w, (s,), (d,), (out,)) + b, **TOL)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(y, torch_conv_transpose(torch, x, w, b, (s,), (d,), (out,)), **TOL)


TRANSPOSE_ND_CASES = [
    ((4, 5, 3), dict(filters=2, kernel_size=3)),
    ((4, 5, 3), dict(filters=2, kernel_size=3, strides=2, padding="same")),
    ((4, 5, 3), dict(filters=4, kernel_size=(3, 2), strides=(2, 3), padding="same", output_padding=(1, 2))),
    ((4, 5, 3), dict(filters=4, kernel_size=(2, 4), strides=(3, 2), padding="valid", output_padding=(0, 1))),
    ((5, 4, 2), dict(filters=3, kernel_size=(2, 3), dilation_rate=(2, 1), padding="same")),
    ((5, 4, 2), dict(filters=3, kernel_size=2, strides=2, padding="same", output_padding=0, use_bias=False)),
    ((3, 2, 3, 2), dict(filters=2, kernel_size=(2, 3, 2), strides=(2, 1, 2), padding="same")),
    ((3, 2, 3, 2), dict(filters=2, kernel_size=2, strides=(1, 2, 3), padding="valid", output_padding=(0, 1, 2))),
]


@pytest.mark.parametrize("shape, kw", TRANSPOSE_ND_CASES)
def test_conv_transpose_nd(shape, kw):
    r = len(shape) - 1
    cls = {2: layers.Conv2DTranspose, 3: layers.Conv3DTranspose}[r]
    m = _model(cls(**kw), shape)
    ws = _random_weights(m, 9)
    k, s = _tup(kw["kernel_size"], r), _tup(kw.get("strides", 1), r)
    d, op = _tup(kw.get("dilation_rate", 1), r), kw.get("output_padding")
    op = None if op is None else _tup(op, r)
    f, c = kw["filters"], shape[-1]
    assert ws[0].shape == (*k, f, c)
    assert m.count_params() == int(np.prod(k)) * f * c + (f if kw.get("use_bias", True) else 0)
    outs = tuple(deconv_output_length(shape[i], k[i], kw.get("padding", "valid"), None if op is None else op[i],
                                      s[i], d[i]) for i in range(r))
    x = np.random.default_rng(10).standard_normal((2, *shape))
    y = m.predict(x)
    assert y.shape == (2, *outs, f)
    b = ws[1] if kw.get("use_bias", True) else np.zeros(f)
    np.testing.assert_allclose(y, ref_conv_transpose(x, ws[0], s, d, outs) + b, **TOL)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(y, torch_conv_transpose(torch, x, ws[0], b, s, d, outs), **TOL)


def test_conv2d_transpose_inverts_shape_of_conv2d():
    """The usual decoder use: Conv2DTranspose(strides=2, same) maps Conv2D(strides=2, same)'s output shape back."""
    m = pydl.Sequential([layers.Input((8, 6, 3)), layers.Conv2D(4, 3, strides=2, padding="same"),
                         layers.Conv2DTranspose(3, 3, strides=2, padding="same")], seed=0)
    assert m.predict(np.zeros((1, 8, 6, 3), np.float32)).shape == (1, 8, 6, 3)


# ---- gradients --------------------------------------------------------------------------------------------------
GRAD_CASES = [
    (layers.DepthwiseConv2D(3, strides=(2, 1), padding="same", depth_multiplier=2), (6, 5, 2)),
    (layers.DepthwiseConv1D(2, dilation_rate=2, depth_multiplier=3), (7, 2)),
    (layers.SeparableConv2D(3, (2, 3), padding="same", depth_multiplier=2, data_format="channels_first"), (2, 5, 4)),
    (layers.SeparableConv1D(3, 3, strides=2), (8, 2)),
    (layers.Conv1DTranspose(3, 3, strides=2, padding="same", output_padding=1), (5, 2)),
    (layers.Conv2DTranspose(2, (3, 2), strides=(2, 3), padding="valid", output_padding=(1, 2)), (3, 4, 2)),
    (layers.Conv2DTranspose(2, 3, dilation_rate=2, padding="same", data_format="channels_first"), (2, 4, 3)),
    (layers.Conv3DTranspose(2, 2, strides=(2, 1, 2), padding="same"), (2, 3, 2, 2)),
]


@pytest.mark.parametrize("layer, shape", GRAD_CASES, ids=lambda v: getattr(v, "class_name", str(v)))
def test_gradients_finite_differences(layer, shape):
    """A 1x1 convolution in front (so its kernel's gradient goes through the tested layer's input gradient), then
    the layer. One SGD step with lr=1 on an MSE loss moves every weight by exactly its gradient; compare probed
    entries of every weight with central differences of `evaluate` (float64)."""
    r = np.random.default_rng(11)
    channels_first = layer.data_format == "channels_first"
    rank = len(shape) - 1
    pre = (layers.Conv2D if rank == 2 else layers.Conv1D if rank == 1 else layers.Conv3D)(
        shape[0] if channels_first else shape[-1], 1, data_format=layer.data_format)
    m = pydl.Sequential([layers.Input(shape), pre, layer], seed=0, dtype="float64")
    m.compile(optimizer=pydl.optimizers.SGD(1.0), loss="mse")
    ws = _random_weights(m, 12)
    x = r.standard_normal((2, *shape))
    y = r.standard_normal((2, *[int(d) for d in m._java.outputShape()]))
    eps = 1e-6
    probes, numeric = [], []
    for wi, w in enumerate(ws):
        for idx in r.integers(0, w.shape, size=(3, w.ndim)):
            idx = tuple(int(i) for i in idx)
            vals = []
            for sign in (1, -1):
                wp = [v.copy() for v in ws]
                wp[wi][idx] += sign * eps
                m.set_weights(wp)
                vals.append(m.evaluate(x, y, batch_size=2))
            probes.append((wi, idx))
            numeric.append((vals[0] - vals[1]) / (2 * eps))
    m.set_weights(ws)
    m.fit(x, y, epochs=1, batch_size=2, shuffle=False, verbose=0)
    after = m.get_weights()
    grad = [ws[wi][idx] - after[wi][idx] for wi, idx in probes]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_transposed_decoder_trains():
    r = np.random.default_rng(13)
    x = r.standard_normal((32, 4, 4, 2))
    y = np.repeat(np.repeat(x[..., :1], 2, axis=1), 2, axis=2)  # learnable: nearest 2x up-sampling of channel 0
    m = pydl.Sequential([layers.Input((4, 4, 2)), layers.Conv2DTranspose(1, 2, strides=2)], seed=0,
                        dtype="float64")
    m.compile(optimizer=pydl.optimizers.Adam(0.05), loss="mse")
    h = m.fit(x, y, epochs=30, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < 0.05 * h.history["loss"][0]


# ---- model file ---------------------------------------------------------------------------------------------------
def test_round_trip(tmp_path):
    m = pydl.Sequential([layers.Input((8, 8, 3)),
                         layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu"),
                         layers.SeparableConv2D(4, 3, strides=2, padding="same", depthwise_initializer="he_normal"),
                         layers.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1,
                                                data_format="channels_last", use_bias=False),
                         layers.Reshape((8 * 8, 2)), layers.Conv1DTranspose(3, 2, strides=2),
                         layers.SeparableConv1D(2, 3, dilation_rate=2), layers.DepthwiseConv1D(2, strides=2)],
                        seed=1)
    x = np.random.default_rng(14).standard_normal((2, 8, 8, 3)).astype(np.float32)
    m.save(tmp_path / "v.pydl")
    back = pydl.load(tmp_path / "v.pydl")
    np.testing.assert_array_equal(back.predict(x), m.predict(x))
    for a, b in zip(back.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [type(layer).__name__ for layer in back.layers] == [type(layer).__name__ for layer in m.layers]
    assert back.layers[2].get_config()["output_padding"] == [1, 1]
    assert m.count_params() == back.count_params()


def test_configs_keras_defaults():
    d = layers.DepthwiseConv2D(3).get_config()
    assert (d["depth_multiplier"], d["strides"], d["padding"], d["dilation_rate"], d["use_bias"],
            d["depthwise_initializer"], d["activation"]) == (1, [1, 1], "valid", [1, 1], True, "glorot_uniform",
                                                             "linear")
    s = layers.SeparableConv2D(4, 3).get_config()
    assert (s["depth_multiplier"], s["pointwise_initializer"], s["bias_initializer"]) == (1, "glorot_uniform",
                                                                                          "zeros")
    t = layers.Conv2DTranspose(4, 3).get_config()
    assert (t["output_padding"], t["strides"], t["padding"], t["kernel_initializer"]) == (None, [1, 1], "valid",
                                                                                          "glorot_uniform")
    assert layers.Conv1DTranspose(2, 3, strides=3, output_padding=2).get_config()["output_padding"] == [2]


# ---- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, text", [
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2), r"Conv2DTranspose.*output_padding=2"),
    (lambda: layers.Conv2DTranspose(4, 3, strides=(2, 3), output_padding=(1, 3)),
     r"Conv2DTranspose.*output_padding=\(1, 3\)"),
    (lambda: layers.Conv1DTranspose(4, 3, output_padding=1), r"Conv1DTranspose.*output_padding=1"),
    (lambda: layers.Conv2DTranspose(4, 3, output_padding=(0,)), r"Conv2DTranspose.*output_padding=\(0,\)"),
    (lambda: layers.Conv2DTranspose(4, 3, output_padding=-1), r"Conv2DTranspose.*output_padding=-1"),
    (lambda: layers.Conv3DTranspose(0, 3), r"Conv3DTranspose.*filters=0"),
    (lambda: layers.Conv2DTranspose(4, 3, padding="causal"), r"Conv2DTranspose.*padding='causal'"),
    (lambda: layers.Conv1DTranspose(4, 3, strides=2, dilation_rate=2), r"Conv1DTranspose.*dilation_rate=2"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), r"DepthwiseConv2D.*depth_multiplier=0"),
    (lambda: layers.DepthwiseConv2D((3,)), r"DepthwiseConv2D.*kernel_size=\(3,\)"),
    (lambda: layers.DepthwiseConv1D(3, padding="causal"), r"DepthwiseConv1D.*padding='causal'"),
    (lambda: layers.DepthwiseConv2D(3, strides=2, dilation_rate=2), r"DepthwiseConv2D.*dilation_rate=2"),
    (lambda: layers.DepthwiseConv2D(3, data_format="nhwc"), r"DepthwiseConv2D.*data_format='nhwc'"),
    (lambda: layers.SeparableConv2D(0, 3), r"SeparableConv2D.*filters=0"),
    (lambda: layers.SeparableConv1D(2, 3, depth_multiplier=-1), r"SeparableConv1D.*depth_multiplier=-1"),
    (lambda: layers.SeparableConv2D(2, 3, depthwise_initializer="orthogonal"),
     r"SeparableConv2D.*depthwise_initializer='orthogonal'"),
    (lambda: layers.SeparableConv2D(2, 3, activation="bogus"), r"SeparableConv2D.*activation='bogus'"),
])
def test_invalid_configs(make, text):
    with pytest.raises(ValueError, match=text):
        make()


@pytest.mark.parametrize("layer, shape, text", [
    (lambda: layers.DepthwiseConv2D(5), (3, 3, 1), r"DepthwiseConv2D.*larger than the input"),
    (lambda: layers.SeparableConv1D(2, 4), (3, 2), r"SeparableConv1D.*larger than the input"),
    (lambda: layers.DepthwiseConv2D(3), (8, 8), r"DepthwiseConv2D.*rank 4"),
    (lambda: layers.Conv2DTranspose(2, 3), (8, 8), r"Conv2DTranspose.*rank 4"),
    (lambda: layers.Conv1DTranspose(2, 2, padding="same", output_padding=0), (1, 3), r"Conv1DTranspose.*empty"),
])
def test_invalid_for_input_shape(layer, shape, text):
    with pytest.raises(ValueError, match=text):
        _model(layer(), shape).build()


def test_java_rejects_bad_output_padding_from_config():
    """A model file edited by hand is checked by the Java layer too (the message names the layer and the value)."""
    from pydl import _jvm
    _jvm.start()
    import jpype
    Layers = jpype.JClass("org.pydl.nn.Layers")
    HashMap, ArrayList, Long = jpype.JClass("java.util.HashMap"), jpype.JClass("java.util.ArrayList"), jpype.JLong
    cfg = HashMap()
    cfg.put("name", "up")
    cfg.put("filters", Long(2))
    cfg.put("kernel_size", Long(3))
    cfg.put("strides", Long(2))
    op = ArrayList()
    op.add(Long(2))
    op.add(Long(0))
    cfg.put("output_padding", op)
    layer = Layers.fromConfig("Conv2DTranspose", cfg)
    DType = jpype.JClass("org.pydl.nd.DType")
    with pytest.raises(Exception, match=r"Conv2DTranspose layer 'up'.*output_padding=\[2, 0\]"):
        layer.build(jpype.JArray(jpype.JLong)([5, 5, 1]), DType.FLOAT64, 0)
