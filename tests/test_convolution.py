"""Convolution and pooling layers: forward vs NumPy references of Keras/TensorFlow semantics (padding split,
strides, dilation, groups, channels_first) and vs PyTorch; gradients of the kernel by finite differences (float64)."""
import itertools

import numpy as np
import pytest

import pydl
from pydl import layers


def _pads(n, k, s, d, padding):
    eff = (k - 1) * d + 1
    if padding == "valid":
        return 0, 0, (n - eff) // s + 1
    out = -(-n // s)
    if padding == "causal":
        return eff - 1, 0, out
    total = max((out - 1) * s + eff - n, 0)
    return total // 2, total - total // 2, out


def ref_conv(x, w, b, strides, dilation, padding, groups=1):
    """x [b, s.., cin], w [k.., cin/g, f] -> [b, o.., f] by explicit loops over kernel offsets."""
    r = x.ndim - 2
    pads, outs = [], []
    for i in range(r):
        lo, hi, o = _pads(x.shape[i + 1], w.shape[i], strides[i], dilation[i], padding)
        pads.append((lo, hi))
        outs.append(o)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    cin, f = x.shape[-1], w.shape[-1]
    cg, fg = cin // groups, f // groups
    y = np.zeros((x.shape[0], *outs, f))
    for g in range(groups):
        for ks in itertools.product(*[range(k) for k in w.shape[:r]]):
            sl = tuple(slice(ks[i] * dilation[i], ks[i] * dilation[i] + (outs[i] - 1) * strides[i] + 1, strides[i])
                       for i in range(r))
            patch = xp[(slice(None),) + sl + (slice(g * cg, (g + 1) * cg),)]
            y[..., g * fg:(g + 1) * fg] += patch @ w[ks + (slice(None), slice(g * fg, (g + 1) * fg))]
    return y + (0 if b is None else b)


def ref_pool(x, pool, strides, padding, kind):
    r = x.ndim - 2
    pads, outs = [], []
    for i in range(r):
        lo, hi, o = _pads(x.shape[i + 1], pool[i], strides[i], 1, padding)
        pads.append((lo, hi))
        outs.append(o)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=fill)
    ones = np.pad(np.ones((1, *x.shape[1:-1], 1)), [(0, 0)] + pads + [(0, 0)])
    y = np.full((x.shape[0], *outs, x.shape[-1]), -np.inf if kind == "max" else 0.0)
    cnt = np.zeros((1, *outs, 1))
    for ks in itertools.product(*[range(k) for k in pool]):
        sl = tuple(slice(ks[i], ks[i] + (outs[i] - 1) * strides[i] + 1, strides[i]) for i in range(r))
        v = xp[(slice(None),) + sl]
        y = np.maximum(y, v) if kind == "max" else y + v
        cnt = cnt + ones[(slice(None),) + sl]
    return y if kind == "max" else y / cnt


def _model(layer, shape, dtype="float64"):
    return pydl.Sequential([layers.Input(shape), layer], seed=0, dtype=dtype)


CONV_CASES = [
    # cls, input shape (no batch), kwargs
    (layers.Conv1D, (9, 3), dict(filters=4, kernel_size=3)),
    (layers.Conv1D, (9, 3), dict(filters=4, kernel_size=3, padding="same", strides=2)),
    (layers.Conv1D, (9, 3), dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2)),
    (layers.Conv1D, (8, 4), dict(filters=6, kernel_size=2, groups=2)),
    (layers.Conv2D, (7, 6, 3), dict(filters=5, kernel_size=3)),
    (layers.Conv2D, (7, 6, 3), dict(filters=5, kernel_size=(3, 2), strides=(2, 1), padding="same")),
    (layers.Conv2D, (8, 8, 2), dict(filters=3, kernel_size=3, dilation_rate=2, padding="same")),
    (layers.Conv2D, (6, 6, 4), dict(filters=4, kernel_size=3, groups=4, padding="same")),
    (layers.Conv2D, (5, 5, 2), dict(filters=3, kernel_size=1, strides=2)),
    (layers.Conv3D, (5, 4, 6, 2), dict(filters=3, kernel_size=(2, 3, 2), strides=(1, 2, 1), padding="same")),
]


