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


def median_time(fn, warmup=WARMUP, steps=STEPS, min_time=0.0) -> float:
    """Median seconds of fn() over `steps` calls after `warmup` calls (more calls until min_time elapsed)."""
    for _ in range(warmup):
        fn()
    times = []
    t_end = time.perf_counter() + min_time
    while len(times) < steps or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
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
