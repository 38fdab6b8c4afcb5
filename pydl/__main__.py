"""Command line: ``python -m pydl demo`` | ``python -m pydl info`` | ``python -m pydl import-keras model.h5 -o out.pydl``."""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv[0] if argv else "help"
    if cmd == "demo":
        from .demo import main as demo

        return demo(argv[1:])
    if cmd == "info":
        import pydl
        from pydl import _jvm

        print(f"pydl {pydl.__version__}\njar: {_jvm.jar_path()}\nnative: {pydl.native_info()}")
        return 0
    if cmd == "import-keras":
        return _import_keras(argv[1:])
    print("usage: python -m pydl {demo|info|import-keras}\n  demo  train an MLP on MNIST digits, save it, predict from "
          "Java\n  info  show the jar and native library in use\n"
          "  import-keras MODEL -o OUT.pydl [--weights W] [--check]  convert a Keras model (.keras, .h5, .json)")
    return 0 if cmd in ("help", "-h", "--help") else 2


def _import_keras(argv) -> int:
    """``pydl import-keras model.keras -o model.pydl [--weights w.h5] [--check]``: converts a Keras model to a pydl
    model file; ``--check`` runs Keras (when installed) and pydl on a random batch and prints the max difference."""
    import argparse
    import os

    p = argparse.ArgumentParser(prog="pydl import-keras", description="Convert a Keras model to a .pydl file")
    p.add_argument("model", help=".keras, full-model .h5, or architecture .json (with --weights)")
    p.add_argument("-o", "--output", required=True, help="the .pydl file to write")
    p.add_argument("--weights", help="weights file for an architecture JSON (.weights.h5 or legacy .h5)")
    p.add_argument("--check", action="store_true", help="compare with Keras on a random batch")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=D1,D2,...",
                   help="sizes for an input Keras declared with None dimensions (without the batch axis), e.g. "
                        "tokens=100; repeatable. Without it such inputs are written with size 64")
    a = p.parse_args(argv)
    from .importers import keras as ki

    shapes = {}
    for spec in a.input_shape:
        name, _, dims = spec.partition("=")
        try:
            shapes[name] = tuple(int(d) for d in dims.split(",") if d.strip())
        except ValueError:
            print(f"pydl import-keras: --input-shape {spec!r}: expected NAME=D1,D2,... with integer sizes",
                  file=sys.stderr)
            return 2
    try:
        model = ki.load(a.model, weights=a.weights, input_shapes=shapes or None)
    except (ki.KerasImportError, FileNotFoundError) as e:
        print(f"pydl import-keras: {e}", file=sys.stderr)
        return 1
    model.save(a.output)
    print(f"wrote {os.path.abspath(a.output)} ({model.count_params()} parameters)")
    flex = model.__dict__.get("_flex")
    if flex:
        built = [tuple(int(d) for d in s) for s in model._java.inputShapes()]
        print(f"note: inputs with None sizes were written with sizes {built} (Java loads that size; Python "
              "rebuilds for other sizes); choose them with --input-shape NAME=D1,D2,...")
    if a.check:
        return _check_keras(a, model)
    return 0


def _check_keras(a, model) -> int:
    import os

    import numpy as np

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import keras
    except ImportError:
        print("--check: Keras is not installed; skipped", file=sys.stderr)
        return 0
    try:
        if a.model.endswith(".json"):
            with open(a.model) as f:
                km = keras.models.model_from_json(f.read())
            km.load_weights(a.weights)
        else:
            km = keras.models.load_model(a.model, compile=False, safe_mode=True)
    except Exception as e:  # noqa: BLE001 - a Keras 2 file may not load in Keras 3
        print(f"--check: Keras could not load {a.model!r} ({type(e).__name__}: {e}); skipped", file=sys.stderr)
        return 0
    rng = np.random.default_rng(0)
    xs = []
    dtypes = [str(getattr(t, "dtype", "float32")) for t in getattr(km, "inputs", None) or []]
    for i, shape in enumerate([tuple(int(d) for d in s) for s in model._java.inputShapes()]):
        if i < len(dtypes) and "int" in dtypes[i]:      # token ids (an Embedding reads them): small ids, some 0
            xs.append(rng.integers(0, 10, (4,) + shape).astype(dtypes[i]))
        else:
            xs.append(rng.random((4,) + shape, dtype=np.float32))
    ours = model.predict(xs if len(xs) > 1 else xs[0])
    theirs = km(xs if len(xs) > 1 else xs[0], training=False)
    ours = ours if isinstance(ours, list) else [ours]
    theirs = list(theirs) if isinstance(theirs, (list, tuple)) else [theirs]
    diff = max(float(np.max(np.abs(np.asarray(o) - np.asarray(t)))) for o, t in zip(ours, theirs))
    print(f"max |pydl - keras| on a random batch of 4: {diff:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
