"""The model file: one zip (pydl.json + .npy tensors) shared by Python and Java, saved atomically, loaded safely."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import pydl
from conftest import make_blobs, native_allocated_bytes
from pydl import _jvm, layers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def trained_model(seed=0, epochs=2, dropout=True):
    x, y = make_blobs(n=96, features=4, classes=3, seed=1)
    ls = [layers.Input(4), layers.Dense(16, activation="relu", name="hidden")]
    if dropout:
        ls.append(layers.Dropout(0.25, name="drop"))
    ls.append(layers.Dense(3, activation="softmax", name="probs"))
    m = pydl.Sequential(ls, name="clf", seed=seed)
    m.compile(pydl.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=epochs, batch_size=16, shuffle=False, verbose=0)
    return m, x, y


def weights_equal(a, b):
    return len(a) == len(b) and all(p.shape == q.shape and p.dtype == q.dtype and np.array_equal(p, q)
                                    for p, q in zip(a, b))


def rewrite_zip(src, dst, edit_json=None, drop=(), rename=None, extra=None, replace=None):
    """Copies zip src to dst, optionally editing pydl.json (a function of the parsed dict), dropping entries,
    renaming entries ({old: new}), replacing entry bytes ({name: bytes}) and adding entries ({name: bytes})."""
    rename = rename or {}
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = replace.get(info.filename, zin.read(info.filename))
            if info.filename == "pydl.json" and edit_json is not None:
                data = json.dumps(edit_json(json.loads(data))).encode()
            zout.writestr(rename.get(info.filename, info.filename), data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


def npy_bytes(a):
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


# --- round trips in Python -----------------------------------------------------------------------------------------
def test_save_load_identical_predictions(tmp_path):
    m, x, _ = trained_model()
    p = tmp_path / "model.pdl"
    m.save(p)
    m2 = pydl.load(p)
    assert m2.name == "clf" and [l.name for l in m2.layers] == ["hidden", "drop", "probs"]
    assert np.array_equal(m.predict(x), m2.predict(x))  # bitwise
    assert weights_equal(m.get_weights(), m2.get_weights())
    assert m2.count_params() == m.count_params()
    # saving the loaded model again gives the same tensors
    m2.save(tmp_path / "again.pdl")
    assert weights_equal(pydl.load(tmp_path / "again.pdl").get_weights(), m.get_weights())


def test_float64_model_round_trip(tmp_path):
    m = pydl.Sequential([layers.Input(3), layers.Dense(2, activation="tanh")], seed=5, dtype="float64")
    x = np.random.RandomState(0).rand(4, 3)
    m.save(tmp_path / "f64.pdl")
    m2 = pydl.load(tmp_path / "f64.pdl")
    assert m2.dtype == np.float64
    assert np.array_equal(m.predict(x), m2.predict(x))


def test_file_is_zip_with_json_and_npy_matching_get_weights(tmp_path):
    m, _, _ = trained_model()
    p = tmp_path / "model.pdl"
    m.save(p)
    assert zipfile.is_zipfile(p)
    with zipfile.ZipFile(p) as z:
        names = z.namelist()
        assert "pydl.json" in names
        meta = json.loads(z.read("pydl.json"))
        assert meta["format"] == "pydl-model" and meta["format_version"] == 1
        assert meta["model"]["class"] == "Sequential"
        assert [l["class"] for l in meta["model"]["layers"]] == ["Dense", "Dropout", "Dense"]
        assert meta["training"]["loss"] and meta["training"]["optimizer"]
        weight_entries = [t for t in meta["tensors"] if "slot" not in t]
        assert all(t["path"].endswith(".npy") and t["path"] in names for t in meta["tensors"])
        arrays = [np.load(io.BytesIO(z.read(t["path"])), allow_pickle=False) for t in weight_entries]
        # Adam's slots are stored too
        assert any("slot" in t for t in meta["tensors"])
        for t in meta["tensors"]:
            a = np.load(io.BytesIO(z.read(t["path"])), allow_pickle=False)
            assert list(a.shape) == t["shape"] and a.dtype == np.dtype(t["dtype"])
    assert weights_equal(arrays, m.get_weights())


def test_optimizer_state_round_trip_continued_training_is_identical(tmp_path):
    """Continued training after save/load equals continued training without it, bitwise (Adam moments, step
    counters and the dropout step all round-trip)."""
    a, x, y = trained_model(seed=3)
    a.save(tmp_path / "ckpt.pdl")
    b = pydl.load(tmp_path / "ckpt.pdl")
    ha = a.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    hb = b.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert weights_equal(a.get_weights(), b.get_weights())
    assert ha.history == hb.history
    # without the optimizer state the result differs (the check above is not vacuous)
    c = pydl.Sequential([layers.Input(4), layers.Dense(16, activation="relu", name="hidden"),
                         layers.Dropout(0.25, name="drop"), layers.Dense(3, activation="softmax", name="probs")],
                        name="clf", seed=3)
    c.compile(pydl.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    c.set_weights(pydl.load(tmp_path / "ckpt.pdl").get_weights())
    c.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert not weights_equal(a.get_weights(), c.get_weights())


# --- Java interop ----------------------------------------------------------------------------------------------------
JAVA_PROGRAM = r"""
import java.nio.file.*;
import java.util.*;
import org.pydl.io.ModelFile;
import org.pydl.nd.NDArray;
import org.pydl.nn.*;

