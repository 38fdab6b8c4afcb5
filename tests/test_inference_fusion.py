"""Inference fusion in functional models: a BatchNormalization runs as one native pass (moving statistics), with the
activation layer reading it, and in place on a fresh convolution / Dense output; an activation layer runs in place on
a fresh input read by nothing else; a ZeroPadding before a convolution becomes the convolution's padding. Checked
against NumPy computed from the unfused walk (``activations``), before and after the weights change (fit,
set_weights): the fusion reads the weights at every call, so it can never serve stale ones."""
from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers

EPS = 1e-3


def _model():
    x = layers.Input((6, 6, 3))
    c = layers.Conv2D(5, 3, padding="same", name="conv")(x)
    r6 = layers.ReLU(6.0, name="relu6")(layers.BatchNormalization(name="bn1")(c))
    padded = layers.ZeroPadding2D(((1, 2), (0, 1)), name="pad")(r6)   # applied by the depthwise window
    d = layers.DepthwiseConv2D(3, strides=2, use_bias=False, name="dw")(padded)
    sw = layers.Activation("swish", name="swish")(layers.BatchNormalization(name="bn2")(d))
    pre = layers.Activation("relu", name="pre_relu")(layers.BatchNormalization(name="bn3")(sw))  # sw read twice
    cat = layers.Concatenate(name="cat")([sw, pre])
    p = layers.GlobalAveragePooling2D(name="gap")(cat)
    dense = layers.Dense(4, name="dense")(p)
    bn4 = layers.BatchNormalization(name="bn4")(dense)                 # Dense -> BN, no activation, a model output
    other = layers.BatchNormalization(axis=1, name="bn_axis1")(c)      # not the last axis: not fused; c read twice
    added = layers.Add(name="add")([layers.Dense(4, name="d2")(p), layers.Dense(4, name="d3")(p)])
    add_relu = layers.Activation("relu", name="add_relu")(added)      # in place on the fresh sum
    return pydl.Model(x, [r6, sw, pre, bn4, layers.Flatten(name="flat")(other), add_relu], seed=0)


def _randomize_bn(model, rng):
    for layer in model.layers:
        if layer.class_name == "BatchNormalization":
            g = layer.get_weights()[0]
            layer.set_weights([rng.normal(1.0, 0.5, g.shape), rng.normal(0.0, 0.5, g.shape),
                               rng.normal(0.0, 0.5, g.shape), rng.uniform(0.1, 2.0, g.shape)])


def _bn(v, layer, axis=-1):
    gamma, beta, mean, var = (w.astype(np.float64) for w in layer.get_weights())
    shape = [1] * v.ndim
    shape[axis] = -1
    r = lambda a: a.reshape(shape)  # noqa: E731
    return r(gamma) * (v - r(mean)) / np.sqrt(r(var) + EPS) + r(beta)


def _expected(model, x):
    """Every model output from NumPy: BatchNormalization and activations applied to the unfused layer outputs."""
    acts = {k: np.asarray(v, np.float64) for k, v in model.activations(x).items()}
    L = model.get_layer
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    r6 = np.clip(_bn(acts["conv"], L("bn1")), 0, 6)
    sw = _bn(acts["dw"], L("bn2"))
    sw = sw * sig(sw)
    pre = np.maximum(_bn(acts["swish"], L("bn3")), 0)
    bn4 = _bn(acts["dense"], L("bn4"))
    other = _bn(acts["conv"], L("bn_axis1"), axis=1).reshape(len(x), -1)
    return [r6, sw, pre, bn4, other, np.maximum(acts["add"], 0)], acts


def _check(model, x):
    got = model.predict(x)
    want, acts = _expected(model, x)
    assert len(got) == len(want)
    for name, g, w in zip(["relu6", "swish", "pre_relu", "bn4", "flat", "add_relu"], got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-5, err_msg=name)
        np.testing.assert_allclose(g, acts[name], rtol=1e-5, atol=1e-6, err_msg=name)   # = the unfused walk
    return got


@pytest.fixture()
def model():
    m = _model()
    _randomize_bn(m, np.random.default_rng(1))
    return m


def test_fusions_found(model):
    assert list(model._java.inferenceFusions()) == [
        "bn1+relu6", "padding+dw", "bn2+swish (in place)", "bn3+pre_relu", "bn4 (in place)", "add_relu (in place)"]


def test_fused_predictions_equal_numpy(model):
    x = np.random.default_rng(0).normal(size=(3, 6, 6, 3)).astype(np.float32)
    _check(model, x)
    _check(model, x[:1])


def test_weights_changed_by_fit_and_set_weights_are_used(model):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 6, 6, 3)).astype(np.float32)
    before = _check(model, x)
    model.compile("sgd", loss=["mse"] * 6)
    ys = [np.zeros_like(b) for b in before]
    model.fit(x, ys, epochs=1, batch_size=8, verbose=0)             # trains, and updates the moving statistics
    after_fit = _check(model, x)
    assert not np.allclose(after_fit[0], before[0])
    _randomize_bn(model, rng)                                       # new statistics through set_weights
    after_set = _check(model, x)
    assert not np.allclose(after_set[1], after_fit[1])
    ws = model.get_weights()                                        # the unfused weights, as set
    assert [w.shape for w in ws] == [w.shape for w in _model().get_weights()]
    model.set_weights([w * 0.5 for w in ws])
    _check(model, x)


def test_concatenation_chain_equals_unfused_walk():
    """DenseNet's dense block (x = concat(x, conv(relu(bn(x)))), three times) writes into one buffer per chain; the
    intermediate concatenations stay readable (one is a model output) while later links fill the buffer."""
    x = layers.Input((5, 5, 4))
    h = layers.Conv2D(6, 3, padding="same", name="stem")(x)
    mids = []
    for i in range(3):
        y = layers.Activation("relu", name=f"r{i}")(layers.BatchNormalization(name=f"bn{i}")(h))
        y = layers.Conv2D(3, 3, padding="same", use_bias=False, name=f"c{i}")(y)
        h = layers.Concatenate(axis=3, name=f"cat{i}")([h, y])
        mids.append(h)
    out = layers.GlobalAveragePooling2D(name="gap")(layers.BatchNormalization(name="bn_out")(h))
    m = pydl.Model(x, [out, mids[0], mids[2]], seed=0)
    _randomize_bn(m, np.random.default_rng(3))
    fusions = list(m._java.inferenceFusions())
    assert [s for s in fusions if "bn0" in s] == ["bn0+r0"]                    # h is read twice: not in place
    assert [s for s in fusions if "cat" in s] == [f"cat{i} (concat chain 0)" for i in range(3)]
    xs = np.random.default_rng(4).normal(size=(2, 5, 5, 4)).astype(np.float32)
    got = m.predict(xs)
    acts = m.activations(xs)
    for g, name in zip(got, ["gap", "cat0", "cat2"]):
        np.testing.assert_allclose(g, acts[name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert got[1].shape == (2, 5, 5, 9) and got[2].shape == (2, 5, 5, 15)
    np.testing.assert_allclose(got[2][..., :9], got[1], rtol=1e-6, atol=1e-7)
