"""Keras import (issue 4): real Keras models built and saved by Keras itself (tests/keras_models.py), imported with
pydl.importers.keras and compared with Keras's outputs (rtol = atol = 1e-4, float32), layer by layer for the CNN,
RNN and transformer models; Keras 2 (tf_keras) files; bad files; fine-tuning; the CLI; Java loading the result."""
from __future__ import annotations

import importlib.util
import inspect
import json
import os
import shutil
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

if importlib.util.find_spec("keras") is None:        # not imported here: TF starts only if a model is generated
    pytest.skip("keras is not installed", allow_module_level=True)
pytest.importorskip("h5py")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import h5py  # noqa: E402

import pydl  # noqa: E402
from pydl.importers import keras as ki  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_models as km  # noqa: E402

TOL = dict(rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="session")
def kdir(request, tmp_path_factory):
    """Where the generated Keras files live: a directory of the pytest cache keyed by the Keras versions and the
    generator's source (kept across runs: a second run generates nothing), else a session tmp dir."""
    cache = getattr(request.config, "cache", None)
    if cache is not None and not os.environ.get("PYDL_KERAS_FIXTURES_FRESH"):
        d = cache.mkdir(f"keras_models-{km.cache_key()}")
        for old in d.parent.glob("keras_models-*"):            # sets of older generators / Keras versions
            if old != d:
                shutil.rmtree(old, ignore_errors=True)
        return str(d)
    return str(tmp_path_factory.mktemp("keras_models"))


_CACHE: dict = {}


def fixture_model(name, kdir, formats=("keras", "h5", "json")):
    """Each Keras model is generated once (per cache key, or per session without a cache)."""
    if name.startswith("k2_"):
        formats = ("h5",)                                      # Keras 2 models: full-model .h5 only
    if name not in _CACHE:
        rec = km.load_record(kdir, name)
        if rec is None or not set(formats) <= set(rec["paths"]):
            if name.startswith("k2_"):
                pytest.importorskip("tf_keras")
                rec = km.generate_keras2(name, kdir)
            else:
                rec = km.generate(name, kdir, formats)
            km.save_record(rec, kdir, name)
        _CACHE[name] = rec
    return _CACHE[name]


def _load(g, fmt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ki.load(g["paths"][fmt], weights=g["paths"].get("weights") if fmt == "json" else None)


def _predict(model, xs):
    out = model.predict(xs if len(xs) > 1 else xs[0])
    return out if isinstance(out, list) else [out]


def _compare(model, g):
    outs = _predict(model, g["inputs"])
    assert len(outs) == len(g["outputs"])
    for ours, theirs in zip(outs, g["outputs"]):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, **TOL)


SMALL = ["mlp", "cnn", "two_io", "nested", "transformer", "preprocessing", "compiled",
         "lstm_text",
         "gru_bidir",
         "rnn_state"]


@pytest.mark.parametrize("fmt", ["keras", "h5", "json"])
@pytest.mark.parametrize("name", SMALL)
def test_matches_keras(name, fmt, kdir):
    g = fixture_model(name, kdir)
    _compare(_load(g, fmt), g)


@pytest.mark.parametrize("name", ["cnn", "transformer",
                                  "lstm_text"])
def test_intermediate_activations(name, kdir):
    g = fixture_model(name, kdir)
    acts = _load(g, "keras").activations(g["inputs"] if len(g["inputs"]) > 1 else g["inputs"][0])
    assert g["activations"]
    for lname, theirs in g["activations"].items():
        np.testing.assert_allclose(acts[lname], theirs, **TOL, err_msg=f"layer {lname}")


def test_unmasked_rnn_matches(kdir):
    """Without padding tokens the LSTM text model matches Keras already (the masked case waits for the merge)."""
    g = fixture_model("lstm_text", kdir)
    (x,), (y,) = g["extra"]["unmasked"]
    np.testing.assert_allclose(_load(g, "keras").predict(x), y, **TOL)


