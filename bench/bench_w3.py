"""W3: LeNet training (1x28x28 -> Conv 5x5x20 -> MaxPool 2 -> Conv 5x5x50 -> MaxPool 2 -> Dense 500 ReLU -> Dense 10,
softmax cross-entropy, Adam 1e-3, batch 64), pydl vs PyTorch (CPU).

    python bench/bench_w3.py
Prints samples/s for each and the ratio pydl/PyTorch. Same process, contenders alternate round by round; the ratio is
the median of paired per-round ratios. Synthetic seeded data: normal inputs, uniform labels; channels-last
(N, 28, 28, 1) for pydl, the same values as NCHW (N, 1, 28, 28) for PyTorch.

Steps: 3 warm-up steps, then per round PyTorch times >= 20 steps and pydl as many as fit its time budget
(PYDL_BENCH_BUDGET_S seconds a round, default 20), at least 10 and at most 40 (pydl's conv is not yet optimised).
"""
from __future__ import annotations

import os
import statistics

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
    """Median samples/s over `steps` steps after the warm-up, timed inside Java's fit loop (StepTimer)."""
    import jpype

    import pydl
    from pydl import _array, layers

    pydl.set_num_threads(threads)
    m = pydl.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(20, 5), layers.MaxPooling2D(2),
                         layers.Conv2D(50, 5), layers.MaxPooling2D(2), layers.Flatten(),
                         layers.Dense(500, activation="relu"), layers.Dense(10, activation="softmax")], seed=0)
    m.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    m.build()
    Seq = jpype.JClass("org.pydl.nn.Sequential")
    timer = jpype.JClass("org.pydl.train.StepTimer")()
    n = BATCH * (common.WARMUP + steps)  # one epoch of exactly warm-up + timed steps
    ds = jpype.JClass("org.pydl.train.DataSet")(_array.to_java(x[:n]), _array.to_java(y[:n]))
    opts = Seq.FitOptions().epochs(1).batchSize(BATCH).shuffle(True).listener(timer)
    m._java.fit(ds, opts)
    t = list(timer.stepSeconds())[common.WARMUP:]
    assert len(t) == steps, (len(t), steps)
    return BATCH / statistics.median(t), statistics.median(t)


def torch_train(x, y, threads, steps=TORCH_STEPS):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # NHWC -> NCHW, same values
    yt = torch.from_numpy(y.astype(np.int64))
    perm = np.random.default_rng(0).permutation(N)
    state = {"i": 0}

    def step():
        i = state["i"] % (N // BATCH)
        state["i"] += 1
        idx = torch.from_numpy(perm[i * BATCH:(i + 1) * BATCH])
        xb, yb = xt[idx], yt[idx]
        opt.zero_grad(set_to_none=True)
        loss = lossf(net(xb), yb)
        loss.backward()
        opt.step()
        loss.item()

    return BATCH / common.median_time(step, steps=steps)


def main(rounds=5):
    threads = os.cpu_count()
    x, y = data()
    # Round 0 sizes pydl's step count: the first round runs the minimum, later rounds as many as the budget allows.
    steps = PYDL_MIN_STEPS
    rs, used = [], []
    for _ in range(rounds):
        p, step_s = pydl_train(x, y, threads, steps)
        used.append(steps)
        rs.append((p, torch_train(x, y, threads)))
        steps = int(min(PYDL_MAX_STEPS, max(PYDL_MIN_STEPS, BUDGET_S / step_s - common.WARMUP)))
    med = statistics.median
    print(f"W3: {rounds} rounds; pydl timed steps per round {used}, PyTorch {TORCH_STEPS} (after {common.WARMUP} "
          f"warm-up each); per-round pydl/PyTorch samples/s {[(round(p), round(t)) for p, t in rs]}")
    return [common.row("W3", "train samples/s (b=64)", med(p for p, _ in rs), "PyTorch", med(t for _, t in rs),
                       ratio=med(p / t for p, t in rs), pydl_steps=used, torch_steps=TORCH_STEPS)]


if __name__ == "__main__":
    common.save(main(), "w3")
