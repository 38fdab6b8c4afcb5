"""Builds real Keras models with Keras itself (seeded), saves them in every format the importer reads and records
Keras's outputs, for tests/test_keras_import.py. Nothing binary is checked in: files go to a directory given by the
caller (a pytest tmp dir). Run directly to write them: ``python tests/keras_models.py OUTDIR``.

Formats per model: ``<name>.keras`` (Keras 3 native zip), ``<name>.h5`` (Keras 3 legacy full model),
``<name>.json`` + ``<name>.weights.h5`` (architecture + weights); Keras 2 (tf_keras) models: ``<name>.h5``.
"""
from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def _k():
    import keras

    return keras


def mlp():
    keras = _k()
    return keras.Sequential([keras.Input((12,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(4, activation="softmax")],
                            name="mlp")


def cnn():
    keras = _k()
    L = keras.layers
    return keras.Sequential([keras.Input((16, 16, 3)), L.Conv2D(8, 3, padding="same", name="conv_a"),
                             L.BatchNormalization(name="bn_a"), L.Activation("relu"), L.MaxPooling2D(2),
                             L.Conv2D(12, 3, activation="relu", name="conv_b"), L.Dropout(0.3), L.Flatten(),
                             L.Dense(10, activation="softmax", name="head")], name="cnn")


def two_io():
    keras = _k()
    L = keras.layers
    a, b = keras.Input((10,), name="a"), keras.Input((10,), name="b")
    shared = L.Dense(8, activation="relu", name="shared")
    h = L.Concatenate(name="cat")([shared(a), shared(b)])
    s = L.Add(name="add")([shared(a), shared(b)])
    out1 = L.Dense(1, activation="sigmoid", name="out1")(h)
    out2 = L.Dense(3, name="out2")(L.Multiply()([s, s]))
    return keras.Model([a, b], [out1, out2], name="two_io")


def nested():
    keras = _k()
    L = keras.layers
    inner = keras.Sequential([keras.Input((6,)), L.Dense(8, activation="relu", name="inner_dense"),
                              L.Dense(5, name="inner_out")], name="inner")
    x = keras.Input((6,), name="x")
    finner = keras.Model(x, L.Dense(6, activation="tanh", name="f_dense")(x), name="finner")
    y = keras.Input((6,), name="y")
    h = inner(finner(y))
    return keras.Model(y, L.Dense(2, name="top")(h), name="nested")


def lstm_text():
    keras = _k()
    L = keras.layers
    return keras.Sequential([keras.Input((7,), dtype="int32"), L.Embedding(30, 8, mask_zero=True, name="emb"),
                             L.LSTM(6, return_sequences=True, name="lstm_a"), L.LSTM(5, name="lstm_b"),
                             L.Dense(2, activation="softmax", name="head")], name="lstm_text")


def gru_bidir():
    keras = _k()
    L = keras.layers
    return keras.Sequential([keras.Input((7,), dtype="int32"), L.Embedding(30, 8, mask_zero=True, name="emb"),
                             L.Bidirectional(L.GRU(6, return_sequences=True), name="bigru"),
                             L.Bidirectional(L.LSTM(4), name="bilstm"), L.Dense(3, name="head")], name="gru_bidir")


def rnn_state():
    keras = _k()
    L = keras.layers
    x = keras.Input((5, 4), name="x")
    seq, h, c = L.LSTM(6, return_sequences=True, return_state=True, name="enc")(x)
    y = L.LSTM(6, name="dec")(seq, initial_state=[h, c])
    return keras.Model(x, L.Dense(2, name="head")(y), name="rnn_state")


def transformer():
    keras = _k()
    L = keras.layers
    x = keras.Input((6, 16), name="tokens")
    att = L.MultiHeadAttention(num_heads=2, key_dim=8, name="mha")(x, x)
    h = L.LayerNormalization(epsilon=1e-6, name="ln1")(L.Add(name="res1")([x, att]))
    f = L.Dense(32, activation="relu", name="ff1")(h)
    f = L.Dense(16, name="ff2")(f)
    h2 = L.LayerNormalization(epsilon=1e-6, name="ln2")(L.Add(name="res2")([h, f]))
    out = L.Dense(3, name="head")(L.GlobalAveragePooling1D(name="pool")(h2))
    return keras.Model(x, out, name="transformer")


def preprocessing():
    keras = _k()
    L = keras.layers
    norm = L.Normalization(axis=-1, name="norm")
    norm.adapt(np.random.default_rng(1).normal(2.0, 3.0, size=(64, 5)).astype("float32"))
    return keras.Sequential([keras.Input((5,)), L.Rescaling(0.5, offset=1.0, name="resc"), norm,
                             L.Normalization(mean=[1.0, 2, 3, 4, 5], variance=[1.0, 4, 9, 16, 25], name="fixed"),
                             L.Dense(3, name="head")], name="preprocessing")


def compiled():
    keras = _k()
    L = keras.layers
    m = keras.Sequential([keras.Input((8,)), L.Dense(16, activation="relu"), L.Dense(3, activation="softmax")],
                         name="compiled")
    m.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def lambda_unit():
    """A Lambda layer (refused: Python code) and a class pydl lacks: both must be listed in one error."""
    keras = _k()
    x = keras.Input((4,), name="x")
    h = keras.layers.Lambda(lambda t: t * 2.0, name="double")(x)
    h = keras.layers.Dense(3, name="d")(h)
    h = keras.layers.UnitNormalization(name="unit")(h)
    return keras.Model(x, keras.layers.Dense(2, name="out")(h), name="lambda_unit")


def lambda_relu():
    """A Lambda layer a test replaces with a registered pydl layer."""
    keras = _k()
    x = keras.Input((4,))
    h = keras.layers.Lambda(lambda t: keras.ops.relu(t), name="myrelu")(x)
    return keras.Model(x, keras.layers.Dense(2, name="out")(h), name="lambda_relu")


# ---- generality: layers and options one at a time, in small models (weights perturbed: see _perturb) ----------------
def cf_cnn(cf="channels_first"):
    """channels_first (TF's CPU kernels lack NCHW: Keras's outputs come from the channels_last twin, same weights)."""
    keras = _k()
    L = keras.layers
    shape = (3, 12, 12) if cf == "channels_first" else (12, 12, 3)
    return keras.Sequential([keras.Input(shape), L.Conv2D(4, 3, padding="same", data_format=cf, name="c1"),
                             L.BatchNormalization(axis=1 if cf == "channels_first" else -1, name="bn"),
                             L.Activation("relu"), L.MaxPooling2D(2, data_format=cf, name="mp"),
                             L.Conv2D(5, 3, strides=2, data_format=cf, activation="relu", name="c2"),
                             L.AveragePooling2D(1, data_format=cf, name="ap"), L.Flatten(data_format=cf, name="fl"),
                             L.Dense(3, name="head")], name="cf_cnn")


def cf_gap(cf="channels_first"):
    keras = _k()
    L = keras.layers
    shape = (2, 9, 9) if cf == "channels_first" else (9, 9, 2)
    return keras.Sequential([keras.Input(shape), L.Conv2D(4, 3, data_format=cf, name="c1"),
                             L.ZeroPadding2D(1, data_format=cf, name="zp"),
                             L.GlobalAveragePooling2D(data_format=cf, name="gap"), L.Dense(3, name="head")],
                            name="cf_gap")


def time_distributed():
    keras = _k()
    L = keras.layers
    return keras.Sequential([keras.Input((4, 8, 8, 2)), L.TimeDistributed(L.Conv2D(3, 3, activation="relu"), name="tdc"),
                             L.TimeDistributed(L.Flatten(), name="tdf"), L.TimeDistributed(L.Dense(5), name="tdd"),
                             L.GlobalAveragePooling1D(), L.Dense(2, name="head")], name="time_distributed")


def bidir_backward():
    keras = _k()
    L = keras.layers
    fwd = L.LSTM(4, return_sequences=True)
    bwd = L.LSTM(4, return_sequences=True, go_backwards=True)
    return keras.Sequential([keras.Input((6, 5)), L.Bidirectional(fwd, backward_layer=bwd, name="bi"),
                             L.Bidirectional(L.GRU(3), merge_mode="sum", name="bi2"), L.Dense(2, name="head")],
                            name="bidir_backward")


def text_cnn():
    keras = _k()
    L = keras.layers
    return keras.Sequential([keras.Input((20,), dtype="int32"), L.Embedding(50, 8, name="emb"),
                             L.SpatialDropout1D(0.2), L.Conv1D(6, 3, activation="relu", name="conv"),
                             L.MaxPooling1D(2), L.Conv1D(5, 3, padding="causal", dilation_rate=2, name="causal"),
                             L.GlobalMaxPooling1D(name="gmp"), L.Dense(2, activation="softmax", name="head")],
                            name="text_cnn")


def branches():
    """Two convolution branches concatenated, two outputs (one from a single branch)."""
    keras = _k()
    L = keras.layers
    x = keras.Input((10, 10, 3), name="img")
    a = L.Conv2D(4, 3, padding="same", activation="relu", name="a")(x)
    b = L.Conv2D(3, 1, activation="tanh", name="b")(x)
    h = L.Concatenate(name="cat")([a, b])
    g = L.GlobalAveragePooling2D(name="gap")(h)
    out1 = L.Dense(4, activation="softmax", name="cls")(g)
    out2 = L.Dense(1, name="reg")(L.GlobalMaxPooling2D(name="gmp")(b))
    return keras.Model(x, [out1, out2], name="branches")


def conv_zoo():
    keras = _k()
    L = keras.layers
    return keras.Sequential([
        keras.Input((9, 9, 3)), L.ZeroPadding2D(((1, 2), (2, 1)), name="zp"),
        L.SeparableConv2D(6, 3, depth_multiplier=2, name="sep"), L.LeakyReLU(0.2, name="lrelu"),
        L.Conv2DTranspose(4, 3, strides=2, padding="same", name="convt"), L.PReLU(shared_axes=[1, 2], name="prelu"),
        L.UpSampling2D(2, interpolation="bilinear", name="up"), L.Cropping2D(((2, 1), (1, 3)), name="crop"),
        L.ELU(0.7, name="elu"), L.SpatialDropout2D(0.2, name="sd"), L.GaussianNoise(0.1, name="noise"),
        L.ReLU(max_value=0.5, name="relu6ish"), L.Conv2D(4, 1, name="c"), L.GroupNormalization(2, name="gn"),
        L.LayerNormalization(name="ln"), L.Softmax(name="softmax"), L.GlobalAveragePooling2D(),
        L.Dense(3, name="head")], name="conv_zoo")


def attention_zoo():
    keras = _k()
    L = keras.layers
    q, v = keras.Input((5, 8), name="q"), keras.Input((7, 8), name="v")
    a = L.Attention(use_scale=True, name="att")([q, v])
    c = L.Attention(score_mode="concat", name="att_concat")([q, v])
    ad = L.AdditiveAttention(name="add_att")([q, v])
    d = L.Dot(axes=(2, 2), name="dot")([q, v])
    dn = L.Dot(axes=2, normalize=True, name="dot_cos")([q, v])
    h = L.LayerNormalization(name="ln")(L.Concatenate(name="cat")([a, c, ad]))
    out1 = L.Dense(3, name="o1")(L.GlobalAveragePooling1D()(h))
    out2 = L.Dense(2, name="o2")(L.Flatten()(L.Add()([d, dn])))
    return keras.Model([q, v], [out1, out2], name="attention_zoo")


def k3_ops():
    """Keras 3 operations in a functional graph: operators with numbers and tensors, keras.ops activations."""
    keras = _k()
    L = keras.layers
    x = keras.Input((6,), name="x")
    h = keras.ops.tanh(L.Dense(4, name="d1")(x) * 2.0 + 1.0)
    h = (1.0 - h) / 4.0
    h = keras.ops.add(h, L.Dense(4, name="d2")(x))
    h = keras.ops.sigmoid(h) * h
    return keras.Model(x, L.Dense(2, name="head")(h), name="k3_ops")


def k3_bad_ops():
    """Operations the importer does not translate: reported by name with the other problems, never a crash."""
    keras = _k()
    L = keras.layers
    x = keras.Input((6,), name="x")
    h = keras.ops.mean(L.Dense(4, name="d")(x), axis=-1, keepdims=True)
    h = keras.ops.power(h, 3.0)
    return keras.Model(x, L.Dense(2, name="head")(h), name="k3_bad_ops")


def masking_ops():
    """Masking before an LSTM in a functional model: Keras 3 records the mask as NotEqual / Any operations passed
    as the LSTM's mask= argument (inputs here have no all-zero steps: the graph, not masking, is tested)."""
    keras = _k()
    L = keras.layers
    x = keras.Input((5, 3), name="x")
    h = L.LSTM(4, name="lstm")(L.Masking(0.0, name="mask")(x))
    return keras.Model(x, L.Dense(2, name="head")(h), name="masking_ops")


def transformer_zoo():
    """Transformer variants: MultiHeadAttention over other axes of rank-4 inputs (attention_axes, scores returned,
    negative axes, key/value of other lengths), keras.ops.gelu (both forms) and a tensor sum as Keras 3 operations,
    LayerNormalization without scale/center, RMSNormalization."""
    keras = _k()
    L = keras.layers
    x, y = keras.Input((3, 4, 6), name="x"), keras.Input((3, 5, 2), name="y")
    a, scores = L.MultiHeadAttention(2, key_dim=3, attention_axes=(2,), name="mha_ax2")(
        x, x, return_attention_scores=True)
    b = L.MultiHeadAttention(2, key_dim=2, value_dim=3, output_shape=6, attention_axes=(1, 2), name="mha_ax12")(x, x)
    c = L.MultiHeadAttention(3, key_dim=2, use_bias=False, attention_axes=-2, name="mha_neg")(x, y)
    h = a + b + c
    h = L.LayerNormalization(scale=False, center=False, name="ln_plain")(h)
    h = L.LayerNormalization(center=False, epsilon=1e-3, name="ln_nocenter")(h)
    h = L.RMSNormalization(axis=[2, 3], name="rms")(h)
    h = L.Concatenate(name="cat")([keras.ops.gelu(h, approximate=True), keras.ops.gelu(h, approximate=False)])
    out = L.Dense(3, name="head")(L.GlobalAveragePooling2D(name="gap")(h))
    return keras.Model([x, y], [out, scores], name="transformer_zoo")


def app_layers():
    """The layers Keras's applications define themselves: ConvNeXt's LayerScale, InceptionResNetV2's
    CustomScaleLayer."""
    from keras.src.applications.convnext import LayerScale
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    keras = _k()
    L = keras.layers
    x = keras.Input((6, 6, 4), name="x")
    h = L.Conv2D(8, 3, padding="same", name="conv")(x)
    s = LayerScale(1e-6, 8, name="layer_scale")(h)
    r = L.Conv2D(8, 1, activation="relu", name="branch")(h)
    h = CustomScaleLayer(0.17, name="custom_scale")([L.Add(name="res")([h, s]), r])
    return keras.Model(x, L.Dense(2, name="head")(L.GlobalAveragePooling2D(name="gap")(h)), name="app_layers")


def seq_nested():
    """Transfer learning's shape: a frozen functional model (a small 'application') nested in a Sequential."""
    keras = _k()
    L = keras.layers
    x = keras.Input((8, 8, 3), name="img")
    h = L.BatchNormalization(name="bn")(L.Conv2D(6, 3, name="conv")(x))
    base = keras.Model(x, L.ReLU(6.0, name="relu6")(h), name="base")
    base.trainable = False
    return keras.Sequential([keras.Input((8, 8, 3)), base, L.GlobalMaxPooling2D(name="gmp"), L.Dense(3, name="head")],
                            name="seq_nested")


def rnn_cells():
    """keras.layers.RNN over the built-in cells (imported as LSTM / GRU / SimpleRNN), also inside Bidirectional."""
    keras = _k()
    L = keras.layers
    x = keras.Input((6, 4), name="x")
    a = L.RNN(L.LSTMCell(5), return_sequences=True, name="rnn_lstm")(x)
    b = L.RNN(L.GRUCell(4), go_backwards=True, name="rnn_gru")(a)
    c = L.Bidirectional(L.RNN(L.SimpleRNNCell(3)), name="bi_rnn")(x)
    return keras.Model(x, L.Dense(2, name="head")(L.Concatenate(name="cat")([b, c])), name="rnn_cells")


def augmented():
    """Random augmentation layers in front of a CNN (Keras's "image classification from scratch"): the identity at
    inference. (Keras cannot write their seed generators to .h5: .keras only.)"""
    keras = _k()
    L = keras.layers
    x = keras.Input((12, 12, 3), name="image")
    h = x
    for layer in (L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomZoom(0.1), L.RandomContrast(0.2),
                  L.RandomTranslation(0.1, 0.1), L.RandomBrightness(0.2)):
        h = layer(h)
    h = L.Conv2D(4, 3, strides=2, activation="relu", name="conv")(L.Rescaling(1.0 / 255, name="scale")(h))
    return keras.Model(x, L.Dense(3, name="head")(L.GlobalAveragePooling2D(name="gap")(h)), name="augmented")


def ops_zoo():
    """Keras 3 operations of real functional code: a positional embedding computed once (Embedding(arange(n)) is a
    constant added to the tokens), constant arrays, CLS / last-token pooling by indexing, slicing, mean / max over
    the sequence or image axes, concatenate; EinsumDense of a Dense equation."""
    keras = _k()
    L = keras.layers
    tok = keras.Input((8,), dtype="int32", name="tok")
    img = keras.Input((5, 6, 4), name="img")
    h = L.Embedding(30, 12, name="tok_emb")(tok) + L.Embedding(8, 12, name="pos_emb")(keras.ops.arange(0, 8))
    # output_shape (None, 12): Keras records the sequence axis as unknown, the importer computes it
    h = L.EinsumDense("abc,cd->abd", (None, 12), bias_axes="d", name="proj")(h - np.linspace(-1, 1, 12,
                                                                                                dtype="float32"))
    g = keras.ops.max(img * np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"), axis=(1, 2))
    out = keras.ops.concatenate([h[:, 0], h[:, -1], keras.ops.mean(h[:, 2:5], axis=1), keras.ops.mean(h, axis=1), g,
                                 keras.ops.mean(img[:, :, 2], axis=1)], axis=-1)
    return keras.Model([tok, img], L.Dense(3, name="head")(out), name="ops_zoo")


def shape_ops():
    """Reshape / transpose / expand_dims / squeeze / matmul / square / negation as Keras 3 operations; Identity,
    ActivityRegularization."""
    keras = _k()
    L = keras.layers
    x = keras.Input((6, 8), name="x")
    h = L.Dense(8, name="d")(x)
    t = keras.ops.transpose(h, (0, 2, 1))
    c = keras.ops.squeeze(keras.ops.expand_dims(h, -1), axis=-1)
    f = L.ActivityRegularization(l2=0.01, name="act_reg")(L.Identity(name="ident")(-keras.ops.square(c)))
    flat = [L.Flatten()(v) for v in (keras.ops.reshape(h, (-1, 3, 16)), t, keras.ops.matmul(h, t), f)]
    return keras.Model(x, L.Dense(2, name="head")(L.Concatenate()(flat)), name="shape_ops")


def _perturb(model):
    """Random init leaves biases, BN statistics and PReLU alphas at 0/1: perturb every weight (variances stay > 0)
    so that a swapped or ignored weight shows in the outputs."""
    rng = np.random.default_rng(1)
    ws = []
    for v in model.weights:
        w = np.asarray(v)
        noise = rng.normal(0.0, 0.2, size=w.shape).astype(w.dtype)
        ws.append(w + np.abs(noise) if "variance" in v.path else w + noise)
    model.set_weights(ws)


GENERAL = {"cf_cnn": (cf_cnn, [(3, 12, 12)]), "cf_gap": (cf_gap, [(2, 9, 9)]),
           "time_distributed": (time_distributed, [(4, 8, 8, 2)]), "bidir_backward": (bidir_backward, [(6, 5)]),
           "text_cnn": (text_cnn, [("int", 20, 50)]), "branches": (branches, [(10, 10, 3)]),
           "conv_zoo": (conv_zoo, [(9, 9, 3)]), "attention_zoo": (attention_zoo, [(5, 8), (7, 8)]),
           "k3_ops": (k3_ops, [(6,)]), "masking_ops": (masking_ops, [(5, 3)]),
           "transformer_zoo": (transformer_zoo, [("normal", 3, 4, 6), ("normal", 3, 5, 2)]),
           "app_layers": (app_layers, [(6, 6, 4)]), "seq_nested": (seq_nested, [(8, 8, 3)]),
           "rnn_cells": (rnn_cells, [("normal", 6, 4)]), "augmented": (augmented, [(12, 12, 3)]),
           "ops_zoo": (ops_zoo, [("int", 8, 30), (5, 6, 4)]), "shape_ops": (shape_ops, [("normal", 6, 8)])}


def scheduled(kind):
    """A compiled model whose optimizer has a learning-rate schedule."""
    def build():
        keras = _k()
        L = keras.layers
        S = keras.optimizers.schedules
        lr = {"exponential": S.ExponentialDecay(0.01, decay_steps=10, decay_rate=0.5, staircase=True),
              "cosine": S.CosineDecay(0.02, decay_steps=100, alpha=0.1),
              "piecewise": S.PiecewiseConstantDecay([10, 20], [0.01, 0.005, 0.001])}[kind]
        m = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="softmax")], name=f"sched_{kind}")
        m.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9), loss="sparse_categorical_crossentropy")
        return m
    build.__name__ = f"scheduled_{kind}"
    return build


