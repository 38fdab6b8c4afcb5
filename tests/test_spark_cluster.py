"""A real Spark standalone cluster on loopback only (master + 2 workers of 1 core each, started and stopped by this
module with Spark's own spark-daemon.sh), and both spark-submit paths: the Python example and the Java main."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("pyspark")

import pydl  # noqa: E402
import pydl.spark  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with pydl.spark.LocalCluster(tmp_path_factory.mktemp("spark-cluster"), workers=2, cores=1, memory="1g") as c:
        yield c


CONF = {"spark.executor.cores": "1", "spark.cores.max": "2", "spark.executor.memory": "768m",
        "spark.ui.enabled": "false", "spark.driver.host": "127.0.0.1"}


def submit(cmd, env, timeout=420):
    env = dict(env, PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""))
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    return r.stdout


def test_spark_submit_python_script(cluster):
    """One application trains with both strategies (one driver start instead of two: CI time)."""
    master, env = cluster.master, cluster.env
    cmd = pydl.spark.submit_command(os.path.join(ROOT, "examples", "spark_mnist.py"), master, conf=CONF,
                                    args=["--strategy", ",".join(pydl.spark.STRATEGIES), "--epochs", "2",
                                          "--rows", "2000", "--workers", "2"])
    out = submit(cmd, env, timeout=600)
    for strategy in pydl.spark.STRATEGIES:
        acc = float(out.split(f"spark_mnist {strategy}: held-out accuracy ")[1].split()[0])
        assert acc >= 0.85, out


def java_map(text):
    """A printed java.util.Map of numbers ("{loss=0.2, accuracy=0.9}") as a dict."""
    return {k: float(v) for k, v in (p.split("=") for p in text.strip().strip("{}").split(", "))}


def test_spark_submit_java_main_class(cluster, tmp_path):
    """The Java main trains on the rows as an RDD of pydl DataSets (Java-serialized to the executors by Spark),
    all-reduce, checkpointed; then evaluates distributed over a DataFrame."""
    from pydl.demo import load_digits

    sys.path.insert(0, os.path.join(ROOT, "examples"))
    from spark_mnist import mlp

    master, env = cluster.master, cluster.env
    x, y, _, _ = load_digits()
    np.save(tmp_path / "x.npy", x[:2000])
    np.save(tmp_path / "y.npy", y[:2000].astype(np.int32))
    mlp().save(tmp_path / "in.pydl")
    cmd = pydl.spark.submit_command(pydl.spark.spark_jar(), master, main_class="org.pydl.spark.TrainMain", conf=CONF,
                                    args=["--model", tmp_path / "in.pydl", "--x", tmp_path / "x.npy", "--y",
                                          tmp_path / "y.npy", "--out", tmp_path / "out.pydl", "--strategy",
                                          "allreduce", "--epochs", "2", "--workers", "2", "--checkpoint-dir",
                                          tmp_path / "ckpt", "--input", "datasets"])
    out = submit(cmd, env)
    assert "pydl.spark TrainMain result" in out, out
    local, dist = (java_map(out.split(f"pydl.spark TrainMain {k} ")[1].split("\n")[0])
                   for k in ("result", "distributed evaluate"))
    assert dist["samples"] == 2000 and dist["accuracy"] == pytest.approx(local["accuracy"], abs=1e-9)
    assert sorted(f for f in os.listdir(tmp_path / "ckpt") if not f.startswith(".")) == [
        "epoch-000001.pydl", "epoch-000002.pydl", "latest.json"]
    trained = pydl.load(tmp_path / "out.pydl")
    _, acc = trained.evaluate(x[:2000], y[:2000], verbose=0)
    assert acc >= 0.85


# ---- fault: an executor JVM killed mid-training (this process is the driver: one SparkContext, after the above) ----
@pytest.fixture(scope="module")
def session(cluster):
    from pyspark.sql import SparkSession

    b = SparkSession.builder.master(cluster.master).appName("pydl-test-fault")
    for k, v in dict(CONF, **{"spark.jars": pydl.spark.jars_conf()}).items():
        b = b.config(k, v)
    s = b.getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def digits_df(spark, n):
    from pydl.demo import load_digits

    x, y, xte, yte = load_digits()
    df = spark.sparkContext.parallelize([(r.tolist(), int(c)) for r, c in zip(x[:n], y[:n])], 2).toDF(
        ["features", "label"])
    return df, xte, yte


def fit_killing_an_executor(cluster, trainer, df, epochs, ckpt):
    """Runs trainer.fit in a thread; once the first epoch's checkpoint exists, SIGKILLs one executor JVM (by PID).
    Returns (model or exception, the killed PID, the executor PIDs at the end)."""
    result = {}

    def run():
        try:
            result["model"] = trainer.fit(df, epochs=epochs, checkpoint_dir=ckpt)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            result["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    deadline = time.time() + 300
    while not os.path.exists(os.path.join(ckpt, "latest.json")) and time.time() < deadline and t.is_alive():
        time.sleep(0.05)
    assert t.is_alive(), f"training ended before the kill: {result}"
    victim = cluster.executor_pids()[0]
    os.kill(victim, signal.SIGKILL)
    t.join(600)
    assert not t.is_alive(), "training hung after the executor was killed"
    return result.get("model", result.get("error")), victim, cluster.executor_pids()


def trainer_for(session, strategy, exchange="driver"):
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    from spark_mnist import mlp

    return pydl.spark.SparkTrainer(session, mlp(), strategy, num_workers=2, batch_size=32, averaging_frequency=4,
                                   exchange=exchange, seed=1, verbose=False, job_timeout=240, comm_timeout=30,
                                   slot_wait=120)


def test_averaging_survives_a_killed_executor(cluster, session, tmp_path):
    """Spark re-runs the lost tasks (on the executor the worker daemon starts in place of the killed one); every
    round starts from the broadcast state, so the run ends as if nothing had happened."""
    df, xte, yte = digits_df(session, 2000)
    epochs = 5
    base = trainer_for(session, "averaging").fit(df, epochs=epochs)
    _, acc0 = base.evaluate(xte, yte, verbose=0)
    model, victim, after = fit_killing_an_executor(cluster, trainer_for(session, "averaging"), df, epochs,
                                                   str(tmp_path / "ckpt"))
    assert not isinstance(model, Exception), model
    assert victim not in after and len(after) == 2   # a new executor replaced the killed one
    _, acc = model.evaluate(xte, yte, verbose=0)
    assert abs(acc - acc0) <= 0.01, (acc0, acc)


@pytest.mark.parametrize("strategy,exchange", [("allreduce", "driver"), ("averaging", "ring")])
def test_barrier_stage_is_retried_after_a_killed_executor(cluster, session, tmp_path, strategy, exchange):
    """All-reduce, and averaging over the ring (checkpointed: one barrier job per epoch). Killing an executor fails the running barrier stage
    (the dead rank's peer gets EOF on the ring at once, the dead one's task is lost), and Spark aborts the job: it
    never re-runs a failed barrier result stage. The trainer submits the job again (allreduce_retries), every rank
    again from the epoch's broadcast state, once the worker daemon has started a new executor: the run completes,
    with the accuracy of an uninterrupted run."""
    df, xte, yte = digits_df(session, 2000)
    epochs = 4
    base = trainer_for(session, strategy, exchange).fit(df, epochs=epochs)
    _, acc0 = base.evaluate(xte, yte, verbose=0)
    t0 = time.time()
    model, victim, after = fit_killing_an_executor(cluster, trainer_for(session, strategy, exchange), df, epochs,
                                                   str(tmp_path / "ckpt"))
    assert not isinstance(model, Exception), model
    assert time.time() - t0 < 240
    assert victim not in after and len(after) == 2
    _, acc = model.evaluate(xte, yte, verbose=0)
    assert abs(acc - acc0) <= 0.01, (acc0, acc)