def test_structure_shared_and_nested(kdir):
    m = _load(fixture_model("two_io", kdir), "keras")
    assert isinstance(m, pydl.Model) and len(m._java.inputShapes()) == 2
    assert [l.name for l in m.layers].count("shared") == 1            # one layer object, applied twice
    n = _load(fixture_model("nested", kdir), "h5")
    assert {l.class_name for l in n.layers} >= {"Model", "Sequential"}


APPS = {"MobileNetV2": None, "ResNet50": None, "VGG16": None, "DenseNet121": None, "EfficientNetB0": None}


@pytest.mark.parametrize("name", [pytest.param(a, marks=pytest.mark.xfail(strict=True, reason=r)) if r else a
                                  for a, r in APPS.items()])
def test_applications(name, kdir):
    g = fixture_model(name, kdir, formats=("keras",))
    m = _load(g, "keras")
    acts = m.activations(g["inputs"][0])         # one forward pass: the output and the pre-classifier features
    (lname, theirs), = g["activations"].items()
    np.testing.assert_allclose(acts[lname], theirs, **TOL, err_msg=f"layer {lname}")
    np.testing.assert_allclose(acts[m.layers[-1].name], g["outputs"][0], **TOL)


# ---- generality: one small model per family of layers / options (weights perturbed) -------------------------------
GENERAL = {"cf_cnn": ("keras", "h5"), "cf_gap": ("keras",), "time_distributed": ("keras",),
           "bidir_backward": ("keras", "h5"), "text_cnn": ("keras", "json"), "branches": ("keras", "h5"),
           "conv_zoo": ("keras",), "attention_zoo": ("keras",), "k3_ops": ("keras", "json", "h5"),
           "masking_ops": ("keras", "h5"), "transformer_zoo": ("keras", "h5"), "app_layers": ("keras", "h5"),
           "seq_nested": ("keras", "h5"), "rnn_cells": ("keras", "h5"), "augmented": ("keras",),
           "ops_zoo": ("keras", "h5"), "shape_ops": ("keras", "h5")}
GENERAL_XFAIL = {}


@pytest.mark.parametrize("name,fmt", [pytest.param(n, f, marks=pytest.mark.xfail(strict=True, reason=GENERAL_XFAIL[n]))
                                      if n in GENERAL_XFAIL else (n, f) for n, fs in GENERAL.items() for f in fs])
def test_generality(name, fmt, kdir):
    g = fixture_model(name, kdir, formats=GENERAL[name])
    m = _load(g, fmt)
    _compare(m, g)
    if fmt == "keras" and g["activations"]:        # every layer, not only the outputs
        acts = m.activations(g["inputs"] if len(g["inputs"]) > 1 else g["inputs"][0])
        for lname, theirs in g["activations"].items():
            np.testing.assert_allclose(acts[lname], theirs, **TOL, err_msg=f"layer {lname}")


# ---- Keras 2 (tf_keras) files ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["k2_cnn", "k2_functional", "k2_gru_v1", "k2_groups", "k2_transformer", "k2_lstm",
                                  "k2_seq2seq", "k2_tf_ops", "k2_app_layers", "k2_activations"])
def test_keras2_h5(name, kdir):
    g = fixture_model(name, kdir)
    _compare(_load(g, "h5"), g)


def test_augmentation_is_identity_with_a_warning(kdir):
    g = fixture_model("augmented", kdir, formats=GENERAL["augmented"])
    with pytest.warns(UserWarning, match="'random_flip' \\(RandomFlip\\): random data augmentation.*identity"):
        ki.load(g["paths"]["keras"])