def trained(kind):
    """Compiled with an optimizer and trained 3 steps: the file holds its slots (Adam's moments, SGD's momentum,
    RMSprop's velocity and momentum) and iteration count."""
    def build():
        keras = _k()
        L = keras.layers
        m = keras.Sequential([keras.Input((6,)), L.Dense(8, activation="tanh"), L.Dense(3, activation="softmax")],
                             name=f"trained_{kind}")
        opt = {"adam": lambda: keras.optimizers.Adam(0.05), "sgd": lambda: keras.optimizers.SGD(0.05, momentum=0.9),
               "rmsprop": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5)}[kind]()
        m.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
        x, y = _adam_data()
        m.fit(x, y, epochs=3, batch_size=len(x), shuffle=False, verbose=0)
        return m
    build.__name__ = f"trained_{kind}"
    return build


def _adam_data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 6)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 0)


def varlen_text():
    """Input((None,)): a text model for any sequence length (Embedding with mask_zero, Conv1D, LSTM)."""
    keras = _k()
    L = keras.layers
    x = keras.Input((None,), dtype="int32", name="tokens")
    h = L.Embedding(30, 8, mask_zero=True)(x)
    h = L.LSTM(6, return_sequences=True)(h)
    h = L.GRU(5)(h)
    return keras.Model(x, L.Dense(3, activation="softmax")(h), name="varlen_text")


