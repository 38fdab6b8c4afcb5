"""Functional models: several inputs and outputs, shared layers, merge layers, per-output losses and weights;
numbers vs NumPy, gradients by finite differences (float64), equivalence with Sequential, model-file round trip
(Python and Java), and invalid graphs."""
import os
import subprocess

import numpy as np
import pytest

import pydl
from pydl import _jvm, layers


def _relu(z):
    return np.maximum(z, 0)


def _two_tower(dtype="float64", seed=0):
    a, b = layers.Input(4, name="a"), layers.Input(4, name="b")
    shared = layers.Dense(3, activation="relu", name="shared")
    h = layers.Concatenate(name="cat")([shared(a), shared(b)])
    y1 = layers.Dense(1, name="score")(h)
    y2 = layers.Dense(2, activation="softmax", name="cls")(layers.Add(name="plus")([shared(a), shared(b)]))
    return pydl.Model([a, b], [y1, y2], name="towers", seed=seed, dtype=dtype)


def _ref_two_tower(m, xa, xb):
    ws = {l.name: l.get_weights() for l in m.layers if l.get_weights()}
    (ws_k, ws_b), (sc_k, sc_b), (cl_k, cl_b) = ws["shared"], ws["score"], ws["cls"]
    ha, hb = _relu(xa @ ws_k + ws_b), _relu(xb @ ws_k + ws_b)
    y1 = np.concatenate([ha, hb], axis=1) @ sc_k + sc_b
    z = (ha + hb) @ cl_k + cl_b
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return y1, e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def data():
    r = np.random.default_rng(0)
    return r.standard_normal((12, 4)), r.standard_normal((12, 4)), r.standard_normal((12, 1)), r.integers(0, 2, 12)


def test_forward_matches_numpy_and_shares_weights(data):
    xa, xb, _, _ = data
    m = _two_tower()
    assert [l.name for l in m.layers] == ["shared", "cat", "score", "plus", "cls"]
    assert m.count_params() == (4 * 3 + 3) + (6 + 1) + (3 * 2 + 2)  # the shared Dense counted once
    y1, y2 = m.predict([xa, xb])
    r1, r2 = _ref_two_tower(m, xa, xb)
    np.testing.assert_allclose(y1, r1, rtol=1e-12)
    np.testing.assert_allclose(y2, r2, rtol=1e-12)


def test_weighted_losses_and_logs(data):
    xa, xb, y1, y2 = data
    m = _two_tower()
    m.compile(optimizer=pydl.optimizers.SGD(0.0), loss=["mse", "sparse_categorical_crossentropy"],
              loss_weights=[2.0, 0.5], metrics=["accuracy"])
    r1, r2 = _ref_two_tower(m, xa, xb)
    mse = np.mean((r1 - y1) ** 2)
    ce = np.mean(-np.log(r2[np.arange(12), y2]))
    d = m.evaluate([xa, xb], [y1, y2], return_dict=True)
    assert d["loss"] == pytest.approx(2.0 * mse + 0.5 * ce, rel=1e-10)
    assert d["score_loss"] == pytest.approx(mse, rel=1e-10) and d["cls_loss"] == pytest.approx(ce, rel=1e-10)
    assert d["cls_accuracy"] == pytest.approx(np.mean(r2.argmax(1) == y2))
    h = m.fit([xa, xb], [y1, y2], epochs=1, batch_size=12, shuffle=False, verbose=0)
    assert set(h.history) == {"loss", "score_loss", "cls_loss", "score_accuracy", "cls_accuracy"}
    assert h.history["loss"][0] == pytest.approx(2.0 * mse + 0.5 * ce, rel=1e-10)


