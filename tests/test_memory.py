"""Memory does not grow with repeated predict / fit calls.

Bounds and why:
* 10^4 predict calls (batch 32 x 64 -> 256 -> 256, i.e. 32 KB of output and 32 KB of hidden activations per
  call) after a warm-up of 1,000 calls. A leak of only the returned outputs would add 10^4 * 32 KB = 320 MB,
  so the bounds below catch any leak of more than ~3 KB per call:
  - process RSS (/proc/self/statm) grows by < 30 MB. It runs in a subprocess whose JVM heap is fixed and
    pre-touched (-Xms128m -Xmx128m -XX:+AlwaysPreTouch), so the JVM growing its heap (not a leak) does not count;
    what remains is native memory, Python objects and JVM metadata (observed: ~5 MB).
  - pydl's native allocated bytes stay < baseline + 8 MB at every sample *without* forcing a GC: results handed
    to Python are freed when their last NumPy view dies, not whenever the JVM next collects (before that fix
    they floated up to ~260 MB).
* Repeated fit calls: native allocated bytes after a GC settle back to the same level (< +1 MB drift over 12
  fits, each of which allocates ~1 MB of inputs/activations and the optimizer state once).
"""
from __future__ import annotations

import gc
import os
import subprocess
import sys

import numpy as np

import pydl
from conftest import make_blobs, native_allocated_bytes
from pydl import layers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_PREDICT_LOOP = r"""
import os, sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
import numpy as np, pydl
from pydl import layers
from conftest import native_allocated_bytes

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

m = pydl.Sequential([layers.Input(64), layers.Dense(256, activation="relu"),
                     layers.Dense(256, activation="softmax")], seed=0)
x = np.random.RandomState(0).rand(32, 64).astype(np.float32)
ref = np.array(m.predict(x))
for _ in range(1000):
    m.predict(x)
base_native = native_allocated_bytes()
r0 = rss()
max_native = 0
for i in range(10000):
    out = m.predict(x)
    if i % 250 == 0:
        max_native = max(max_native, native_allocated_bytes(settle=False))
assert np.array_equal(out, ref)
print("RESULT", (rss() - r0) / 2**20, (max_native - base_native) / 2**20, flush=True)
"""


def test_predict_10k_calls_rss_and_native_bounded(tmp_path):
    script = tmp_path / "predict_loop.py"
    script.write_text(_PREDICT_LOOP.format(root=ROOT, here=HERE))
    env = dict(os.environ, PYTHONPATH=ROOT, PYDL_JVM_OPTS="-Xms128m -Xmx128m -XX:+AlwaysPreTouch")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT")][-1]
    rss_mb, native_mb = map(float, line.split()[1:])
    assert rss_mb < 30, f"RSS grew by {rss_mb:.1f} MB over 10^4 predict calls (bound 30 MB)"
    assert native_mb < 8, f"native memory floated {native_mb:.1f} MB above baseline during predict (bound 8 MB)"


def test_predict_results_stay_valid_while_others_are_freed():
    """Results are freed when their last view dies, and only then: a kept result (or a slice of it whose
    parent array is gone) keeps its values while thousands of other results come and go."""
    m = pydl.Sequential([layers.Input(8), layers.Dense(16, activation="tanh")], seed=3)
    x = np.random.RandomState(1).rand(4, 8).astype(np.float32)
    kept = m.predict(x)
    expected = np.array(kept)
    row = m.predict(x)[1]  # a view whose parent ndarray is dropped at once
    big = m.predict(np.repeat(x, 50, axis=0), batch_size=16)  # the batched path
    expected_big = np.array(big)
    for i in range(2000):
        m.predict(x * (i % 7))
    gc.collect()
    np.testing.assert_array_equal(kept, expected)
    np.testing.assert_array_equal(row, expected[1])
    np.testing.assert_array_equal(big, expected_big)


