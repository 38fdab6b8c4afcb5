"""Runs the benchmarks of this issue's workloads (W1, W2, W2i, W7) and prints pydl/peer ratios.

    python bench/run_all.py        (or: make bench)
    python bench/run_all.py --all  also W3 (LeNet training), W4 (LSTM training) and W5 (imported Keras models,
                                   needs tensorflow-cpu + keras + h5py), ~5-8 more minutes
    python bench/run_all.py --spark  also W6 (Spark data-parallel W2 on a loopback standalone cluster it starts;
                                     needs pyspark), ~3-5 more minutes
Results go to bench/out/*.json; copy the printed table into bench/RESULTS.md with date, machine and command.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_w1  # noqa: E402
import bench_w2  # noqa: E402
import bench_w7  # noqa: E402
import common  # noqa: E402

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true", help="also run W3 (LeNet), W4 (LSTM) training and W5 (Keras import)")
    ap.add_argument("--spark", action="store_true", help="also run W6 (Spark, starts a loopback standalone cluster)")
    args = ap.parse_args()
    print(f"machine: {common.machine()}")
    rows = bench_w1.main() + bench_w2.main() + bench_w7.main()
    if args.all:
        import bench_w3
        import bench_w4

        rows += bench_w3.main() + bench_w4.main()
        import importlib.util

        missing = [m for m in ("tensorflow", "keras", "h5py") if importlib.util.find_spec(m) is None]
        if missing:
            print(f"W5 skipped: {missing} not installed (pip install tensorflow-cpu keras h5py)")
        else:
            import bench_w5

            rows += bench_w5.main()
    if args.spark:
        import bench_w6

        rows += bench_w6.main()
    common.save(rows, "all")
