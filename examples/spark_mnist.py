"""Trains the MNIST-digits MLP on Spark with pydl.spark (run it with spark-submit, or plain python for local[2]).

    spark-submit --master spark://127.0.0.1:7077 --jars "$(python -c 'import pydl.spark as s; print(s.jars_conf())')" \
        examples/spark_mnist.py --strategy allreduce --epochs 3

Prints the held-out accuracy of the Spark-trained model (evaluated in the executors) and the metrics of the last
round/epoch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # run from a checkout

import pydl  # noqa: E402
import pydl.spark  # noqa: E402
from pydl import layers  # noqa: E402
from pydl.demo import load_digits  # noqa: E402


def mlp(seed=0):
    m = pydl.Sequential([layers.Input(784), layers.Dense(128, activation="relu"),
                         layers.Dense(10, activation="softmax")], seed=seed)
    m.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--strategy", default="averaging", help="averaging, allreduce, or both comma-separated")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--rows", type=int, default=4000, help="training rows (of 4,000)")
    ap.add_argument("--out", default=None, help="save the trained model here")
    a = ap.parse_args(argv)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("pydl spark_mnist")
    if "PYSPARK_GATEWAY_PORT" not in os.environ:   # plain `python`, not spark-submit: a local[2] session
        builder = builder.master("local[2]").config("spark.jars", pydl.spark.jars_conf())
    spark = builder.getOrCreate()
    try:
        x, y, xt, yt = load_digits()
        x, y = x[:a.rows], y[:a.rows]
        df = spark.createDataFrame([(r.tolist(), int(c)) for r, c in zip(x, y)], ["features", "label"]).cache()
        test = spark.createDataFrame([(r.tolist(), int(c)) for r, c in zip(xt, yt)], ["features", "label"])
        for strategy in a.strategy.split(","):
            trainer = pydl.spark.SparkTrainer(spark, mlp(), strategy=strategy, batch_size=a.batch_size,
                                              num_workers=a.workers or None)
            model = trainer.fit(df, epochs=a.epochs)
            ev = trainer.evaluate(test)   # distributed: each executor evaluates its partitions
            print(f"spark_mnist {strategy}: held-out accuracy {ev['accuracy']:.4f} loss {ev['loss']:.4f}")
            print("spark_mnist metrics " + json.dumps(trainer.metrics[-1]))
            if a.out:
                model.save(f"{a.out}.{strategy}" if "," in a.strategy else a.out)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
