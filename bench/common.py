"""Shared helpers for benchmarks (see ../shared/bench/WORKLOADS.md): timing, machine info, result rows."""
from __future__ import annotations

import json
import os
import platform
import statistics
import time

WARMUP = 3
STEPS = 20


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def median_time(fn, warmup=WARMUP, steps=STEPS, min_time=0.0, clock=time.perf_counter) -> float:
    """Median seconds of fn() over `steps` calls after `warmup` calls (more calls until min_time elapsed), read from
    `clock` (wall-clock by default; time.process_time: CPU seconds of every thread of the process)."""
    for _ in range(warmup):
        fn()
    times = []
    t_end = time.perf_counter() + min_time
    while len(times) < steps or time.perf_counter() < t_end:
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def row(workload: str, metric: str, pydl: float, peer: str, peer_value: float, higher_is_better=True,
        ratio: float | None = None, **extra):
    """One result line. ``ratio`` defaults to pydl/peer (or peer/pydl for times); pass the median of paired
    per-round ratios when rounds were measured back to back (more robust on a drifting machine)."""
    if ratio is None:
        ratio = pydl / peer_value if higher_is_better else peer_value / pydl
    r = {"workload": workload, "metric": metric, "pydl": pydl, "peer": peer, "peer_value": peer_value,
         "ratio": ratio, **extra}
    print(f"{workload:6s} {metric:28s} pydl {pydl:12.2f}   {peer:8s} {peer_value:12.2f}   ratio {ratio:5.2f}x"
          + ("" if higher_is_better else "  (speed ratio: peer time / pydl time)"))
    return r


def save(rows, name):
    os.makedirs(os.path.join(os.path.dirname(__file__), "out"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "out", f"{name}.json"), "w") as f:
        json.dump({"machine": machine(), "date": time.strftime("%Y-%m-%d"), "rows": rows}, f, indent=1)


# ---- training-step timing shared by W2, W3, W4 --------------------------------------------------------------------
def pydl_step_seconds(model, x, y, batch, epochs=1):
    """Seconds of each training step after the warm-up, timed inside Java's fit loop (`StepTimer`), so no Python
    runs between steps. `model` is a compiled, built `pydl.Sequential`."""
    import jpype

    from pydl import _array

    timer = jpype.JClass("org.pydl.train.StepTimer")()
    ds = jpype.JClass("org.pydl.train.DataSet")(_array.to_java(x), _array.to_java(y))
    opts = jpype.JClass("org.pydl.nn.Network").FitOptions().epochs(epochs).batchSize(batch).shuffle(True) \
        .listener(timer)
    model._java.fit(ds, opts)
    return list(timer.stepSeconds())[WARMUP:]


def pydl_train_rate(model, x, y, batch, steps):
    """(samples/s, median step seconds) of a pydl Sequential over `steps` training steps after WARMUP: compiles it
    with Adam 1e-3 and sparse categorical cross-entropy (every training workload's recipe) and runs one epoch of
    exactly warm-up + timed steps."""
    import pydl

    model.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.build()
    n = batch * (WARMUP + steps)
    t = pydl_step_seconds(model, x[:n], y[:n], batch)
    assert len(t) == steps, (len(t), steps)
    return batch / statistics.median(t), statistics.median(t)


def torch_train_rate(make_net, x, y, batch, steps, threads):
    """PyTorch samples/s: median of `steps` timed steps (zero_grad, forward, CrossEntropyLoss, backward, Adam.step,
    loss.item()) after WARMUP, on seeded shuffled batches of numpy `x` / int labels `y`."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = make_net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))
    n = len(x)
    perm = np.random.default_rng(0).permutation(n)
    state = {"i": 0}

    def step():
        i = state["i"] % (n // batch)
        state["i"] += 1
        idx = torch.from_numpy(perm[i * batch:(i + 1) * batch])
        opt.zero_grad(set_to_none=True)
        loss = lossf(net(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
        loss.item()

    return batch / median_time(step, steps=steps)


def budgeted_rounds(workload, metric, pydl_fn, torch_fn, rounds, min_steps, max_steps, torch_steps, budget_s):
    """Alternating rounds for slow pydl workloads: `pydl_fn(steps) -> (samples/s, median step seconds)` times
    `min_steps` in round 1 and as many as fit `budget_s` afterwards (at most `max_steps`); `torch_fn() -> samples/s`.
    Returns one result row whose ratio is the median of the paired per-round ratios."""
    steps, rs, used = min_steps, [], []
    for _ in range(rounds):
        p, step_s = pydl_fn(steps)
        used.append(steps)
        rs.append((p, torch_fn()))
        steps = int(min(max_steps, max(min_steps, budget_s / step_s - WARMUP)))
    med = statistics.median
    print(f"{workload}: {rounds} rounds; pydl timed steps per round {used}, PyTorch {torch_steps} (after {WARMUP} "
          f"warm-up each); per-round pydl/PyTorch samples/s {[(round(p), round(t)) for p, t in rs]}")
    return row(workload, metric, med(p for p, _ in rs), "PyTorch", med(t for _, t in rs),
               ratio=med(p / t for p, t in rs), pydl_steps=used, torch_steps=torch_steps)


def keras_train_rate(workload, threads):
    """Keras 3 (TensorFlow) samples/s for W3/W4 from `keras_ref.py` in a subprocess (TensorFlow's thread pools are
    fixed at start), or None when Keras is not installed."""
    import subprocess
    import sys

    try:
        import importlib.util

        if importlib.util.find_spec("keras") is None or importlib.util.find_spec("tensorflow") is None:
            return None
    except ValueError:
        return None
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_ref.py"),
                          workload, str(threads)], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["samples_per_s"]


def keras_row(workload, metric, pydl_rate, threads):
    """A pydl-vs-Keras row after pydl's rounds: the median of two Keras runs against pydl's median rate (not paired
    round by round: TensorFlow runs in its own process)."""
    rates = [r for r in (keras_train_rate(workload.lower(), threads) for _ in range(2)) if r is not None]
    if not rates:
        print(f"{workload}: Keras not installed; no Keras row")
        return []
    print(f"{workload}: Keras samples/s {[round(r) for r in rates]} (model.fit, {threads} threads)")
    return [row(workload, metric, pydl_rate, "Keras", statistics.median(rates))]
