"""An LSTM on a synthetic sequence task: does a random walk's running sum ever cross a threshold?

Run from the repository root (or anywhere, once pydl is installed):

    python examples/lstm_sequence.py            # ~30 s on 2 cores; needs >= 95% test accuracy
    python examples/lstm_sequence.py --quick    # fewer samples and epochs, for tests; needs >= 85%

Each sample is a sequence of ``T`` = 20 steps drawn uniformly from [-1, 1]. Its label is 1 when the running sum
``x_1 + ... + x_t`` exceeds the threshold at some step ``t`` (even if it later falls back), else 0. The threshold
is the median of the sequences' maxima, so the classes are balanced. The final sum alone does not decide the label
(a sequence may cross and come back), so the network has to remember what happened along the way: an
``LSTM(32) -> Dense(2, softmax)`` model, trained with Adam, reaches about 97% on held-out sequences, while the best
threshold on the final sum alone gets about 81% (both printed; observed with seed 0: 97.3% vs 81.1%, 22 s with
--threads 1 on a busy 2-core machine).

Prints the held-out accuracy and exits non-zero if it is below the bar (``--min-accuracy``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isfile(os.path.join(ROOT, "pydl", "__init__.py")) and ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # run from a source checkout: use its pydl/

import numpy as np  # noqa: E402


def make_data(n, steps, rng, threshold=None):
    """x: (n, steps, 1) float32 in [-1, 1]; y: 1 where the running sum exceeds ``threshold`` at some step.
    With ``threshold=None`` it is the median of the running maxima (balanced classes); returns (x, y, threshold)."""
    x = rng.uniform(-1.0, 1.0, size=(n, steps)).astype(np.float32)
    peak = np.cumsum(x, axis=1).max(axis=1)
    if threshold is None:
        threshold = float(np.median(peak))
    return x[..., None], (peak > threshold).astype(np.int32), threshold


def final_sum_baseline(x_train, y_train, x_test, y_test):
    """Accuracy of the best threshold on the final sum (what a model without memory of the path can do)."""
    s_train, s_test = x_train.sum(axis=(1, 2)), x_test.sum(axis=(1, 2))
    cands = np.quantile(s_train, np.linspace(0.01, 0.99, 99))
    best = max(cands, key=lambda c: np.mean((s_train > c) == y_train))
    return float(np.mean((s_test > best) == y_test))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2,000 training sequences, 8 epochs, an 85%% bar")
    ap.add_argument("--steps", type=int, default=20, help="sequence length T")
    ap.add_argument("--train", type=int, default=None, help="training sequences (default 8,000; 2,000 quick)")
    ap.add_argument("--epochs", type=int, default=None, help="default 15 (8 with --quick)")
    ap.add_argument("--units", type=int, default=32)
    ap.add_argument("--min-accuracy", type=float, default=None, help="default 0.95 (0.85 with --quick)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="threads of pydl's kernels (default: all cores; 1 is faster on a busy shared machine)")
    args = ap.parse_args(argv)
    n_train = args.train or (2000 if args.quick else 8000)
    epochs = args.epochs or (8 if args.quick else 15)
    bar = args.min_accuracy if args.min_accuracy is not None else (0.85 if args.quick else 0.95)

    import pydl

    if args.threads:
        pydl.set_num_threads(args.threads)
    from pydl import layers

    rng = np.random.default_rng(args.seed)
    x_train, y_train, thr = make_data(n_train, args.steps, rng)
    x_test, y_test, _ = make_data(2000, args.steps, rng, thr)
    print(f"task: does the running sum of {args.steps} uniform(-1, 1) steps exceed {thr:.3f}? "
          f"{n_train} training / {len(x_test)} test sequences, {np.mean(y_train):.0%} positive")

    model = pydl.Sequential([
        layers.Input((args.steps, 1)),
        layers.LSTM(args.units),
        layers.Dense(2, activation="softmax"),
    ], name="lstm_sequence", seed=args.seed)
    model.compile(optimizer=pydl.optimizers.Adam(5e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        te = time.perf_counter()
        h = model.fit(x_train, y_train, epochs=1, batch_size=64, validation_split=0.1, seed=args.seed + epoch,
                      verbose=0).history
        print(f"epoch {epoch:2d}/{epochs}: loss {h['loss'][0]:.4f} - accuracy {h['accuracy'][0]:.4f} - "
              f"val_accuracy {h['val_accuracy'][0]:.4f} ({time.perf_counter() - te:.1f} s)", flush=True)
    print(f"trained in {time.perf_counter() - t0:.1f} s")

    loss, acc = model.evaluate(x_test, y_test, batch_size=500)
    base = final_sum_baseline(x_train, y_train, x_test, y_test)
    print(f"baseline (threshold on the final sum only): {base:.4f}")
    print(f"test accuracy on {len(x_test)} held-out sequences: {acc:.4f} (loss {loss:.4f})")
    if acc < bar:
        print(f"FAILED: test accuracy {acc:.4f} < {bar:.2f}")
        return 1
    print(f"OK: test accuracy {acc:.4f} >= {bar:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
