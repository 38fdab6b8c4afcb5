"""Data-parallel training of pydl models inside Spark executors (mirrors ``org.pydl.spark.SparkTrainer``).

    >>> from pyspark.sql import SparkSession
    >>> import pydl.spark
    >>> spark = (SparkSession.builder.master("local[2]")
    ...          .config("spark.jars", pydl.spark.jars_conf()).getOrCreate())
    >>> df = spark.createDataFrame([(x.tolist(), int(y)) for x, y in zip(x_train, y_train)], ["features", "label"])
    >>> trainer = pydl.spark.SparkTrainer(spark, model, strategy="allreduce", batch_size=64)
    >>> trained = trainer.fit(df, epochs=3)          # a new pydl model; `model` is unchanged
    >>> trainer.metrics[-1]["samples_per_s"]
    >>> trainer.evaluate(test_df)                    # {'loss': ..., 'accuracy': ..., 'samples': ...}
    >>> trainer.predict(test_df)                     # test_df + a 'prediction' column (array<float>)
    >>> trainer.fit(df, epochs=6, checkpoint_dir="hdfs:///ckpt/run", resume=True)   # per-epoch checkpoints

The driver talks to Spark's JVM through py4j with coarse calls only: the model goes in as pydl model-file bytes and
comes back the same way. That JVM (and every executor) needs pydl.jar and pydl-spark.jar: ``spark.jars`` or
``spark-submit --jars`` with :func:`jars`. pydl-spark.jar is compiled against the installed pyspark's own jars
(shipped one if it matches, else built once from the shipped sources into ``~/.cache/pydl/spark/``).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import zipfile

from . import _jvm

STRATEGIES = ("averaging", "allreduce")
_HERE = os.path.dirname(os.path.abspath(__file__))


def pyspark_dir() -> str:
    """The installed pyspark package directory (its ``jars/`` holds Spark, jackson, slf4j...)."""
    try:
        import pyspark
    except ImportError:
        raise ImportError("pydl.spark needs pyspark: pip install pyspark (Spark 4, Java 17+)") from None
    return os.path.dirname(os.path.abspath(pyspark.__file__))


def _spark_version() -> str:
    import pyspark

    return pyspark.__version__


def _sources_dir() -> str:
    for d in (os.path.join(_HERE, "_lib", "spark-src"),
              os.path.join(os.path.dirname(_HERE), "spark", "src", "main", "java")):
        if os.path.isdir(d):
            return d
    raise FileNotFoundError("pydl-spark sources not found (neither pydl/_lib/spark-src nor spark/src/main/java)")


def _jar_spark_version(jar: str) -> str | None:
    try:
        with zipfile.ZipFile(jar) as z:
            return z.read("org/pydl/spark/spark-version.txt").decode().strip()
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def javac_command(sources: list[str], classpath: list[str], out_dir: str, javac: str = "javac") -> list[str]:
    """The javac command line that compiles pydl-spark (pure: tested without a JDK or a cluster)."""
    return [javac, "--release", "17", "-encoding", "UTF-8", "-Xlint:-options", "-cp", os.pathsep.join(classpath),
            "-d", out_dir, *sources]


def _javac() -> str:
    home = os.environ.get("JAVA_HOME")
    cand = os.path.join(home, "bin", "javac") if home else shutil.which("javac")
    if not cand or not os.path.isfile(cand):
        raise RuntimeError("building pydl-spark.jar needs a JDK 17+ (javac), as building pydl does; set JAVA_HOME")
    return cand


def _build_jar(dest: str) -> str:
    src = _sources_dir()
    sources = sorted(os.path.join(r, f) for r, _, fs in os.walk(src) for f in fs if f.endswith(".java"))
    with tempfile.TemporaryDirectory() as tmp:
        classes = os.path.join(tmp, "classes")
        cmd = javac_command(sources, [_jvm.jar_path(), os.path.join(pyspark_dir(), "jars", "*")], classes, _javac())
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"compiling pydl-spark failed:\n{r.stderr[-4000:]}")
        os.makedirs(os.path.join(classes, "org", "pydl", "spark"), exist_ok=True)
        with open(os.path.join(classes, "org", "pydl", "spark", "spark-version.txt"), "w") as f:
            f.write(_spark_version())
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        part = dest + f".{os.getpid()}.tmp"
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
            for r_, _, fs in os.walk(classes):
                for f in fs:
                    full = os.path.join(r_, f)
                    z.write(full, os.path.relpath(full, classes))
        os.replace(part, dest)   # atomic: concurrent builders race harmlessly
    return dest


def spark_jar() -> str:
    """Path of pydl-spark.jar matching the installed pyspark: ``PYDL_SPARK_JAR``, the one built beside
    ``PYDL_JAR``, the packaged one, else one compiled once into ``~/.cache/pydl/spark/<hash>/``."""
    env = os.environ.get("PYDL_SPARK_JAR")
    if env:
        return env
    version = _spark_version()
    candidates = []
    if os.environ.get("PYDL_JAR"):
        candidates.append(os.path.join(os.path.dirname(os.environ["PYDL_JAR"]), "pydl-spark.jar"))
    candidates.append(os.path.join(_HERE, "_lib", "pydl-spark.jar"))
    for c in candidates:
        if os.path.isfile(c) and _jar_spark_version(c) == version:
            return c
    src = _sources_dir()
    h = hashlib.sha256(version.encode())
    for r, _, fs in sorted(os.walk(src)):
        for f in sorted(fs):
            with open(os.path.join(r, f), "rb") as fh:
                h.update(f.encode() + fh.read())
    with open(_jvm.jar_path(), "rb") as fh:
        h.update(hashlib.sha256(fh.read()).digest())
    dest = os.path.join(os.path.expanduser("~"), ".cache", "pydl", "spark", h.hexdigest()[:16], "pydl-spark.jar")
    return dest if os.path.isfile(dest) else _build_jar(dest)


def jars() -> list[str]:
    """The jars Spark's driver and executors need: pydl.jar and pydl-spark.jar (for ``--jars``/``spark.jars``)."""
    return [_jvm.jar_path(), spark_jar()]


