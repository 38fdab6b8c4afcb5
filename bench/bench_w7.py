"""W7: Python -> Java call overhead: predict of a 10 -> 10 Dense model on one sample (µs per call),
pydl `model.predict(x)` vs PyTorch `model(x)` (inference mode).

    python bench/bench_w7.py
"""
from __future__ import annotations

import numpy as np

import common


def main():
    import torch

    import pydl
    from pydl import layers

    torch.set_num_threads(1)
    m = pydl.Sequential([layers.Input(10), layers.Dense(10)], seed=0)
    net = torch.nn.Linear(10, 10).eval()
    x = np.random.default_rng(0).standard_normal((1, 10), dtype=np.float32)
    xt = torch.from_numpy(x)

    def torch_call():
        with torch.inference_mode():
            return net(xt)

    p, t = [], []
    for _ in range(3):
        p.append(common.median_time(lambda: m.predict(x), warmup=2000, steps=20000))
        t.append(common.median_time(torch_call, warmup=2000, steps=20000))
    us_p, us_t = min(p) * 1e6, min(t) * 1e6
    return [common.row("W7", "predict 1x10 (µs/call)", us_p, "PyTorch", us_t, higher_is_better=False)]


if __name__ == "__main__":
    common.save(main(), "w7")
