"""pydl.spark: pure functions, then real local[2] Spark training (no mocks). The loopback standalone cluster and
spark-submit paths are in test_spark_cluster.py."""
from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

pyspark = pytest.importorskip("pyspark")

import pydl  # noqa: E402
import pydl.spark  # noqa: E402
from pydl import layers  # noqa: E402


# ---- pure functions (no cluster) ---------------------------------------------------------------------------
def test_javac_command_targets_java17_and_the_given_classpath():
    cmd = pydl.spark.javac_command(["A.java", "B.java"], ["pydl.jar", "/s/jars/*"], "out", javac="/jdk/bin/javac")
    assert cmd[:3] == ["/jdk/bin/javac", "--release", "17"]
    assert cmd[cmd.index("-cp") + 1] == os.pathsep.join(["pydl.jar", "/s/jars/*"])
    assert cmd[cmd.index("-d") + 1] == "out" and cmd[-2:] == ["A.java", "B.java"]


def test_submit_command_python_script_and_java_main():
    py = pydl.spark.submit_command("app.py", "spark://127.0.0.1:7077", args=["--epochs", 2], spark_home="/spark",
                                   conf={"spark.executor.cores": "1"})
    assert py[:3] == ["/spark/bin/spark-submit", "--master", "spark://127.0.0.1:7077"]
    assert py[py.index("--conf") + 1] == "spark.executor.cores=1"
    assert py[py.index("--jars") + 1] == pydl.spark.jars_conf()
    assert py[-3:] == ["app.py", "--epochs", "2"]
    jar = pydl.spark.spark_jar()
    java = pydl.spark.submit_command(jar, "local[2]", main_class="org.pydl.spark.TrainMain", spark_home="/spark")
    assert java[java.index("--class") + 1] == "org.pydl.spark.TrainMain"
    from pydl import _jvm

    assert java[java.index("--jars") + 1] == _jvm.jar_path()
    assert java[-1] == jar


def test_spark_jar_matches_the_installed_pyspark_and_carries_no_spark_classes():
    jar = pydl.spark.spark_jar()
    with zipfile.ZipFile(jar) as z:
        names = z.namelist()
        assert z.read("org/pydl/spark/spark-version.txt").decode() == pyspark.__version__
    assert "org/pydl/spark/SparkTrainer.class" in names
    foreign = [n for n in names if not n.endswith("/") and not n.startswith(("org/pydl/spark/", "META-INF/"))]
    assert not foreign   # no Spark, jackson or slf4j class: those come from the Spark installation


def test_bad_strategy_is_rejected_before_any_spark_call():
    with pytest.raises(ValueError, match="strategy must be one of"):
        pydl.spark.SparkTrainer(None, None, strategy="sharded")
    with pytest.raises(ValueError, match="exchange must be 'driver' or 'ring'"):
        pydl.spark.SparkTrainer(None, None, exchange="gossip")
    with pytest.raises(ValueError, match="compression must be 'none' or 'fp16'"):
        pydl.spark.SparkTrainer(None, None, strategy="allreduce", compression="int8")
    with pytest.raises(ValueError, match="compression='fp16' compresses all-reduce gradients"):
        pydl.spark.SparkTrainer(None, None, strategy="averaging", compression="fp16")


# ---- local[2] --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    s = (SparkSession.builder.master("local[2]").appName("pydl-test-spark")
         .config("spark.jars", pydl.spark.jars_conf()).config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def rows_df(spark, x, y, partitions=2):
    """A DataFrame whose partition p holds the p-th contiguous slice of the rows (parallelize keeps order)."""
    data = [(r.tolist(), int(c)) for r, c in zip(x, y)]
    return spark.sparkContext.parallelize(data, partitions).toDF(["features", "label"])


def mlp(features, hidden, classes, optimizer, seed=0):
    m = pydl.Sequential([layers.Input(features), layers.Dense(hidden, activation="relu"),
                         layers.Dense(classes, activation="softmax")], seed=seed)
    m.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


@pytest.fixture(scope="module")
def digits():
    from pydl.demo import load_digits

    return load_digits()