def seq2seq():
    """The classic encoder-decoder: two Input((None,)) of different lengths, the encoder's final LSTM states
    start the decoder, a softmax over the vocabulary at each decoder step. Both embeddings mask padding, but Keras 3
    computes the decoder (called with initial_state) without its mask."""
    keras = _k()
    L = keras.layers
    enc_in, dec_in = keras.Input((None,), name="enc_in"), keras.Input((None,), name="dec_in")
    _, h, c = L.LSTM(6, return_state=True, name="encoder")(L.Embedding(20, 8, mask_zero=True, name="enc_emb")(enc_in))
    d = L.LSTM(6, return_sequences=True, name="decoder")(L.Embedding(20, 8, mask_zero=True, name="dec_emb")(dec_in),
                                                         initial_state=[h, c])
    return keras.Model([enc_in, dec_in], L.Dense(20, activation="softmax", name="out")(d), name="seq2seq")


def _next_step(model, x0):
    x, y = _adam_data()
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    return [x, y], _numpy(model(x0, training=False))


def app(name):
    def build():
        keras = _k()
        fn = getattr(keras.applications, name)
        return fn(weights=None, input_shape=(64, 64, 3), classes=10)
    build.__name__ = name
    return build


# name -> (builder, input spec); an int spec (vocabulary) means integer token inputs
MODELS = {
    "mlp": (mlp, [(12,)]),
    "cnn": (cnn, [(16, 16, 3)]),
    "two_io": (two_io, [(10,), (10,)]),
    "nested": (nested, [(6,)]),
    "lstm_text": (lstm_text, [("int", 7, 30)]),
    "gru_bidir": (gru_bidir, [("int", 7, 30)]),
    "rnn_state": (rnn_state, [(5, 4)]),
    "transformer": (transformer, [(6, 16)]),
    "preprocessing": (preprocessing, [(5,)]),
    "compiled": (compiled, [(8,)]),
    "lambda_unit": (lambda_unit, [(4,)]),
    "trained_adam": (trained("adam"), [(6,)]),
    "trained_sgd": (trained("sgd"), [(6,)]),
    "trained_rmsprop": (trained("rmsprop"), [(6,)]),
    "k3_bad_ops": (k3_bad_ops, [(6,)]),
    "sched_exponential": (scheduled("exponential"), [(4,)]),
    "sched_cosine": (scheduled("cosine"), [(4,)]),
    "sched_piecewise": (scheduled("piecewise"), [(4,)]),
    "lambda_relu": (lambda_relu, [("normal", 4)]),
    "varlen_text": (varlen_text, [("int", 7, 30)]),
    "seq2seq": (seq2seq, [("int", 7, 20), ("int", 5, 20)]),
}
MODELS.update(GENERAL)
APPLICATIONS = ["MobileNetV2", "ResNet50", "VGG16", "DenseNet121", "EfficientNetB0"]
for _a in APPLICATIONS:
    MODELS[_a] = (app(_a), [(64, 64, 3)])


