"""Dot (keras.layers.Dot): batched dot product vs an einsum reference (float64, several ranks, int / pair /
negative axes, normalize), Keras's output-shape rule, gradients by central differences through a model, model-file
round trip, and invalid configurations."""
import numpy as np
import pytest

import pydl
from pydl import layers

from helpers import fd_check_kernel


def dot_ref(x, y, axes, normalize=False):
    """Keras's batch_dot written as an einsum (an independent reference): x without its axis, then y without its
    batch and axis; (batch, 1) when nothing else remains."""
    if isinstance(axes, int):
        axes = (axes, axes)
    a0, a1 = axes[0] % x.ndim, axes[1] % y.ndim
    if normalize:
        x = x / np.maximum(np.sqrt((x * x).sum(axis=a0, keepdims=True)), 1e-7)
        y = y / np.maximum(np.sqrt((y * y).sum(axis=a1, keepdims=True)), 1e-7)
    letters = iter("cdefghijlmnopq")
    xs = ["b"] + [next(letters) for _ in range(x.ndim - 1)]
    ys = ["b"] + [next(letters) for _ in range(y.ndim - 1)]
    ys[a1] = xs[a0] = "k"
    out = [c for c in xs if c != "k"] + [c for c in ys[1:] if c != "k"]
    r = np.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y)
    return r[:, None] if r.ndim == 1 else r


CASES = [  # shape a, shape b (without batch), axes
    ((5,), (5,), 1), ((5,), (5,), -1), ((3, 5), (10, 3), (1, 2)), ((3, 5), (10, 3), [-2, -1]),
    ((4, 3), (4, 6), 1), ((2, 3, 4), (4, 5), (3, 1)), ((6,), (2, 6, 3), (1, 2)), ((2, 3, 4), (2, 3, 4), -1),
    ((4, 3), (3,), (2, 1)),
]


@pytest.mark.parametrize("sa,sb,axes", CASES)
@pytest.mark.parametrize("normalize", [False, True])
def test_forward_matches_einsum(sa, sb, axes, normalize):
    r = np.random.default_rng(0)
    a, b = r.standard_normal((4, *sa)), r.standard_normal((4, *sb))
    ia, ib = layers.Input(sa), layers.Input(sb)
    m = pydl.Model([ia, ib], layers.Dot(axes, normalize=normalize)([ia, ib]), dtype="float64")
    out = m.predict([a, b])
    ref = dot_ref(a, b, axes, normalize)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-13)


def test_normalize_is_cosine_similarity_and_float32():
    r = np.random.default_rng(1)
    a, b = r.standard_normal((6, 8)).astype(np.float32), r.standard_normal((6, 8)).astype(np.float32)
    ia, ib = layers.Input(8), layers.Input(8)
    m = pydl.Model([ia, ib], layers.Dot(axes=1, normalize=True)([ia, ib]))
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    out = m.predict([a, b])
    assert out.dtype == np.float32 and out.shape == (6, 1)
    np.testing.assert_allclose(out[:, 0], cos, rtol=1e-5, atol=1e-6)
    # a zero vector gives 0, not NaN (the norm is floored at 1e-7 as in Keras)
    out0 = m.predict([np.zeros_like(a), b])
    assert np.all(out0 == 0)


@pytest.mark.parametrize("normalize", [False, True])
def test_gradient_by_central_differences(normalize):
    r = np.random.default_rng(2)
    ia, ib = layers.Input((3, 4)), layers.Input((5, 4))
    ha = layers.Dense(4, name="da")(ia)
    hb = layers.Dense(4, name="db")(ib)
    out = layers.Dot(axes=(2, 2), normalize=normalize)([ha, hb])          # (batch, 3, 5)
    m = pydl.Model([ia, ib], out, dtype="float64", seed=1)
    x = [r.standard_normal((6, 3, 4)), r.standard_normal((6, 5, 4))]
    y = r.standard_normal((6, 3, 5))
    for layer in ("da", "db"):
        fd_check_kernel(m, x, y, layer, [(0, 0), (1, 2), (3, 3)])


def test_round_trip(tmp_path):
    r = np.random.default_rng(3)
    ia, ib = layers.Input((3, 5)), layers.Input((10, 3))
    m = pydl.Model([ia, ib], layers.Dot(axes=[1, -1], normalize=True, name="dot")([ia, ib]), dtype="float64")
    a, b = r.standard_normal((2, 3, 5)), r.standard_normal((2, 10, 3))
    m.save(tmp_path / "dot.pydl")
    m2 = pydl.load(tmp_path / "dot.pydl")
    np.testing.assert_array_equal(m2.predict([a, b]), m.predict([a, b]))
    cfg = m2.get_layer("dot").get_config()
    assert (cfg["axes"], cfg["normalize"]) == ([1, -1], True)
    assert m2.predict([a, b]).shape == (2, 5, 10)


@pytest.mark.parametrize("make, text", [
    (lambda: layers.Dot("x"), "axes='x'"),
    (lambda: layers.Dot((1, 2, 3)), r"axes=\(1, 2, 3\)"),
    (lambda: layers.Dot(1.5), "axes=1.5"),
    (lambda: layers.Dot(1, normalize="yes"), "normalize='yes'"),
])
def test_invalid_configs(make, text):
    with pytest.raises(ValueError, match="Dot: .*" + text):
        make()


@pytest.mark.parametrize("sa, sb, axes, text", [
    ((4,), (5,), 1, "axis 1 of input 0 has size 4, axis 1 of input 1 has size 5"),
    ((4,), (4,), 0, "batch axis"),
    ((4,), (4,), (1, 3), r"axes=\[1, 3\] is out of range for input 1"),
    ((4,), (4,), -3, "out of range"),
])
def test_invalid_for_input_shapes(sa, sb, axes, text):
    ia, ib = layers.Input(sa), layers.Input(sb)
    with pytest.raises(ValueError, match="Dot.*" + text):
        pydl.Model([ia, ib], layers.Dot(axes)([ia, ib]))


def test_needs_two_inputs():
    ins = [layers.Input(3) for _ in range(3)]
    with pytest.raises(ValueError, match="Dot: call it on a list of exactly 2 tensors"):
        layers.Dot(1)(ins)


@pytest.mark.parametrize("cls,op", [(layers.Multiply, np.multiply), (layers.Add, np.add),
                                    (layers.Maximum, np.maximum), (layers.Subtract, np.subtract)])
def test_elementwise_merges_broadcast_like_keras3(cls, op):
    """Keras 3 merges broadcast dimensions of size 1 (squeeze-and-excite: (N, H, W, C) * (N, 1, 1, C))."""
    a, b = layers.Input((4, 5, 3)), layers.Input((1, 1, 3))
    m = pydl.Model([a, b], cls()([a, b]), dtype="float64")
    r = np.random.default_rng(0)
    xa, xb = r.standard_normal((2, 4, 5, 3)), r.standard_normal((2, 1, 1, 3))
    np.testing.assert_allclose(m.predict([xa, xb]), op(xa, xb), rtol=1e-15)
    with pytest.raises(ValueError, match=r"broadcast.*\(None, 4, 5, 3\), \(None, 2, 1, 3\)"):
        c = layers.Input((2, 1, 3))
        pydl.Model([a, c], cls()([a, c]))
