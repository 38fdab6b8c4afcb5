"""Embedding: lookup vs NumPy indexing, gradient (repeated ids accumulate) vs NumPy, bad ids, round trip."""
import numpy as np
import pytest

import pydl
from pydl import layers, ops


def _model(*ls, shape, dtype="float64"):
    return pydl.Sequential([layers.Input(shape), *ls], seed=0, dtype=dtype)


def test_lookup_matches_numpy():
    m = _model(layers.Embedding(7, 3), shape=(4,))
    (table,) = m.get_weights()
    assert table.shape == (7, 3) and np.all(np.abs(table) <= 0.05)
    ids = np.array([[0, 6, 2, 2], [5, 1, 0, 3]])
    np.testing.assert_array_equal(m.predict(ids), table[ids])


def test_gradient_accumulates_repeated_ids():
    """One SGD step (lr=1) on sum-of-squares-like MSE: the table moves by the scattered gradient."""
    r = np.random.default_rng(0)
    m = _model(layers.Embedding(5, 2), shape=(3,))
    m.compile(optimizer=pydl.optimizers.SGD(1.0), loss="mse")
    ids = np.array([[1, 1, 4], [0, 1, 4]])
    y = r.standard_normal((2, 3, 2))
    (t0,) = m.get_weights()
    m.fit(ids, y, epochs=1, batch_size=2, shuffle=False, verbose=0)
    (t1,) = m.get_weights()
    g_out = 2 * (t0[ids] - y) / y.size  # d mean((e - y)^2) / d e
    want = np.zeros_like(t0)
    np.add.at(want, ids, g_out)
    np.testing.assert_allclose(t0 - t1, want, rtol=1e-12, atol=1e-15)


def test_take_op_and_reference_mode():
    import jpype

    table = np.arange(12.0).reshape(6, 2)
    idx = np.array([[5, 0], [3, 3]])
    from pydl import _array

    O = jpype.JClass("org.pydl.ops.Ops")
    out = _array.to_numpy(O.take(_array.to_java(table), _array.to_java(idx, np.int32)))
    np.testing.assert_array_equal(out, table[idx])
    NO = jpype.JClass("org.pydl.jni.NativeOps")
    NO.setReference(True)
    try:
        np.testing.assert_array_equal(_array.to_numpy(O.take(_array.to_java(table), _array.to_java(idx, np.int32))),
                                      table[idx])
    finally:
        NO.setReference(False)


def test_bad_ids_name_the_layer():
    m = _model(layers.Embedding(4, 2, name="emb"), shape=(2,))
    with pytest.raises(ValueError, match=r"Embedding layer 'emb'.*\[0, 4\)"):
        m.predict(np.array([[1, 4]]))
    with pytest.raises(ValueError, match="emb"):
        m.predict(np.array([[-1, 0]]))


def test_text_classifier_trains_and_round_trips(tmp_path):
    r = np.random.default_rng(1)
    ids = r.integers(1, 20, size=(128, 6))
    y = (ids[:, 0] < 10).astype(np.int32)
    m = pydl.Sequential([layers.Input(6), layers.Embedding(20, 8), layers.Flatten(),
                         layers.Dense(2, activation="softmax")], seed=0)
    m.compile(optimizer=pydl.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(ids, y, epochs=20, batch_size=32, verbose=0)
    assert h.history["accuracy"][-1] > 0.95
    m.save(tmp_path / "e.pydl")
    np.testing.assert_array_equal(pydl.load(tmp_path / "e.pydl").predict(ids), m.predict(ids))


@pytest.mark.parametrize("kw, text", [(dict(input_dim=0, output_dim=2), "input_dim=0"),
                                      (dict(input_dim=3, output_dim=-1), "output_dim=-1"),
                                      (dict(input_dim=3, output_dim=2, embeddings_initializer="x"), "initializer")])
def test_invalid_configs(kw, text):
    with pytest.raises(ValueError, match=text):
        layers.Embedding(**kw)
