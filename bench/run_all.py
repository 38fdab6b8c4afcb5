"""Runs every benchmark of this issue's workloads (W1, W2, W2i, W7) and prints pydl/peer ratios.

    python bench/run_all.py        (or: make bench)
Results go to bench/out/*.json; copy the printed table into bench/RESULTS.md with date, machine and command.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_w1  # noqa: E402
import bench_w2  # noqa: E402
import bench_w7  # noqa: E402
import common  # noqa: E402

if __name__ == "__main__":
    print(f"machine: {common.machine()}")
    rows = bench_w1.main() + bench_w2.main() + bench_w7.main()
    common.save(rows, "all")