def inputs_for(spec, n=3, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for s in spec:
        if s[0] == "normal":
            out.append(rng.normal(size=(n,) + tuple(s[1:])).astype(np.float32))
        elif s[0] == "int":
            a = rng.integers(1, s[2], size=(n, s[1])).astype("int32")
            a[0, -3:] = 0       # masked (padded) tail
            a[1, -1:] = 0
            out.append(a)
        else:
            out.append(rng.random((n,) + tuple(s), dtype=np.float32))
    return out


def _numpy(v):
    return [np.asarray(x) for x in v] if isinstance(v, (list, tuple)) else [np.asarray(v)]


def generate(name, outdir, formats=("keras", "h5", "json")):
    """Builds model ``name`` (seeded), writes its files and returns a record: paths, inputs, outputs, activations
    (Keras's outputs of chosen layers) and extra (named (inputs, outputs) pairs a test needs besides)."""
    import warnings

    keras = _k()
    builder, spec = MODELS[name]
    keras.utils.set_random_seed(0)
    model = builder()
    if name in GENERAL:
        _perturb(model)
    xs = inputs_for(spec)
    feed = xs if len(xs) > 1 else xs[0]
    if name in CHANNELS_FIRST:
        twin = builder("channels_last")
        twin.set_weights(model.get_weights())
        outs = _numpy(twin(np.moveaxis(feed, 1, -1), training=False))
    else:
        outs = _numpy(model(feed, training=False))
    paths = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "keras" in formats:
            paths["keras"] = os.path.join(outdir, f"{name}.keras")
            model.save(paths["keras"])
        if "h5" in formats:
            paths["h5"] = os.path.join(outdir, f"{name}.h5")
            model.save(paths["h5"])
        if "json" in formats:
            paths["json"] = os.path.join(outdir, f"{name}.json")
            with open(paths["json"], "w") as f:
                f.write(model.to_json())
            paths["weights"] = os.path.join(outdir, f"{name}.weights.h5")
            model.save_weights(paths["weights"])
    acts = {}
    if name in PROBED or (name in GENERAL and name not in CHANNELS_FIRST + UNPROBED):
        probes = [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)
                  and not isinstance(l.output, (list, tuple))]          # one output each (not attention scores)
        probe = keras.Model(model.inputs, [l.output for l in probes])
        acts = {l.name: np.asarray(a) for l, a in zip(probes, probe(feed, training=False))}
    elif name in APPLICATIONS:      # the features before the classifier (the softmax output of a random net is ~flat)
        last = model.layers[-1]
        probe = keras.Model(model.inputs, last.input)
        acts = {model.layers[-2].name: np.asarray(probe(feed, training=False))}
    extra = {}
    if name.startswith("trained_"):      # Keras's outputs after one more step on the training batch
        extra["next_step"] = _next_step(model, xs[0])
    if name in VARLEN:              # the same model on other sequence lengths
        for k, n in enumerate((3, 11)):
            other = [inputs_for([("int", n + j, s[2])], seed=k + 1)[0] for j, s in enumerate(spec)]
            extra[f"length_{n}"] = (other, _numpy(model(other if len(other) > 1 else other[0], training=False)))
    if name in UNMASKED:            # the same tokens without padding (no mask involved)
        x = xs[0].copy()
        x[x == 0] = 3
        extra["unmasked"] = ([x], _numpy(model(x, training=False)))
    return {"paths": paths, "inputs": xs, "outputs": outs, "activations": acts, "extra": extra}