def test_keras2_names_with_slash_renamed(kdir):
    """Keras 2 allowed '/' in layer names (tf.keras MobileNetV3); pydl's '/' separates layer and weight names, so each
    becomes '.', with a warning, and the weights still come from the right groups."""
    g = fixture_model("k2_slash_names", kdir)
    with pytest.warns(UserWarning, match="renamed.*'Conv/BatchNorm' -> 'Conv.BatchNorm'|renamed.*'Conv/"):
        m = ki.load(g["paths"]["h5"])
    _compare(m, g)
    assert {"Conv.conv", "Conv.BatchNorm", "Logits.dense"} <= {l.name for l in m.layers}


def test_keras_2_2_style_config(kdir, tmp_path):
    """Files of Keras <= 2.2.4: a Sequential's config is its layer list (no InputLayer, batch_input_shape on the first
    layer) and a GRU config may lack reset_after (then the v1 GRU, reset_after=False)."""
    g = fixture_model("k2_gru_v1", kdir)
    path = tmp_path / "old.h5"
    shutil.copy(g["paths"]["h5"], path)
    with h5py.File(path, "r+") as f:
        c = json.loads(f.attrs["model_config"])
        layers = [lc for lc in c["config"]["layers"] if lc["class_name"] != "InputLayer"]
        for lc in layers:
            lc["config"].pop("reset_after", None)
        layers[0]["config"]["batch_input_shape"] = [None, 6, 4]
        c["config"] = layers
        f.attrs["model_config"] = json.dumps(c)
        f.attrs["keras_version"] = "2.2.4"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _compare(ki.load(path), g)


def test_keras2_hard_sigmoid_is_keras2s(kdir):
    """Keras 2's hard_sigmoid is clip(0.2 x + 0.5, 0, 1), not Keras 3's relu6(x + 3) / 6: imported as such."""
    g = fixture_model("k2_hard_sigmoid", kdir)
    _compare(_load(g, "h5"), g)


# ---- unsupported layers, registration ------------------------------------------------------------------------------
@pytest.mark.parametrize("name,expected", [
    ("lambda_unit", ["'double' (Lambda)", "'unit' (UnitNormalization)", "never runs", "register"]),
    ("k3_bad_ops", ["Keras operation Mean", "Keras operation Power"])])
def test_every_unsupported_item_listed(name, expected, kdir):
    """Lambda layers are refused, classes and Keras operations pydl lacks are listed: all in one error."""
    g = fixture_model(name, kdir, formats=("keras",))
    with pytest.raises(ki.KerasImportError) as e:
        ki.load(g["paths"]["keras"])
    msg = str(e.value)
    assert "2 problem(s)" in msg and all(x in msg for x in expected), msg


def test_register_replacement(kdir):
    from pydl import layers

    g = fixture_model("lambda_relu", kdir, formats=("keras",))
    ki.register("myrelu", lambda cfg: layers.Activation("relu", name=cfg["name"]))
    try:
        ours = ki.load(g["paths"]["keras"])
    finally:
        ki.unregister("myrelu")
    assert (g["inputs"][0] < 0).any()
    np.testing.assert_allclose(ours.predict(g["inputs"][0]), g["outputs"][0], **TOL)


# ---- bad files -------------------------------------------------------------------------------------------------------
def _files_in(d):
    return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)


