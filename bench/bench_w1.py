"""W1: GEMM C = A @ B, square n = 256, 1024, 2048, float32: pydl (Python -> Java Ops.matmul -> JNI -> OpenBLAS)
vs NumPy `a @ b` and PyTorch `a @ b`, GFLOP/s = 2n^3/t, same process, alternating.

    python bench/bench_w1.py
"""
from __future__ import annotations

import os

import numpy as np

import common


def main(sizes=(256, 1024, 2048)):
    import jpype
    import torch

    import pydl
    from pydl import _array

    threads = os.cpu_count()
    pydl.set_num_threads(threads)
    torch.set_num_threads(threads)
    Ops = jpype.JClass("org.pydl.ops.Ops")
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        ja, jb = _array.to_java(a), _array.to_java(b)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        np.testing.assert_allclose(_array.to_numpy(Ops.matmul(ja, jb)), a @ b, rtol=1e-3, atol=1e-3 * n ** 0.5)
        steps = 20 if n <= 1024 else 8
        best = {"pydl": [], "numpy": [], "torch": []}
        for _ in range(3):  # alternate contenders
            best["pydl"].append(common.median_time(lambda: Ops.matmul(ja, jb).close(), steps=steps))
            best["numpy"].append(common.median_time(lambda: a @ b, steps=steps))
            best["torch"].append(common.median_time(lambda: ta @ tb, steps=steps))
        gf = {k: 2 * n ** 3 / min(v) / 1e9 for k, v in best.items()}
        rows.append(common.row("W1", f"GEMM n={n} GFLOP/s", gf["pydl"], "NumPy", gf["numpy"], n=n))
        rows.append(common.row("W1", f"GEMM n={n} GFLOP/s", gf["pydl"], "PyTorch", gf["torch"], n=n))
    return rows


if __name__ == "__main__":
    common.save(main(), "w1")
