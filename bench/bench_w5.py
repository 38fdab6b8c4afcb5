"""W5: imported Keras models, inference. keras.applications MobileNetV2, ResNet50, DenseNet121, EfficientNetB0
(input 64x64x3, 10 classes, random init, seed 0) and small LSTM / GRU / transformer models, saved by Keras as
``.keras`` files and imported with ``pydl.importers.keras.load``; ms per call at batch 1 (vs Keras
``predict_on_batch``) and batch 32 (vs Keras ``predict`` and ``predict_on_batch``) on the same file, plus the
import (load) time of ResNet50.

    python bench/bench_w5.py [--threads 1] [--models ResNet50,lstm] [--steps 20] [--cpu]

Both sides use the same thread count (``pydl.set_num_threads``; TF intra-op threads, inter-op 1). Each timing is
the median of ``--steps`` calls after 3 warm-up calls; ratios are Keras time / pydl time (> 1: pydl faster).
``--cpu`` times the CPU seconds of the whole process (every thread: TensorFlow's pools, the JVM's compiler threads)
instead of wall-clock seconds: on a machine shared with other jobs, waiting for a core then does not count.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import common  # noqa: E402

APPS = ["MobileNetV2", "ResNet50", "DenseNet121", "EfficientNetB0"]
SMALL = ["lstm", "gru", "transformer"]


def build(keras, name):
    """A seeded Keras model and its input shape (without batch)."""
    keras.utils.set_random_seed(0)
    L = keras.layers
    if name in APPS:
        return getattr(keras.applications, name)(weights=None, input_shape=(64, 64, 3), classes=10), (64, 64, 3)
    if name == "lstm":      # text classifier: embedded tokens (as floats) -> 2 LSTMs -> softmax
        return keras.Sequential([keras.Input((32, 16)), L.LSTM(64, return_sequences=True), L.LSTM(64),
                                 L.Dense(10, activation="softmax")], name="lstm"), (32, 16)
    if name == "gru":
        return keras.Sequential([keras.Input((32, 16)), L.GRU(64, return_sequences=True), L.GRU(64),
                                 L.Dense(10, activation="softmax")], name="gru"), (32, 16)
    if name == "transformer":  # one encoder block, 4 heads
        x = keras.Input((32, 64))
        a = L.MultiHeadAttention(num_heads=4, key_dim=16)(x, x)
        h = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, a]))
        f = L.Dense(64)(L.Dense(128, activation="relu")(h))
        h = L.LayerNormalization(epsilon=1e-6)(L.Add()([h, f]))
        out = L.Dense(10, activation="softmax")(L.GlobalAveragePooling1D()(h))
        return keras.Model(x, out, name="transformer"), (32, 64)
    raise KeyError(name)


def _med(fn, steps, cpu=False):
    return common.median_time(fn, warmup=common.WARMUP, steps=steps,
                              clock=time.process_time if cpu else time.perf_counter)


def main(threads=1, models=None, steps=common.STEPS, cpu=False):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    import pydl
    from pydl import _jvm
    from pydl.importers import keras as ki

    pydl.set_num_threads(threads)
    _jvm.start()
    unit = "cpu ms" if cpu else "ms"
    rows = []
    tmp = tempfile.mkdtemp(prefix="pydl_w5_")
    rng = np.random.default_rng(0)
    for name in models or APPS + SMALL:
        km, shape = build(keras, name)
        path = os.path.join(tmp, f"{name}.keras")
        km.save(path)
        del km
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            pm = ki.load(path)
            first_load = time.perf_counter() - t0
            if name == "ResNet50":
                loads = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    ki.load(path)
                    loads.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                keras.models.load_model(path)
                k_load = time.perf_counter() - t0
                rows.append(common.row("W5", "ResNet50 load, first (s)", first_load, "Keras", k_load,
                                       higher_is_better=False))
                rows.append(common.row("W5", "ResNet50 load, again (s)", statistics.median(loads), "Keras", k_load,
                                       higher_is_better=False))
            km = keras.models.load_model(path)
        x1 = rng.random((1,) + shape, dtype=np.float32)
        x32 = rng.random((32,) + shape, dtype=np.float32)
        diff = float(np.max(np.abs(pm.predict(x32) - np.asarray(km.predict_on_batch(x32)))))
        p1 = _med(lambda: pm.predict(x1), steps, cpu)
        k1 = _med(lambda: km.predict_on_batch(x1), steps, cpu)
        p32 = _med(lambda: pm.predict(x32, batch_size=32), steps, cpu)
        k32 = _med(lambda: km.predict(x32, batch_size=32, verbose=0), steps, cpu)
        k32b = _med(lambda: km.predict_on_batch(x32), steps, cpu)
        rows.append(common.row("W5", f"{name} batch 1 ({unit})", p1 * 1e3, "Keras.pob", k1 * 1e3,
                               higher_is_better=False, max_abs_diff=diff, threads=threads))
        rows.append(common.row("W5", f"{name} batch 32 ({unit})", p32 * 1e3, "Keras.pred", k32 * 1e3,
                               higher_is_better=False, threads=threads))
        rows.append(common.row("W5", f"{name} batch 32 ({unit})", p32 * 1e3, "Keras.pob", k32b * 1e3,
                               higher_is_better=False, threads=threads))
        print(f"       {name}: max |pydl - keras| = {diff:.2e}, first load {first_load:.2f} s")
        del pm, km
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--models", default=None, help="comma-separated subset of " + ",".join(APPS + SMALL))
    ap.add_argument("--steps", type=int, default=common.STEPS)
    ap.add_argument("--cpu", action="store_true", help="time process CPU seconds instead of wall-clock seconds")
    a = ap.parse_args()
    print(f"machine: {common.machine()}; threads {a.threads}")
    common.save(main(a.threads, a.models.split(",") if a.models else None, a.steps, a.cpu), "w5")
