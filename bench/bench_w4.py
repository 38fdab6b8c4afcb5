"""W4: LSTM training (sequence 50 x 64 features -> LSTM 256 -> last step -> Dense 10, softmax cross-entropy,
Adam 1e-3, batch 32), pydl vs PyTorch (CPU) and Keras 3 (TensorFlow, `keras_ref.py`, when installed).

    python bench/bench_w4.py
Prints samples/s for each and the ratio pydl/PyTorch. Same process, contenders alternate round by round; the ratio is
the median of paired per-round ratios. Synthetic seeded data: normal inputs (N, 50, 64), batch-first for both,
uniform labels.

Steps: 3 warm-up steps, then per round PyTorch times >= 20 steps and pydl as many as fit its time budget
(PYDL_BENCH_BUDGET_S seconds a round, default 20), at least 20 and at most 60. pydl's LSTM is one fused op
(Ops.rnn, native/cpu/rnn.cpp). Threads: all cores, or PYDL_BENCH_THREADS (both contenders).
"""
from __future__ import annotations

import os

import numpy as np

import common

BATCH = 32
SEQ, FEAT, UNITS = 50, 64, 256
PYDL_MIN_STEPS, PYDL_MAX_STEPS = 20, 60
TORCH_STEPS = 20
BUDGET_S = float(os.environ.get("PYDL_BENCH_BUDGET_S", "20"))
N = BATCH * (common.WARMUP + max(PYDL_MAX_STEPS, TORCH_STEPS))


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, SEQ, FEAT)).astype(np.float32)
    y = rng.integers(0, 10, size=N).astype(np.int32)
    return x, y


def pydl_train(x, y, threads, steps):
    """Median samples/s (and step seconds) over `steps` steps after the warm-up, timed inside Java's fit loop."""
    import pydl
    from pydl import layers

    pydl.set_num_threads(threads)
    m = pydl.Sequential([layers.Input((SEQ, FEAT)), layers.LSTM(UNITS), layers.Dense(10, activation="softmax")],
                        seed=0)
    return common.pydl_train_rate(m, x, y, BATCH, steps)


def torch_net():
    import torch

    class LSTMLast(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(FEAT, UNITS, batch_first=True)
            self.fc = torch.nn.Linear(UNITS, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])  # last step; softmax is inside CrossEntropyLoss

    return LSTMLast()


def main(rounds=5):
    threads = int(os.environ.get("PYDL_BENCH_THREADS", os.cpu_count()))
    x, y = data()
    t = common.budgeted_rounds(
        "W4", "train samples/s (b=32)", lambda steps: pydl_train(x, y, threads, steps),
        lambda: common.torch_train_rate(torch_net, x, y, BATCH, TORCH_STEPS, threads), rounds,
        PYDL_MIN_STEPS, PYDL_MAX_STEPS, TORCH_STEPS, BUDGET_S)
    return [t] + common.keras_row("W4", "train samples/s (b=32)", t["pydl"], threads)


if __name__ == "__main__":
    common.save(main(), "w4")
