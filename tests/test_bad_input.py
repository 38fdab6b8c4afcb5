"""Malformed calls raise clean, specific Python exceptions whose messages name what was wrong.

Every case below is (id, call, expected exception type, substrings the message must contain). The substrings
check that the message names the layer or argument, the expected value/shape and the received one. Cases are
generated systematically (the same bad inputs through predict / fit / evaluate, ...). The last tests check the JVM
still works afterwards and, in a subprocess, that running every case ends with exit code 0 (no JVM abort, no
hang: the subprocess has a timeout).
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import pytest

import pydl
import pydl.ops as O
from pydl import layers, optimizers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
N = 20  # samples in the good data


class Ctx:
    """Models and data shared by the cases (created once; no case changes them)."""

    def __init__(self, tmp):
        self.tmp = tmp
        rng = np.random.RandomState(0)
        self.x = rng.rand(N, 4).astype(np.float32)
        self.y = (np.arange(N) % 3).astype(np.int64)
        self.model = pydl.Sequential([layers.Input(4), layers.Dense(8, activation="relu", name="hidden"),
                                      layers.Dense(3, activation="softmax", name="probs")], name="net", seed=0)
        self.model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        self.mse = pydl.Sequential([layers.Input(4), layers.Dense(2, name="reg_out")], name="reg", seed=0)
        self.mse.compile("sgd", "mse")
        self.uncompiled = pydl.Sequential([layers.Input(4), layers.Dense(3, name="d")], name="raw", seed=0)
        self.unbuilt = pydl.Sequential([layers.Dense(3, name="lonely")], name="nobuild", seed=0)
        self.good_pred = np.array(self.model.predict(self.x[:2]))
        # files for load
        self.random_file = os.path.join(tmp, "random.bin")
        with open(self.random_file, "wb") as f:
            f.write(np.random.RandomState(1).bytes(4096))
        self.empty_file = os.path.join(tmp, "empty.pdl")
        open(self.empty_file, "wb").close()
        self.text_file = os.path.join(tmp, "model.json")
        with open(self.text_file, "w") as f:
            f.write('{"format": "pydl-model"}')
        self.nojson_zip = os.path.join(tmp, "nojson.pdl")
        with zipfile.ZipFile(self.nojson_zip, "w") as z:
            z.writestr("weights/a.npy", b"\x93NUMPY")
        self.good_file = os.path.join(tmp, "good.pdl")
        self.model.save(self.good_file)
        with open(self.good_file, "rb") as f:
            data = f.read()
        self.truncated = os.path.join(tmp, "truncated.pdl")
        with open(self.truncated, "wb") as f:
            f.write(data[: len(data) // 2])


def _x(shape):
    return np.zeros(shape, dtype=np.float32)


def build_cases():
    """[(id, fn(ctx), exception type, [message substrings])]."""
    cases = []

    def add(cid, fn, exc, *subs):
        cases.append((cid, fn, exc, [s.lower() for s in subs]))

    methods = {
        "predict": lambda c, x: c.model.predict(x),
        "fit": lambda c, x: c.model.fit(x, np.zeros(len(x) if np.ndim(x) else 1, np.int64), verbose=0),
        "evaluate": lambda c, x: c.model.evaluate(x, np.zeros(len(x) if np.ndim(x) else 1, np.int64)),
        "call": lambda c, x: c.model(x),
    }

    # 1. wrong input shapes: rank, width, missing batch axis -------------------------------------------------
    bad_shapes = [(2, 4, 1), (2, 2, 2), (2, 4, 1, 1), (1, 1, 4), (2, 3), (2, 5), (2, 1), (2, 100), (7, 8),
                  (4,), (3,)]
    for m, call in methods.items():
        for shape in bad_shapes:
            subs = [m if m != "call" else "predict", "hidden", "(None, 4)", str(shape)]
            if shape == (4,):
                subs.append("batch axis")
            add(f"{m}-shape-{shape}", lambda c, call=call, shape=shape: call(c, _x(shape)), ValueError, *subs)
    # scalars
    for m, call in methods.items():
        for s in (3.0, 0, np.float32(1.5), np.int64(7)):
            add(f"{m}-scalar-{s!r}", lambda c, call=call, s=s: call(c, s), ValueError, "batch axis", "(None, 4)",
                "scalar", repr(np.asarray(s).item()))

    # 2. wrong dtypes -----------------------------------------------------------------------------------------
    bad_x = {
        "strings": ([["a", "b", "c", "d"]] * 2, "<U1"),
        "bytes": (np.array([[b"a"] * 4] * 2), "|S1"),
        "objects": (np.array([[object()] * 4] * 2), "object"),
        "complex": (np.zeros((2, 4), np.complex128), "complex128"),
        "none": (None, "object"),
        "dict": ({"a": 1}, "object"),
        "datetime": (np.zeros((2, 4), "datetime64[s]"), "datetime64"),
        "ragged": ([[1, 2, 3, 4], [1, 2]], "could not convert"),
        "ragged-deep": ([[[1], [2, 3]], [[1]]], "could not convert"),
    }
    for m in ("predict", "fit", "evaluate"):
        for name, (val, what) in bad_x.items():
            if m == "predict":
                fn = lambda c, v=val: c.model.predict(v)  # noqa: E731
            elif m == "fit":
                fn = lambda c, v=val: c.model.fit(v, c.y[:2], verbose=0)  # noqa: E731
            else:
                fn = lambda c, v=val: c.model.evaluate(v, c.y[:2])  # noqa: E731
            add(f"{m}-dtype-x-{name}", fn, TypeError, "x ", "numeric" if what == "could not convert" else "numbers",
                what)
    bad_y = {
        "strings": (["a"] * N, "<U1"),
        "objects": (np.array([object()] * N), "object"),
        "complex": (np.zeros(N, np.complex64), "complex64"),
        "none": (None, "object"),
        "ragged": ([[1], [1, 2]] * (N // 2), "could not convert"),
    }
    for m in ("fit", "evaluate"):
        for name, (val, what) in bad_y.items():
            if m == "fit":
                fn = lambda c, v=val: c.model.fit(c.x, v, verbose=0)  # noqa: E731
            else:
                fn = lambda c, v=val: c.model.evaluate(c.x, v)  # noqa: E731
            add(f"{m}-dtype-y-{name}", fn, TypeError, "y ", "numeric" if what == "could not convert" else "numbers",
                what)

    # 3. NaN / inf in x (check_finite=True by default) -------------------------------------------------------
    for name, v in (("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)):
        for k in (1, 5):
            def fn(c, v=v, k=k):
                x = c.x.copy()
                x.reshape(-1)[:k] = v
                return c.model.fit(x, c.y, verbose=0)

            add(f"fit-x-{name}-{k}", fn, ValueError, "fit", f"{k} nan or infinite", "check_finite=false")

        def fn_val(c, v=v):
            vx = c.x.copy()
            vx[3, 2] = v
            return c.model.fit(c.x, c.y, validation_data=(vx, c.y), verbose=0)

        add(f"fit-valx-{name}", fn_val, ValueError, "validation", "1 nan or infinite")

        def fn_y(c, v=v):
            y = np.zeros((N, 2), np.float32)
            y[0, 0] = v
            return c.mse.fit(c.x, y, verbose=0)

        add(f"fit-mse-y-{name}", fn_y, ValueError, "fit", "y contains nan or infinite")

    # 4. empty arrays ----------------------------------------------------------------------------------------
    add("fit-empty", lambda c: c.model.fit(_x((0, 4)), np.zeros(0, np.int64), verbose=0), ValueError, "fit",
        "empty", "0 samples")
    add("evaluate-empty", lambda c: c.model.evaluate(_x((0, 4)), np.zeros(0, np.int64)), ValueError, "evaluate",
        "empty", "0 samples")
    add("fit-empty-y", lambda c: c.model.fit(c.x, np.zeros(0, np.int64), verbose=0), ValueError, "y has 0 samples",
        f"x has {N}")
    add("fit-empty-list", lambda c: c.model.fit([], [], verbose=0), ValueError, "fit", "(None, 4)", "(0,)")

    # 5. labels: out of range, negative, non-integer floats --------------------------------------------------
    for m in ("fit", "evaluate"):
        for lab in (3, 4, 100, 2**31 - 1, -1, -7):
            def fn(c, lab=lab, m=m):
                y = c.y.copy()
                y[5] = lab
                return c.model.fit(c.x, y, verbose=0) if m == "fit" else c.model.evaluate(c.x, y)

            add(f"{m}-label-{lab}", fn, ValueError, m, "label", str(float(lab)) if abs(lab) < 1e6 else "label",
                "index 5", "[0, 3)")
        for lab in (0.5, 1.25, -0.5, np.nan, np.inf):
            def fn(c, lab=lab, m=m):
                y = c.y.astype(np.float64)
                y[7] = lab
                return c.model.fit(c.x, y, verbose=0) if m == "fit" else c.model.evaluate(c.x, y)

            add(f"{m}-label-float-{lab}", fn, ValueError, "y", "sparse_categorical_crossentropy",
                "integer class labels", repr(float(lab)), "index 7")

    # 6. mismatched x / y lengths ----------------------------------------------------------------------------
    for m in ("fit", "evaluate"):
        for n in (1, 5, N - 1, N + 1, 2 * N):
            def fn(c, n=n, m=m):
                y = np.zeros(n, np.int64)
                return c.model.fit(c.x, y, verbose=0) if m == "fit" else c.model.evaluate(c.x, y)

            add(f"{m}-len-{n}", fn, ValueError, f"y has {n} samples", f"x has {N}", "same length")
    add("fit-val-len", lambda c: c.model.fit(c.x, c.y, validation_data=(c.x, c.y[:3]), verbose=0), ValueError,
        "validation y", "3 samples", f"x has {N}")
    add("fit-val-width", lambda c: c.model.fit(c.x, c.y, validation_data=(_x((N, 5)), c.y), verbose=0), ValueError,
        "validation", "(None, 4)", f"({N}, 5)")

    # 7. one-hot labels with a sparse loss -------------------------------------------------------------------
    for m in ("fit", "evaluate"):
        for name, mk in (("onehot-int", lambda c: np.eye(3, dtype=np.int64)[c.y]),
                         ("onehot-float", lambda c: np.eye(3, dtype=np.float32)[c.y]),
                         ("rank3", lambda c: np.eye(3, dtype=np.int64)[c.y][:, None, :])):
            def fn(c, mk=mk, m=m):
                y = mk(c)
                return c.model.fit(c.x, y, verbose=0) if m == "fit" else c.model.evaluate(c.x, y)

            subs = [m, "sparse_categorical_crossentropy", "(n,)"]
            if name != "rank3":
                subs += [f"[{N}, 3]", "categorical_crossentropy"]
            add(f"{m}-{name}", fn, ValueError, *subs)
    # wrong target shape for mse
    add("fit-mse-target", lambda c: c.mse.fit(c.x, np.zeros((N, 3), np.float32), verbose=0), ValueError,
        "mean_squared_error", "(None, 2)", f"[{N}, 3]")

    # 8. before build (no Input) -----------------------------------------------------------------------------
    for what, fn in (("predict", lambda c: c.unbuilt.predict(c.x)),
                     ("evaluate", lambda c: c.unbuilt.evaluate(c.x, c.y)),
                     ("summary", lambda c: c.unbuilt.summary()),
                     ("save", lambda c: c.unbuilt.save(os.path.join(c.tmp, "never.pdl"))),
                     ("count_params", lambda c: c.unbuilt.count_params()),
                     ("get_weights", lambda c: c.unbuilt.get_weights()),
                     ("set_weights", lambda c: c.unbuilt.set_weights([])),
                     ("layer.get_weights", lambda c: c.unbuilt.layers[0].get_weights())):
        add(f"unbuilt-{what}", fn, ValueError, what.split(".")[0] if what != "layer.get_weights" else "lonely",
            "built", "input")

    # 9. fit / evaluate before compile -----------------------------------------------------------------------
    add("fit-uncompiled", lambda c: c.uncompiled.fit(c.x, c.y, verbose=0), RuntimeError, "raw", "compile")
    add("evaluate-uncompiled", lambda c: c.uncompiled.evaluate(c.x, c.y), RuntimeError, "raw", "compile")
    add("fit-uncompiled-unbuilt", lambda c: pydl.Sequential([layers.Dense(2)], name="u2").fit(c.x, c.y, verbose=0),
        RuntimeError, "u2", "compile")

    # 10. bad fit / predict / evaluate arguments -------------------------------------------------------------
    for v in (-1, -5, 1.5, "3", None, True, [1]):
        add(f"fit-epochs-{v!r}", lambda c, v=v: c.model.fit(c.x, c.y, epochs=v, verbose=0), ValueError, "epochs",
            "non-negative int", repr(v))
    for v in (0, -1, 2.5, "a", None, False):
        add(f"fit-batch_size-{v!r}", lambda c, v=v: c.model.fit(c.x, c.y, batch_size=v, verbose=0), ValueError,
            "batch_size", "positive int", repr(v))
        add(f"predict-batch_size-{v!r}", lambda c, v=v: c.model.predict(c.x, batch_size=v), ValueError,
            "predict", "batch_size", "positive int", repr(v))
        add(f"evaluate-batch_size-{v!r}", lambda c, v=v: c.model.evaluate(c.x, c.y, batch_size=v), ValueError,
            "evaluate", "batch_size", "positive int", repr(v))
    for v in (1.5, 1.0, -0.1, "a", float("nan"), None, True):
        add(f"fit-validation_split-{v!r}", lambda c, v=v: c.model.fit(c.x, c.y, validation_split=v, verbose=0),
            ValueError, "validation_split", "[0, 1)", repr(v))
    add("fit-validation_split-tiny", lambda c: c.model.fit(c.x, c.y, validation_split=0.01, verbose=0), ValueError,
        "validation_split=0.01", f"{N} samples", "empty")
    for name, v in (("int", 5), ("1-tuple", "x1"), ("4-tuple", "x4"), ("str", "abc"), ("dict", {"x": 1})):
        def fn(c, v=v):
            vd = {"x1": (c.x,), "x4": (c.x, c.y, None, None)}.get(v, v) if isinstance(v, str) else v
            return c.model.fit(c.x, c.y, validation_data=vd, verbose=0)

        add(f"fit-validation_data-{name}", fn, ValueError, "validation_data", "(x_val, y_val)")

    # 11. bad layer / model configs --------------------------------------------------------------------------
    for v in (0, -1, 2.5, "a", None, True, float("inf")):
        add(f"Dense-units-{v!r}", lambda c, v=v: layers.Dense(v), ValueError, "dense", "units", "positive integer",
            repr(v))
    for v in ("foo", "RELUX", 3, ""):
        add(f"Dense-activation-{v!r}", lambda c, v=v: layers.Dense(3, activation=v), ValueError, "dense",
            "activation", repr(v), "relu")
        add(f"Activation-{v!r}", lambda c, v=v: layers.Activation(v), ValueError, "activation", repr(v), "relu")
    for arg in ("kernel_initializer", "bias_initializer"):
        for v in ("foo", None, 3):
            add(f"Dense-{arg}-{v!r}", lambda c, arg=arg, v=v: layers.Dense(3, **{arg: v}), ValueError, "dense", arg,
                repr(v), "glorot_uniform")
    for v in (1.0, 1.5, -0.1, "a", None, True):
        add(f"Dropout-rate-{v!r}", lambda c, v=v: layers.Dropout(v), ValueError, "dropout", "rate", "[0, 1)",
            repr(v))
    for v in (0, -1, (4, 0), (), (-2, 3)):
        add(f"Input-{v!r}", lambda c, v=v: layers.Input(v), ValueError, "input", "shape", "positive")
    for v in ("", "a/b"):
        add(f"layer-name-{v!r}", lambda c, v=v: layers.Dense(3, name=v), ValueError, "dense", "name", repr(v))
    add("Sequential-dtype-int8", lambda c: pydl.Sequential([layers.Input(4), layers.Dense(2)], dtype="int8"),
        TypeError, "dtype", "float32", "int8")
    add("Sequential-add-str", lambda c: pydl.Sequential(["dense"]), TypeError, "layer", "str")
    add("Sequential-add-int", lambda c: pydl.Sequential([layers.Input(4), 3]), TypeError, "layer", "int")
    add("Sequential-input-not-first", lambda c: pydl.Sequential([layers.Dense(2), layers.Input(4)]), ValueError,
        "input", "first")
    add("Sequential-duplicate-names",
        lambda c: pydl.Sequential([layers.Input(4), layers.Dense(2, name="same"), layers.Dense(2, name="same")]).build(),
        ValueError, "same", "unique")
    add("Sequential-no-layers", lambda c: pydl.Sequential([layers.Input(4)], name="empty").build(), ValueError,
        "empty", "no layers")
    add("Sequential-build-bad-shape", lambda c: pydl.Sequential([layers.Dense(2)]).build((4, -1)), ValueError,
        "input", "positive")
    add("Sequential-add-after-build", lambda c: c.model.add(layers.Dense(2)), ValueError, "net", "built")
    add("Dense-regularizer-str", lambda c: pydl.Sequential([layers.Input(4), layers.Dense(2, kernel_regularizer="l3")])
        .build(), ValueError, "Dense", "kernel_regularizer='l3'", "'l1_l2'")
    add("get_layer-missing", lambda c: c.model.get_layer("nope"), ValueError, "nope", "hidden", "probs")
    add("set_weights-wrong-shape", lambda c: c.model.layers[0].set_weights([np.zeros((5, 8)), np.zeros(8)]),
        ValueError, "hidden", "(4, 8)", "(5, 8)")
    add("set_weights-wrong-count", lambda c: c.model.layers[0].set_weights([np.zeros((4, 8))]), ValueError, "hidden",
        "2 weights", "received 1")
    add("set_weights-leftover", lambda c: c.model.set_weights(c.model.get_weights() + [np.zeros(3)]), ValueError,
        "set_weights", "left over")

    # 12. bad optimizer params / compile args ----------------------------------------------------------------
    def at_compile(opt):
        def fn(c):
            m = pydl.Sequential([layers.Input(4), layers.Dense(3, activation="softmax")], seed=0)
            m.compile(opt(), "sparse_categorical_crossentropy")
        return fn

    opt_cases = [
        ("Adam-lr--1", lambda: optimizers.Adam(-1), ["adam", "learning_rate", "-1"]),
        ("Adam-lr-nan", lambda: optimizers.Adam(float("nan")), ["adam", "learning_rate", "nan"]),
        ("Adam-lr-inf", lambda: optimizers.Adam(float("inf")), ["adam", "learning_rate", "inf"]),
        ("Adam-lr-str", lambda: optimizers.Adam("fast"), ["adam", "learning_rate", "fast"]),
        ("Adam-beta_1-2", lambda: optimizers.Adam(beta_1=2), ["adam", "beta_1", "2"]),
        ("Adam-beta_1--0.1", lambda: optimizers.Adam(beta_1=-0.1), ["adam", "beta_1", "-0.1"]),
        ("Adam-beta_2-1.5", lambda: optimizers.Adam(beta_2=1.5), ["adam", "beta_2", "1.5"]),
        ("Adam-epsilon--1", lambda: optimizers.Adam(epsilon=-1), ["adam", "epsilon", "-1"]),
        ("AdamW-lr--1", lambda: optimizers.AdamW(-1), ["adamw", "learning_rate", "-1"]),
        ("AdamW-weight_decay--1", lambda: optimizers.AdamW(weight_decay=-1), ["adamw", "weight_decay", "-1"]),
        ("SGD-lr--0.5", lambda: optimizers.SGD(-0.5), ["sgd", "learning_rate", "-0.5"]),
        ("SGD-momentum-2", lambda: optimizers.SGD(momentum=2), ["sgd", "momentum", "2"]),
        ("SGD-momentum--1", lambda: optimizers.SGD(momentum=-1), ["sgd", "momentum", "-1"]),
        ("SGD-weight_decay--1", lambda: optimizers.SGD(weight_decay=-1), ["sgd", "weight_decay", "-1"]),
        ("RMSprop-rho-2", lambda: optimizers.RMSprop(rho=2), ["rmsprop", "rho", "2"]),
        ("RMSprop-momentum--1", lambda: optimizers.RMSprop(momentum=-1), ["rmsprop", "momentum", "-1"]),
        ("RMSprop-lr--1", lambda: optimizers.RMSprop(-1), ["rmsprop", "learning_rate", "-1"]),
        ("StepDecay-step_size-0", lambda: optimizers.SGD(optimizers.schedules.StepDecay(0.1, 0)),
         ["stepdecay", "step_size", "0"]),
        ("CosineDecay-decay_steps--3", lambda: optimizers.SGD(optimizers.schedules.CosineDecay(0.1, -3)),
         ["cosinedecay", "decay_steps", "-3"]),
    ]
    for cid, opt, subs in opt_cases:
        # raised either by the constructor (preferred) or, at the latest, by compile
        add(f"optimizer-{cid}", at_compile(opt), ValueError, *subs)
    for v in ("foo", 3, None):
        add(f"compile-optimizer-{v!r}", lambda c, v=v: c.uncompiled.compile(optimizer=v, loss="mse"), ValueError,
            "optimizer", repr(v), "adam")
    for v in ("foo", None, 3, "crossentropy"):
        add(f"compile-loss-{v!r}", lambda c, v=v: c.uncompiled.compile(loss=v), ValueError, "loss", repr(v), "mse")
    for v in (["auc"], ["accuracy", "f1"]):
        add(f"compile-metrics-{v!r}", lambda c, v=v: c.uncompiled.compile(loss="mse", metrics=v), ValueError, "metric",
            repr(v[-1]), "accuracy")
    def _sparse_seq_labels_wrong_shape(c):
        m = pydl.Sequential([layers.Input((2, 4)), layers.Dense(3)])
        m.compile("adam", "sparse_categorical_crossentropy")   # sequence outputs take (n, 2) labels, as in Keras
        m.fit(np.zeros((5, 2, 4), np.float32), np.zeros(5, np.int32), verbose=0)

    add("fit-sparse-labels-for-3d-output", _sparse_seq_labels_wrong_shape, ValueError,
        "sparse_categorical_crossentropy", "(n, 2)", "[5]")

    # 13. loading non-files / corrupt files ------------------------------------------------------------------
    add("load-missing", lambda c: pydl.load(os.path.join(c.tmp, "nope.pdl")), FileNotFoundError, "nope.pdl")
    add("load-missing-dir", lambda c: pydl.load(os.path.join(c.tmp, "nodir", "m.pdl")), FileNotFoundError, "nodir")
    add("load-directory", lambda c: pydl.load(c.tmp), IsADirectoryError, "directory")
    add("load-none", lambda c: pydl.load(None), TypeError, "path", "none")
    add("load-int", lambda c: pydl.load(123), TypeError, "path", "123")
    add("load-random", lambda c: pydl.load(c.random_file), ValueError, "random.bin", "not a pydl model file")
    add("load-empty-file", lambda c: pydl.load(c.empty_file), ValueError, "empty.pdl", "not a pydl model file")
    add("load-json-text", lambda c: pydl.load(c.text_file), ValueError, "model.json", "not a pydl model file")
    add("load-zip-without-json", lambda c: pydl.load(c.nojson_zip), ValueError, "nojson.pdl", "pydl.json")
    add("load-truncated", lambda c: pydl.load(c.truncated), ValueError, "truncated.pdl", "corrupt")

    # 14. pydl.ops misuse ------------------------------------------------------------------------------------
    for a, b in (((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2, 3)), ((5, 2, 3), (5, 4, 2)), ((1, 7), (6, 1))):
        add(f"ops-matmul-{a}@{b}", lambda c, a=a, b=b: O.matmul(np.ones(a), np.ones(b)), ValueError, "matmul",
            str(list(a)), str(list(b)))
    for a, b in (((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (3, 2)), ((5, 1, 3), (2, 4))):
        for op in ("add", "sub", "mul", "div", "maximum"):
            add(f"ops-{op}-{a}-{b}", lambda c, a=a, b=b, op=op: getattr(O, op)(np.ones(a), np.ones(b)), ValueError,
                "broadcast", str(list(a)), str(list(b)))
    for op in ("sum", "mean", "max"):
        for ax in (2, -3, 10):
            add(f"ops-{op}-axis-{ax}", lambda c, op=op, ax=ax: getattr(O, op)(np.ones((2, 3)), axis=ax), ValueError,
                "axis", str(ax), "rank 2")
    for op in ("softmax", "log_softmax"):
        for ax in (2, -3):
            add(f"ops-{op}-axis-{ax}", lambda c, op=op, ax=ax: getattr(O, op)(np.ones((2, 3)), axis=ax), ValueError,
                "axis", str(ax), "rank 2")
    add("ops-argmax-axis", lambda c: O.argmax(np.ones((2, 3)), 4), ValueError, "axis 4", "rank 2")
    for shape in ((4,), (7,), (2, 2), (5, -1), (0, 6)):
        add(f"ops-reshape-{shape}", lambda c, s=shape: O.reshape(np.ones((2, 3)), s), ValueError, "reshape",
            "[2, 3]")
    add("ops-transpose-repeat", lambda c: O.transpose(np.ones((2, 3)), (0, 0)), ValueError, "transpose", "repeated")
    add("ops-slice-range", lambda c: O.slice(np.ones((2, 3)), 0, 1, 5), ValueError, "slice", "[1, 5)", "size 2")
    add("ops-concat", lambda c: O.concat([np.ones((2, 3)), np.ones((2, 4))], 0), ValueError, "concat", "[2, 3]",
        "[2, 4]")
    add("ops-cross_entropy-label", lambda c: O.cross_entropy(np.ones((2, 3)), np.array([0, 5])), ValueError,
        "label", "5", "< 3")
    add("ops-unknown", lambda c: O.call("frobnicate", np.ones(2)), ValueError, "frobnicate", "relu")
    add("ops-strings", lambda c: O.relu("abc"), TypeError, "op input", "numbers", "<u3")
    add("ops-objects", lambda c: O.add(np.ones(2), [object(), None]), TypeError, "op input", "numbers", "object")
    add("ops-dropout-rate", lambda c: O.dropout(np.ones(3), 1.5), ValueError, "dropout", "rate", "1.5")
    _layer_config_cases(add)
    return cases


def _seq(layer, shape):
    return pydl.Sequential([layers.Input(shape), layer]).build()


def _graph(shapes, make):
    ins = [layers.Input(s) for s in shapes]
    return pydl.Model(ins, make()(ins))


def _layer_config_cases(add):
    """One invalid configuration per layer class of the layer-breadth issue: the message names the layer, the
    received value and what is valid (at construction, or at build when the input shape decides)."""
    L = layers
    table = [
        ("Conv1D", lambda: L.Conv1D(0, 3), "filters=0", "positive int"),
        ("Conv2D", lambda: L.Conv2D(4, 3, strides=0), "strides=", "positive int"),
        ("Conv3D", lambda: L.Conv3D(2, 2, padding="full"), "padding='full'", "'same'"),
        ("DepthwiseConv2D", lambda: L.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier=0", "positive int"),
        ("SeparableConv2D", lambda: L.SeparableConv2D(-2, 3), "filters=-2", "positive int"),
        ("Conv1DTranspose", lambda: L.Conv1DTranspose(2, 0), "kernel_size=", "positive int"),
        ("Conv2DTranspose", lambda: L.Conv2DTranspose(2, 3, strides=(1, 0)), "strides=(1, 0)", "positive int"),
        ("MaxPooling1D", lambda: L.MaxPooling1D(0), "pool_size=", "positive int"),
        ("MaxPooling2D", lambda: L.MaxPooling2D((2, 0)), "pool_size=(2, 0)", "positive int"),
        ("MaxPooling3D", lambda: L.MaxPooling3D(2, padding="full"), "padding='full'", "'valid'"),
        ("AveragePooling1D", lambda: L.AveragePooling1D(-1), "pool_size=", "positive int"),
        ("AveragePooling2D", lambda: L.AveragePooling2D(2, strides=0), "strides=", "positive int"),
        ("AveragePooling3D", lambda: L.AveragePooling3D("x"), "pool_size='x'", "positive int"),
        ("GlobalMaxPooling1D", lambda: L.GlobalMaxPooling1D(data_format="nhwc"), "data_format='nhwc'", "channels_last"),
        ("GlobalMaxPooling2D", lambda: _seq(L.GlobalMaxPooling2D(), (3, 4)), "(none, 3, 4)", "rank 4"),
        ("GlobalMaxPooling3D", lambda: L.GlobalMaxPooling3D(data_format="x"), "data_format='x'", "channels_first"),
        ("GlobalAveragePooling1D", lambda: _seq(L.GlobalAveragePooling1D(), (3,)), "(none, 3)", "rank 3"),
        ("GlobalAveragePooling2D", lambda: L.GlobalAveragePooling2D(data_format=3), "data_format=3", "channels_last"),
        ("GlobalAveragePooling3D", lambda: _seq(L.GlobalAveragePooling3D(), (3, 4)), "(none, 3, 4)", "rank 5"),
        ("BatchNormalization", lambda: L.BatchNormalization(momentum=1.5), "momentum=1.5", "[0, 1]"),
        ("LayerNormalization", lambda: L.LayerNormalization(epsilon=-1), "epsilon=-1", "positive"),
        ("GroupNormalization", lambda: _seq(L.GroupNormalization(groups=3), (4, 8)), "groups=3", "multiple"),
        ("SimpleRNN", lambda: L.SimpleRNN(0), "units=0", "positive integer"),
        ("LSTM", lambda: L.LSTM(-1), "units=-1", "positive integer"),
        ("GRU", lambda: L.GRU(-3), "units=-3", "positive integer"),
        ("Bidirectional", lambda: L.Bidirectional(L.Dense(3)), "layer='dense'", "lstm"),
        ("TimeDistributed", lambda: L.TimeDistributed("dense"), "layer='dense'", "pydl layer"),
        ("Embedding", lambda: L.Embedding(0, 4), "input_dim=0", "positive int"),
        ("MultiHeadAttention", lambda: L.MultiHeadAttention(0, 4), "num_heads=0", "positive integer"),
        ("Attention", lambda: L.Attention(score_mode="cosine"), "score_mode='cosine'", "'concat'"),
        ("AdditiveAttention", lambda: L.AdditiveAttention(dropout=2.0), "dropout=2.0", "[0, 1)"),
        ("Flatten", lambda: _seq(L.Flatten(kernel_regularizer="l2"), (2, 3)), "kernel_regularizer", "no regularizers"),
        ("Reshape", lambda: L.Reshape((0, 3)), "target_shape=(0, 3)", "positive ints"),
        ("Permute", lambda: L.Permute((1, 1)), "dims=(1, 1)", "permutation"),
        ("RepeatVector", lambda: L.RepeatVector(0), "n=0", "positive int"),
        ("ZeroPadding1D", lambda: L.ZeroPadding1D(-1), "padding=-1", "int >= 0"),
        ("ZeroPadding2D", lambda: L.ZeroPadding2D((1, 2, 3)), "padding=(1, 2, 3)", "tuple of 2"),
        ("ZeroPadding3D", lambda: L.ZeroPadding3D("a"), "padding='a'", "tuple of 3"),
        ("Cropping1D", lambda: L.Cropping1D(-2), "cropping=-2", "int >= 0"),
        ("Cropping2D", lambda: _seq(L.Cropping2D(3), (4, 4, 1)), "[[3, 3], [3, 3]]", "removes every element"),
        ("Cropping3D", lambda: L.Cropping3D((1, 1)), "cropping=(1, 1)", "tuple of 3"),
        ("UpSampling1D", lambda: L.UpSampling1D(0), "size=0", "int >= 1"),
        ("UpSampling2D", lambda: L.UpSampling2D(2, interpolation="area"), "interpolation='area'", "'bilinear'"),
        ("UpSampling3D", lambda: L.UpSampling3D(1.5), "size=1.5", "int >= 1"),
        ("Concatenate", lambda: _graph([(2, 3), (4, 5)], lambda: L.Concatenate(axis=1)), "(none, 4, 5)",
            "except along axis 1"),
        ("Add", lambda: _graph([(3,), (4,)], L.Add), "(none, 4)", "same shape"),
        ("Subtract", lambda: _graph([(3,), (3,), (3,)], L.Subtract), "received 3", "exactly 2"),
        ("Multiply", lambda: _graph([(3,), (2,)], L.Multiply), "(none, 2)", "same shape"),
        ("Average", lambda: _graph([(3,), (3, 1)], L.Average), "(none, 3, 1)", "same shape"),
        ("Maximum", lambda: L.Maximum()(L.Input(3)), "input(shape=(3,))", "at least 2"),
        ("Minimum", lambda: _graph([(2,), (5,)], L.Minimum), "(none, 5)", "same shape"),
        ("Dot", lambda: _graph([(4,), (5,)], lambda: L.Dot(1)), "size 5", "axes=1"),
        ("ReLU", lambda: L.ReLU(max_value=-1), "max_value=-1", ">= 0"),
        ("LeakyReLU", lambda: L.LeakyReLU(negative_slope=-0.5), "negative_slope=-0.5", ">= 0"),
        ("PReLU", lambda: L.PReLU(shared_axes=[0]), "shared_axes=[0]", "int >= 1"),
        ("ELU", lambda: L.ELU(alpha="x"), "alpha='x'", "finite float"),
        ("Softmax", lambda: _seq(L.Softmax(axis=3), (4,)), "axis=3", "-2..1"),
        ("Dropout", lambda: L.Dropout(1.0), "rate=1.0", "[0, 1)"),
        ("SpatialDropout1D", lambda: L.SpatialDropout1D(1.2), "rate=1.2", "[0, 1)"),
        ("SpatialDropout2D", lambda: L.SpatialDropout2D(0.5, data_format="nchw"), "data_format='nchw'",
            "channels_first"),
        ("SpatialDropout3D", lambda: _seq(L.SpatialDropout3D(0.5), (4, 4)), "(none, 4, 4)", "rank 5"),
        ("GaussianNoise", lambda: L.GaussianNoise(-1), "stddev=-1", ">= 0"),
        ("GaussianDropout", lambda: L.GaussianDropout(1.0), "rate=1.0", "[0, 1)"),
        ("AlphaDropout", lambda: L.AlphaDropout(-0.1), "rate=-0.1", "[0, 1)"),
    ]
    for name, make, received, valid in table:
        add(f"config-{name}", lambda c, make=make: make(), ValueError, name.lower(), received.lower(), valid.lower())


CASES = build_cases()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return Ctx(str(tmp_path_factory.mktemp("bad_input")))


def check_case(c, fn, exc, subs):
    """Runs one malformed call; returns None when it raised `exc` with all substrings, else a problem string."""
    try:
        fn(c)
    except exc as e:
        if type(e).__module__.startswith("jpype") or "java." in type(e).__module__:
            return f"raised a Java exception object {type(e)!r}"
        msg = str(e).lower()
        missing = [s for s in subs if s not in msg]
        if missing:
            return f"message {str(e)!r} lacks {missing}"
        if "\tat org.pydl" in str(e) or "Exception:" in str(e).split("\n")[0][:40]:
            return f"message carries a Java stack trace / class name: {str(e)!r}"
        return None
    except BaseException as e:  # noqa: BLE001
        return f"raised {type(e).__name__} instead of {exc.__name__}: {e}"
    return f"did not raise (expected {exc.__name__})"


def test_case_count():
    assert len(CASES) >= 200, len(CASES)
    ids = [cid for cid, *_ in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"


@pytest.mark.parametrize("cid,fn,exc,subs", CASES, ids=[c[0] for c in CASES])
def test_malformed_call(ctx, cid, fn, exc, subs):
    problem = check_case(ctx, fn, exc, subs)
    assert problem is None, f"{cid}: {problem}"


def test_predict_empty_batch_returns_empty(ctx):
    """An empty batch is not an error for predict (Keras returns an empty result): shape (0, units)."""
    out = ctx.model.predict(_x((0, 4)))
    assert out.shape == (0, 3)


def test_nan_with_check_finite_false_trains(ctx):
    """check_finite=False: training proceeds on NaN input (the loss becomes NaN, no exception)."""
    m = pydl.Sequential([layers.Input(4), layers.Dense(3, activation="softmax")], seed=1)
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = ctx.x.copy()
    x[0, 0] = np.nan
    h = m.fit(x, ctx.y, epochs=2, batch_size=5, verbose=0, check_finite=False)
    assert len(h.history["loss"]) == 2
    assert math.isnan(h.history["loss"][0])


def test_pydl_ops_attribute_after_plain_import():
    """`import pydl; pydl.ops.relu(...)` (the documented use) must work, in a fresh interpreter."""
    code = "import numpy as np, pydl; print(pydl.ops.relu(np.array([-1.0, 2.0])).tolist())"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "[0.0, 2.0]"


def test_zz_jvm_still_works_after_malformed_calls(ctx):
    """After every malformed call above, the same JVM still predicts, and predicts the same."""
    out = ctx.model.predict(ctx.x[:2])
    np.testing.assert_array_equal(out, ctx.good_pred)
    assert np.all(np.isfinite(out)) and out.shape == (2, 3)


_SUBPROCESS = r"""
import os, sys, tempfile
sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
import numpy as np
import test_bad_input as t
with tempfile.TemporaryDirectory() as d:
    c = t.Ctx(d)
    problems = 0
    for cid, fn, exc, subs in t.CASES:
        if t.check_case(c, fn, exc, subs) is not None:
            problems += 1
    out = c.model.predict(c.x[:2])
    assert np.array_equal(out, c.good_pred)
    print("cases", len(t.CASES), "problems", problems, flush=True)
"""


def test_process_exits_cleanly_after_malformed_calls(tmp_path):
    """Every malformed call in a fresh interpreter, then exit: exit code 0 (no JVM abort), within a timeout
    (no hang). Clean *messages* are checked by test_malformed_call; this checks the process survives."""
    script = tmp_path / "run_all.py"
    script.write_text(_SUBPROCESS.format(root=ROOT, here=HERE))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, f"exit code {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    assert f"cases {len(CASES)}" in r.stdout, r.stdout
