"""Keras 3 (TensorFlow backend) reference rates for W3 and W4, run in a subprocess by bench_w3.py / bench_w4.py so that
TensorFlow's thread pools are set before it starts:

    python bench/keras_ref.py w3|w4 THREADS  ->  prints one JSON line {"samples_per_s": ..., "step_s": ...}

Keras's own training loop (`model.fit`, default compile options: XLA where Keras enables it), synthetic seeded data of
the workload's shapes; one warm-up epoch, then the median of the timed epochs' per-step times (an epoch-end callback
measures whole epochs of STEPS steps, so per-step Python callback overhead is not timed).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time

STEPS, EPOCHS = 20, 4


def main(workload: str, threads: int):
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    if workload == "w3":
        batch = 64
        x = rng.normal(size=(batch * STEPS, 28, 28, 1)).astype(np.float32)
        y = rng.integers(0, 10, size=batch * STEPS)
        m = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(20, 5), layers.MaxPooling2D(2),
                              layers.Conv2D(50, 5), layers.MaxPooling2D(2), layers.Flatten(),
                              layers.Dense(500, activation="relu"), layers.Dense(10, activation="softmax")])
    elif workload == "w4":
        batch = 32
        x = rng.normal(size=(batch * STEPS, 50, 64)).astype(np.float32)
        y = rng.integers(0, 10, size=batch * STEPS)
        m = keras.Sequential([keras.Input((50, 64)), layers.LSTM(256), layers.Dense(10, activation="softmax")])
    else:
        raise SystemExit(f"unknown workload {workload!r}: w3 or w4")
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    m.fit(x, y, batch_size=batch, epochs=EPOCHS, shuffle=False, verbose=0, callbacks=[Timer()])
    step = statistics.median(times[1:]) / STEPS
    print(json.dumps({"samples_per_s": batch / step, "step_s": step}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
