"""W6: Spark data-parallel training of the W2 MLP (784-512-512-10, Adam 1e-3, softmax CE) on a standalone cluster on
loopback (master + 2 workers of 1 core each, started and stopped here): 1 worker vs 2 workers, parameter averaging
and gradient sharing (all-reduce); samples/s, scaling efficiency, time split, held-out accuracy after N epochs vs
single-process pydl; single-process pydl and PyTorch samples/s (1 thread: one worker's core). Averaging runs twice: states exchanged
through the driver (one Spark job per round) and over the ring (exchange="ring": one barrier job).

    python bench/bench_w6.py [--epochs 5] [--rows 4000] [--repeat 3] [--averaging-frequency 16]

Data: the 4,000 training MNIST digits of pydl.demo (``--repeat`` k tiles them k times, so that an epoch is long
enough to time), held-out accuracy on the 1,000 test digits. Batch 128 rows per worker (weak scaling: the global
batch is 128 x workers). Samples/s are W2's steady-state measure: over the epochs after the first (warm-up: executor
start, JIT, data caching), without the one-time start-up of a barrier job (launch, model and ring set-up, result
collection; printed, and the ratio with it spread over the epochs too); a driver-averaging round's Spark job is part
of every round, so it stays in. The machine's own ceiling, two plain one-thread trainings at once vs one alone, is
measured first. Needs pyspark (and Java 17), like pydl.spark.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # run from a checkout

import common  # noqa: E402

BATCH = 128
CONF = {"spark.executor.cores": "1", "spark.cores.max": "2", "spark.executor.memory": "1g",
        "spark.ui.enabled": "false", "spark.driver.host": "127.0.0.1"}


def mlp(seed=0):
    import pydl
    from pydl import layers

    m = pydl.Sequential([layers.Input(784), layers.Dense(512, activation="relu"), layers.Dense(512, activation="relu"),
                         layers.Dense(10, activation="softmax")], seed=seed)
    m.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def single_process(x, y, xt, yt, epochs):
    """pydl in this process, 1 native thread: samples/s over epochs 2.. and held-out accuracy."""
    import pydl

    pydl.set_num_threads(1)
    m = mlp()
    m.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)
    t0 = time.perf_counter()
    m.fit(x, y, epochs=epochs - 1, batch_size=BATCH, verbose=0)
    rate = (epochs - 1) * len(x) / (time.perf_counter() - t0)
    return rate, m.evaluate(xt, yt, verbose=0)[1]


def concurrent_single_processes(n, epochs, rows, repeat):
    """The machine's own ceiling for running n one-thread trainings at once, without Spark: n copies of
    single_process in separate processes, warmed up, then timed together. Returns their samples/s each."""
    import subprocess

    cmd = [sys.executable, os.path.abspath(__file__), "--single-process-worker", "--epochs", str(epochs),
           "--rows", str(rows), "--repeat", str(repeat)]
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(n)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:   # start the timed epochs together
        p.stdin.write("go\n")
        p.stdin.flush()
    rates = [float(p.stdout.readline()) for p in procs]
    for p in procs:
        p.wait()
    return rates


def single_process_worker(epochs, rows, repeat):
    """The child of concurrent_single_processes: warm up, say ready, wait for go, time, print samples/s."""
    import pydl
    from pydl.demo import load_digits

    pydl.set_num_threads(1)
    x, y, _, _ = load_digits()
    x, y = np.tile(x[:rows], (repeat, 1)), np.tile(y[:rows], repeat)
    m = mlp()
    m.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    m.fit(x, y, epochs=epochs - 1, batch_size=BATCH, verbose=0)
    print((epochs - 1) * len(x) / (time.perf_counter() - t0), flush=True)


def torch_rate(x, y):
    import torch

    def net():
        nn = torch.nn
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))

    return common.torch_train_rate(net, x, y, BATCH, 40, 1)


def spark_run(spark, df, xt, yt, strategy, workers, epochs, freq, checkpoint_dir=None):
    """``strategy``: averaging, averaging-ring (states averaged over the ring in one barrier job), allreduce or
    allreduce-fp16 (gradients sent as halves)."""
    import pydl.spark

    name, _, variant = strategy.partition("-")
    t = pydl.spark.SparkTrainer(spark, mlp(), name, num_workers=workers, batch_size=BATCH,
                                averaging_frequency=freq, exchange="ring" if variant == "ring" else "driver",
                                compression="fp16" if variant == "fp16" else "none", verbose=False,
                                job_timeout=900)
    t0 = time.perf_counter()
    model = t.fit(df, epochs=epochs, checkpoint_dir=checkpoint_dir)
    wall = time.perf_counter() - t0
    later = [m for m in t.metrics if m["epoch"] > 0]
    secs = sum(m["seconds"] for m in later)
    steady_secs = sum(m["seconds"] - m["startup_s"] for m in later)   # without the barrier job's one-time start-up
    # shares of the steady-state time; compute and comm are each the slowest rank's, so cap compute at the rest
    comm_share = min(1.0, sum(m["comm_s"] for m in later) / steady_secs)
    split = {"comm_s": comm_share,
             "compute_s": min(1.0 - comm_share, sum(m["compute_s"] for m in later) / steady_secs)}
    split["scheduling_s"] = max(0.0, 1 - split["compute_s"] - split["comm_s"])
    acc = model.evaluate(xt, yt, verbose=0)[1]
    samples = sum(m["samples"] for m in later)
    rate, rate_all = samples / steady_secs, samples / secs     # steady state (W2's measure); with start-up
    startup = sum(m["startup_s"] for m in t.metrics)
    steps = len({m["epoch"] for m in later}) * -(-df_rows(df) // workers // BATCH)   # per worker
    # calibration of docs/SCALING.md: compute s per step of one worker, non-compute s per round (averaging: one
    # Spark job + state down and up) or per step (all-reduce: the ring), scheduling s per job
    cal = {"compute_s_per_step": sum(m["compute_s"] for m in later) / steps,
           "comm_s_per_step": sum(m["comm_s"] for m in later) / steps,
           "rounds": len(later),
           "overhead_s_per_round": (steady_secs - sum(m["compute_s"] for m in later)) / len(later),
           "scheduling_s_per_round": sum(m["scheduling_s"] - m["startup_s"] for m in later) / len(later),
           "startup_s_per_fit": startup}
    print(f"W6 {strategy:9s} {workers} worker(s) calibration: " + ", ".join(f"{k} {v:.4g}" for k, v in cal.items()))
    print(f"W6 {strategy:9s} {workers} worker(s): {rate:8.0f} samples/s steady state ({rate_all:.0f} with the "
          f"barrier job's start-up of {startup:.2f} s spread over the epochs), held-out accuracy {acc:.4f}, "
          f"split compute {split['compute_s']:.0%} comm {split['comm_s']:.0%} scheduling {split['scheduling_s']:.0%}, "
          f"fit wall {wall:.1f} s (incl. data preparation and the warm-up epoch)", flush=True)
    return {"rate": rate, "rate_incl_startup": rate_all, "acc": acc, "split": split, "fit_wall_s": wall, **cal}


def df_rows(df):
    return df.count()


def main(epochs=5, rows=4000, repeat=3, freq=16,
         strategies=("averaging", "averaging-ring", "allreduce", "allreduce-fp16"),
         job_overhead=False, pairs_per_strategy=1):
    import pydl.spark
    from pydl.demo import load_digits
    from pyspark.sql import SparkSession

    x, y, xt, yt = load_digits()
    x, y = np.tile(x[:rows], (repeat, 1)), np.tile(y[:rows], repeat)
    print(f"machine: {common.machine()}; load average {os.getloadavg()}")
    single, single_acc = single_process(x, y, xt, yt, epochs)
    torch1 = torch_rate(x, y)
    print(f"W6 single-process pydl (1 thread): {single:.0f} samples/s, accuracy {single_acc:.4f}; PyTorch (1 thread) "
          f"{torch1:.0f} samples/s", flush=True)
    rows_out = [common.row("W6", "1-process train samples/s", single, "PyTorch", torch1, accuracy=single_acc)]
    alone = concurrent_single_processes(1, epochs, rows, repeat)[0]
    pair = concurrent_single_processes(2, epochs, rows, repeat)
    print(f"W6 machine ceiling: 2 one-thread trainings at once (no Spark) {sum(pair):.0f} samples/s "
          f"({' + '.join(f'{r:.0f}' for r in pair)}) vs 1 alone {alone:.0f}: {sum(pair) / alone:.2f}x; "
          f"load average {os.getloadavg()}", flush=True)
    rows_out.append(common.row("W6", "machine ceiling: 2 processes / 1 process samples/s", sum(pair),
                               "1 process", alone, each=pair))
    ceiling = sum(pair) / alone
    with tempfile.TemporaryDirectory() as tmp, pydl.spark.LocalCluster(tmp, workers=2, cores=1, memory="2g") as c:
        os.environ.update({k: c.env[k] for k in ("SPARK_LOCAL_IP",)})
        b = SparkSession.builder.master(c.master).appName("pydl-bench-w6")
        for k, v in dict(CONF, **{"spark.jars": pydl.spark.jars_conf()}).items():
            b = b.config(k, v)
        spark = b.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        try:
            df = spark.sparkContext.parallelize([(r.tolist(), int(v)) for r, v in zip(x, y)], 4).toDF(
                ["features", "label"]).cache()
            df.count()
            if job_overhead:   # all-reduce: one barrier job per epoch (checkpointed) vs one for all epochs
                for _ in range(2):
                    per_epoch = spark_run(spark, df, xt, yt, "allreduce", 2, epochs, freq,
                                          checkpoint_dir=os.path.join(tmp, "ckpt-%d" % time.time_ns()))
                    one_job = spark_run(spark, df, xt, yt, "allreduce", 2, epochs, freq)
                    print(f"W6 allreduce job overhead: per-epoch jobs {per_epoch['fit_wall_s']:.1f} s "
                          f"({per_epoch['overhead_s_per_round']:.3f} s non-compute per epoch), one job "
                          f"{one_job['fit_wall_s']:.1f} s ({one_job['overhead_s_per_round']:.3f} s per epoch); "
                          f"load average {os.getloadavg()}", flush=True)
            for strategy in strategies:
                pairs = []   # alternating 1-worker / 2-worker runs: this VM's speed drifts from minute to minute
                for _ in range(pairs_per_strategy):
                    pairs.append((spark_run(spark, df, xt, yt, strategy, 1, epochs, freq),
                                  spark_run(spark, df, xt, yt, strategy, 2, epochs, freq)))
                pairs.sort(key=lambda p: p[1]["rate"] / p[0]["rate"])
                one, two = pairs[len(pairs) // 2]                    # the pair of median ratio
                speedup = two["rate"] / one["rate"]
                speedup_all = two["rate_incl_startup"] / one["rate_incl_startup"]
                if len(pairs) > 1:
                    print(f"W6 {strategy}: 2w/1w of the {len(pairs)} pairs " + ", ".join(
                        f"{b['rate'] / a['rate']:.2f}x" for a, b in pairs) + " (median pair below)", flush=True)
                print(f"W6 {strategy}: 2 workers / 1 worker = {speedup:.2f}x (efficiency {speedup / 2:.0%}; "
                      f"{speedup / ceiling:.0%} of the machine's own 2-process ceiling {ceiling:.2f}x), steady state; "
                      f"{speedup_all:.2f}x with start-up; "
                      f"accuracy 2 workers {two['acc']:.4f} vs single process {single_acc:.4f}; "
                      f"load average {os.getloadavg()}", flush=True)
                rows_out.append(common.row("W6", f"{strategy} 2w/1w samples/s", two["rate"], "1 worker", one["rate"],
                                           accuracy_2w=two["acc"], accuracy_1w=one["acc"], accuracy_single=single_acc,
                                           split_2w=two["split"], split_1w=one["split"], run_2w=two, run_1w=one,
                                           vs_single_process=two["rate"] / single, load=os.getloadavg(),
                                           ratio_incl_startup=speedup_all, machine_ceiling=ceiling))
        finally:
            spark.stop()
    return rows_out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--averaging-frequency", type=int, default=16)
    ap.add_argument("--strategies", default="averaging,averaging-ring,allreduce,allreduce-fp16",
                    help="comma-separated (averaging-ring: averaging with exchange='ring'; allreduce-fp16: gradients "
                         "compressed to halves); '' for none")
    ap.add_argument("--pairs", type=int, default=1,
                    help="alternating 1-worker/2-worker runs per strategy; the pair of median ratio is reported")
    ap.add_argument("--single-process-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--job-overhead", action="store_true",
                    help="also time all-reduce with one barrier job per epoch vs one job for all epochs")
    a = ap.parse_args()
    if a.single_process_worker:
        sys.exit(single_process_worker(a.epochs, a.rows, a.repeat))
    common.save(main(a.epochs, a.rows, a.repeat, a.averaging_frequency, tuple(filter(None, a.strategies.split(","))),
                     a.job_overhead, a.pairs), "w6-overhead" if a.job_overhead and not a.strategies else "w6")


# ---- the communication/compute model of docs/SCALING.md -------------------------------------------------------------
W2_PARAMS, RESNET50_PARAMS = 669_706, 25_600_000


def efficiency(strategy, workers, params, step_s, gbit, *, slots=2, k=16, latency_s=50e-6, job_s=0.05,
               task_s=0.002, depth=2, link_efficiency=0.9):
    """Projected parallel efficiency (time one worker would take / (W x time per worker)) of one step (all-reduce)
    or one round of k steps (averaging), given one worker's compute seconds per step. Bandwidth per link
    ``gbit`` x ``link_efficiency``; no overlap of communication and compute (as implemented).
      allreduce: ring, per step 2(W-1)/W x 4P / bw + 2(W-1) x latency; the barrier job is paid once per run.
      averaging-ring: per round of k steps, the same ring over the state (4P x (1 + slots) bytes).
      averaging: per round one Spark job (job_s + W x task_s on the driver), the state (4P x (1 + slots) bytes)
      broadcast (~1 x state / bw: torrent) and summed by treeAggregate of depth d (~d x W^(1/d) x state / bw
      into the busiest receiver)."""
    bw = gbit * 1e9 / 8 * link_efficiency
    state = 4 * params * (1 + slots)
    ring = 2 * (workers - 1) / workers / bw
    if strategy == "allreduce":
        comm = ring * 4 * params + 2 * (workers - 1) * latency_s
        return step_s / (step_s + comm)
    if strategy == "averaging-ring":   # the state summed over the ring every round, no Spark job per round
        comm = ring * state + 2 * (workers - 1) * latency_s
        return k * step_s / (k * step_s + comm)
    fan_in = max(1.0, workers ** (1 / depth))
    comm = state / bw + depth * fan_in * state / bw + job_s + workers * task_s
    return k * step_s / (k * step_s + comm)


def projection_table(w2_step_s, resnet_step_s=(0.8, 0.08), workers=(8, 64, 512), gbits=(10, 25), **kw):
    """Markdown rows: model, compute per step, strategy, network, efficiency at each worker count."""
    lines = ["| model | compute s/step/worker | strategy | network | " + " | ".join(f"W={w}" for w in workers) + " |",
             "|---|---|---|---|" + "---|" * len(workers)]
    cases = [("W2 (0.67M params)", W2_PARAMS, w2_step_s)] + [
        (f"ResNet50-sized (25.6M)", RESNET50_PARAMS, s) for s in resnet_step_s]
    for name, params, step in cases:
        for strategy in ("allreduce", "averaging", "averaging-ring"):
            for g in gbits:
                effs = [efficiency(strategy, w, params, step, g, **kw) for w in workers]
                lines.append(f"| {name} | {step:.3g} | {strategy}{' (k=16)' if strategy.startswith('averaging') else ''} | "
                             f"{g} Gbit/s | " + " | ".join(f"{e:.0%}" for e in effs) + " |")
    return "\n".join(lines)