CHANNELS_FIRST = ("cf_cnn", "cf_gap")
UNPROBED = ("seq_nested",)          # a nested model's layers are not reachable from the outer model's input
PROBED = ("cnn", "lstm_text", "transformer")
UNMASKED = ("lstm_text",)
VARLEN = ("varlen_text", "seq2seq")


# ---- records on disk: a pytest session generates each model once; a cache directory keeps them across runs ----
def cache_key():
    """Changes when the generator or the Keras versions change (read without importing Keras: no TF start-up)."""
    import hashlib
    from importlib import metadata

    def version(pkg):
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "none"

    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha1(f.read()).hexdigest()[:12]
    return f"keras{version('keras')}-tfkeras{version('tf-keras')}-{digest}"


def _flatten_record(rec):
    arrays = {}
    for i, a in enumerate(rec["inputs"]):
        arrays[f"in/{i}"] = a
    for i, a in enumerate(rec["outputs"]):
        arrays[f"out/{i}"] = a
    for k, a in rec["activations"].items():
        arrays[f"act/{k}"] = a
    for k, (xs, ys) in rec.get("extra", {}).items():
        for i, a in enumerate(xs):
            arrays[f"extra/{k}/in/{i}"] = a
        for i, a in enumerate(ys):
            arrays[f"extra/{k}/out/{i}"] = a
    return arrays


