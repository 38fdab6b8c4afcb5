"""A real Spark standalone cluster on loopback only (master + 2 workers of 1 core each, started and stopped by this
module with Spark's own spark-daemon.sh), and both spark-submit paths: the Python example and the Java main."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("pyspark")

import pydl  # noqa: E402
import pydl.spark  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.5)
    return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    home = pydl.spark.pyspark_dir()
    tmp = tmp_path_factory.mktemp("spark-cluster")
    env = dict(os.environ, SPARK_HOME=home, SPARK_LOCAL_IP="127.0.0.1", SPARK_LOG_DIR=str(tmp / "logs"),
               SPARK_PID_DIR=str(tmp / "pids"), SPARK_WORKER_DIR=str(tmp / "work"), SPARK_IDENT_STRING="pydltest",
               PYSPARK_PYTHON=sys.executable, SPARK_NO_DAEMONIZE="")
    env.pop("SPARK_NO_DAEMONIZE")
    daemon = os.path.join(home, "sbin", "spark-daemon.sh")
    port = free_port()
    master = f"spark://127.0.0.1:{port}"
    started = []

    def start(cls, instance, *args):
        subprocess.run([daemon, "start", cls, str(instance), *args], env=env, check=True, capture_output=True,
                       timeout=120)
        started.append((cls, instance))

    try:
        start("org.apache.spark.deploy.master.Master", 1, "--host", "127.0.0.1", "--port", str(port),
              "--webui-port", str(free_port()))
        assert wait_for_port(port, 90), "the Spark master did not open its port"
        for i in (1, 2):
            start("org.apache.spark.deploy.worker.Worker", i, "--host", "127.0.0.1", "--cores", "1", "--memory",
                  "1g", "--webui-port", str(free_port()), master)
        yield master, env
    finally:
        for cls, instance in reversed(started):
            subprocess.run([daemon, "stop", cls, str(instance)], env=env, capture_output=True, timeout=120)


CONF = {"spark.executor.cores": "1", "spark.cores.max": "2", "spark.executor.memory": "768m",
        "spark.ui.enabled": "false", "spark.driver.host": "127.0.0.1"}


def submit(cmd, env, timeout=420):
    env = dict(env, PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""))
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    return r.stdout


def test_spark_submit_python_script(cluster):
    """One application trains with both strategies (one driver start instead of two: CI time)."""
    master, env = cluster
    cmd = pydl.spark.submit_command(os.path.join(ROOT, "examples", "spark_mnist.py"), master, conf=CONF,
                                    args=["--strategy", ",".join(pydl.spark.STRATEGIES), "--epochs", "2",
                                          "--rows", "2000", "--workers", "2"])
    out = submit(cmd, env, timeout=600)
    for strategy in pydl.spark.STRATEGIES:
        acc = float(out.split(f"spark_mnist {strategy}: held-out accuracy ")[1].split()[0])
        assert acc >= 0.85, out


def test_spark_submit_java_main_class(cluster, tmp_path):
    from pydl.demo import load_digits

    sys.path.insert(0, os.path.join(ROOT, "examples"))
    from spark_mnist import mlp

    master, env = cluster
    x, y, _, _ = load_digits()
    np.save(tmp_path / "x.npy", x[:2000])
    np.save(tmp_path / "y.npy", y[:2000].astype(np.int32))
    mlp().save(tmp_path / "in.pydl")
    cmd = pydl.spark.submit_command(pydl.spark.spark_jar(), master, main_class="org.pydl.spark.TrainMain", conf=CONF,
                                    args=["--model", tmp_path / "in.pydl", "--x", tmp_path / "x.npy", "--y",
                                          tmp_path / "y.npy", "--out", tmp_path / "out.pydl", "--strategy",
                                          "allreduce", "--epochs", "2", "--workers", "2"])
    out = submit(cmd, env)
    assert "pydl.spark TrainMain result" in out, out
    trained = pydl.load(tmp_path / "out.pydl")
    _, acc = trained.evaluate(x[:2000], y[:2000], verbose=0)
    assert acc >= 0.85