public class Interop {
    static float[][] readInput(Path p) throws Exception {
        List<String> lines = Files.readAllLines(p);
        float[][] rows = new float[lines.size()][];
        for (int i = 0; i < rows.length; i++) {
            String[] parts = lines.get(i).trim().split("\\s+");
            rows[i] = new float[parts.length];
            for (int j = 0; j < parts.length; j++) rows[i][j] = Float.parseFloat(parts[j]);
        }
        return rows;
    }

    static void print(NDArray out) {
        long[] s = out.shape();
        float[] v = out.toFloatArray();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            sb.append(Float.toString(v[i])).append((i + 1) % s[1] == 0 ? "\n" : " ");
        }
        System.out.print(sb);
    }

    public static void main(String[] args) throws Exception {
        float[][] x = readInput(Paths.get(args[2]));
        if (args[0].equals("load")) {
            Sequential m = ModelFile.load(Paths.get(args[1]));
            print(m.output(NDArray.of(x)));
        } else {
            Sequential m = Sequential.builder().name("from_java").input(4).dense(8, Activation.TANH)
                    .dense(3, Activation.SOFTMAX).seed(123).build();
            m.compile(new Optimizer.Adam(1e-3), Loss.of("sparse_categorical_crossentropy"), List.of("accuracy"));
            ModelFile.save(m, Paths.get(args[1]));
            print(m.output(NDArray.of(x)));
        }
    }
}
"""


@pytest.fixture(scope="module")
def java_interop(tmp_path_factory):
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.fail("javac/java not found: a JDK is required for the interop tests")
    d = tmp_path_factory.mktemp("java")
    (d / "Interop.java").write_text(JAVA_PROGRAM)
    jar = _jvm.jar_path()
    r = subprocess.run(["javac", "-cp", jar, "-d", str(d), str(d / "Interop.java")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

    def run(mode, model_path, x):
        inp = d / f"input_{mode}.txt"
        inp.write_text("\n".join(" ".join(repr(float(v)) for v in row) for row in x) + "\n")
        # only our jar (and the compiled program) on the classpath
        r = subprocess.run(["java", "-cp", f"{jar}:{d}", "Interop", mode, str(model_path), str(inp)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
        return np.array([[float(v) for v in ln.split()] for ln in r.stdout.strip().splitlines()], dtype=np.float64)

    return run


def test_java_loads_python_saved_model(tmp_path, java_interop):
    m, x, _ = trained_model()
    p = tmp_path / "py.pdl"
    m.save(p)
    x = x[:10]
    out_java = java_interop("load", p, x)
    out_py = m.predict(x)
    assert out_java.shape == out_py.shape == (10, 3)
    np.testing.assert_allclose(out_java, out_py, rtol=0, atol=1e-6)


def test_python_loads_java_saved_model(tmp_path, java_interop):
    p = tmp_path / "java.pdl"
    x = np.random.RandomState(7).normal(size=(6, 4)).astype(np.float32)
    out_java = java_interop("build", p, x)
    m = pydl.load(p)
    assert m.name == "from_java" and m.seed == 123
    assert [type(l).__name__ for l in m.layers] == ["Dense", "Dense"]
    assert m.layers[0].activation == "tanh" and m.layers[1].units == 3
    np.testing.assert_allclose(m.predict(x), out_java, rtol=0, atol=1e-6)
    # it was compiled in Java: Python can continue training it
    h = m.fit(x, np.array([0, 1, 2, 0, 1, 2]), epochs=1, verbose=0)
    assert set(h.history) == {"loss", "accuracy"}


# --- atomic save -----------------------------------------------------------------------------------------------------
def _leftovers(d, keep):
    return sorted(f for f in os.listdir(d) if f not in keep)


_FSIZE_SAVE = r"""
import os, resource, signal, sys
sys.path.insert(0, {root!r})
import numpy as np, pydl
from pydl import layers
m = pydl.Sequential([layers.Input(64), layers.Dense(512), layers.Dense(10)], seed=1)
m.predict(np.zeros((1, 64), np.float32))          # JVM and native library loaded before the limit
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # writes past the limit fail with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (16384, resource.RLIM_INFINITY))
try:
    m.save({target!r})