def test_allreduce_equals_single_process_with_the_global_batch(spark, digits):
    """Two workers of 32 rows each == one process with batches of 64 made of both workers' 32-row slices."""
    x, y = digits[0][:640], digits[1][:640]
    half, b, w = len(x) // 2, 32, 2
    order = np.concatenate([np.r_[p * half + s * b: p * half + (s + 1) * b] for s in range(half // b) for p in range(w)])
    ref = mlp(784, 32, 10, pydl.optimizers.SGD(0.1, momentum=0.9))
    ref.fit(x[order], y[order], epochs=2, batch_size=b * w, shuffle=False, verbose=0)
    trainer = pydl.spark.SparkTrainer(spark, mlp(784, 32, 10, pydl.optimizers.SGD(0.1, momentum=0.9)),
                                      strategy="allreduce", num_workers=w, batch_size=b, shuffle=False,
                                      verbose=False, job_timeout=300, comm_timeout=60)
    out = trainer.fit(rows_df(spark, x, y), epochs=2)
    for got, want in zip(out.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)
    assert [m["epoch"] for m in trainer.metrics] == [0, 1]
    assert trainer.metrics[-1]["samples"] == len(x) and trainer.metrics[-1]["workers"] == w
    for m in trainer.metrics:
        assert m["compute_s"] > 0 and m["comm_s"] > 0 and m["samples_per_s"] > 0
        assert m["seconds"] == pytest.approx(m["compute_s"] + m["comm_s"] + m["scheduling_s"], rel=1e-6)
        assert m["native_threads"] == 1   # spark.task.cpus, not the machine's cores


def test_fp16_rounding_matches_numpy_float16(spark):
    """The ring's half conversion (org.pydl.spark.Fp16) against NumPy's float16 cast: round to nearest even over
    normals, subnormals, ties and the underflow edge; beyond 65504 it saturates where NumPy gives infinity."""
    rng = np.random.default_rng(0)
    halves = np.arange(0, 0x7c00, dtype=np.uint16).view(np.float16).astype(np.float64)   # every finite half >= 0
    ties = (halves[:-1] + halves[1:]) / 2                                                # exactly halfway
    v = np.concatenate([rng.standard_normal(20000) * 10.0 ** rng.integers(-9, 5, 20000), halves, ties,
                        np.nextafter(ties, 0), np.nextafter(ties, 1e9),
                        [2.0 ** -25, 2.0 ** -26, 65519.99, 65520.0, 1e9, np.inf]])
    v = np.concatenate([v, -v]).astype(np.float32)
    got = np.frombuffer(bytes(spark._jvm.org.pydl.spark.Fp16.roundTrip(bytearray(v.astype("<f4").tobytes()))), "<f4")
    with np.errstate(over="ignore"):
        want = v.astype(np.float16).astype(np.float32)
    want = np.where(np.isinf(want), np.sign(v) * 65504.0, want)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (bad.size, v[bad[:5]], got[bad[:5]], want[bad[:5]])
    assert np.isnan(np.frombuffer(bytes(spark._jvm.org.pydl.spark.Fp16.roundTrip(
        bytearray(np.float32([np.nan]).tobytes()))), "<f4")).all()


def test_allreduce_fp16_compression(spark, digits):
    """Gradients travel as halves: the result differs from the float exchange (compression is on) by no more than
    the rounding's order, and the model trains as well."""
    xtr, ytr, xte, yte = digits
    x, y = xtr[:1280], ytr[:1280]

    def fit(compression):
        t = pydl.spark.SparkTrainer(spark, mlp(784, 32, 10, pydl.optimizers.SGD(0.1, momentum=0.9)),
                                    strategy="allreduce", num_workers=2, batch_size=32, shuffle=False,
                                    compression=compression, verbose=False, job_timeout=300, comm_timeout=60)
        return t.fit(rows_df(spark, x, y), epochs=2)

    plain, half = fit("none"), fit("fp16")
    diffs = [np.abs(a - b).max() for a, b in zip(plain.get_weights(), half.get_weights())]
    assert 0 < max(diffs) < 5e-2, diffs
    acc_plain, acc_half = plain.evaluate(xte, yte, verbose=0)[1], half.evaluate(xte, yte, verbose=0)[1]
    assert acc_half > 0.8 and abs(acc_half - acc_plain) <= 0.02, (acc_plain, acc_half)


def test_allreduce_uneven_partitions_pad_with_zero_gradients(spark, digits):
    """35 rows on 2 workers: rows 0-17 and 18-34 (contiguous split). With 17-row batches worker 0 has 2 steps
    (17, 1), worker 1 one step (17): it shares a zero gradient at step 2, whose global batch is that single row."""
    x, y = digits[0][:35], digits[1][:35]
    df = spark.sparkContext.parallelize([(r.tolist(), int(c)) for r, c in zip(x, y)], 3).toDF(["features", "label"])
    trainer = pydl.spark.SparkTrainer(spark, mlp(784, 16, 10, pydl.optimizers.SGD(0.05)), strategy="allreduce",
                                      num_workers=2, batch_size=17, shuffle=False, verbose=False, job_timeout=300)
    out = trainer.fit(df, epochs=1)
    ref = mlp(784, 16, 10, pydl.optimizers.SGD(0.05))
    first = np.r_[0:17, 18:35]
    ref.fit(x[first], y[first], epochs=1, batch_size=34, shuffle=False, verbose=0)
    ref.fit(x[17:18], y[17:18], epochs=1, batch_size=1, shuffle=False, verbose=0)
    for got, want in zip(out.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)


def test_averaging_accuracy_within_one_point_of_single_process(spark, digits):
    xtr, ytr, xte, yte = digits
    epochs = 3
    single = mlp(784, 64, 10, pydl.optimizers.Adam(1e-3))
    single.fit(xtr, ytr, epochs=epochs, batch_size=32, verbose=0)
    _, acc1 = single.evaluate(xte, yte, verbose=0)
    trainer = pydl.spark.SparkTrainer(spark, mlp(784, 64, 10, pydl.optimizers.Adam(1e-3)), strategy="averaging",
                                      batch_size=32, averaging_frequency=10, verbose=False, job_timeout=300)
    model = mlp(784, 64, 10, pydl.optimizers.Adam(1e-3))
    out = trainer.fit(rows_df(spark, xtr, ytr), epochs=epochs)
    _, acc2 = out.evaluate(xte, yte, verbose=0)
    assert acc2 >= acc1 - 0.01, (acc1, acc2)
    np.testing.assert_array_equal(trainer.model.get_weights()[0], model.get_weights()[0])   # input model unchanged
    rounds = -(-len(xtr) // 2 // 320)
    assert len(trainer.metrics) == epochs * rounds
    assert sum(m["samples"] for m in trainer.metrics) == epochs * len(xtr)
    assert {m["native_threads"] for m in trainer.metrics} == {1}

    # distributed evaluation and inference of the trained model == the same model in this process
    df_test = rows_df(spark, xte, yte, partitions=3)
    ev = trainer.evaluate(df_test)
    want = out.evaluate(xte, yte, verbose=0)
    assert ev["samples"] == len(xte)
    assert ev["loss"] == pytest.approx(want[0], rel=1e-4) and ev["accuracy"] == pytest.approx(want[1], abs=1e-9)
    pred = trainer.predict(df_test.select("features"), batch_size=100).collect()
    assert [r["features"] for r in pred[:3]] == [list(map(float, r)) for r in np.asarray(xte[:3], np.float32)]
    np.testing.assert_allclose(np.array([r["prediction"] for r in pred]), out.predict(xte, verbose=0), rtol=1e-4,
                               atol=1e-6)


def test_averaging_resumed_from_a_checkpoint_equals_an_uninterrupted_run(spark, digits, tmp_path):
    """Run 1 stops after 2 of 4 epochs (its checkpoint holds parameters, Adam's slots and step counters); run 2
    resumes from it; the result equals 4 uninterrupted epochs with the same seed."""
    x, y = digits[0][:1200], digits[1][:1200]
    df = rows_df(spark, x, y)

    def trainer():
        return pydl.spark.SparkTrainer(spark, mlp(784, 32, 10, pydl.optimizers.Adam(1e-3)), "averaging",
                                       batch_size=32, averaging_frequency=4, seed=3, verbose=False, job_timeout=300)

    whole = trainer().fit(df, epochs=4)
    ckpt = str(tmp_path / "ckpt")
    trainer().fit(df, epochs=2, checkpoint_dir=ckpt)
    assert sorted(os.listdir(ckpt)) == [".epoch-000001.pydl.crc", ".epoch-000002.pydl.crc", ".latest.json.crc",
                                        "epoch-000001.pydl", "epoch-000002.pydl", "latest.json"]
    t = trainer()
    resumed = t.fit(df, epochs=4, checkpoint_dir="file://" + ckpt, resume=True)
    assert [m["epoch"] for m in t.metrics][0] == 2   # it ran epochs 3 and 4 only
    assert sorted(f for f in os.listdir(ckpt) if f.endswith(".pydl")) == ["epoch-000003.pydl", "epoch-000004.pydl"]
    for got, want in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert resumed._java.optimizer().iterations() == whole._java.optimizer().iterations()


# ---- bad input: clear errors on the driver, never a hung job ------------------------------------------------------
def small_model():
    return mlp(4, 8, 3, "adam")


def test_rdd_inputs_train_like_the_dataframe(spark, digits, tmp_path):
    """The same rows as a DataFrame, as a Python RDD of (features, label) pairs and as a JavaRDD of pydl DataSets
    (built in the JVM, shipped by Spark's Java serialization): identical partitions, identical models."""
    x, y = digits[0][:400], digits[1][:400]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y.astype(np.int32))

    def trainer():
        return pydl.spark.SparkTrainer(spark, mlp(784, 16, 10, pydl.optimizers.Adam(1e-3)), "averaging",
                                       num_workers=2, batch_size=32, averaging_frequency=2, shuffle=False,
                                       verbose=False, job_timeout=300)

    ref = trainer().fit(rows_df(spark, x, y), epochs=2).get_weights()
    pairs = trainer().fit(spark.sparkContext.parallelize(list(zip(x, y)), 3), epochs=2).get_weights()
    sets = spark._jvm.org.pydl.spark.TrainMain.dataSets(str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), True, 50)
    java = trainer().fit(spark._jsc.parallelize(sets, 3), epochs=2).get_weights()
    for a, b, c in zip(ref, pairs, java):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(c, a, rtol=1e-6, atol=1e-7)
    bad = spark._jvm.org.pydl.spark.TrainMain.dataSets(str(tmp_path / "x.npy"), str(tmp_path / "x.npy"), False, 50)
    with pytest.raises(ValueError, match=r"DataSet labels of shape \[50, 784\] have 784 values per row; the model "
                                         "needs 1"):
        trainer().fit(spark._jsc.parallelize(bad, 2), epochs=1)
    with pytest.raises(TypeError, match="expected a DataFrame"):
        trainer().fit([1, 2, 3])


def test_native_memory_estimate_and_advice(spark):
    """Native memory per task, by part, from the model and batch; the error names the setting to raise, and only
    where the cluster manager kills executors for it (YARN, Kubernetes)."""
    jvm = spark._jvm
    model = mlp(784, 16, 10, pydl.optimizers.Adam(1e-3))
    t = pydl.spark.SparkTrainer(spark, model, batch_size=32, verbose=False)._java_trainer()
    net = jvm.org.pydl.io.ModelFile.fromBytes(bytearray(pydl.spark._model_bytes(model)))
    est = {k: int(v) for k, v in dict(t.nativeMemoryEstimate(net, 1000)).items()}
    p = 4 * (784 * 16 + 16 + 16 * 10 + 10)
    assert est["parameters"] == p and est["gradients"] == p and est["optimizer_slots"] == 2 * p   # Adam: m, v
    assert est["rows"] == 1000 * (784 + 1) * 4
    assert est["activations"] == 3 * 32 * (16 + 10) * 4
    big = jvm.java.util.LinkedHashMap()
    big.put("rows", 900 << 20)
    advice = jvm.org.pydl.spark.SparkTrainer.nativeMemoryAdvice
    msg = advice("yarn", 384, 2, 900 << 20, big)
    assert "needs about 900 MiB of native (off-heap) memory (rows 900 MiB), 2 task(s) per executor" in msg
    assert "spark.executor.memoryOverhead=2048m" in msg
    assert advice("k8s://https://host:443", 4096, 2, 900 << 20, big) is None
    assert advice("spark://127.0.0.1:7077", 384, 2, 900 << 20, big) is None      # standalone does not enforce it
    assert advice("local[2]", 384, 2, 900 << 20, big) is None


def test_empty_dataframe(spark):
    from pyspark.sql.types import ArrayType, FloatType, IntegerType, StructField, StructType

    schema = StructType([StructField("features", ArrayType(FloatType())), StructField("label", IntegerType())])
    df = spark.createDataFrame([], schema)
    for strategy in pydl.spark.STRATEGIES:
        with pytest.raises(ValueError, match=r"empty \(0 rows\)"):
            pydl.spark.SparkTrainer(spark, small_model(), strategy, verbose=False, job_timeout=120).fit(df)


def test_wrong_feature_width(spark):
    df = spark.createDataFrame([([1.0, 2.0, 3.0, 4.0, 5.0], 0), ([1.0, 2.0, 3.0, 4.0, 5.0], 1)], ["features", "label"])
    with pytest.raises(ValueError, match="'features' has a row of 5 values but the model needs 4"):
        pydl.spark.SparkTrainer(spark, small_model(), "allreduce", verbose=False, job_timeout=120).fit(df)


def test_non_numeric_columns(spark):
    df = spark.createDataFrame([([1.0, 2.0, 3.0, 4.0], "cat")], ["features", "label"])
    with pytest.raises(ValueError, match="label column 'label' has type string"):
        pydl.spark.SparkTrainer(spark, small_model(), verbose=False).fit(df)
    df = spark.createDataFrame([(["a", "b", "c", "d"], 1)], ["features", "label"])
    with pytest.raises(ValueError, match="features column 'features' has type array<string>"):
        pydl.spark.SparkTrainer(spark, small_model(), verbose=False).fit(df)
    with pytest.raises(ValueError, match=r"no features column 'x'; its columns are \[features, label\]"):
        pydl.spark.SparkTrainer(spark, small_model(), features_col="x", verbose=False).fit(df)


def test_more_workers_than_rows(spark):
    df = spark.createDataFrame([([1.0, 2.0, 3.0, 4.0], i % 3) for i in range(3)], ["features", "label"])
    for strategy in pydl.spark.STRATEGIES:
        with pytest.raises(ValueError, match="5 workers but the DataFrame has only 3 rows"):
            pydl.spark.SparkTrainer(spark, small_model(), strategy, num_workers=5, verbose=False,
                                    job_timeout=120).fit(df)


def test_allreduce_with_more_workers_than_task_slots_fails_instead_of_waiting(spark):
    df = spark.createDataFrame([([1.0, 2.0, 3.0, 4.0], i % 3) for i in range(12)], ["features", "label"])
    with pytest.raises(ValueError, match="allreduce needs 3 task slots at once"):
        pydl.spark.SparkTrainer(spark, small_model(), "allreduce", num_workers=3, slot_wait=1, verbose=False,
                                job_timeout=120).fit(df)


def test_label_out_of_range_is_reported_from_the_executor(spark):
    df = spark.createDataFrame([([1.0, 2.0, 3.0, 4.0], 7), ([1.0, 2.0, 3.0, 4.0], 1)], ["features", "label"])
    with pytest.raises(ValueError, match="label 7.0 at index"):
        pydl.spark.SparkTrainer(spark, small_model(), "allreduce", verbose=False, job_timeout=120,
                                comm_timeout=30).fit(df)


def test_averaging_over_the_ring_equals_averaging_through_the_driver(spark, digits):
    """exchange="ring" (one barrier job, states averaged over the ring after each round) computes what the driver's
    rounds compute; 2 workers, uneven partitions: 289 and 288 rows, 96 rows a round, so round 4 has one row, on
    worker 0 only."""
    x, y = digits[0][:577], digits[1][:577]
    df = rows_df(spark, x, y)
    out = {}
    for exchange in ("driver", "ring"):
        t = pydl.spark.SparkTrainer(spark, mlp(784, 16, 10, pydl.optimizers.Adam(1e-3)), "averaging", num_workers=2,
                                    batch_size=32, averaging_frequency=3, exchange=exchange, seed=5, verbose=False,
                                    job_timeout=300, comm_timeout=60)
        out[exchange] = (t.fit(df, epochs=2), t.metrics)
    (driver, mdriver), (ring, mring) = out["driver"], out["ring"]
    for got, want in zip(ring.get_weights(), driver.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert ring._java.optimizer().iterations() == driver._java.optimizer().iterations()
    assert [m["epoch"] for m in mring] == [0, 1] and sum(m["samples"] for m in mring) == 2 * len(x)
    assert sum(m["loss"] * m["samples"] for m in mring) == pytest.approx(
        sum(m["loss"] * m["samples"] for m in mdriver), rel=1e-5)
