"""The one-batch fast path of functional ``Model.predict`` (staged inputs, outputs written into reused arrays):
same numbers as the general path, fresh results each call, changing batch shapes, large outputs, token inputs."""
from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers


def _model():
    tokens, feats = layers.Input(6, name="tokens"), layers.Input(4, name="feats")
    e = layers.GlobalAveragePooling1D()(layers.Embedding(20, 5)(tokens))
    h = layers.Concatenate()([e, layers.Dense(5, activation="tanh")(feats)])
    big = layers.Dense(4096)(h)                                   # 16 KiB per sample: the view path
    return pydl.Model([tokens, feats], [layers.Dense(3)(h), layers.Dense(2, activation="sigmoid")(h), big], seed=0)


@pytest.fixture(scope="module")
def model():
    return _model()


def _inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 20, size=(n, 6)), rng.normal(size=(n, 4)).astype(np.float32)]


def test_fast_path_matches_general_path(model):
    for n in (1, 3, 1):                                             # staging rebuilt when the batch changes
        xs = _inputs(n, seed=n)
        assert model._fast_inputs(xs, 32) is not None
        fast = model.predict(xs)
        general = model.predict([x.tolist() for x in xs])          # lists: the checked general path
        assert len(fast) == 3
        for a, b in zip(fast, general):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_results_are_fresh_arrays(model):
    a = model.predict(_inputs(1, seed=1))
    b = model.predict(_inputs(1, seed=2))
    assert not np.allclose(a[0], b[0])            # the first result was not overwritten by the second call
    a[0][...] = 0
    np.testing.assert_allclose(model.predict(_inputs(1, seed=2))[0], b[0], rtol=1e-6)


def test_not_taken_for_wrong_shapes_or_large_batches(model):
    xs = _inputs(40)
    assert model._fast_inputs(xs, 32) is None                       # more than one batch
    assert model._fast_inputs(xs[:1], 32) is None                   # one input missing
    assert model._fast_inputs([xs[0][:, :5], xs[1]], 32) is None
    with pytest.raises(ValueError, match="input 0 expects shape"):
        model.predict([xs[0][:, :5], xs[1]])
    out = model.predict(xs)                                         # batched general path
    assert out[0].shape == (40, 3)


def test_single_output_model_returns_an_array():
    x = layers.Input(3)
    m = pydl.Model(x, layers.Dense(2)(x), seed=0)
    v = np.ones((1, 3), np.float32)
    out = m.predict(v)
    assert isinstance(out, np.ndarray) and out.shape == (1, 2)
    np.testing.assert_allclose(out, m.predict(v.astype(np.float64)), rtol=1e-6)   # float64: general path