def save_record(rec, outdir, name):
    """Writes ``<name>.record.npz`` next to the model files (atomically, last: its presence marks a complete set)."""
    meta = json.dumps({k: os.path.basename(v) for k, v in rec["paths"].items()})
    tmp = os.path.join(outdir, f"{name}.record.tmp.npz")
    np.savez(tmp, __paths__=np.array(meta), **_flatten_record(rec))
    os.replace(tmp, os.path.join(outdir, f"{name}.record.npz"))


def load_record(outdir, name):
    """The record saved by :func:`save_record`, or None when absent or incomplete."""
    p = os.path.join(outdir, f"{name}.record.npz")
    if not os.path.exists(p):
        return None
    with np.load(p) as z:
        paths = {k: os.path.join(outdir, v) for k, v in json.loads(str(z["__paths__"])).items()}
        if not all(os.path.exists(v) for v in paths.values()):
            return None

        def seq(prefix):
            n = sum(1 for k in z.files if k.startswith(prefix) and "/" not in k[len(prefix):])
            return [z[f"{prefix}{i}"] for i in range(n)]

        acts = {k[4:]: z[k] for k in z.files if k.startswith("act/")}
        extra = {}
        for k in {f.split("/")[1] for f in z.files if f.startswith("extra/")}:
            extra[k] = (seq(f"extra/{k}/in/"), seq(f"extra/{k}/out/"))
        return {"paths": paths, "inputs": seq("in/"), "outputs": seq("out/"), "activations": acts, "extra": extra}


