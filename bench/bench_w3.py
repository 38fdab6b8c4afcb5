"""W3: LeNet training (1x28x28 -> Conv 5x5x20 -> MaxPool 2 -> Conv 5x5x50 -> MaxPool 2 -> Dense 500 ReLU -> Dense 10,
softmax cross-entropy, Adam 1e-3, batch 64), pydl vs PyTorch (CPU) and Keras 3 (TensorFlow, `keras_ref.py`, when installed).

    python bench/bench_w3.py
Prints samples/s for each and the ratio pydl/PyTorch. Same process, contenders alternate round by round; the ratio is
the median of paired per-round ratios. Synthetic seeded data: normal inputs, uniform labels; channels-last
(N, 28, 28, 1) for pydl, the same values as NCHW (N, 1, 28, 28) for PyTorch.

Steps: 3 warm-up steps, then per round PyTorch times >= 20 steps and pydl as many as fit its time budget
(PYDL_BENCH_BUDGET_S seconds a round, default 20), at least 10 and at most 40. Threads: PYDL_BENCH_THREADS (default
all cores), the same for both contenders.
"""
from __future__ import annotations

import os

import numpy as np

import common

BATCH = 64
PYDL_MIN_STEPS, PYDL_MAX_STEPS = 10, 40
TORCH_STEPS = 20
BUDGET_S = float(os.environ.get("PYDL_BENCH_BUDGET_S", "20"))
N = BATCH * (common.WARMUP + max(PYDL_MAX_STEPS, TORCH_STEPS))


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, size=N).astype(np.int32)
    return x, y


def pydl_train(x, y, threads, steps):
    """Median samples/s (and step seconds) over `steps` steps after the warm-up, timed inside Java's fit loop."""
    import pydl
    from pydl import layers

    pydl.set_num_threads(threads)
    m = pydl.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(20, 5), layers.MaxPooling2D(2),
                         layers.Conv2D(50, 5), layers.MaxPooling2D(2), layers.Flatten(),
                         layers.Dense(500, activation="relu"), layers.Dense(10, activation="softmax")], seed=0)
    return common.pydl_train_rate(m, x, y, BATCH, steps)


def torch_net():
    nn = __import__("torch").nn
    return nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))


def main(rounds=5):
    threads = int(os.environ.get("PYDL_BENCH_THREADS", os.cpu_count()))
    x, y = data()
    x_nchw = x.transpose(0, 3, 1, 2)  # the same values, NHWC -> NCHW for PyTorch
    t = common.budgeted_rounds(
        "W3", "train samples/s (b=64)", lambda steps: pydl_train(x, y, threads, steps),
        lambda: common.torch_train_rate(torch_net, x_nchw, y, BATCH, TORCH_STEPS, threads), rounds,
        PYDL_MIN_STEPS, PYDL_MAX_STEPS, TORCH_STEPS, BUDGET_S)
    return [t] + common.keras_row("W3", "train samples/s (b=64)", t["pydl"], threads)


if __name__ == "__main__":
    common.save(main(), "w3")
