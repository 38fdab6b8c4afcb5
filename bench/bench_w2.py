"""W2 / W2i: MLP 784-512-512-10 training (Adam 1e-3, batch 128, softmax CE) and inference, pydl vs PyTorch (CPU).

    python bench/bench_w2.py
Prints samples/s for each and the ratio pydl/PyTorch. Same process, alternating contenders.
"""
from __future__ import annotations

import os
import statistics

import numpy as np

import common

BATCH = 128
N = BATCH * 30


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=N).astype(np.int32)
    return x, y


def pydl_train(x, y, threads):
    import pydl
    from pydl import layers

    pydl.set_num_threads(threads)
    m = pydl.Sequential([layers.Input(784), layers.Dense(512, activation="relu"), layers.Dense(512, activation="relu"),
                         layers.Dense(10, activation="softmax")], seed=0)
    m.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    m.build()
    return BATCH / statistics.median(common.pydl_step_seconds(m, x, y, BATCH, epochs=2))


def torch_net():
    nn = __import__("torch").nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def torch_train(x, y, threads):
    return common.torch_train_rate(torch_net, x, y, BATCH, 40, threads)


def pydl_infer(x, threads):
    import pydl
    from pydl import layers

    pydl.set_num_threads(threads)
    m = pydl.Sequential([layers.Input(784), layers.Dense(512, activation="relu"), layers.Dense(512, activation="relu"),
                         layers.Dense(10, activation="softmax")], seed=0)
    xb = x[:BATCH]
    return BATCH / common.median_time(lambda: m.predict(xb, batch_size=BATCH), steps=50)


def torch_infer(x, threads):
    import torch

    torch.set_num_threads(threads)
    net = torch.nn.Sequential(*torch_net(), torch.nn.Softmax(dim=-1)).eval()
    xb = x[:BATCH]

    def f():
        with torch.inference_mode():
            net(torch.from_numpy(xb)).numpy()

    return BATCH / common.median_time(f, steps=50)


def main(train_rounds=4, infer_rounds=8):
    threads = os.cpu_count()
    x, y = data()
    # Contenders alternate, round by round; each round's pydl/peer ratio is a paired comparison, and the reported
    # ratio is the median of those (this VM's speed drifts between rounds by more than the differences measured).
    tr = [(pydl_train(x, y, threads), torch_train(x, y, threads)) for _ in range(train_rounds)]
    inf = [(pydl_infer(x, threads), torch_infer(x, threads)) for _ in range(infer_rounds)]
    med = statistics.median
    return [
        common.row("W2", "train samples/s", med(p for p, _ in tr), "PyTorch", med(t for _, t in tr),
                   ratio=med(p / t for p, t in tr)),
        common.row("W2i", "inference samples/s (b=128)", med(p for p, _ in inf), "PyTorch", med(t for _, t in inf),
                   ratio=med(p / t for p, t in inf)),
    ]


if __name__ == "__main__":
    common.save(main(), "w2")