def test_truncated_files(kdir, tmp_path):
    g = fixture_model("mlp", kdir)
    for fmt in ("keras", "h5"):
        data = open(g["paths"][fmt], "rb").read()
        p = tmp_path / f"trunc.{fmt}"
        p.write_bytes(data[: len(data) // 2])
        with pytest.raises(ki.KerasImportError):
            ki.load(str(p))
    p = tmp_path / "garbage.keras"
    p.write_bytes(b"not a model at all")
    with pytest.raises(ki.KerasImportError, match="neither"):
        ki.load(str(p))


def _rewrite_zip(src, dst, transform):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for n in zin.namelist():
            out = transform(n, zin.read(n))
            if out is not None:
                zout.writestr(out[0], out[1])


def test_zip_with_parent_entry_refused_nothing_written(kdir, tmp_path):
    g = fixture_model("mlp", kdir)
    work = tmp_path / "work"
    work.mkdir()
    dst = str(work / "evil.keras")
    _rewrite_zip(g["paths"]["keras"], dst, lambda n, b: (n, b))
    with zipfile.ZipFile(dst, "a") as z:
        z.writestr("../escaped.txt", b"x")
    before = _files_in(str(tmp_path))
    with pytest.raises(ki.KerasImportError, match=r"unsafe entry names.*\.\./escaped"):
        ki.load(dst)
    assert _files_in(str(tmp_path)) == before and not (tmp_path / "escaped.txt").exists()


def test_missing_weights(kdir, tmp_path):
    g = fixture_model("cnn", kdir)
    dst = str(tmp_path / "noweights.keras")
    _rewrite_zip(g["paths"]["keras"], dst, lambda n, b: None if n == "model.weights.h5" else (n, b))
    with pytest.raises(ki.KerasImportError, match="model.weights.h5"):
        ki.load(dst)
    h5 = str(tmp_path / "missing_layer.h5")
    shutil.copy(g["paths"]["h5"], h5)
    with h5py.File(h5, "a") as f:
        del f["model_weights"]["conv_b"]
    with pytest.raises(ki.KerasImportError, match="no weights for layer 'conv_b'"):
        ki.load(h5)


def test_wrong_weight_shape(kdir, tmp_path):
    g = fixture_model("cnn", kdir)
    h5 = str(tmp_path / "wrong.h5")
    shutil.copy(g["paths"]["h5"], h5)
    with h5py.File(h5, "a") as f:
        grp = f["model_weights"]["head"]
        name = [n.decode() if isinstance(n, bytes) else n for n in grp.attrs["weight_names"]][0]
        del grp[name]
        grp.create_dataset(name, data=np.zeros((7, 10), np.float32))
    with pytest.raises(ki.KerasImportError, match=r"layer 'head' \(Dense\).*\(432, 10\).*\(7, 10\)"):
        ki.load(h5)


def test_absurd_sizes_refused(kdir, tmp_path):
    g = fixture_model("mlp", kdir)
    dst = str(tmp_path / "huge.keras")

    def huge(n, b):
        if n != "config.json":
            return n, b
        c = json.loads(b)
        c["config"]["layers"][1]["config"]["units"] = 10 ** 12
        return n, json.dumps(c).encode()

    _rewrite_zip(g["paths"]["keras"], dst, huge)
    with pytest.raises(ki.KerasImportError, match=r"units=1000000000000 is an absurd size"):
        ki.load(dst)


def test_weights_only_needs_architecture(kdir):
    g = fixture_model("mlp", kdir)
    with pytest.raises(ki.KerasImportError, match="weights only"):
        ki.load(g["paths"]["weights"])
    with pytest.raises(ki.KerasImportError, match="architecture file"):
        ki.load(g["paths"]["json"])


# ---- fine-tuning, file round trip, CLI, Java ----------------------------------------------------------------------
def test_finetune_compiled_model_and_round_trip(kdir, tmp_path):
    g = fixture_model("compiled", kdir)
    m = _load(g, "keras")
    assert m.optimizer is not None and type(m.optimizer).__name__ == "Adam"
    assert abs(m.optimizer.get_config()["learning_rate"] - 0.01) < 1e-9
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    before = m.evaluate(x, y)[0]
    m.fit(x, y, epochs=5, batch_size=16, verbose=0)
    after = m.evaluate(x, y)[0]
    assert after < before
    p = str(tmp_path / "tuned.pydl")
    m.save(p)
    again = pydl.load(p)
    np.testing.assert_allclose(again.predict(x), m.predict(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_learning_rate_schedules(kdir, fmt):
    """Keras schedules with a pydl equivalent are imported as such; others warn and use the initial rate."""
    from pydl import optimizers as O

    m = ki.load(fixture_model("sched_exponential", kdir, formats=("keras", "h5"))["paths"][fmt])
    assert type(m.optimizer).__name__ == "SGD" and abs(m.optimizer.momentum - 0.9) < 1e-9
    lr = m.optimizer.learning_rate
    assert isinstance(lr, O.schedules.StepDecay)
    assert (lr.initial_learning_rate, lr.step_size, lr.gamma) == (0.01, 10, 0.5)
    assert abs(lr(25) - 0.01 * 0.25) < 1e-12
    lr = ki.load(fixture_model("sched_cosine", kdir, formats=("keras", "h5"))["paths"][fmt]).optimizer.learning_rate
    assert isinstance(lr, O.schedules.CosineDecay)
    assert (lr.initial_learning_rate, lr.decay_steps, lr.alpha) == (0.02, 100, pytest.approx(0.1))
    with pytest.warns(UserWarning, match=r"PiecewiseConstantDecay.*no pydl equivalent.*constant rate 0.01"):
        m = ki.load(fixture_model("sched_piecewise", kdir, formats=("keras", "h5"))["paths"][fmt])
    assert m.optimizer.learning_rate == 0.01
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    m.fit(x, (x[:, 0] > 0).astype(np.int64), epochs=1, batch_size=8, verbose=0)     # the model trains


def test_never_trained_optimizer_loads_quietly(kdir):
    """A compiled, never fitted model's file holds only the optimizer's iteration count and rate: nothing to restore,
    and nothing to warn about."""
    g = fixture_model("compiled", kdir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = ki.load(g["paths"]["keras"])
    assert type(m.optimizer).__name__ == "Adam"
    assert not [w for w in caught if "optimizer state" in str(w.message)]


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("kind", ["adam", "sgd", "rmsprop"])
def test_optimizer_state_continues_training(kdir, kind, fmt):
    """The optimizer's slots (Adam's moments, SGD's momentum, RMSprop's velocity and momentum) and iteration count
    come from the file (.keras: unnamed optimizer/vars; legacy .h5: named optimizer_weights): one more step in pydl
    lands where Keras's did. With fresh slots it would not (checked: the same step from zeroed slots is far off)."""
    g = fixture_model(f"trained_{kind}", kdir, formats=("keras", "h5"))
    (x, y), (after,) = g["extra"]["next_step"]
    m = _load(g, fmt)
    assert int(m._java.optimizer().iterations()) == 3
    m.fit(x, y.astype(np.int64), epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    np.testing.assert_allclose(m.predict(g["inputs"][0]), after, rtol=1e-4, atol=1e-5)
    fresh = ki.load(g["paths"][fmt], compile=False)
    fresh.compile(m.optimizer.__class__(**{k: v for k, v in vars(m.optimizer).items() if k in
                                           inspect.signature(m.optimizer.__class__).parameters}),
                  loss="sparse_categorical_crossentropy")
    fresh.fit(x, y.astype(np.int64), epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    assert np.abs(fresh.predict(g["inputs"][0]) - after).max() > 1e-3


def test_keras2_optimizer_state_continues_training(kdir):
    """A tf.keras (Keras 2) .h5 names its optimizer weights 'Adam/m/dense/kernel:0': the moments are restored."""
    g = fixture_model("k2_trained_adam", kdir)
    (x, y), (after,) = g["extra"]["next_step"]
    m = ki.load(g["paths"]["h5"])
    assert type(m.optimizer).__name__ == "Adam" and int(m._java.optimizer().iterations()) == 3
    m.fit(x, y.astype(np.int64), epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    np.testing.assert_allclose(m.predict(g["inputs"][0]), after, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["varlen_text", "seq2seq"])
def test_variable_length_inputs(kdir, name, tmp_path):
    """Keras Input((None,)): the model imports without input_shapes and predicts any length (rebuilt per length,
    weights shared), matching Keras at each; fit runs on another length; the size last built is what is saved."""
    g = fixture_model(name, kdir, formats=("keras", "h5"))
    for fmt in ("keras", "h5"):
        m = _load(g, fmt)
        for xs, want in [(g["inputs"], g["outputs"])] + [g["extra"][k] for k in ("length_3", "length_11")] + \
                [(g["inputs"], g["outputs"])]:
            got = _predict(m, xs)
            for a, b in zip(got, want):
                np.testing.assert_allclose(a, b, **TOL)
    xs, _ = g["extra"]["length_3"]
    m.compile("adam", "sparse_categorical_crossentropy" if name == "varlen_text" else "mse")
    y = np.zeros(len(xs[0]), np.int64) if name == "varlen_text" else np.zeros((len(xs[0]), xs[1].shape[1], 20))
    before = m.evaluate(xs if len(xs) > 1 else xs[0], y)
    m.fit(xs if len(xs) > 1 else xs[0], y, epochs=3, verbose=0)
    assert m.evaluate(xs if len(xs) > 1 else xs[0], y) < before
    m.save(str(tmp_path / "m.pydl"))
    assert [tuple(s) for s in pydl.load(str(tmp_path / "m.pydl"))._java.inputShapes()] == \
        [tuple(a.shape[1:]) for a in xs]
    with pytest.raises(ValueError, match="expects"):   # a fixed (non-None) dimension still has to match
        m.predict(np.zeros((2, 3, 1)) if name == "varlen_text" else [xs[0], xs[1][:, :, None]])


def test_variable_length_needing_a_larger_placeholder(tmp_path):
    """A Conv1D kernel longer than the first placeholder size (64): the import builds at the next size that fits,
    predicts other lengths exactly, and a length too short for the kernel is Keras's error, not a crash."""
    keras = km._k()
    L = keras.layers
    keras.utils.set_random_seed(0)
    x = keras.Input((None,), dtype="int32")
    k = keras.Model(x, L.Dense(2)(L.GlobalMaxPooling1D()(L.Conv1D(4, 100)(L.Embedding(50, 8)(x)))))
    path = str(tmp_path / "long_kernel.keras")
    k.save(path)
    m = ki.load(path)
    t = np.random.default_rng(0).integers(0, 50, (2, 130))
    np.testing.assert_allclose(m.predict(t), np.asarray(k(t)), **TOL)
    with pytest.raises(ValueError, match="kernel \\[100\\].*larger than the input"):
        m.predict(t[:, :50])
    np.testing.assert_allclose(m.predict(t), np.asarray(k(t)), **TOL)     # still usable


def test_cli_import_keras(kdir, tmp_path):
    """The command line in a fresh process (no Keras needed to convert), and a missing file."""
    g = fixture_model("cnn", kdir)
    out = str(tmp_path / "cnn.pydl")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-m", "pydl", "import-keras", g["paths"]["keras"], "-o", out],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert os.path.exists(out) and "wrote" in r.stdout
    np.testing.assert_allclose(pydl.load(out).predict(g["inputs"][0]), g["outputs"][0], **TOL)
    bad = subprocess.run([sys.executable, "-m", "pydl", "import-keras", str(tmp_path / "none.h5"), "-o", out],
                         capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 1 and "no such Keras file" in bad.stderr
    var = fixture_model("varlen_text", kdir, formats=("keras", "h5"))["paths"]["keras"]    # Input((None,))
    r = subprocess.run([sys.executable, "-m", "pydl", "import-keras", var, "-o", out, "--input-shape", "tokens=9"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert [tuple(s) for s in pydl.load(out)._java.inputShapes()] == [(9,)]


def test_cli_check_runs_keras(kdir, tmp_path, capsys):
    """``--check`` loads the file with Keras and compares on a random batch (in this process: Keras is imported
    once for the session, not once more in a subprocess)."""
    from pydl.__main__ import main

    g = fixture_model("cnn", kdir)
    out = str(tmp_path / "cnn.pydl")
    assert main(["import-keras", g["paths"]["keras"], "-o", out, "--check"]) == 0
    stdout = capsys.readouterr().out
    assert "max |pydl - keras|" in stdout
    diff = float(stdout.split("random batch of 4:")[1].split()[0])
    assert diff < 1e-4


JAVA_MAIN = """
import java.nio.file.Path;
import java.util.List;
import org.pydl.io.ModelFile;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.nn.Network;

public class PredictImported {
    public static void main(String[] a) throws Exception {
        Network net = ModelFile.loadNetwork(Path.of(a[0]));
        String[] parts = java.nio.file.Files.readString(Path.of(a[1])).trim().split("\\\\s+");
        long[] shape = net.inputShapes().get(0);
        long n = Long.parseLong(parts[0]);
        float[] v = new float[parts.length - 1];
        for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(parts[i + 1]);
        long[] full = new long[shape.length + 1];
        full[0] = n;
        System.arraycopy(shape, 0, full, 1, shape.length);
        NDArray out = net.outputAll(List.of(NDArray.of(v, full))).get(0);
        StringBuilder sb = new StringBuilder();
        for (float f : out.toFloatArray()) sb.append(f).append('\\n');
        System.out.print(sb);
    }
}
"""


def test_java_loads_converted_model(kdir, tmp_path):
    java = shutil.which("java")
    if java is None:
        pytest.skip("java not on PATH")
    from pydl import _jvm

    g = fixture_model("cnn", kdir)
    out = str(tmp_path / "cnn.pydl")
    _load(g, "keras").save(out)
    x = g["inputs"][0]
    (tmp_path / "x.txt").write_text(f"{len(x)} " + " ".join(repr(float(v)) for v in x.ravel()))
    src = tmp_path / "PredictImported.java"
    src.write_text(JAVA_MAIN)
    r = subprocess.run([java, "-cp", _jvm.jar_path(), str(src), out, str(tmp_path / "x.txt")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = np.array([float(v) for v in r.stdout.split()], np.float32).reshape(g["outputs"][0].shape)
    np.testing.assert_allclose(got, g["outputs"][0], **TOL)


def test_zero_filled_build_is_scoped(kdir):
    """The import builds with zero-filled weights (replaced by the file's); the switch is restored afterwards, also
    when the import fails, so models built later get their random initial values."""
    from pydl import _jvm, layers

    init = _jvm.jclass("org.pydl.nn.Initializer")
    ki.load(fixture_model("mlp", kdir)["paths"]["keras"])
    with pytest.raises(ki.KerasImportError):
        ki.load(fixture_model("lambda_unit", kdir, formats=("keras",))["paths"]["keras"])
    assert not init.zeroFill(False)
    m = pydl.Sequential([layers.Input(4), layers.Dense(3)], seed=0)
    assert np.abs(m.get_weights()[0]).min() > 0


def test_read_from_memory_only(kdir, tmp_path, monkeypatch):
    """A .keras file is read in memory: loading writes nothing to the working directory."""
    g = fixture_model("mlp", kdir)
    monkeypatch.chdir(tmp_path)
    ki.load(g["paths"]["keras"])
    assert os.listdir(tmp_path) == []


def test_preprocessing_layers_round_trip(kdir, tmp_path):
    """Rescaling / Normalization (adapted statistics as weights, fixed ones in the config) survive a pydl file."""
    g = fixture_model("preprocessing", kdir)
    m = _load(g, "keras")
    p = str(tmp_path / "pre.pydl")
    m.save(p)
    again = pydl.load(p)
    assert [l.class_name for l in again.layers][:3] == ["Rescaling", "Normalization", "Normalization"]
    np.testing.assert_allclose(again.predict(g["inputs"][0]), g["outputs"][0], **TOL)
    with pytest.raises(ValueError, match="both must be set"):
        pydl.layers.Normalization(mean=[1.0])