def test_identity_model_predict_does_not_alias_input():
    """A model that is the identity at inference (Dropout only) returns a fresh array: closing the result
    must not free the model's reused input staging memory."""
    m = pydl.Sequential([layers.Input(3), layers.Dropout(0.5)], seed=0)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    a = m.predict(x)
    np.testing.assert_array_equal(a, x)
    del a
    gc.collect()
    for _ in range(3):
        np.testing.assert_array_equal(m.predict(x + 1), x + 1)


def test_repeated_fit_native_memory_does_not_grow():
    x, y = make_blobs(n=256, features=16, classes=4, seed=2)
    m = pydl.Sequential([layers.Input(16), layers.Dense(64, activation="relu"), layers.Dense(4, activation="softmax")],
                        seed=0)
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=1, batch_size=32, verbose=0)  # warm-up: optimizer slots are allocated once
    m.evaluate(x, y)
    base = native_allocated_bytes()
    samples = []
    for _ in range(12):
        m.fit(x, y, epochs=1, batch_size=32, verbose=0, validation_split=0.25)
        m.evaluate(x, y)
        samples.append(native_allocated_bytes())
    growth = max(samples[-4:]) - base
    assert growth < 1 << 20, f"native bytes grew by {growth} over 12 fits: {[s - base for s in samples]}"


_CACHE_SCRIPT = r"""
import sys
sys.path.insert(0, {root!r})
import numpy as np, jpype, pydl
from pydl import _jvm
_jvm.start()
NO = jpype.JClass("org.pydl.jni.NativeOps")
NDArray = jpype.JClass("org.pydl.nd.NDArray")
NO.trimCache()
base = NO.allocatedBytes()
mb = 1 << 20
blocks = [NO.malloc(mb) for _ in range(8)]
for b in blocks:
    NO.free(b)
assert NO.allocatedBytes() == base, (NO.allocatedBytes(), base)
cached = NO.cachedBytes()
assert mb <= cached <= 4 * mb, cached                      # bounded by PYDL_ALLOC_CACHE_MB=4
big = NO.malloc(3 * mb); NO.free(big)                     # over half the bound: released at once
assert NO.cachedBytes() == cached, (NO.cachedBytes(), cached)
a = NO.malloc(mb - 4096)                                  # same size class: served from the cache
assert NO.cachedBytes() == cached - mb, (NO.cachedBytes(), cached)
NO.free(a)
errors = 0
for call in (lambda: NO.fill(0, a, 1, 0.0), lambda: NO.free(a)):   # a freed (cached) block is not live memory
    try:
        call()
    except jpype.JException as e:
        errors += "outside any live pydl allocation" in str(e) or "not the start of a live" in str(e)
assert errors == 2, errors
assert NO.trimCache() == cached and NO.cachedBytes() == 0
# a bias row broadcast to many rows (the copy that doubles the written part), odd row counts
for rows, n in [(1, 5), (7, 3), (1000, 20), (4097, 50)]:
    row = NDArray.of(jpype.JArray(jpype.JFloat)(list(range(1, n + 1))), n)
    out = row.view(jpype.JArray(jpype.JLong)([rows, n]), jpype.JArray(jpype.JLong)([0, 1]), 0).contiguous()
    got = np.array(out.toFloatArray()).reshape(rows, n)
    assert np.array_equal(got, np.tile(np.arange(1, n + 1, dtype=np.float32), (rows, 1))), (rows, n)
print("OK", flush=True)
"""


def test_freed_block_cache_is_bounded_reused_and_not_live():
    """Freed blocks are kept for reuse (PYDL_ALLOC_CACHE_MB bounds them), a same-class request takes one, a cached
    block still fails the range checks like any freed address, and trimCache releases them all."""
    env = dict(os.environ, PYTHONPATH=ROOT, PYDL_ALLOC_CACHE_MB="4")
    r = subprocess.run([sys.executable, "-c", _CACHE_SCRIPT.format(root=ROOT)], capture_output=True, text=True,
                       timeout=240, env=env, cwd=ROOT)
    assert r.returncode == 0 and "OK" in r.stdout, r.stdout[-2000:] + r.stderr[-4000:]