def jars_conf() -> str:
    """:func:`jars` as the comma-separated value of ``spark.jars`` / ``spark-submit --jars``."""
    return ",".join(jars())


def submit_command(script_or_jar: str, master: str, *, main_class: str | None = None, args=(),
                   spark_home: str | None = None, conf: dict | None = None) -> list[str]:
    """The spark-submit command line for a Python script, or (``main_class``) a Java main in pydl-spark.jar.
    Pure: tested without a cluster."""
    home = spark_home or pyspark_dir()
    cmd = [os.path.join(home, "bin", "spark-submit"), "--master", master]
    for k, v in (conf or {}).items():
        cmd += ["--conf", f"{k}={v}"]
    if main_class:
        others = [j for j in jars() if os.path.abspath(j) != os.path.abspath(script_or_jar)]
        cmd += ["--class", main_class, "--jars", ",".join(others), script_or_jar]
    else:
        cmd += ["--jars", jars_conf(), script_or_jar]
    return cmd + [str(a) for a in args]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, seconds: float) -> bool:
    import socket
    import time

    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.5)
    return False


class LocalCluster:
    """A Spark standalone cluster on loopback only: one master and ``workers`` worker daemons of ``cores`` cores,
    started with the pyspark installation's own ``sbin/spark-daemon.sh`` under ``directory`` (logs, pids, executor
    working directories), for tests and benchmarks. A context manager; :meth:`stop` stops every daemon it started.

        with pydl.spark.LocalCluster(workers=2) as c:
            subprocess.run(pydl.spark.submit_command("app.py", c.master), env=c.env)
    """

    def __init__(self, directory: str, workers: int = 2, cores: int = 1, memory: str = "1g"):
        import sys

        self.home = pyspark_dir()
        self.directory = str(directory)
        self.workers, self.cores, self.memory = workers, cores, memory
        d = self.directory
        self.env = dict(os.environ, SPARK_HOME=self.home, SPARK_LOCAL_IP="127.0.0.1",
                        SPARK_LOG_DIR=os.path.join(d, "logs"), SPARK_PID_DIR=os.path.join(d, "pids"),
                        SPARK_WORKER_DIR=os.path.join(d, "work"), SPARK_IDENT_STRING="pydl" + str(os.getpid()),
                        PYSPARK_PYTHON=sys.executable)
        self.env.pop("SPARK_NO_DAEMONIZE", None)
        self.port = _free_port()
        self.master = f"spark://127.0.0.1:{self.port}"
        self._started: list[tuple[str, int]] = []

    def _daemon(self, action, cls, instance, *args):
        subprocess.run([os.path.join(self.home, "sbin", "spark-daemon.sh"), action, cls, str(instance), *args],
                       env=self.env, check=action == "start", capture_output=True, timeout=120)

    def start(self) -> "LocalCluster":
        master = "org.apache.spark.deploy.master.Master"
        self._daemon("start", master, 1, "--host", "127.0.0.1", "--port", str(self.port), "--webui-port",
                     str(_free_port()))
        self._started.append((master, 1))
        if not _wait_for_port(self.port, 90):
            self.stop()
            raise RuntimeError(f"the Spark master did not open port {self.port}; logs in {self.directory}/logs")
        worker = "org.apache.spark.deploy.worker.Worker"
        for i in range(1, self.workers + 1):
            self._daemon("start", worker, i, "--host", "127.0.0.1", "--cores", str(self.cores), "--memory",
                         self.memory, "--webui-port", str(_free_port()), self.master)
            self._started.append((worker, i))
        return self

    def stop(self) -> None:
        for cls, instance in reversed(self._started):
            self._daemon("stop", cls, instance)
        self._started.clear()

    def executor_pids(self) -> list[int]:
        """PIDs of the executor JVMs the workers run now (each works in ``<directory>/work/<app>/<id>``)."""
        work = os.path.realpath(os.path.join(self.directory, "work")) + os.sep
        pids = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                cwd = os.readlink(f"/proc/{p}/cwd")
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if cwd.startswith(work) and b"CoarseGrainedExecutorBackend" in cmd:
                pids.append(int(p))
        return sorted(pids)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class SparkTrainer:
    """Trains a compiled pydl model on a Spark DataFrame with ``features`` (array of numbers or ml Vector) and
    ``label`` columns; mirrors the Java class ``org.pydl.spark.SparkTrainer``.

    Args:
        spark: the SparkSession (its JVM must have :func:`jars` on its classpath).
        model: a compiled single-input, single-output float32 pydl model; it is not modified.
        strategy: ``"averaging"`` (each worker trains ``averaging_frequency`` minibatches, then parameters and
            optimizer state are averaged) or ``"allreduce"`` (gradients summed every step over a ring between
            barrier tasks: the same as one process with a global batch of ``batch_size * num_workers``).
        num_workers: partitions/tasks (default: the cluster's default parallelism); the data is repartitioned
            to it when needed.
        batch_size: minibatch rows per worker.
        averaging_frequency, aggregation_depth: averaging mode only.
        exchange: averaging mode: ``"driver"`` (one Spark job per round: the driver broadcasts the average and
            ``treeAggregate`` sums the states; ordinary tasks that Spark retries) or ``"ring"`` (one barrier job
            for all epochs; the workers average their states over the all-reduce ring after each round: no Spark
            job per round; needs num_workers task slots at once, like allreduce).
        job_timeout: seconds after which a round/epoch job is cancelled with an error; comm_timeout: seconds
            a worker waits for a peer (all-reduce); slot_wait: seconds all-reduce waits for enough task slots
            (executors) before failing; allreduce_retries: how often a failed all-reduce job (Spark never
            re-runs a failed barrier result stage: a lost executor, a broken ring) is submitted again, from the
            same state, once the task slots are back (bad input and timeouts are not retried).

    Attributes:
        metrics: one dict per averaging round (averaging) or epoch (allreduce): loss, samples, samples_per_s,
            seconds and its split into compute_s, comm_s and scheduling_s, startup_s (the part of seconds that is
            this epoch's share of a barrier job's one-time start-up and collection; seconds - startup_s is the
            steady-state time), native_threads (pydl's native threads in each task: ``spark.task.cpus``).
    """

    def __init__(self, spark, model, strategy: str = "averaging", *, num_workers: int | None = None,
                 batch_size: int = 32, averaging_frequency: int = 5, aggregation_depth: int = 2,
                 exchange: str = "driver", compression: str = "none", features_col: str = "features",
                 label_col: str = "label",
                 shuffle: bool = True, seed: int = 0,
                 job_timeout: float = 1800, comm_timeout: float = 120, slot_wait: float = 60,
                 allreduce_retries: int = 3, verbose: bool = True):
        if strategy not in STRATEGIES:
            raise ValueError(f"SparkTrainer: strategy must be one of {STRATEGIES}. Received: strategy={strategy!r}")
        self.spark = spark
        self.model = model
        self.strategy = strategy
        if exchange not in ("driver", "ring"):
            raise ValueError(f"SparkTrainer: exchange must be 'driver' or 'ring'. Received: exchange={exchange!r}")
        if compression not in ("none", "fp16"):
            raise ValueError(f"SparkTrainer: compression must be 'none' or 'fp16'. Received: compression={compression!r}")
        if compression == "fp16" and strategy != "allreduce":
            raise ValueError(f"SparkTrainer: compression='fp16' compresses all-reduce gradients; strategy={strategy!r} "
                             "exchanges parameters, which stay float: use strategy='allreduce' or compression='none'")
        self.options = dict(num_workers=num_workers or 0, batch_size=batch_size,
                            averaging_frequency=averaging_frequency, aggregation_depth=aggregation_depth,
                            exchange=exchange, compression=compression,
                            features_col=features_col, label_col=label_col, shuffle=shuffle, seed=seed,
                            job_timeout=job_timeout, comm_timeout=comm_timeout, slot_wait=slot_wait,
                            allreduce_retries=allreduce_retries, verbose=verbose)
        self.metrics: list[dict] = []
        self.trained = None

    def _java_trainer(self):
        jvm = self.spark._jvm
        cls = jvm.org.pydl.spark.SparkTrainer
        from py4j.java_gateway import JavaClass

        if not isinstance(cls, JavaClass):
            raise RuntimeError("org.pydl.spark.SparkTrainer is not on the Spark driver's classpath: start the "
                               "SparkSession with .config('spark.jars', pydl.spark.jars_conf()) or spark-submit "
                               "--jars with pydl.spark.jars()")
        o = self.options
        t = cls(self.spark._jsc)
        (t.strategy(self.strategy).numWorkers(int(o["num_workers"])).batchSize(int(o["batch_size"]))
         .averagingFrequency(int(o["averaging_frequency"])).aggregationDepth(int(o["aggregation_depth"]))
         .exchange(o["exchange"]).compression(o["compression"])
         .featuresCol(o["features_col"]).labelCol(o["label_col"]).shuffle(bool(o["shuffle"]))
         .seed(int(o["seed"])).jobTimeoutSeconds(float(o["job_timeout"]))
         .commTimeoutSeconds(float(o["comm_timeout"])).slotWaitSeconds(float(o["slot_wait"]))
         .allReduceRetries(int(o["allreduce_retries"])).verbose(bool(o["verbose"])))
        return t

    def fit(self, df, epochs: int = 1, *, checkpoint_dir: str | None = None, resume: bool = False):
        """Trains on ``df`` for ``epochs`` epochs; returns the trained model (a new pydl model). ``df``: a DataFrame
        with the features and label columns, an RDD of ``(features, label)`` pairs, or (py4j) a ``JavaRDD`` of
        ``org.pydl.train.DataSet`` built in the JVM.

        ``checkpoint_dir``: a local path or Hadoop FileSystem URI (``hdfs://...``); the model (parameters,
        optimizer state, step counters) is saved there after every epoch. ``resume=True`` continues from its latest
        checkpoint (the epochs it holds count towards ``epochs``) instead of from ``model``."""
        data = _model_bytes(self.model)
        java_rdd = None
        from py4j.java_gateway import JavaObject

        if isinstance(df, JavaObject):
            if "JavaRDD" not in str(df.getClass().getName()):
                raise TypeError(f"SparkTrainer.fit: a Java {df.getClass().getName()} is not a JavaRDD of pydl DataSets")
            java_rdd = df                                                # a JavaRDD of org.pydl.train.DataSet
        elif not hasattr(df, "_jdf"):
            if hasattr(df, "toDF") and hasattr(df, "mapPartitions"):      # a pyspark RDD of (features, label)
                df = _rdd_to_df(df)
            else:
                raise TypeError("SparkTrainer.fit: expected a DataFrame, an RDD of (features, label) pairs or a "
                                f"JavaRDD of pydl DataSets, received {type(df).__name__}")
        try:
            t = self._java_trainer()
            t.checkpointDir(checkpoint_dir and str(checkpoint_dir)).resume(bool(resume))
            out = (t.fitDataSetsBytes(bytearray(data), java_rdd, int(epochs)) if java_rdd is not None
                   else t.fitBytes(bytearray(data), df._jdf, int(epochs)))
        except Exception as e:  # noqa: BLE001 - py4j's or pyspark's wrapper of a Java exception
            raise _translate(e) from None
        self.metrics = json.loads(t.metricsJson())
        self.trained = _model_from_bytes(bytes(out))
        return self.trained

    def evaluate(self, df, model=None, *, batch_size: int = 256) -> dict:
        """Loss and metrics (e.g. ``accuracy``) of ``model`` (default: the last model :meth:`fit` returned, else the
        constructor's) over all rows of ``df``, computed in the executors: a dict like ``model.evaluate``'s
        values, plus ``samples``."""
        try:
            r = self._java_trainer().evaluateJson(bytearray(_model_bytes(self._model_for(model))), df._jdf,
                                                   int(batch_size))
        except Exception as e:  # noqa: BLE001
            raise _translate(e) from None
        return json.loads(r)

    def predict(self, df, model=None, *, prediction_col: str = "prediction", batch_size: int = 256):
        """``df`` with a column ``prediction_col`` (array of float: the model's output for the row's features),
        computed in the executors. Lazy like any DataFrame transformation; no label column needed."""
        from pyspark.sql import DataFrame

        try:
            j = self._java_trainer().predictBytes(bytearray(_model_bytes(self._model_for(model))), df._jdf,
                                                  str(prediction_col), int(batch_size))
        except Exception as e:  # noqa: BLE001
            raise _translate(e) from None
        return DataFrame(j, self.spark)

    def _model_for(self, model):
        return model if model is not None else getattr(self, "trained", None) or self.model