except OSError as e:
    print("OSError", e, flush=True)
else:
    print("SAVED", flush=True)
"""


def test_failed_save_leaves_old_file_intact_and_no_temp_files(tmp_path):
    """A save that fails half-way (the file-size limit is hit while writing 130 KB of weights) raises OSError,
    keeps the previous file byte-for-byte and leaves no temporary file behind."""
    target = tmp_path / "model.pdl"
    m, _, _ = trained_model()
    m.save(target)
    before = target.read_bytes()
    assert len(before) < 16384
    script = tmp_path / "save_limited.py"
    script.write_text(_FSIZE_SAVE.format(root=ROOT, target=str(target)))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=ROOT, PYDL_JVM_OPTS="-XX:-UsePerfData"))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert "OSError" in r.stdout and "model.pdl" in r.stdout and "unchanged" in r.stdout, r.stdout + r.stderr[-2000:]
    assert target.read_bytes() == before
    assert _leftovers(tmp_path, {"model.pdl", "save_limited.py"}) == []
    assert pydl.load(target).count_params() == m.count_params()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_save_into_read_only_directory_fails_cleanly(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    m, _, _ = trained_model()
    m.save(d / "m.pdl")
    before = (d / "m.pdl").read_bytes()
    d.chmod(0o555)
    try:
        with pytest.raises(OSError):
            trained_model(seed=9)[0].save(d / "m.pdl")
    finally:
        d.chmod(0o755)
    assert (d / "m.pdl").read_bytes() == before
    assert _leftovers(d, {"m.pdl"}) == []


def test_save_over_directory_fails_cleanly(tmp_path):
    """The target is a non-empty directory: OSError, the directory is untouched, no temp file is left."""
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    m, _, _ = trained_model()
    with pytest.raises(OSError):
        m.save(target)
    assert (target / "keep.txt").read_text() == "x"
    assert _leftovers(tmp_path, {"taken"}) == []


def test_overwrite_replaces_file_and_leaves_no_temp(tmp_path):
    p = tmp_path / "m.pdl"
    a, x, _ = trained_model(seed=1)
    b, _, _ = trained_model(seed=2)
    a.save(p)
    b.save(p)
    assert np.array_equal(pydl.load(p).predict(x), b.predict(x))
    assert _leftovers(tmp_path, {"m.pdl"}) == []


# --- corrupt files -----------------------------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    m, x, _ = trained_model()
    p = tmp_path / "good.pdl"
    m.save(p)
    return m, p


def _load_error(path, exc=ValueError):
    with pytest.raises(exc) as ei:
        pydl.load(path)
    return str(ei.value)


def test_truncated_zip(saved, tmp_path):
    _, good = saved
    data = good.read_bytes()
    for n in (10, len(data) // 3, len(data) - 30):
        p = tmp_path / f"trunc{n}.pdl"
        p.write_bytes(data[:n])
        msg = _load_error(p)
        assert p.name in msg and ("corrupt" in msg or "not a pydl model file" in msg), msg


def test_random_bytes(tmp_path):
    p = tmp_path / "random.pdl"
    p.write_bytes(np.random.RandomState(0).bytes(10000))
    assert "not a pydl model file" in _load_error(p)


def test_zip_without_pydl_json(saved, tmp_path):
    _, good = saved
    p = tmp_path / "nojson.pdl"
    rewrite_zip(good, p, drop=("pydl.json",))
    assert "pydl.json" in _load_error(p)


def test_future_format_version_says_upgrade(saved, tmp_path):
    _, good = saved
    p = tmp_path / "v99.pdl"
    rewrite_zip(good, p, edit_json=lambda j: {**j, "format_version": 99})
    msg = _load_error(p)
    assert "99" in msg and "upgrade" in msg, msg


def test_weights_entry_with_wrong_shape(saved, tmp_path):
    _, good = saved
    with zipfile.ZipFile(good) as z:
        entry = json.loads(z.read("pydl.json"))["tensors"][0]["path"]
    p = tmp_path / "shape.pdl"
    rewrite_zip(good, p, replace={entry: npy_bytes(np.zeros((5, 7), np.float32))})
    msg = _load_error(p)
    assert entry in msg and "[5, 7]" in msg and "[4, 16]" in msg, msg


def test_weights_entry_with_wrong_dtype(saved, tmp_path):
    _, good = saved
    with zipfile.ZipFile(good) as z:
        entry = json.loads(z.read("pydl.json"))["tensors"][0]["path"]
    p = tmp_path / "dtype.pdl"
    rewrite_zip(good, p, replace={entry: npy_bytes(np.zeros((4, 16), np.float64))})
    msg = _load_error(p)
    assert entry in msg and "<f8" in msg and "<f4" in msg, msg


def test_missing_weights(saved, tmp_path):
    _, good = saved
    with zipfile.ZipFile(good) as z:
        entry = json.loads(z.read("pydl.json"))["tensors"][0]["path"]
    p = tmp_path / "noentry.pdl"
    rewrite_zip(good, p, drop=(entry,))
    assert entry in _load_error(p)
    # the entry is there but the index does not name it: the parameter has no weights
    p2 = tmp_path / "noindex.pdl"
    rewrite_zip(good, p2, edit_json=lambda j: {**j, "tensors": [t for t in j["tensors"] if t["path"] != entry]})
    msg = _load_error(p2)
    assert "missing the weights" in msg and "hidden" in msg, msg


def test_absurd_units_fails_without_huge_allocation(saved, tmp_path):
    _, good = saved

    def edit(j):
        j["model"]["layers"][0]["config"]["units"] = 10**12
        return j

    p = tmp_path / "huge.pdl"
    rewrite_zip(good, p, edit_json=edit)
    before = native_allocated_bytes()
    t = time.time()
    msg = _load_error(p)
    assert time.time() - t < 10
    assert "too large" in msg and str(10**12) in msg, msg
    assert native_allocated_bytes() - before < 1 << 20


def test_negative_units_and_bad_input_shape(saved, tmp_path):
    _, good = saved

    def neg(j):
        j["model"]["layers"][0]["config"]["units"] = -3
        return j

    p = tmp_path / "neg.pdl"
    rewrite_zip(good, p, edit_json=neg)
    assert "units" in _load_error(p)

    def shape(j):
        j["model"]["input_shape"] = [0]
        return j

    p2 = tmp_path / "shape0.pdl"
    rewrite_zip(good, p2, edit_json=shape)
    assert "positive" in _load_error(p2)


def test_unknown_layer_class(saved, tmp_path):
    _, good = saved

    def edit(j):
        j["model"]["layers"][0]["class"] = "Lambda"
        return j

    p = tmp_path / "lambda.pdl"
    rewrite_zip(good, p, edit_json=edit)
    assert "Lambda" in _load_error(p)


def test_invalid_json(saved, tmp_path):
    _, good = saved
    p = tmp_path / "badjson.pdl"
    rewrite_zip(good, p, replace={"pydl.json": b"{not json"})
    _load_error(p)


def test_path_traversal_entry_is_never_written(saved, tmp_path):
    """A zip entry named ../evil.npy (referenced by the index, or not) is never extracted anywhere."""
    m, good = saved
    inner = tmp_path / "inner"
    inner.mkdir()
    with zipfile.ZipFile(good) as z:
        entry = json.loads(z.read("pydl.json"))["tensors"][0]["path"]

    def edit(j):
        for t in j["tensors"]:
            if t["path"] == entry:
                t["path"] = "../evil.npy"
        return j

    p = inner / "evil.pdl"
    rewrite_zip(good, p, edit_json=edit, rename={entry: "../evil.npy"},
                extra={"../../evil2.npy": npy_bytes(np.zeros(3)), "/tmp/evil3.npy": npy_bytes(np.zeros(3))})
    cwd_before = set(os.listdir(os.getcwd()))
    m2 = pydl.load(p)  # loading reads entries in memory: it is a valid model
    assert weights_equal(m2.get_weights(), m.get_weights())
    for d in (tmp_path, inner, tmp_path.parent):
        assert not (d / "evil.npy").exists() and not (d / "evil2.npy").exists()
    assert not os.path.exists("/tmp/evil3.npy") or os.path.getmtime("/tmp/evil3.npy") < time.time() - 60
    assert set(os.listdir(os.getcwd())) == cwd_before
    assert sorted(os.listdir(inner)) == ["evil.pdl"]


def test_flipped_byte_in_weights_fails_crc(saved, tmp_path):
    """A single flipped bit inside a tensor's data (entry stored uncompressed, so only the CRC can tell) is
    reported as a corrupt file, not loaded as silently wrong weights."""
    _, good = saved
    stored = tmp_path / "stored.pdl"
    rewrite_zip(good, stored)  # zipfile.writestr stores entries uncompressed
    with zipfile.ZipFile(stored) as z:
        entry = json.loads(z.read("pydl.json"))["tensors"][0]["path"]
        info = z.getinfo(entry)
        assert info.compress_type == zipfile.ZIP_STORED
    data = bytearray(stored.read_bytes())
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.file_size - 8] ^= 0x01  # inside the float values, past the .npy header
    p = tmp_path / "flipped.pdl"
    p.write_bytes(bytes(data))
    msg = _load_error(p)
    assert "flipped.pdl" in msg and "CRC" in msg and entry in msg, msg