@pytest.mark.parametrize("cls, shape, kw", CONV_CASES)
def test_conv_forward_matches_reference(cls, shape, kw):
    m = _model(cls(activation=None, **kw), shape)
    w, b = m.get_weights()
    r = len(shape) - 1
    assert w.shape == (*(kw["kernel_size"] if isinstance(kw["kernel_size"], tuple) else (kw["kernel_size"],) * r),
                       shape[-1] // kw.get("groups", 1), kw["filters"])
    b = np.random.default_rng(1).standard_normal(b.shape)
    m.set_weights([w, b])
    x = np.random.default_rng(2).standard_normal((2, *shape))
    tup = lambda v: v if isinstance(v, tuple) else (v,) * r  # noqa: E731
    want = ref_conv(x, w, b, tup(kw.get("strides", 1)), tup(kw.get("dilation_rate", 1)), kw.get("padding", "valid"),
                    kw.get("groups", 1))
    np.testing.assert_allclose(m.predict(x), want, rtol=1e-12, atol=1e-12)


def test_conv2d_matches_torch():
    torch = pytest.importorskip("torch")
    m = _model(layers.Conv2D(6, 3, strides=2, dilation_rate=1, groups=2, padding="valid"), (9, 8, 4))
    w, b = m.get_weights()
    x = np.random.default_rng(3).standard_normal((2, 9, 8, 4))
    tw = torch.from_numpy(w.transpose(3, 2, 0, 1).copy())  # Keras (kh, kw, cin/g, f) -> torch (f, cin/g, kh, kw)
    ty = torch.nn.functional.conv2d(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), tw, torch.from_numpy(b),
                                    stride=2, groups=2)
    np.testing.assert_allclose(m.predict(x), ty.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10)


def test_channels_first_equals_channels_last():
    x = np.random.default_rng(4).standard_normal((2, 3, 7, 6))  # channels first
    a = _model(layers.Conv2D(4, 3, padding="same", data_format="channels_first"), (3, 7, 6))
    b = _model(layers.Conv2D(4, 3, padding="same"), (7, 6, 3))
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(a.predict(x), b.predict(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2), rtol=1e-12)


POOL_CASES = [
    (layers.MaxPooling1D, (9, 3), dict(pool_size=2)),
    (layers.MaxPooling1D, (9, 3), dict(pool_size=3, strides=2, padding="same")),
    (layers.AveragePooling1D, (9, 3), dict(pool_size=3, strides=2, padding="same")),
    (layers.MaxPooling2D, (7, 6, 2), dict(pool_size=2)),
    (layers.MaxPooling2D, (7, 6, 2), dict(pool_size=(3, 2), strides=(2, 2), padding="same")),
    (layers.AveragePooling2D, (7, 6, 2), dict(pool_size=2)),
    (layers.AveragePooling2D, (7, 5, 2), dict(pool_size=3, strides=2, padding="same")),
    (layers.MaxPooling3D, (4, 5, 4, 2), dict(pool_size=2, padding="same")),
    (layers.AveragePooling3D, (4, 5, 4, 2), dict(pool_size=(2, 3, 2), padding="same")),
]


@pytest.mark.parametrize("cls, shape, kw", POOL_CASES)
def test_pooling_matches_reference(cls, shape, kw):
    m = _model(cls(**kw), shape)
    x = np.random.default_rng(5).standard_normal((2, *shape))
    r = len(shape) - 1
    tup = lambda v: v if isinstance(v, tuple) else (v,) * r  # noqa: E731
    pool = tup(kw["pool_size"])
    want = ref_pool(x, pool, tup(kw.get("strides", pool)), kw.get("padding", "valid"),
                    "max" if "Max" in cls.class_name else "avg")
    np.testing.assert_allclose(m.predict(x), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls, axes", [(layers.GlobalMaxPooling2D, (1, 2)), (layers.GlobalAveragePooling2D, (1, 2)),
                                       (layers.GlobalAveragePooling1D, (1,)), (layers.GlobalMaxPooling3D, (1, 2, 3))])
