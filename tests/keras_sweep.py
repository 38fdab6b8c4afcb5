"""Sweep: real Keras models (keras.applications, tf_keras.applications, RNN/text, transformer and channels_first
variants), built by Keras itself (weights=None, seed 0, small inputs, 10 classes, logits), saved as ``.keras`` and
legacy ``.h5`` (some also as JSON + weights; Keras 2 models as ``.h5``), imported with :mod:`pydl.importers.keras` and compared with Keras's
predictions on a random batch. Too slow for CI as a whole; the models that exposed bugs are fixtures of
tests/test_keras_import.py.

    python tests/keras_sweep.py                    # every case
    python tests/keras_sweep.py --only ConvNeXt    # cases whose name contains a word (comma-separated list;
                                                   # "ResNet50$": that name only)
    python tests/keras_sweep.py --list

Prints ``name / format / status / max abs diff / max abs output``. Status: ``ok`` (max diff <= 1e-4 * max(1, max
abs output)), ``DIFF``, ``unsupported`` (a clean KerasImportError; ``expected`` when the case says so), ``ERROR``
(anything else). Keras's files and outputs are cached in ``--dir`` (default: a temp dir keyed by the Keras
versions); ``--fresh`` rebuilds them.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # this checkout's pydl

TOL = 1e-4


def _k3():
    import keras

    return keras


def _k2():
    import tf_keras

    return tf_keras


# ---- builders: each returns (model, inputs); "k2" cases build with tf_keras ----------------------------------------
def _uniform(*shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).random((3,) + shape, dtype=np.float32) * scale)


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=(3,) + shape).astype(np.float32)


def _tokens(length, vocab, seed=0, pad=True):
    a = np.random.default_rng(seed).integers(1, vocab, size=(3, length)).astype("int32")
    if pad:
        a[0, -3:] = 0
        a[1, -1:] = 0
    return a


def app(name, size=64, k2=False, **kw):
    """A keras.applications model with logits (classifier_activation=None) at the given square input size."""
    def build():
        K = _k2() if k2 else _k3()
        fn = getattr(K.applications, name)
        m = fn(weights=None, input_shape=(size, size, 3), classes=10, classifier_activation=None, **kw)
        # images in [0, 255) for models with preprocessing inside (Rescaling), [0, 1) for the others
        scale = 255.0 if name.startswith(("MobileNetV3", "EfficientNet", "ConvNeXt", "RegNet", "ResNetRS")) else 1.0
        return m, [_uniform(size, size, 3, scale=scale)]
    return build


def _perturb_stats(model):
    """Random init leaves biases / BN statistics / LayerScale at 0 / 1: move every non-kernel weight a little, so
    that an ignored or swapped one shows (kernels keep their init: deep nets stay numerically tame)."""
    rng = np.random.default_rng(1)
    ws = []
    for v in model.weights:
        w = np.asarray(v)
        path = getattr(v, "path", None) or v.name
        if "kernel" in path or w.ndim > 1:
            ws.append(w)
            continue
        noise = rng.normal(0.0, 0.1, size=w.shape).astype(w.dtype)
        ws.append(w + np.abs(noise) if "variance" in path else w + noise)
    model.set_weights(ws)


def _perturb_all(model):
    rng = np.random.default_rng(1)
    ws = []
    for v in model.weights:
        w = np.asarray(v)
        path = getattr(v, "path", None) or v.name
        noise = rng.normal(0.0, 0.2, size=w.shape).astype(w.dtype)
        ws.append(w + np.abs(noise) if "variance" in path else w + noise)
    model.set_weights(ws)


def transfer(k2=False, functional=False, pooling=None):
    """The transfer-learning pattern: an application without its top (include_top=False, frozen) nested in a
    Sequential or functional model with a new head."""
    def build():
        K = _k2() if k2 else _k3()
        L = K.layers
        base = K.applications.MobileNetV2(weights=None, include_top=False, input_shape=(64, 64, 3), pooling=pooling)
        base.trainable = False
        if functional:
            x = K.Input((64, 64, 3), name="image")
            h = L.Rescaling(1.0 / 127.5, offset=-1, name="scale")(x)
            h = base(h, training=False)
            h = h if pooling else L.GlobalAveragePooling2D(name="gap")(h)
            m = K.Model(x, L.Dense(10, name="head")(L.Dropout(0.2)(h)), name="transfer_functional")
        else:
            m = K.Sequential([K.Input((64, 64, 3)), base] + ([] if pooling else [L.GlobalMaxPooling2D()])
                             + [L.Dropout(0.2), L.Dense(10, name="head")], name="transfer_sequential")
        return m, [_uniform(64, 64, 3, scale=255.0 if functional else 1.0)]
    return build


def augmented(k2=False):
    """Keras's 'image classification from scratch' shape: random augmentation layers (identity at inference) in
    front of a small CNN."""
    K = _k2() if k2 else _k3()
    L = K.layers
    x = K.Input((16, 16, 3), name="image")
    h = x
    for layer in (L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomZoom(0.1), L.RandomContrast(0.2),
                  L.RandomTranslation(0.1, 0.1), L.RandomBrightness(0.2)):
        h = layer(h)
    h = L.Rescaling(1.0 / 255)(h)
    h = L.Conv2D(4, 3, strides=2, activation="relu", name="conv")(h)
    return K.Model(x, L.Dense(3, name="head")(L.GlobalAveragePooling2D()(h)), name="augmented"), \
        [_uniform(16, 16, 3, scale=255.0)]


# RNN / text ---------------------------------------------------------------------------------------------------------
def rnn_states(k2=False):
    K = _k2() if k2 else _k3()
    L = K.layers
    x = K.Input((6, 4), name="x")
    s, h = L.SimpleRNN(5, return_sequences=True, return_state=True, name="srnn")(x)
    s2, h2, c2 = L.LSTM(4, return_sequences=True, return_state=True, go_backwards=True, name="lstm_b")(s)
    g, gh = L.GRU(3, return_state=True, go_backwards=True, name="gru_b")(s2, initial_state=None)
    u = L.LSTM(3, unroll=True, name="lstm_unroll")(x)
    r = L.SimpleRNN(3, activation="relu", name="srnn_relu")(x)
    out = L.Concatenate(name="cat")([h, h2, c2, g, gh, u, r])
    return K.Model(x, [L.Dense(2, name="head")(out), s2], name="rnn_states"), [_normal(6, 4)]


def bidir_modes(k2=False):
    K = _k2() if k2 else _k3()
    L = K.layers
    x = K.Input((6, 4), name="x")
    outs = [L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=m, name=f"bi_{m}")(x)
            for m in ("concat", "sum", "mul", "ave")]
    f, b = L.Bidirectional(L.GRU(3), merge_mode=None, name="bi_none")(x)
    sr = L.Bidirectional(L.SimpleRNN(3), name="bi_srnn")(x)
    flat = [L.GlobalAveragePooling1D(name=f"gap{i}")(o) for i, o in enumerate(outs)]
    return K.Model(x, L.Concatenate(name="cat")(flat + [f, b, sr]), name="bidir_modes"), [_normal(6, 4)]


def bidir_state(k2=False):
    """Bidirectional with return_state (sequence + forward and backward states) feeding a decoder's initial_state:
    the seq2seq encoder shape."""
    K = _k2() if k2 else _k3()
    L = K.layers
    x, y = K.Input((6, 4), name="enc_in"), K.Input((5, 3), name="dec_in")
    seq, fh, fc, bh, bc = L.Bidirectional(L.LSTM(4, return_sequences=True, return_state=True), name="enc")(x)
    h, c = L.Concatenate(name="h")([fh, bh]), L.Concatenate(name="c")([fc, bc])
    d = L.LSTM(8, return_sequences=True, name="dec")(y, initial_state=[h, c])
    g, gf, gb = L.Bidirectional(L.GRU(3, return_state=True), name="bigru")(seq)
    att = L.Attention(name="att")([d, seq])
    out = L.Concatenate(name="cat")([L.GlobalAveragePooling1D()(att), g, gf, gb])
    return K.Model([x, y], L.Dense(2, name="head")(out), name="bidir_state"), [_normal(6, 4), _normal(5, 3, seed=1)]


def masked_rnn(k2=False):
    K = _k2() if k2 else _k3()
    L = K.layers
    x = K.Input((8,), dtype="int32", name="tok")
    e = L.Embedding(40, 6, mask_zero=True, name="emb")(x)
    a = L.GRU(5, return_sequences=True, name="gru")(e)
    b = L.Bidirectional(L.SimpleRNN(4), name="bi")(a)
    c = L.LSTM(3, go_backwards=True, name="lstm_back")(e)
    return K.Model(x, L.Dense(2, name="head")(L.Concatenate(name="cat")([b, c])), name="masked_rnn"), \
        [_tokens(8, 40)]


def masking_layer(k2=False):
    K = _k2() if k2 else _k3()
    L = K.layers
    m = K.Sequential([K.Input((6, 3)), L.Masking(0.0, name="mask"), L.LSTM(4, return_sequences=True, name="l1"),
                      L.TimeDistributed(L.Dense(3), name="td"), L.GRU(2, name="g")], name="masking_layer")
    x = _normal(6, 3)
    x[0, -2:] = 0.0
    x[2, :1] = 0.0
    return m, [x]


def rnn_cells(k2=False):
    """keras.layers.RNN over the built-in cells (= LSTM / GRU / SimpleRNN), also inside Bidirectional."""
    K = _k2() if k2 else _k3()
    L = K.layers
    x = K.Input((6, 4), name="x")
    a = L.RNN(L.LSTMCell(5), return_sequences=True, name="rnn_lstm")(x)
    b = L.RNN(L.GRUCell(4, reset_after=not k2), go_backwards=True, name="rnn_gru")(a)
    c = L.Bidirectional(L.RNN(L.SimpleRNNCell(3)), name="bi_rnn")(x)
    return K.Model(x, L.Dense(2, name="head")(L.Concatenate(name="cat")([b, c])), name="rnn_cells"), \
        [_normal(6, 4)]


def stacked_cells(k2=False):
    K = _k2() if k2 else _k3()
    L = K.layers
    m = K.Sequential([K.Input((5, 3)), L.RNN([L.LSTMCell(4), L.LSTMCell(3)], name="stacked"), L.Dense(2)],
                     name="stacked_cells")
    return m, [_normal(5, 3)]


def gru_v1(k2=True):
    K = _k2()
    L = K.layers
    x = K.Input((6, 4), name="x")
    a = L.GRU(5, reset_after=False, return_sequences=True, name="gru_v1")(x)
    b = L.Bidirectional(L.GRU(3, reset_after=False, go_backwards=False), merge_mode="ave", name="bi")(a)
    return K.Model(x, L.Dense(2, name="head")(b), name="gru_v1"), [_normal(6, 4)]


def text_conv1d(k2=False):
    K = _k2() if k2 else _k3()
    L = K.layers
    m = K.Sequential([K.Input((24,), dtype="int32"), L.Embedding(60, 8, name="emb"),
                      L.Conv1D(6, 3, padding="causal", dilation_rate=2, activation="relu", name="causal"),
                      L.Conv1D(6, 3, padding="same", dilation_rate=4, name="dil"), L.MaxPooling1D(2, name="mp"),
                      L.Conv1D(5, 5, strides=2, name="strided"), L.GlobalMaxPooling1D(name="gmp"),
                      L.Dense(3, name="head")], name="text_conv1d")
    return m, [_tokens(24, 60, pad=False)]


def time_distributed_dense(k2=False):
    K = _k2() if k2 else _k3()
    L = K.layers
    m = K.Sequential([K.Input((5, 7)), L.TimeDistributed(L.Dense(6, activation="tanh"), name="td"),
                      L.Dense(4, name="dense3d"), L.GlobalAveragePooling1D(), L.Dense(2, name="head")],
                     name="td_dense")
    return m, [_normal(5, 7)]


def conv_lstm(k2=False):
    K = _k2() if k2 else _k3()
    L = K.layers
    m = K.Sequential([K.Input((3, 8, 8, 2)), L.ConvLSTM2D(4, 3, name="convlstm"), L.Flatten(), L.Dense(2)],
                     name="conv_lstm")
    return m, [_normal(3, 8, 8, 2)]


# transformers ---------------------------------------------------------------------------------------------------------
def mha_variants():
    K = _k3()
    L = K.layers
    q, v, k = K.Input((5, 8), name="q"), K.Input((7, 6), name="v"), K.Input((7, 4), name="k")
    a = L.MultiHeadAttention(3, key_dim=4, value_dim=6, output_shape=10, name="mha_dims")(q, v, k)
    b = L.MultiHeadAttention(2, key_dim=3, use_bias=False, name="mha_nobias")(q, v)
    c = L.MultiHeadAttention(2, key_dim=4, name="mha_causal")(q, q, use_causal_mask=True)
    h = L.Concatenate(name="cat")([a, b, c])
    return K.Model([q, v, k], L.Dense(3, name="head")(h), name="mha_variants"), \
        [_normal(5, 8), _normal(7, 6, seed=1), _normal(7, 4, seed=2)]


def mha_axes():
    K = _k3()
    L = K.layers
    x, y = K.Input((4, 5, 6), name="x"), K.Input((4, 7, 3), name="y")
    a, scores = L.MultiHeadAttention(2, key_dim=3, attention_axes=(2,), name="mha_ax2")(
        x, x, return_attention_scores=True)
    b = L.MultiHeadAttention(2, key_dim=3, attention_axes=(1, 2), name="mha_ax12")(x, x)
    c = L.MultiHeadAttention(3, key_dim=2, value_dim=4, attention_axes=-2, name="mha_neg")(x, y)
    return K.Model([x, y], [L.Add(name="add")([a, b, c]), scores], name="mha_axes"), \
        [_normal(4, 5, 6), _normal(4, 7, 3, seed=1)]


def mha_output_shape_2d():
    K = _k3()
    L = K.layers
    x = K.Input((5, 6), name="x")
    a = L.MultiHeadAttention(2, key_dim=3, output_shape=(2, 4), name="mha_os")(x, x)
    return K.Model(x, L.Flatten()(a), name="mha_output_shape_2d"), [_normal(5, 6)]


def pos_embedding():
    K = _k3()
    L = K.layers
    tok = K.Input((8,), dtype="int32", name="tok")
    pos = K.Input((8,), dtype="int32", name="pos")
    h = L.Embedding(30, 12, name="tok_emb")(tok) + L.Embedding(8, 12, name="pos_emb")(pos)
    h = K.ops.add(h, L.Dense(12, name="proj")(h))
    att = L.MultiHeadAttention(3, key_dim=4, name="mha")(h, h, use_causal_mask=True)
    h = L.LayerNormalization(epsilon=1e-5, name="ln")(h + att)
    return K.Model([tok, pos], L.Dense(30, name="lm_head")(h), name="pos_embedding"), \
        [_tokens(8, 30, pad=False), np.tile(np.arange(8, dtype="int32"), (3, 1))]


def ops_zoo():
    """Keras 3 operations real transformer/CNN code writes in functional graphs: a positional embedding computed once
    (Embedding(arange(n)) is a constant added to the tokens), CLS / last-token pooling by indexing, slicing, mean and
    max over the sequence or image axes, concatenate, per-channel constants."""
    K = _k3()
    L = K.layers
    tok = K.Input((8,), dtype="int32", name="tok")
    img = K.Input((5, 6, 4), name="img")
    h = L.Embedding(30, 12, name="tok_emb")(tok) + L.Embedding(8, 12, name="pos_emb")(K.ops.arange(0, 8))
    h = h - np.linspace(-1, 1, 12, dtype="float32")
    h = L.MultiHeadAttention(2, key_dim=6, name="mha")(h, h)
    cls_ = h[:, 0]
    last = h[:, -1]
    mid = K.ops.mean(h[:, 2:5], axis=1)
    avg = K.ops.mean(h, axis=1)
    g = K.ops.max(img * np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"), axis=(1, 2))
    col = K.ops.mean(img[:, :, 2], axis=1, keepdims=False)
    out = K.ops.concatenate([cls_, last, mid, avg, g, col], axis=-1)
    return K.Model([tok, img], L.Dense(3, name="head")(out), name="ops_zoo"), \
        [_tokens(8, 30, pad=False), _normal(5, 6, 4, seed=1)]


def k2_tf_ops():
    """tf.keras graphs with TensorFlow functions (TFOpLambda / SlicingOpLambda): reductions, CLS indexing, concat,
    tf.nn.gelu, constants."""
    K = _k2()
    import tensorflow as tf

    L = K.layers
    x = K.Input((6, 8), name="x")
    h = L.Dense(8, name="d")(x)
    a = tf.reduce_mean(h, axis=1)
    b = h[:, 0]
    c = h[:, 2:4]
    d = tf.nn.gelu(tf.concat([a, b], axis=-1))
    e = tf.reduce_max(c, axis=[1])
    f = tf.nn.gelu(h[:, -1], approximate=True) * 0.5 + 1.0
    return K.Model(x, L.Dense(2, name="head")(tf.concat([d, e, f], -1)), name="k2_tf_ops"), [_normal(6, 8)]


def shape_ops():
    """Reshape / transpose / expand_dims / squeeze / matmul as Keras 3 operations; Identity, ActivityRegularization."""
    K = _k3()
    L = K.layers
    x = K.Input((6, 8), name="x")
    h = L.Dense(8, name="d")(x)
    a = K.ops.reshape(h, (-1, 3, 16))
    b = K.ops.transpose(h, (0, 2, 1))
    c = K.ops.squeeze(K.ops.expand_dims(h, -1), axis=-1)
    e = K.ops.matmul(h, b)
    f = L.ActivityRegularization(l2=0.01)(L.Identity()(c))
    flat = [L.Flatten()(t) for t in (a, b, e, f)]
    return K.Model(x, L.Dense(2, name="head")(L.Concatenate()(flat)), name="shape_ops"), [_normal(6, 8)]


def k2_shape_ops():
    K = _k2()
    import tensorflow as tf

    L = K.layers
    x = K.Input((6, 8), name="x")
    h = L.Dense(8, name="d")(x)
    a = tf.reshape(h, (-1, 3, 16))
    b = tf.transpose(h, perm=(0, 2, 1))
    c = tf.squeeze(tf.expand_dims(h, -1), axis=-1)
    flat = [L.Flatten()(t) for t in (a, b, c)]
    return K.Model(x, L.Dense(2, name="head")(L.Concatenate()(flat)), name="k2_shape_ops"), [_normal(6, 8)]


def ln_gelu():
    K = _k3()
    L = K.layers
    x = K.Input((5, 8), name="x")
    h = L.LayerNormalization(scale=False, center=False, name="ln_plain")(x)
    h = L.LayerNormalization(center=False, epsilon=1e-3, name="ln_nocenter")(h)
    h = L.LayerNormalization(scale=False, name="ln_noscale")(h)
    a = L.Dense(8, activation="gelu", name="ff_gelu")(h)
    b = K.ops.gelu(h, approximate=True)
    c = K.ops.gelu(h, approximate=False)
    return K.Model(x, L.Dense(3, name="head")(L.Concatenate()([a, b, c])), name="ln_gelu"), [_normal(5, 8)]


def rms_norm():
    K = _k3()
    L = K.layers
    x = K.Input((5, 8), name="x")
    h = L.RMSNormalization(name="rms")(L.Dense(8, name="d")(x))
    h = L.RMSNormalization(axis=[1, 2], epsilon=1e-3, name="rms_12")(h)
    return K.Model(x, L.Dense(2, name="head")(h), name="rms_norm"), [_normal(5, 8)]


def einsum_dense():
    K = _k3()
    L = K.layers
    x = K.Input((5, 8), name="x")
    h = L.EinsumDense("abc,cd->abd", output_shape=(None, 6), bias_axes="d", activation="relu", name="ed")(x)
    h = L.EinsumDense("...b,bc->...c", output_shape=4, name="ed_ellipsis")(h)
    return K.Model(x, L.Dense(2, name="head")(h), name="einsum_dense"), [_normal(5, 8)]


def einsum_dense_3d_kernel():
    K = _k3()
    L = K.layers
    x = K.Input((5, 8), name="x")
    h = L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de", name="ed3")(x)
    return K.Model(x, L.Flatten()(h), name="einsum_dense_3d_kernel"), [_normal(5, 8)]


def k2_transformer_block():
    K = _k2()
    L = K.layers
    q, v = K.Input((5, 8), name="q"), K.Input((7, 6), name="v")
    a = L.MultiHeadAttention(3, key_dim=4, value_dim=5, output_shape=9, name="mha")(q, v)
    h = L.LayerNormalization(scale=False, name="ln")(a)
    h = L.Dense(8, activation="gelu", name="ff")(h)
    return K.Model([q, v], L.Dense(2, name="head")(h), name="k2_transformer_block"), \
        [_normal(5, 8), _normal(7, 6, seed=1)]


# misc layers and options --------------------------------------------------------------------------------------------
def misc_conv():
    K = _k3()
    L = K.layers
    x = K.Input((12, 12, 4), name="x")
    a = L.Conv2D(6, 3, groups=2, padding="same", name="grouped")(x)
    a = L.BatchNormalization(center=False, scale=False, name="bn_plain")(a)
    a = L.Conv2DTranspose(4, 3, strides=2, output_padding=1, name="convt")(a)
    a = L.AveragePooling2D(3, strides=2, padding="same", name="ap_same")(a)
    a = L.MaxPooling2D(2, padding="same", name="mp_same")(a)
    a = L.ReLU(max_value=4.0, negative_slope=0.1, threshold=0.2, name="relu_opts")(a)
    a = L.Softmax(axis=1, name="softmax_ax1")(a)
    a = L.LayerNormalization(axis=[1, 2], name="ln_12")(a)
    g = L.GlobalAveragePooling2D(keepdims=True, name="gap_keep")(a)
    h = L.Multiply(name="mul")([a, g])
    y = K.Input((10, 3), name="y")
    b = L.Conv1D(6, 3, groups=3, dilation_rate=2, name="grouped1d")(y)
    b = L.DepthwiseConv1D(3, depth_multiplier=2, name="dw1d")(b)
    b = L.SeparableConv1D(4, 2, name="sep1d")(b)
    b = L.Conv1DTranspose(3, 3, strides=2, name="convt1d")(b)
    b = L.UpSampling1D(2, name="up1d")(L.ZeroPadding1D(1, name="zp1d")(L.Cropping1D((1, 2), name="crop1d")(b)))
    b = L.Permute((2, 1), name="perm")(b)
    b = L.Average(name="avg")([L.Maximum(name="max")([b, b * 2.0]), L.Minimum(name="min")([b, -b])])
    v = K.Input((4, 4, 4, 2), name="v")
    c = L.Conv3D(3, 2, name="c3")(v)
    c = L.MaxPooling3D(1, name="mp3")(c)
    c = L.GlobalMaxPooling3D(name="gmp3")(c)
    out = L.Concatenate(name="cat")([L.Flatten()(h), L.Flatten()(b), c,
                                     L.Flatten()(L.RepeatVector(2, name="rep")(c))])
    return K.Model([x, y, v], L.Dense(3, name="head")(out), name="misc_conv"), \
        [_normal(12, 12, 4), _normal(10, 3, seed=1), _normal(4, 4, 4, 2, seed=2)]


# channels_first -------------------------------------------------------------------------------------------------------
def cf_zoo(fmt="channels_first"):
    K = _k3()
    L = K.layers
    shape = (3, 12, 12) if fmt == "channels_first" else (12, 12, 3)
    ax = 1 if fmt == "channels_first" else -1
    x = K.Input(shape, name="x")
    a = L.Conv2D(4, 3, padding="same", data_format=fmt, name="c1")(x)
    a = L.BatchNormalization(axis=ax, name="bn")(a)
    b = L.DepthwiseConv2D(3, padding="same", data_format=fmt, name="dw")(a)
    c = L.SeparableConv2D(5, 3, padding="same", data_format=fmt, name="sep")(a)
    h = L.Concatenate(axis=ax, name="cat")([b, c])
    h = L.MaxPooling2D(2, data_format=fmt, name="mp")(h)
    h = L.ZeroPadding2D(1, data_format=fmt, name="zp")(h)
    h = L.AveragePooling2D(2, data_format=fmt, name="ap")(h)
    h = L.UpSampling2D(2, data_format=fmt, name="up")(h)
    h = L.Cropping2D(1, data_format=fmt, name="crop")(h)
    g = L.GlobalMaxPooling2D(data_format=fmt, name="gmp")(h)
    f = L.Flatten(data_format=fmt, name="fl")(h)
    return K.Model(x, L.Concatenate(name="out")([L.Dense(3, name="d1")(f), g]), name="cf_zoo")


def cf_case():
    m = cf_zoo("channels_first")
    return m, [_uniform(3, 12, 12)]


# ---- the cases ------------------------------------------------------------------------------------------------------
K3 = ("keras", "h5")
K2 = ("h5",)
CASES = {}


def _add(name, build, formats=K3, expect=None, perturb="stats", twin=None, compile=None):
    CASES[name] = dict(build=build, formats=formats, expect=expect, perturb=perturb, twin=twin, compile=compile)


def _opt(kind, k2=False, **kw):
    return lambda: getattr((_k2() if k2 else _k3()).optimizers, kind)(**kw)


K3J = ("keras", "h5", "json")
for _n, _s in [("VGG16", 64), ("VGG19", 64), ("ResNet50", 64), ("ResNet101", 64), ("ResNet50V2", 64),
               ("ResNet101V2", 64), ("InceptionV3", 75), ("Xception", 71), ("MobileNet", 64), ("MobileNetV2", 64),
               ("MobileNetV3Small", 64), ("MobileNetV3Large", 64), ("NASNetMobile", 64), ("DenseNet121", 64),
               ("DenseNet169", 64), ("EfficientNetB0", 64), ("EfficientNetB1", 64), ("EfficientNetV2B0", 64),
               ("EfficientNetV2S", 64), ("ConvNeXtTiny", 64), ("InceptionResNetV2", 75)]:
    _add(_n, app(_n, _s), formats=K3J if _n in ("ConvNeXtTiny", "InceptionResNetV2", "MobileNetV3Small") else K3)
for _n, _s in [("MobileNetV2", 64), ("ResNet50", 64), ("InceptionV3", 75), ("EfficientNetB0", 64),
               ("MobileNetV3Small", 64), ("Xception", 71), ("DenseNet121", 64), ("ConvNeXtTiny", 64),
               ("EfficientNetV2B0", 64), ("InceptionResNetV2", 75), ("NASNetMobile", 64), ("RegNetX002", 64),
               ("RegNetY002", 64), ("ResNetRS50", 64), ("ResNet50V2", 64), ("VGG16", 64), ("MobileNet", 64)]:
    _add(f"k2_{_n}", app(_n, _s, k2=True), formats=K2)
_add("augmented", augmented, formats=("keras",), perturb="all")      # Keras cannot write its seed generators to .h5
_add("k2_augmented", lambda: augmented(k2=True), formats=K2, perturb="all")
_add("transfer_sequential", transfer(), formats=K3J, compile=(_opt("Adam", learning_rate=1e-3),
                                                               "sparse_categorical_crossentropy"))
_add("transfer_functional_avg", transfer(functional=True, pooling="avg"),
     compile=(_opt("AdamW", weight_decay=0.01), "categorical_crossentropy"))
_add("transfer_functional", transfer(functional=True), compile=(_opt("SGD", momentum=0.9, nesterov=True), "mse"))
_add("k2_transfer_sequential", transfer(k2=True, pooling="max"), formats=K2,
     compile=(_opt("RMSprop", k2=True, rho=0.8), "sparse_categorical_crossentropy"))
_add("k2_transfer_functional", transfer(k2=True, functional=True), formats=K2,
     compile=(_opt("Adam", k2=True, amsgrad=True), "categorical_crossentropy"))
_add("stacked_cells", stacked_cells, perturb="all", expect="StackedRNNCells")
for _f in (bidir_state, rnn_cells, rnn_states, bidir_modes, masked_rnn, masking_layer, text_conv1d, time_distributed_dense):
    _add(_f.__name__, _f, perturb="all", formats=K3J if _f in (rnn_cells, masked_rnn) else K3)
    _add(f"k2_{_f.__name__}", (lambda f: lambda: f(k2=True))(_f), formats=K2, perturb="all")
_add("k2_gru_v1", gru_v1, formats=K2, perturb="all")
_add("conv_lstm", conv_lstm, perturb="all", expect="ConvLSTM2D")
_add("mha_variants", mha_variants, perturb="all")
_add("mha_axes", mha_axes, perturb="all", formats=K3J)
_add("mha_output_shape_2d", mha_output_shape_2d, perturb="all")
_add("pos_embedding", pos_embedding, perturb="all")
_add("ln_gelu", ln_gelu, perturb="all")
_add("ops_zoo", ops_zoo, perturb="all", formats=K3J)
_add("k2_tf_ops", k2_tf_ops, formats=K2, perturb="all")
_add("shape_ops", shape_ops, perturb="all")
_add("k2_shape_ops", k2_shape_ops, formats=K2, perturb="all")
_add("rms_norm", rms_norm, perturb="all")
_add("einsum_dense", einsum_dense, perturb="all")
_add("einsum_dense_3d_kernel", einsum_dense_3d_kernel, perturb="all", expect="EinsumDense")
_add("k2_transformer_block", k2_transformer_block, formats=K2, perturb="all")
_add("misc_conv", misc_conv, perturb="all")
_add("cf_zoo", cf_case, perturb="all", twin=lambda: cf_zoo("channels_last"))


# ---- running ----------------------------------------------------------------------------------------------------------
def _outputs(v):
    return [np.asarray(x) for x in v] if isinstance(v, (list, tuple)) else [np.asarray(v)]


def _generate(name, case, d):
    """Builds the Keras model, saves its files, returns (paths, inputs, outputs); cached in d."""
    rec = os.path.join(d, f"{name}.npz")
    paths = {f: os.path.join(d, f"{name}.{f}") for f in case["formats"]}
    if os.path.exists(rec) and all(os.path.exists(p) for p in paths.values()):
        with np.load(rec) as z:
            xs = [z[f"in{i}"] for i in range(sum(k.startswith("in") for k in z.files))]
            ys = [z[f"out{i}"] for i in range(sum(k.startswith("out") for k in z.files))]
        return paths, xs, ys
    k2 = name.startswith("k2_")
    (_k2() if k2 else _k3()).utils.set_random_seed(0)
    model, xs = case["build"]()
    if case.get("compile"):           # the training config travels in the file: load must take it (or warn)
        opt, loss = case["compile"]
        model.compile(optimizer=opt() if callable(opt) else opt, loss=loss, metrics=["accuracy"])
    if case["perturb"] == "all":
        _perturb_all(model)
    elif case["perturb"] == "stats":
        _perturb_stats(model)
    feed = xs if len(xs) > 1 else xs[0]
    if case["twin"] is not None:        # channels_first: TF's CPU kernels lack NCHW; the channels_last twin answers
        twin = case["twin"]()
        twin.set_weights(model.get_weights())
        ys = _outputs(twin(np.moveaxis(feed, 1, -1), training=False))
    else:
        ys = _outputs(model(feed, training=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f, p in paths.items():
            if f == "json":                 # architecture + weights file
                with open(p, "w") as out:
                    out.write(model.to_json())
                model.save_weights(_weights_path(p))
            else:
                model.save(p)
    np.savez(rec, **{f"in{i}": x for i, x in enumerate(xs)}, **{f"out{i}": y for i, y in enumerate(ys)})
    return paths, xs, ys


def _weights_path(json_path):
    return json_path[:-len(".json")] + ".weights.h5"


def run_case(name, case, d):
    from pydl.importers import keras as ki

    rows = []
    t0 = time.time()
    try:
        paths, xs, ys = _generate(name, case, d)
    except Exception as e:  # noqa: BLE001 - Keras itself could not build/save it: reported, not ours
        return [(name, "-", "keras-fail", float("nan"), float("nan"), f"{type(e).__name__}: {e}"[:200], 0.0)]
    gen = time.time() - t0
    for fmt, p in paths.items():
        t0 = time.time()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = ki.load(p, weights=_weights_path(p) if fmt == "json" else None)
            out = m.predict(xs if len(xs) > 1 else xs[0])
            out = out if isinstance(out, list) else [out]
            if len(out) != len(ys) or any(a.shape != b.shape for a, b in zip(out, ys)):
                raise AssertionError(f"output shapes {[a.shape for a in out]} != Keras's {[b.shape for b in ys]}")
            diff = max(float(np.max(np.abs(a - b))) for a, b in zip(out, ys))
            mag = max(float(np.max(np.abs(b))) for b in ys)
            status = "ok" if diff <= TOL * max(1.0, mag) else "DIFF"
            note = ""
        except ki.KerasImportError as e:
            diff = mag = float("nan")
            msg = str(e)
            status = "unsupported (expected)" if case["expect"] and case["expect"] in msg else "unsupported"
            note = " | ".join(x.strip() for x in msg.splitlines()[1:4]) or msg[:200]
        except Exception as e:  # noqa: BLE001 - the sweep reports every failure and goes on
            diff = mag = float("nan")
            status = "ERROR"
            note = f"{type(e).__name__}: {e}".splitlines()[0][:300]
            if os.environ.get("SWEEP_TRACE"):
                traceback.print_exc()
        rows.append((name, fmt, status, diff, mag, note, time.time() - t0 + gen))
        gen = 0.0
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated words; cases whose name contains one of them")
    ap.add_argument("--dir", help="where Keras's files and outputs are cached")
    ap.add_argument("--fresh", action="store_true", help="rebuild the Keras files")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    a = ap.parse_args(argv)
    names = list(CASES)
    if a.only:
        words = [w.strip().lower() for w in a.only.split(",") if w.strip()]
        names = [n for n in names if any(n.lower() == w[:-1] if w.endswith("$") else w in n.lower() for w in words)]
    if a.list:
        print("\n".join(names))
        return 0
    from importlib import metadata

    d = a.dir or os.path.join(tempfile.gettempdir(), f"pydl-keras-sweep-{metadata.version('keras')}")
    os.makedirs(d, exist_ok=True)
    if a.fresh:
        for n in names:
            for f in ("npz", "keras", "h5", "json", "weights.h5"):
                p = os.path.join(d, f"{n}.{f}")
                if os.path.exists(p):
                    os.remove(p)
    rows = []
    fmt_row = "| {} | {} | {} | {} | {} | {:.0f} s |" if a.markdown else "{:<28} {:<6} {:<24} {:>10} {:>10} {:>5.0f}s"
    if a.markdown:
        print("| model | format | status | max abs diff | max abs output | time |\n|---|---|---|---|---|---|")
    else:
        print("{:<28} {:<6} {:<24} {:>10} {:>10} {:>6}".format("name", "format", "status", "max diff", "max |y|",
                                                                "time"))
    for n in names:
        for r in run_case(n, CASES[n], d):
            rows.append(r)
            print(fmt_row.format(r[0], r[1], r[2], f"{r[3]:.1e}", f"{r[4]:.1e}", r[6]), flush=True)
            if r[5]:
                print(("  " if not a.markdown else "<!-- ") + r[5] + ("" if not a.markdown else " -->"), flush=True)
    bad = [r for r in rows if r[2] in ("DIFF", "ERROR", "unsupported")]
    print(f"\n{len(rows) - len(bad)}/{len(rows)} ok or expected; failing: {sorted({r[0] for r in bad})}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