# Keras 2 (tf_keras) models: full-model .h5 files
def generate_keras2(name, outdir):
    import tf_keras as k2

    k2.utils.set_random_seed(0)
    L = k2.layers
    if name == "k2_cnn":
        m = k2.Sequential([L.Conv2D(6, 3, activation="relu", input_shape=(12, 12, 2)), L.BatchNormalization(),
                           L.MaxPooling2D(), L.DepthwiseConv2D(3, padding="same"), L.Flatten(),
                           L.Dense(4, activation="softmax")], name="k2_cnn")
        xs = [np.random.default_rng(0).random((3, 12, 12, 2), dtype=np.float32)]
    elif name == "k2_lstm":
        m = k2.Sequential([L.Embedding(20, 6, mask_zero=True, input_length=5), L.LSTM(7, return_sequences=True),
                           L.GRU(5), L.Dense(2)], name="k2_lstm")
        a = np.random.default_rng(0).integers(1, 20, size=(3, 5)).astype("int32")
        a[0, -2:] = 0
        xs = [a]
    elif name == "k2_functional":
        a = k2.Input((6,), name="a")
        inner = k2.Sequential([L.Dense(5, activation="relu", input_shape=(6,)), L.Dense(4)], name="inner")
        h = L.Dense(6, activation="tanh", name="pre")(a)
        out = L.Dense(2, name="head")(L.Concatenate()([inner(h), inner(a)]))
        m = k2.Model(a, out, name="k2_functional")
        xs = [np.random.default_rng(0).random((3, 6), dtype=np.float32)]
    elif name == "k2_gru_v1":      # GRU(reset_after=False): the Keras 1 / CuDNN-less variant; configs carry time_major
        m = k2.Sequential([L.GRU(5, reset_after=False, return_sequences=True, input_shape=(6, 4)),
                           L.LSTM(3, time_major=False), L.Dense(2)], name="k2_gru_v1")
        xs = [np.random.default_rng(0).normal(size=(3, 6, 4)).astype(np.float32)]
    elif name == "k2_groups":      # Conv2D / DepthwiseConv2D configs with a groups key
        m = k2.Sequential([L.Conv2D(4, 3, groups=1, input_shape=(8, 8, 2)), L.DepthwiseConv2D(3, depth_multiplier=2),
                           L.GlobalAveragePooling2D(), L.Dense(2, activation="hard_sigmoid")], name="k2_groups")
        xs = [np.random.default_rng(0).normal(size=(3, 8, 8, 2)).astype(np.float32)]
    elif name == "k2_transformer":  # Keras 2 MultiHeadAttention config (query_shape ...), TFOpLambda ops (h + f, * 0.5)
        x = k2.Input((6, 16), name="x")
        a = L.MultiHeadAttention(2, 8, name="mha")(x, x)
        h = L.LayerNormalization(epsilon=1e-6, name="ln1")(L.Add()([x, a]))
        f = L.Dense(16, name="ff2")(L.Dense(32, activation="gelu", name="ff1")(h))
        h = L.LayerNormalization(name="ln2")(h + f * 0.5)
        m = k2.Model(x, L.Dense(3, name="head")(k2.activations.tanh(L.GlobalAveragePooling1D()(h))),
                     name="k2_transformer")
        xs = [np.random.default_rng(0).normal(size=(3, 6, 16)).astype(np.float32)]
    elif name == "k2_activations":  # Keras 2 activation layers and names (alpha, ThresholdedReLU, GlobalMaxPool1D)
        x = k2.Input((10, 6))
        h = L.Conv1D(8, 3, kernel_regularizer=k2.regularizers.l2(1e-3))(x)
        h = L.ELU(alpha=0.7)(L.PReLU(shared_axes=[1])(L.SpatialDropout1D(0.2)(L.LeakyReLU(alpha=0.2)(h))))
        h = L.ThresholdedReLU(theta=0.3)(L.ReLU(max_value=3.0, threshold=0.1, negative_slope=0.05)(h))
        m = k2.Model(x, L.Softmax(axis=-1)(L.Dense(4)(L.GlobalMaxPool1D()(h))), name="k2_activations")
        _perturb_k2(m)
        xs = [np.random.default_rng(0).normal(size=(3, 10, 6)).astype(np.float32)]
    elif name == "k2_seq2seq":      # Keras 2 masks a decoder given initial_state (Keras 3 does not)
        ei, di = k2.Input((7,), name="enc_in"), k2.Input((5,), name="dec_in")
        _, h, c = L.LSTM(6, return_state=True)(L.Embedding(20, 8, mask_zero=True)(ei))
        d = L.LSTM(6, return_sequences=True)(L.Embedding(20, 8, mask_zero=True)(di), initial_state=[h, c])
        m = k2.Model([ei, di], L.Dense(20, activation="softmax")(d), name="k2_seq2seq")
        xs = inputs_for([("int", 7, 20), ("int", 5, 20)])
    elif name == "k2_trained_adam":   # compiled, 3 Adam steps: optimizer_weights named the Keras 2 way
        m = k2.Sequential([L.Dense(8, activation="tanh", input_shape=(6,)), L.Dense(3, activation="softmax")],
                          name="k2_trained_adam")
        m.compile(optimizer=k2.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
        x, y = _adam_data()
        m.fit(x, y, epochs=3, batch_size=len(x), shuffle=False, verbose=0)
        xs = [np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)]
    elif name == "k2_slash_names":  # Keras 2 allowed '/' in layer names (tf.keras MobileNetV3: 'Conv/BatchNorm')
        x = k2.Input((5, 5, 3), name="in/x")
        h = L.Conv2D(4, 3, name="Conv/conv")(x)
        h = L.BatchNormalization(name="Conv/BatchNorm")(h)
        h = L.Activation("relu", name="Conv/relu")(h)
        m = k2.Model(x, L.Dense(2, name="Logits/dense")(L.Flatten(name="flatten")(h)), name="k2/slash")
        _perturb_k2(m)
        xs = [np.random.default_rng(0).normal(size=(3, 5, 5, 3)).astype(np.float32)]
    elif name == "k2_tf_ops":      # TensorFlow functions in a tf.keras graph (TFOpLambda / SlicingOpLambda): reductions,
        #                            indexing, concat, gelu, reshape / transpose / expand_dims / squeeze
        import tensorflow as tf

        x = k2.Input((6, 8), name="x")
        h = L.Dense(8, name="d")(x)
        d = tf.nn.gelu(tf.concat([tf.reduce_mean(h, axis=1), h[:, 0]], axis=-1))
        e = tf.reduce_max(h[:, 2:4], axis=[1])
        f = tf.nn.gelu(h[:, -1], approximate=True) * 0.5 + 1.0
        g = tf.squeeze(tf.expand_dims(tf.transpose(tf.reshape(h, (-1, 3, 16)), perm=(0, 2, 1)), -1), axis=-1)
        g = L.Flatten(name="flat")(g)
        m = k2.Model(x, L.Dense(2, name="head")(tf.concat([d, e, f, g], -1)), name="k2_tf_ops")
        _perturb_k2(m)
        xs = [np.random.default_rng(0).normal(size=(3, 6, 8)).astype(np.float32)]
    elif name == "k2_app_layers":  # tf_keras's applications register their layers as "Custom>CustomScaleLayer"
        from tf_keras.src.applications.convnext import LayerScale as K2LayerScale
        from tf_keras.src.applications.inception_resnet_v2 import CustomScaleLayer as K2CustomScale

        x = k2.Input((5, 5, 3), name="x")
        h = L.Conv2D(4, 3, padding="same", name="conv")(x)
        r = L.Conv2D(4, 1, activation="relu", name="branch")(x)
        h = K2CustomScale(0.2, name="custom_scale")([h, K2LayerScale(1e-6, 4, name="layer_scale")(r)])
        m = k2.Model(x, L.Dense(2, name="head")(L.GlobalAveragePooling2D(name="gap")(h)), name="k2_app_layers")
        _perturb_k2(m)
        xs = [np.random.default_rng(0).normal(size=(3, 5, 5, 3)).astype(np.float32)]
    elif name == "k2_hard_sigmoid":
        m = k2.Sequential([L.Dense(3, activation="hard_sigmoid", input_shape=(4,))], name="k2_hs")
        xs = [np.random.default_rng(0).random((3, 4), dtype=np.float32)]
    else:
        raise KeyError(name)
    path = os.path.join(outdir, f"{name}.h5")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.save(path)
    outs = _numpy(m(xs[0] if len(xs) == 1 else xs, training=False))
    extra = {"next_step": _next_step(m, xs[0])} if name == "k2_trained_adam" else {}
    return {"paths": {"h5": path}, "inputs": xs, "outputs": outs, "activations": {}, "extra": extra}


def _perturb_k2(model):
    """:func:`_perturb` for a tf_keras model."""
    rng = np.random.default_rng(1)
    ws = []
    for v in model.weights:
        w = v.numpy()
        noise = rng.normal(0.0, 0.2, size=w.shape).astype(w.dtype)
        ws.append(w + np.abs(noise) if "variance" in v.name else w + noise)
    model.set_weights(ws)


KERAS2_MODELS = ["k2_slash_names", "k2_tf_ops", "k2_app_layers", "k2_cnn", "k2_lstm", "k2_functional",
                 "k2_hard_sigmoid", "k2_gru_v1", "k2_groups", "k2_transformer", "k2_trained_adam", "k2_seq2seq",
                 "k2_activations"]


if __name__ == "__main__":
    import sys

    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for n in MODELS:
        generate(n, out)
        print("wrote", n)
    for n in KERAS2_MODELS:
        generate_keras2(n, out)
        print("wrote", n)