def test_global_pooling(cls, axes):
    shape = {1: (6, 3), 2: (5, 4, 3), 3: (3, 4, 2, 3)}[len(axes)]
    x = np.random.default_rng(6).standard_normal((2, *shape))
    fn = np.max if "Max" in cls.class_name else np.mean
    np.testing.assert_allclose(_model(cls(), shape).predict(x), fn(x, axis=axes), rtol=1e-12)
    np.testing.assert_allclose(_model(cls(keepdims=True), shape).predict(x), fn(x, axis=axes, keepdims=True),
                               rtol=1e-12)


@pytest.mark.parametrize("cls, shape, kw", [CONV_CASES[2], CONV_CASES[5], CONV_CASES[7], CONV_CASES[9]])
def test_conv_kernel_gradient_finite_differences(cls, shape, kw):
    """One SGD step with lr=1 on an MSE loss moves the kernel by exactly its gradient; compare with central
    differences of `evaluate` (float64)."""
    r = np.random.default_rng(7)
    m = _model(cls(**kw), shape)
    m.compile(optimizer=pydl.optimizers.SGD(1.0), loss="mse")
    x = r.standard_normal((2, *shape))
    y = r.standard_normal((2, *[int(d) for d in m._java.outputShape()]))
    w, b = m.get_weights()
    probe = [tuple(int(i) for i in idx) for idx in r.integers(0, w.shape, size=(4, w.ndim))]
    eps = 1e-6
    numeric = []
    for idx in probe:
        wp, wm = w.copy(), w.copy()
        wp[idx] += eps
        wm[idx] -= eps
        m.set_weights([wp, b])
        lp = m.evaluate(x, y, batch_size=2)
        m.set_weights([wm, b])
        lm = m.evaluate(x, y, batch_size=2)
        numeric.append((lp - lm) / (2 * eps))
    m.set_weights([w, b])
    m.fit(x, y, epochs=1, batch_size=2, shuffle=False, verbose=0)
    grad = w - m.get_weights()[0]
    np.testing.assert_allclose([grad[i] for i in probe], numeric, rtol=1e-5, atol=1e-7)


def test_small_cnn_trains():
    r = np.random.default_rng(8)
    x = r.standard_normal((64, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].sum(axis=(1, 2, 3)) > x[:, 4:].sum(axis=(1, 2, 3))).astype(np.int32)
    m = pydl.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu", padding="same"),
                         layers.MaxPooling2D(), layers.Flatten(), layers.Dense(2, activation="softmax")], seed=0)
    m.compile(optimizer=pydl.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]
    assert h.history["accuracy"][-1] > 0.9


def test_round_trip(tmp_path):
    m = pydl.Sequential([layers.Input((6, 6, 2)), layers.Conv2D(3, 3, padding="same", groups=1),
                         layers.AveragePooling2D(padding="same"), layers.GlobalMaxPooling2D()], seed=1)
    x = np.random.default_rng(9).standard_normal((2, 6, 6, 2)).astype(np.float32)
    m.save(tmp_path / "c.pydl")
    np.testing.assert_array_equal(pydl.load(tmp_path / "c.pydl").predict(x), m.predict(x))