def test_shared_layer_gradient_by_finite_differences(data):
    """One SGD step with lr=1 moves each weight by its gradient; the shared kernel gets both uses' gradients."""
    xa, xb, y1, y2 = data
    m = _two_tower()
    m.compile(optimizer=pydl.optimizers.SGD(1.0), loss=["mse", "sparse_categorical_crossentropy"],
              loss_weights=[1.0, 0.7])
    w0 = m.get_weights()
    shared = m.get_layer("shared")
    k, b = shared.get_weights()
    eps, numeric = 1e-6, []
    probes = [(0, 0), (1, 2), (3, 1)]
    for idx in probes:
        kp, km = k.copy(), k.copy()
        kp[idx] += eps
        km[idx] -= eps
        shared.set_weights([kp, b])
        lp = m.evaluate([xa, xb], [y1, y2], batch_size=12)[0]
        shared.set_weights([km, b])
        lm = m.evaluate([xa, xb], [y1, y2], batch_size=12)[0]
        numeric.append((lp - lm) / (2 * eps))
    m.set_weights(w0)
    m.fit([xa, xb], [y1, y2], epochs=1, batch_size=12, shuffle=False, verbose=0)
    grad = k - shared.get_weights()[0]
    np.testing.assert_allclose([grad[i] for i in probes], numeric, rtol=1e-6, atol=1e-9)


