"""Builds real Keras models with Keras itself (seeded), saves them in every format the importer reads and records
Keras's outputs, for tests/test_keras_import.py. Nothing binary is checked in: files go to a directory given by the
caller (a pytest tmp dir). Run directly to write them: ``python tests/keras_models.py OUTDIR``.

Formats per model: ``<name>.keras`` (Keras 3 native zip), ``<name>.h5`` (Keras 3 legacy full model),
``<name>.json`` + ``<name>.weights.h5`` (architecture + weights); Keras 2 (tf_keras) models: ``<name>.h5``.
"""
from __future__ import annotations

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
}
APPLICATIONS = ["MobileNetV2", "ResNet50", "VGG16", "DenseNet121", "EfficientNetB0"]
for _a in APPLICATIONS:
    MODELS[_a] = (app(_a), [(64, 64, 3)])


def inputs_for(spec, n=3, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for s in spec:
        if s[0] == "int":
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
    """Builds model ``name`` (seeded), writes its files and returns a dict: paths, inputs, outputs, activations."""
    import warnings

    keras = _k()
    builder, spec = MODELS[name]
    keras.utils.set_random_seed(0)
    model = builder()
    xs = inputs_for(spec)
    feed = xs if len(xs) > 1 else xs[0]
    outs = _numpy(model(feed if len(xs) == 1 else xs, training=False))
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
    if name in ("cnn", "lstm_text", "transformer"):
        probes = [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)]
        probe = keras.Model(model.inputs, [l.output for l in probes])
        acts = {l.name: np.asarray(a) for l, a in zip(probes, probe(feed, training=False))}
    elif name in APPLICATIONS:      # the features before the classifier (the softmax output of a random net is ~flat)
        last = model.layers[-1]
        probe = keras.Model(model.inputs, last.input)
        acts = {model.layers[-2].name: np.asarray(probe(feed, training=False))}
    return {"paths": paths, "inputs": xs, "outputs": outs, "activations": acts, "model": model}


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
    return {"paths": {"h5": path}, "inputs": xs, "outputs": outs, "activations": {}}


KERAS2_MODELS = ["k2_cnn", "k2_lstm", "k2_functional"]


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