@pytest.mark.parametrize("make, text", [
    (lambda: layers.Conv2D(0, 3), "filters=0"),
    (lambda: layers.Conv2D(4, (3,)), "kernel_size"),
    (lambda: layers.Conv2D(4, 3, padding="causal"), "padding"),
    (lambda: layers.Conv1D(4, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: layers.Conv2D(4, 3, groups=3), "groups"),
    (lambda: layers.Conv2D(4, 3, data_format="nchw"), "data_format"),
    (lambda: layers.MaxPooling2D(pool_size=0), "pool_size"),
    (lambda: layers.AveragePooling1D(padding="full"), "padding"),
])
def test_invalid_configs(make, text):
    with pytest.raises(ValueError, match=text):
        make()


@pytest.mark.parametrize("layer, shape, text", [
    (lambda: layers.Conv2D(4, 5), (3, 3, 1), "larger than the input"),
    (lambda: layers.Conv2D(4, 3), (8, 8), "rank 4"),
    (lambda: layers.Conv2D(4, 3, groups=2), (8, 8, 3), "groups=2"),
    (lambda: layers.MaxPooling2D(4), (3, 3, 1), "larger than the input"),
])
def test_invalid_for_input_shape(layer, shape, text):
    with pytest.raises(ValueError, match=text):
        _model(layer(), shape).build()


@pytest.mark.parametrize("layer, shape, ref", [
    (lambda: layers.ZeroPadding1D(2), (5, 3), lambda x: np.pad(x, ((0, 0), (2, 2), (0, 0)))),
    (lambda: layers.ZeroPadding2D(((1, 2), (0, 3))), (4, 5, 2), lambda x: np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0)))),
    (lambda: layers.ZeroPadding2D((1, 2), data_format="channels_first"), (2, 4, 5),
     lambda x: np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)))),
    (lambda: layers.ZeroPadding3D(1), (2, 3, 2, 1), lambda x: np.pad(x, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0)))),
    (lambda: layers.Cropping1D((1, 2)), (6, 3), lambda x: x[:, 1:-2]),
    (lambda: layers.Cropping2D(((1, 0), (2, 1))), (5, 6, 2), lambda x: x[:, 1:, 2:-1]),
    (lambda: layers.Cropping3D(1), (4, 4, 4, 1), lambda x: x[:, 1:-1, 1:-1, 1:-1]),
    (lambda: layers.UpSampling1D(3), (4, 2), lambda x: np.repeat(x, 3, axis=1)),
    (lambda: layers.UpSampling2D((2, 3)), (3, 2, 2), lambda x: np.repeat(np.repeat(x, 2, axis=1), 3, axis=2)),
    (lambda: layers.UpSampling2D(2, data_format="channels_first"), (2, 3, 2),
     lambda x: np.repeat(np.repeat(x, 2, axis=2), 2, axis=3)),
    (lambda: layers.UpSampling3D(2), (2, 2, 2, 1),
     lambda x: np.repeat(np.repeat(np.repeat(x, 2, axis=1), 2, axis=2), 2, axis=3)),
])
def test_padding_cropping_upsampling(layer, shape, ref, tmp_path):
    x = np.random.default_rng(10).standard_normal((2, *shape))
    m = _model(layer(), shape)
    np.testing.assert_array_equal(m.predict(x), ref(x))
    m.save(tmp_path / "r.pydl")
    np.testing.assert_array_equal(pydl.load(tmp_path / "r.pydl").predict(x), ref(x))