def _rdd_to_df(rdd):
    """An RDD of (features, label) pairs (NumPy arrays, lists or numbers) as the DataFrame fit takes."""
    import numpy as np

    def row(r):
        x, y = r
        y = np.asarray(y, dtype=float)
        return (np.asarray(x, dtype=float).ravel().tolist(), float(y) if y.ndim == 0 else y.ravel().tolist())

    return rdd.map(row).toDF(["features", "label"])


def _model_bytes(model) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.pydl")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def _model_from_bytes(data: bytes):
    from .models import load

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.pydl")
        with open(path, "wb") as f:
            f.write(data)
        return load(path)


def _translate(e):
    """A Java IllegalArgumentException becomes ValueError, any other Java exception RuntimeError (message kept).
    pyspark wraps some Java exceptions in its own classes (``CapturedException``), py4j the rest."""
    java = getattr(e, "java_exception", None)
    if java is not None:
        cls, msg = java.getClass().getName(), java.getMessage()
    elif type(e).__module__.startswith("pyspark.errors"):
        cls, msg = "java.lang." + type(e).__name__, getattr(e, "_desc", None) or str(e)
    else:
        return e
    msg = str(msg).split("\n")[0] if msg else cls
    if cls == "java.lang.IllegalArgumentException":
        return ValueError(msg)
    return RuntimeError(f"{cls}: {msg}")