def test_chain_equals_sequential():
    r = np.random.default_rng(1)
    x, y = r.standard_normal((32, 5)), r.integers(0, 3, 32)
    inp = layers.Input(5)
    out = layers.Dense(3, activation="softmax")(layers.Dropout(0.0)(layers.Dense(8, activation="tanh")(inp)))
    f = pydl.Model(inp, out, seed=3, dtype="float64")
    s = pydl.Sequential([layers.Input(5), layers.Dense(8, activation="tanh"), layers.Dropout(0.0),
                         layers.Dense(3, activation="softmax")], seed=3, dtype="float64")
    s.set_weights(f.get_weights())
    for m in (f, s):
        m.compile(optimizer=pydl.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hf = f.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=4)
    hs = s.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=4)
    assert hf.history == hs.history
    for a, b in zip(f.get_weights(), s.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(f.predict(x), s.predict(x))


@pytest.mark.parametrize("cls, ref", [
    (layers.Add, lambda a, b, c: a + b + c), (layers.Multiply, lambda a, b, c: a * b * c),
    (layers.Average, lambda a, b, c: (a + b + c) / 3), (layers.Maximum, lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    (layers.Minimum, lambda a, b, c: np.minimum(np.minimum(a, b), c)),
    (layers.Concatenate, lambda a, b, c: np.concatenate([a, b, c], axis=-1)),
])
def test_merge_layers(cls, ref):
    r = np.random.default_rng(2)
    xs = [r.standard_normal((3, 2, 4)) for _ in range(3)]
    ins = [layers.Input((2, 4)) for _ in range(3)]
    m = pydl.Model(ins, cls()(ins), dtype="float64")
    np.testing.assert_allclose(m.predict(xs), ref(*xs), rtol=1e-12)


def test_subtract_and_concatenate_axis():
    r = np.random.default_rng(3)
    a, b = r.standard_normal((2, 3, 4)), r.standard_normal((2, 5, 4))
    ia, ib = layers.Input((3, 4)), layers.Input((5, 4))
    m = pydl.Model([ia, ib], [layers.Concatenate(axis=1)([ia, ib]), layers.Subtract()([ia, ia])], dtype="float64")
    c, d = m.predict([a, b])
    np.testing.assert_array_equal(c, np.concatenate([a, b], axis=1))
    np.testing.assert_array_equal(d, np.zeros_like(a))


def test_residual_block_trains():
    r = np.random.default_rng(4)
    x = r.standard_normal((64, 8)).astype(np.float32)
    y = (x[:, :4].sum(1) > 0).astype(np.int32)
    inp = layers.Input(8)
    h = layers.Dense(8, activation="relu")(inp)
    h = layers.Add()([inp, layers.Dense(8)(h)])
    m = pydl.Model(inp, layers.Dense(2, activation="softmax")(h), seed=0)
    m.compile(optimizer=pydl.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = m.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9
    m.summary()


def test_round_trip_python_and_java(tmp_path, data):
    xa, xb, y1, y2 = data
    m = _two_tower(dtype="float32", seed=5)
    m.compile(optimizer="adam", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.5])
    m.fit([xa, xb], [y1, y2], epochs=2, batch_size=4, verbose=0)
    path = tmp_path / "towers.pydl"
    m.save(path)
    m2 = pydl.load(path)
    assert isinstance(m2, pydl.Model)
    for a, b in zip(m.predict([xa, xb]), m2.predict([xa, xb])):
        np.testing.assert_array_equal(a, b)
    # training continues identically after a round trip (optimizer state and loss weights restored)
    h1 = m.fit([xa, xb], [y1, y2], epochs=1, batch_size=4, verbose=0, seed=7)
    h2 = m2.fit([xa, xb], [y1, y2], epochs=1, batch_size=4, verbose=0, seed=7)
    assert h1.history == h2.history
    # Java loads the same file with only the jar on the classpath
    src = tmp_path / "LoadModel.java"
    src.write_text("""
import org.pydl.io.ModelFile; import org.pydl.nn.Network; import java.nio.file.Path;
public class LoadModel { public static void main(String[] a) throws Exception {
  Network n = ModelFile.loadNetwork(Path.of(a[0]));
  System.out.println(n.getClass().getSimpleName() + " " + n.inputShapes().size() + " " + n.outputNames()); } }
""")
    r = subprocess.run(["java", "-cp", _jvm.jar_path(), str(src), str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Model 2 [score, cls]"


def test_invalid_graphs():
    a, b = layers.Input(4), layers.Input(3)
    with pytest.raises(ValueError, match="same shape"):
        pydl.Model([a, b], layers.Add()([a, b]))
    with pytest.raises(ValueError, match="not connected"):
        pydl.Model([a, b], layers.Dense(2)(a))
    with pytest.raises(ValueError, match="not in `inputs`"):
        pydl.Model([a], layers.Dense(2)(b))
    with pytest.raises(TypeError, match="layers.Input"):
        layers.Dense(2)(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        layers.Add()(a)
    d = layers.Dense(2)
    d(a)
    with pytest.raises(ValueError, match="shared layer"):
        pydl.Model([a, b], [d(a), d(b)])
    m = pydl.Model(a, layers.Dense(2)(a))
    with pytest.raises(ValueError, match="2 arrays|1 inputs"):
        m.predict([np.zeros((1, 4)), np.zeros((1, 4))])
    with pytest.raises(ValueError, match=r"input 0 expects shape \(None, 4\)"):
        m.predict(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="2 outputs but 1 losses|losses"):
        pydl.Model(a, [layers.Dense(1)(a), layers.Dense(1)(a)]).compile("sgd", loss=["mse"])


def test_activations_layer_by_layer(data):
    xa, xb, _, _ = data
    m = _two_tower()
    acts = m.activations([xa, xb])
    assert list(acts) == ["shared", "cat", "score", "plus", "cls"]
    ws_k, ws_b = m.get_layer("shared").get_weights()
    np.testing.assert_allclose(acts["shared"], _relu(xb @ ws_k + ws_b), rtol=1e-12)  # its last application
    y1, y2 = m.predict([xa, xb])
    np.testing.assert_array_equal(acts["score"], y1)
    np.testing.assert_array_equal(acts["cls"], y2)
    s = pydl.Sequential([layers.Input(4), layers.Dense(3, activation="relu"), layers.Dense(2)], seed=0,
                        dtype="float64")
    a = s.activations(xa)
    (k1, b1), (k2, b2) = s.layers[0].get_weights(), s.layers[1].get_weights()
    np.testing.assert_allclose(a["dense"], _relu(xa @ k1 + b1), rtol=1e-12)
    np.testing.assert_allclose(a["dense_1"], _relu(xa @ k1 + b1) @ k2 + b2, rtol=1e-12)


def test_nested_models_share_weights_train_and_round_trip(tmp_path):
    r = np.random.default_rng(5)
    x, y = r.standard_normal((32, 6)), r.integers(0, 3, 32)
    encoder = pydl.Sequential([layers.Input(6), layers.Dense(5, activation="tanh", name="enc")], name="encoder",
                              seed=1, dtype="float64")
    inp = layers.Input(6)
    h = encoder(inp)                                             # the Sequential used as a layer
    out = layers.Dense(3, activation="softmax", name="head")(layers.Concatenate()([h, encoder(inp)]))
    m = pydl.Model(inp, out, name="outer", seed=2, dtype="float64")
    assert [l.name for l in m.layers] == ["encoder", "concatenate", "head"]
    assert m.count_params() == (6 * 5 + 5) + (10 * 3 + 3)     # applied twice, counted once
    (ek, eb), (hk, hb) = encoder.get_weights(), m.get_layer("head").get_weights()
    e = np.tanh(x @ ek + eb)
    z = np.concatenate([e, e], 1) @ hk + hb
    p = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(m.predict(x), p / p.sum(1, keepdims=True), rtol=1e-12)
    m.compile(optimizer=pydl.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert not np.allclose(encoder.get_weights()[0], ek)       # training the outer model trained the shared encoder
    np.testing.assert_allclose(encoder.predict(x), np.tanh(x @ encoder.get_weights()[0] + encoder.get_weights()[1]),
                               rtol=1e-12)
    m.save(tmp_path / "outer.pydl")
    m2 = pydl.load(tmp_path / "outer.pydl")
    np.testing.assert_array_equal(m2.predict(x), m.predict(x))
    import zipfile

    names = zipfile.ZipFile(tmp_path / "outer.pydl").namelist()
    assert "weights/encoder/enc/kernel.npy" in names and "weights/head/kernel.npy" in names


def test_a_model_inside_a_sequential_keeps_and_shares_its_weights():
    """Transfer learning the Sequential way: Sequential([Input, base, head]) uses the built base's weights (not new
    ones from its config), and training the outer model trains the base it shares."""
    r = np.random.default_rng(7)
    x, y = r.standard_normal((32, 6)), r.integers(0, 3, 32)
    base = pydl.Sequential([layers.Input(6), layers.Dense(5, activation="tanh", name="enc")], name="base", seed=1,
                           dtype="float64")
    base.set_weights([w + 0.3 for w in base.get_weights()])    # not what a fresh build from its config would draw
    outer = pydl.Sequential([layers.Input(6), base._as_layer(), layers.Dense(3, name="head")], name="outer", seed=2,
                            dtype="float64")
    outer.build()
    hk, hb = outer.get_layer("head").get_weights()
    np.testing.assert_allclose(outer.predict(x), base.predict(x) @ hk + hb, rtol=1e-12)
    before = base.get_weights()[0].copy()
    outer.compile(optimizer=pydl.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", from_logits=True)
    outer.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert not np.allclose(base.get_weights()[0], before)


def test_freezing_layers_after_build_for_fine_tuning(tmp_path):
    r = np.random.default_rng(6)
    x, y = r.standard_normal((16, 4)), r.integers(0, 2, 16)
    m = pydl.Sequential([layers.Input(4), layers.Dense(5, activation="relu"), layers.Dense(2, activation="softmax")],
                        seed=0, dtype="float64")
    m.compile(optimizer=pydl.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    frozen = m.layers[0]
    frozen.trainable = False
    before = frozen.get_weights()
    head_before = m.layers[1].get_weights()
    m.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(head_before[0], m.layers[1].get_weights()[0])
    assert "Non-trainable params: 25" in m._java.summary()
    m.save(tmp_path / "f.pydl")
    assert pydl.load(tmp_path / "f.pydl").layers[0].trainable is False
    frozen.trainable = True
    m.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert not np.array_equal(before[0], frozen.get_weights()[0])