def test_resize_layers_train_through():
    r = np.random.default_rng(11)
    x, y = r.standard_normal((16, 4, 4, 1)), r.standard_normal((16, 8, 8, 2))
    m = pydl.Sequential([layers.Input((4, 4, 1)), layers.ZeroPadding2D(1), layers.Conv2D(2, 3),
                         layers.UpSampling2D(2), layers.Cropping2D(0)], seed=0, dtype="float64")
    m.compile(optimizer=pydl.optimizers.Adam(0.05), loss="mse")
    h = m.fit(x, y, epochs=10, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


@pytest.mark.parametrize("make, text", [
    (lambda: layers.ZeroPadding2D(-1), "padding"),
    (lambda: layers.Cropping2D(((1, 2, 3), (0, 0))), "cropping"),
    (lambda: layers.UpSampling2D(0), "size"),
    (lambda: layers.UpSampling2D(2, interpolation="bicubic"), "bilinear"),
])
def test_resize_invalid(make, text):
    with pytest.raises(ValueError, match=text):
        make()


def test_cropping_everything_fails_at_build():
    with pytest.raises(ValueError, match="removes every element"):
        _model(layers.Cropping1D(3), (6, 2)).build()


def _window(kernel, strides, dilation, before, after):
    import jpype

    from pydl import _jvm

    JL = jpype.JArray(jpype.JLong)
    return _jvm.jclass("org.pydl.ops.Window")(JL(kernel), JL(strides), JL(dilation), JL(before), JL(after))


def test_patches_op_optimised_equals_reference_and_gradient():
    """Ops.patches (native im2col/col2im, padding inside): the optimised kernels equal the plain reference ones, the
    values equal NumPy slicing of the zero-padded input, and the gradient is the scatter-add of the windows."""
    from pydl import _array, _jvm

    Ops, NO = _jvm.jclass("org.pydl.ops.Ops"), _jvm.jclass("org.pydl.jni.NativeOps")
    r = np.random.default_rng(12)
    x = r.standard_normal((3, 9, 8, 5))
    w_ = _window([3, 2], [2, 1], [1, 2], [1, 0], [0, 1])  # out: (9+1-3)//2+1 = 4, (8+1-3)//1+1 = 7

    def run(reference):
        NO.setReference(reference)
        try:
            xj = _array.to_java(x).setRequiresGrad(True)
            cols = Ops.patches(xj, w_)
            w = _array.to_java(np.linspace(-1, 1, int(cols.size())).reshape(tuple(cols.shape())))
            Ops.sum(Ops.mul(cols, w)).backward()
            return np.array(_array.to_numpy(cols)), np.array(_array.to_numpy(xj.grad())), np.array(_array.to_numpy(w))
        finally:
            NO.setReference(False)

    c_opt, g_opt, w = run(False)
    c_ref, g_ref, _ = run(True)
    np.testing.assert_array_equal(c_opt, c_ref)
    np.testing.assert_allclose(g_opt, g_ref, rtol=1e-14, atol=1e-14)
    # forward against NumPy slicing of the padded input, in the kernel order (offsets row-major, channels innermost)
    xp = np.pad(x, ((0, 0), (1, 0), (0, 1), (0, 0)))
    views = [xp[:, i:i + 7:2, j * 2:j * 2 + 7, :] for i in range(3) for j in range(2)]
    np.testing.assert_array_equal(c_opt, np.concatenate(views, axis=-1))
    # the gradient of sum(cols * w) w.r.t. x is col2im(w): scatter-add each window's weights back, drop the padding
    want = np.zeros_like(xp)
    wv = w.reshape(3, 4, 7, 6, 5)
    for n, (i, j) in enumerate([(i, j) for i in range(3) for j in range(2)]):
        want[:, i:i + 7:2, j * 2:j * 2 + 7, :] += wv[:, :, :, n, :]
    np.testing.assert_allclose(g_opt, want[:, 1:, :-1, :], rtol=1e-14, atol=1e-14)


def test_patches_rejects_windows_outside_the_padded_input():
    import jpype

    from pydl import _array, _jvm

    Ops = _jvm.jclass("org.pydl.ops.Ops")
    with pytest.raises(Exception, match="does not fit"):
        try:
            Ops.patches(_array.to_java(np.zeros((1, 5, 2))), _window([7], [1], [1], [0], [1]))
        except jpype.JException as e:
            raise ValueError(str(e.getMessage())) from None


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_gradient_matches_torch(kind, padding):
    """MaxPooling2D / AveragePooling2D (the native pool op) forward through the layer, and the input gradient of
    Ops.pool, against PyTorch on the same data. With "same" on these sizes TensorFlow pads one element on each side:
    max ignores the padding; average divides by the number of real elements in each window."""
    torch = pytest.importorskip("torch")
    from pydl import _array, _jvm

    Ops = _jvm.jclass("org.pydl.ops.Ops")
    r = np.random.default_rng(5)
    x = r.standard_normal((2, 7, 9, 3))
    cls = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
    got = _model(cls(3, strides=2, padding=padding), (7, 9, 3)).predict(x)
    p = 1 if padding == "same" else 0  # 7 -> 4 and 9 -> 5 windows of 3 at stride 2: 2 padded elements, 1 + 1
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    if kind == "max":
        yt = torch.nn.functional.max_pool2d(xt, 3, 2, padding=p)
    else:
        yt = torch.nn.functional.avg_pool2d(xt, 3, 2, padding=p, count_include_pad=False)
    np.testing.assert_allclose(got, yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-12, atol=1e-12)
    w = r.standard_normal(tuple(yt.shape))
    (yt * torch.tensor(w)).sum().backward()
    xj = _array.to_java(x).setRequiresGrad(True)
    yj = Ops.pool(xj, kind == "max", _window([3, 3], [2, 2], [1, 1], [p, p], [p, p]))
    Ops.sum(Ops.mul(yj, _array.to_java(w.transpose(0, 2, 3, 1).copy()))).backward()
    np.testing.assert_allclose(_array.to_numpy(xj.grad()), xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-12,
                               atol=1e-12)
