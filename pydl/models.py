"""Sequential models: Keras's API, Java's training loop."""
from __future__ import annotations

import json
import os

import numpy as np

from . import _array, _jvm
from . import layers as _layers
from . import optimizers as _optimizers
from .errors import java_errors, translate

_SPARSE = {"sparse_categorical_crossentropy"}
_LOSSES = {"sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
           "mean_squared_error", "mse"}


class History:
    """Per-epoch metrics of ``fit``: ``history.history["val_accuracy"]``, as in Keras."""

    def __init__(self, history: dict, epochs: int):
        self.history = history
        self.epoch = list(range(epochs))

    def plot(self, metrics=None, ax=None):
        from .plot import plot_history

        return plot_history(self, metrics=metrics, ax=ax)

    def __repr__(self):
        return f"History({self.history})"


def _positive_int(what, name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{what}: {name} must be a positive int. Received: {name}={v!r}")
    return int(v)


def _floats(d):
    return {k: [float(v) for v in vs] if isinstance(vs, list) else float(vs) for k, vs in d.items()}


class Sequential:
    """A linear stack of layers.

    Example:
        >>> model = pydl.Sequential([layers.Input(784), layers.Dense(512, activation="relu"),
        ...                          layers.Dense(10, activation="softmax")], seed=0)
        >>> model.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
        ...               metrics=["accuracy"])
        >>> model.fit(x, y, epochs=5, batch_size=128, validation_split=0.1)
    """

    def __init__(self, layers=None, name: str | None = None, seed: int | None = None, dtype: str = "float32"):
        self.name = name or "sequential"
        self.seed = int(seed) if seed is not None else int.from_bytes(os.urandom(6), "little")
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise TypeError(f"Sequential: dtype must be float32 or float64. Received: dtype={dtype!r}")
        self.dtype = np.dtype(dtype)
        self._input_shape = None
        self._layers: list = []
        self._java = None
        self._compile_args = None
        for layer in layers or []:
            self.add(layer)

    # construction ---------------------------------------------------------------------------------------
    def add(self, layer):
        if self._java is not None:
            raise ValueError(f"model '{self.name}' is already built; add layers before building or training it")
        if isinstance(layer, _layers.Input):
            if self._layers or self._input_shape is not None:
                raise ValueError("Input must be the first entry of a Sequential model")
            self._input_shape = layer.shape
            return
        if not isinstance(layer, _layers.Layer):
            raise TypeError(f"Sequential.add expects a pydl layer, received {type(layer).__name__}")
        if not self._layers and self._input_shape is None and getattr(layer, "input_shape", None):
            self._input_shape = layer.input_shape
        self._layers.append(layer)

    @property
    def layers(self):
        return list(self._layers)

    @property
    def built(self) -> bool:
        return self._java is not None

    def build(self, input_shape=None):
        """Creates the Java model and its weights. ``input_shape`` excludes the batch axis."""
        if self._java is not None:
            return
        if input_shape is not None:
            self._input_shape = _layers.Input(input_shape).shape
        if self._input_shape is None:
            raise ValueError(f"model '{self.name}' has no input shape: start it with layers.Input(shape), pass "
                             "input_shape= to the first layer, or call build(input_shape)")
        if not self._layers:
            raise ValueError(f"model '{self.name}' has no layers")
        specs = json.dumps([layer._spec() for layer in self._layers])
        bridge = _jvm.jclass("org.pydl.py.PyBridge")
        import jpype

        nested = _jvm.jclass("java.util.HashMap")()
        for layer in self._layers:          # a built model used as a layer keeps its weights (shared)
            if isinstance(layer, _NestedModelLayer):
                nested.put(layer.name, layer.model._java)
        with java_errors():
            self._java = bridge.sequential(self.name, jpype.JArray(jpype.JLong)(self._input_shape),
                                           self.dtype.name, self.seed, specs, nested)
            for layer, jl in zip(self._layers, self._java.layers()):
                layer._java = jl
                layer.name = str(jl.name())
        if self._compile_args is not None:
            self._apply_compile()

    @classmethod
    def _from_java(cls, jmodel):
        m = cls.__new__(cls)
        m.name = str(jmodel.name())
        m.seed = int(jmodel.seed())
        m.dtype = np.dtype(str(jmodel.dtype().pyName))
        m._input_shape = tuple(int(d) for d in jmodel.inputShapes()[0])
        m._java = jmodel
        m._layers = []
        for jl in jmodel.layers():
            if str(jl.type()) in ("Sequential", "Model"):   # a model used as a layer
                inner_net = jl.network()
                inner = (Model if str(jl.type()) == "Model" else Sequential)._from_java(inner_net)
                layer = _NestedModelLayer(inner)
                layer.name = str(jl.name())
                layer._java = jl
                m._layers.append(layer)
                continue
            cfg = json.loads(str(_jvm.jclass("org.pydl.py.PyBridge").toJson(jl.config())))
            cls_ = _layers._CLASSES[str(jl.type())]
            layer = cls_.__new__(cls_)
            _layers.Layer.__init__(layer, cfg.get("name"), cfg.get("trainable", True))
            for k, v in cfg.items():
                if k not in ("name", "trainable"):
                    setattr(layer, k, v)
            layer._java = jl
            m._layers.append(layer)
        m._compile_args = None
        if jmodel.isCompiled():
            m._compile_args = ("<loaded>", None, None)
        return m

    # compile ----------------------------------------------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics=None, from_logits: bool = False):
        """Sets optimizer, loss and metrics (``metrics=["accuracy"]``)."""
        opt = _optimizers.get(optimizer)
        if not isinstance(loss, str) or loss.lower() not in _LOSSES:
            raise ValueError(f"compile: unknown loss. Received: loss={loss!r}; valid: {sorted(_LOSSES)}")
        metrics = list(metrics or [])
        for m in metrics:
            if m not in ("accuracy", "acc"):
                raise ValueError(f"compile: unsupported metric {m!r}; supported: 'accuracy'")
        previous = self._compile_args
        self._compile_args = (opt, loss.lower(), metrics, bool(from_logits))
        try:
            if self._java is None and self._input_shape is not None and self._layers:
                self.build()  # the input shape is known: check loss vs. output shape now, as Keras does
            elif self._java is not None:
                self._apply_compile()
        except Exception:
            self._compile_args = previous
            raise

    def _apply_compile(self):
        if self._compile_args[0] == "<loaded>":
            return
        opt, loss, metrics, from_logits = self._compile_args
        bridge = _jvm.jclass("org.pydl.py.PyBridge")
        import jpype

        with java_errors():
            self._java.compile(opt._to_java(), bridge.loss(loss, from_logits),
                               jpype.JClass("java.util.List").of(*metrics))

    @property
    def optimizer(self):
        return self._compile_args[0] if self._compile_args else None

    # data -------------------------------------------------------------------------------------------------
    def _x(self, x, what="x"):
        a = _array.as_numeric(x, what)
        if a.ndim == 0:
            want = f"(None, {', '.join(map(str, self._input_shape))})" if self._input_shape else "(batch, ...)"
            raise ValueError(f"{what} must have a batch axis: model '{self.name}' expects input of shape {want}, "
                             f"received a scalar {a.item()!r} of shape ()")
        return a

    def _check_x(self, a, what, switch=True):
        want = tuple(self._input_shape)
        if a.shape[1:] != want and switch and self._respecialize([a.shape[1:]]):
            return
        if a.shape[1:] != want:
            first = self._layers[0]
            hint = "; add a batch axis, e.g. x[None]" if a.shape == want else ""
            raise ValueError(f"{what}: model '{self.name}' (first layer '{first.name}', {first.class_name}) expects "
                             f"input of shape (None, {', '.join(map(str, want))}), received {a.shape}{hint}")

    def _y(self, y, n, what="y"):
        a = _array.as_numeric(y, what)
        if a.ndim == 0 or len(a) != n:
            raise ValueError(f"{what} has {0 if a.ndim == 0 else len(a)} samples but x has {n}; x and y must have "
                             "the same length")
        loss = self._compile_args[1] if self._compile_args and self._compile_args[0] != "<loaded>" else \
            str(self._java.loss().name())
        if loss in _SPARSE:
            if a.dtype.kind == "f":
                bad = ~np.isfinite(a) | (a != np.round(a))
                if np.any(bad):
                    i = int(np.flatnonzero(bad.reshape(-1))[0])
                    raise ValueError(f"{what}: {loss} needs integer class labels; received non-integer value "
                                     f"{a.reshape(-1)[i]!r} at index {i}")
            return a.astype(np.int32) if a.dtype != np.int32 else a
        return a

    def _to_java_x(self, a):
        return _array.to_java(a, self.dtype)

    # variable-size inputs ------------------------------------------------------------------------------------
    def _respecialize(self, shapes) -> bool:
        """For a model whose inputs have variable dimensions (``self._flex``: per input, a flag per axis, set by the
        Keras importer for ``Input((None, ...))``): when ``shapes`` differ from the built input shapes only in such
        axes, rebuilds the Java model for them (weights, optimizer state and step counters carried over; the
        layers' weights do not depend on those sizes) and returns True. A model keeps one built size at a time:
        each change of size rebuilds it (milliseconds for a text model; pad batches to one length for speed)."""
        flex = self.__dict__.get("_flex")
        if not flex or self._java is None:
            return False
        cur = [tuple(int(d) for d in s) for s in self._java.inputShapes()]
        shapes = [tuple(int(d) for d in s) for s in shapes]
        if len(shapes) != len(cur) or shapes == cur:
            return False
        for s, c, f in zip(shapes, cur, flex):
            if len(s) != len(c) or any(a != b and not free for a, b, free in zip(s, c, f)) or min(s, default=1) < 1:
                return False
        import jpype

        ArrayList = _jvm.jclass("java.util.ArrayList")
        js = ArrayList()
        for sh in shapes:
            js.add(jpype.JArray(jpype.JLong)(sh))
        with java_errors():
            self._adopt(_jvm.jclass("org.pydl.io.ModelFile").withInputShapes(self._java, js))
        return True

    def _adopt(self, jmodel):
        """Makes ``jmodel`` (the same architecture, rebuilt) this model's Java model: layers relinked by name."""
        self._java = jmodel
        for key in ("_in_shapes", "_staging"):
            self.__dict__.pop(key, None)
        if not isinstance(self, Model):
            self._input_shape = tuple(int(d) for d in jmodel.inputShapes()[0])
        by_name = {str(jl.name()): jl for jl in jmodel.layers()}
        for layer in self._layers:
            jl = by_name.get(layer.name)
            if jl is None:
                continue
            layer._java = jl
            if isinstance(layer, _NestedModelLayer):
                layer.model._adopt(jl.network())

    # training ---------------------------------------------------------------------------------------------
    def fit(self, x, y, epochs=1, batch_size=32, validation_split=0.0, validation_data=None, shuffle=True,
            verbose=1, check_finite=True, seed=None) -> History:
        """Trains in Java (the loop never returns to Python per batch); shows a progress bar per epoch."""
        if self._compile_args is None:
            raise RuntimeError(f"model '{self.name}' must be compiled before fit: call model.compile(...)")
        xa = self._x(x)
        if self._java is None:
            if self._input_shape is None:
                self._input_shape = tuple(int(d) for d in xa.shape[1:])
            self.build()
        self._check_x(xa, "fit")
        if len(xa) == 0:
            raise ValueError("fit: x is empty (0 samples)")
        ya = self._y(y, len(xa))
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative int. Received: epochs={epochs!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"fit: batch_size must be a positive int. Received: batch_size={batch_size!r}")
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.integer, np.floating)) \
                or not 0 <= validation_split < 1:
            raise ValueError(f"fit: validation_split must be a float in [0, 1). "
                             f"Received: validation_split={validation_split!r}")
        if validation_data is not None and (not isinstance(validation_data, (tuple, list))
                                            or len(validation_data) not in (2, 3)):
            raise ValueError("fit: validation_data must be a tuple (x_val, y_val). Received: validation_data of type "
                             f"{type(validation_data).__name__}"
                             + (f" with {len(validation_data)} entries" if isinstance(validation_data, (tuple, list))
                                else ""))
        Seq = _jvm.jclass("org.pydl.nn.Sequential")
        DataSet = _jvm.jclass("org.pydl.train.DataSet")
        state = _jvm.jclass("org.pydl.train.ProgressState")()
        copies = []
        with java_errors():
            opts = Seq.FitOptions().epochs(int(epochs)).batchSize(int(batch_size)) \
                .validationSplit(float(validation_split)).shuffle(bool(shuffle)).checkFinite(bool(check_finite)) \
                .listener(state)
            if seed is not None:
                opts = opts.seed(int(seed))
            if validation_data is not None:
                vx, vy = validation_data[0], validation_data[1]
                vxa = self._x(vx, "validation x")
                self._check_x(vxa, "fit (validation data)", switch=False)
                vya = self._y(vy, len(vxa), "validation y")
                copies += [self._to_java_x(vxa), _array.to_java(vya)]
                opts = opts.validationData(DataSet(copies[-2], copies[-1]))
            copies += [self._to_java_x(xa), _array.to_java(ya)]
            data = DataSet(copies[-2], copies[-1])
        from .progress import run_with_progress

        try:
            jhist = run_with_progress(lambda: self._java.fit(data, opts), state, self._java, verbose)
        finally:
            for c in copies:  # the input copies: free them now rather than at the next JVM GC
                c.close()
        if jhist is None:
            return History({}, 0)
        bridge = _jvm.jclass("org.pydl.py.PyBridge")
        h = json.loads(str(bridge.toJson(jhist.history())))
        return History(_floats(h), int(jhist.epochs()))

    def _require_built(self, what):
        if self._java is None and self._input_shape is not None and self._layers:
            self.build()
        if self._java is None:
            raise ValueError(f"{what} called before model '{self.name}' was built: add layers.Input(shape) as the "
                             "first layer, call model.build(input_shape), or train it with fit first")

    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        """Loss (and metrics) over (x, y). Returns ``[loss, accuracy]``, ``loss`` alone, or a dict."""
        batch_size = _positive_int("evaluate", "batch_size", batch_size)
        self._require_built("evaluate")
        if self._compile_args is None:
            raise RuntimeError(f"model '{self.name}' must be compiled before evaluate")
        xa = self._x(x)
        self._check_x(xa, "evaluate")
        ya = self._y(y, len(xa))
        if len(xa) == 0:
            raise ValueError("evaluate: x is empty (0 samples)")
        with java_errors():
            xj, yj = self._to_java_x(xa), _array.to_java(ya)
            try:
                r = self._java.evaluate(xj, yj, int(batch_size))
            finally:
                xj.close()
                yj.close()
            d = _floats(json.loads(str(_jvm.jclass("org.pydl.py.PyBridge").toJson(r))))
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in d.items()))
        if return_dict:
            return d
        vals = list(d.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=32, verbose=0) -> np.ndarray:
        """Outputs for x as a NumPy array. Results of more than 16 KiB view Java's result memory (no copy);
        smaller ones are copied out of a reused buffer, which is cheaper than building a view."""
        batch_size = _positive_int("predict", "batch_size", batch_size)
        if (self._java is not None and type(x) is np.ndarray and x.dtype == self.dtype and x.ndim >= 2
                and 0 < x.shape[0] <= batch_size and x.shape[1:] == self._input_shape):
            return self._predict_one_batch(x)
        self._require_built("predict")
        xa = self._x(x)
        self._check_x(xa, "predict")
        if len(xa) == 0:
            return np.zeros((0,) + tuple(int(d) for d in self._java.outputShape()), dtype=self.dtype)
        with java_errors():
            xj = self._to_java_x(xa)
            try:
                return _array.to_numpy(self._java.output(xj, int(batch_size)), own=True)
            finally:
                xj.close()  # free the input copy now rather than at the next JVM GC

    _SMALL_RESULT = 16 << 10

    def _predict_one_batch(self, x):
        """Fast path for one batch (W7, W2i): x is copied into a per-thread staging array reused while the batch
        shape stays the same. A small result is written by Java into a reused staging output (one JPype call,
        nothing returned) and copied; a large one is returned as a zero-copy view."""
        local = self.__dict__.get("_staging")
        if local is None:
            import threading

            local = self.__dict__.setdefault("_staging", threading.local())
        cached = getattr(local, "entry", None)
        if cached is None or cached[0] != x.shape:
            nd_in = _array.to_java(x, self.dtype)
            out_shape = (x.shape[0],) + tuple(int(d) for d in self._java.outputShape())
            small = int(np.prod(out_shape)) * self.dtype.itemsize <= self._SMALL_RESULT
            nd_out = _array.to_java(np.zeros(out_shape, self.dtype)) if small else None
            cached = local.entry = (x.shape, nd_in, _array.to_numpy(nd_in), nd_out,
                                    _array.to_numpy(nd_out) if small else None,
                                    _jvm.jclass("org.pydl.py.PyBridge").predictInto)
        else:
            np.copyto(cached[2], x)
        try:
            if cached[3] is not None:
                cached[5](self._java, cached[1], cached[3])
                return cached[4].copy()
            return _array.to_numpy(self._java.output(cached[1]), own=True)
        except Exception as e:  # noqa: BLE001
            raise translate(e) from None

    def __call__(self, x):
        """On data: ``predict(x)``. On a ``layers.Input`` tensor (or a layer's output): this model used as a layer
        of a functional ``Model``; its weights are shared with this object."""
        if isinstance(x, (_layers.Input, _layers.core.SymbolicTensor)) or (
                isinstance(x, (list, tuple)) and x and isinstance(x[0], (_layers.Input, _layers.core.SymbolicTensor))):
            return self._as_layer()(x)
        return self.predict(x)

    def _as_layer(self):
        self._require_built("calling a model on a tensor")
        layer = self.__dict__.get("_nested_layer")
        if layer is None:
            layer = self.__dict__.setdefault("_nested_layer", _NestedModelLayer(self))
        return layer

    def activations(self, x) -> dict:
        """Every layer's output for ``x`` (inference mode), keyed by layer name: for debugging and for comparing a
        model layer by layer with a reference implementation."""
        self._require_built("activations")
        xs = self._xs(x, "activations") if isinstance(self, Model) else [self._x(x)]
        if not isinstance(self, Model):
            self._check_x(xs[0], "activations")
        ArrayList = _jvm.jclass("java.util.ArrayList")
        jx, copies = ArrayList(), []
        with java_errors():
            for a in xs:
                copies.append(self._to_java_x(a))
                jx.add(copies[-1])
            try:
                acts = self._java.activations(jx)
                return {str(k): _array.to_numpy(v, own=True) for k, v in acts.items()}
            finally:
                for c in copies:
                    c.close()

    # inspection -------------------------------------------------------------------------------------------
    def summary(self, print_fn=print):
        self._require_built("summary")
        print_fn(str(self._java.summary()).rstrip("\n"))

    def count_params(self) -> int:
        self._require_built("count_params")
        return int(self._java.paramCount())

    def get_layer(self, name):
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r} in model '{self.name}'; layers: {[l.name for l in self._layers]}")

    def get_weights(self):
        self._require_built("get_weights")
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights):
        self._require_built("set_weights")
        weights = list(weights)
        for layer in self._layers:
            n = len(list(layer._java.parameters()))
            layer.set_weights(weights[:n])
            weights = weights[n:]
        if weights:
            raise ValueError(f"set_weights: {len(weights)} arrays left over")

    # files ------------------------------------------------------------------------------------------------
    def save(self, path):
        """Writes the model (config, weights, optimizer state) to one zip file, atomically."""
        self._require_built("save")
        Paths = _jvm.jclass("java.nio.file.Paths")
        with java_errors():
            _jvm.jclass("org.pydl.io.ModelFile").save(self._java, Paths.get(os.fspath(os.path.abspath(path))))


class Model(Sequential):
    """A functional model: layers applied to ``layers.Input`` tensors, any number of inputs and outputs, shared
    layers (one layer object applied twice shares its weights) and merge layers.

    Example:
        >>> a, b = layers.Input(16, name="a"), layers.Input(16, name="b")
        >>> shared = layers.Dense(8, activation="relu")
        >>> h = layers.Concatenate()([shared(a), shared(b)])
        >>> model = pydl.Model(inputs=[a, b], outputs=[layers.Dense(1, activation="sigmoid")(h), layers.Dense(3)(h)])
        >>> model.compile("adam", loss=["binary_crossentropy", "mse"], loss_weights=[1.0, 0.5])
        >>> model.fit([xa, xb], [y1, y2], epochs=3)
    """

    def __init__(self, inputs, outputs, name: str | None = None, seed: int | None = None, dtype: str = "float32"):
        super().__init__(name=name or "model", seed=seed, dtype=dtype)
        self._inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self._outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        self._single_output = not isinstance(outputs, (list, tuple))
        for t in self._inputs:
            if not isinstance(t, _layers.Input):
                raise TypeError(f"Model: inputs must be layers.Input tensors, received {type(t).__name__}")
        for t in self._outputs:
            if not isinstance(t, _layers.core.SymbolicTensor):
                raise TypeError("Model: outputs must be tensors returned by calling layers on layers.Input tensors, "
                                f"received {type(t).__name__}")
        config = self._graph_config()
        nested = _jvm.jclass("java.util.HashMap")()
        for layer in self._layers:
            if isinstance(layer, _NestedModelLayer):
                nested.put(layer.name, layer.model._java)
        with java_errors():
            self._java = _jvm.jclass("org.pydl.py.PyBridge").model(json.dumps(config), nested)
            by_name = {str(jl.name()): jl for jl in self._java.layers()}
        for layer in self._layers:
            layer._java = by_name[layer.name]
        self._input_shape = None

    def _graph_config(self):
        ids, nodes, layers_ = {}, [], []
        for i, t in enumerate(self._inputs):
            if id(t) in ids:
                raise ValueError("Model: the same Input is listed twice")
            ids[id(t)] = i
        used = set()
        first_ids = {}   # id(node) -> id of its first output tensor (a node's outputs are numbered consecutively)
        next_id = [len(self._inputs)]

        def visit(t):
            if id(t) in ids:
                return ids[id(t)]
            if isinstance(t, _layers.Input):
                raise ValueError(f"Model: the graph uses an Input {t!r} that is not in `inputs`")
            node = t.node
            if id(node) not in first_ids:
                in_ids = [visit(x) for x in node.inputs]
                if all(node.layer is not l for l in layers_):
                    layers_.append(node.layer)
                nodes.append({"layer": node.layer, "inputs": in_ids, "args": node.args})
                first_ids[id(node)] = next_id[0]
                next_id[0] += node.count
            return first_ids[id(node)] + t.index

        outs = [visit(t) for t in self._outputs]
        used_inputs = {i for n in nodes for i in n["inputs"] if i < len(self._inputs)}
        for i, t in enumerate(self._inputs):
            if i not in used_inputs:
                raise ValueError(f"Model: input {t.name or i!r} is not connected to any output")
        counts = {}
        names = {l.name for l in layers_ if l.name}
        for layer in layers_:
            if layer.name is None:
                base = _snake(layer.class_name)
                n = counts.get(base, 0)
                while (base if n == 0 else f"{base}_{n}") in names:
                    n += 1
                layer.name = base if n == 0 else f"{base}_{n}"
                counts[base] = n + 1
                names.add(layer.name)
            elif layer.name in used:
                raise ValueError(f"Model: two layers are named {layer.name!r}; layer names must be unique")
            used.add(layer.name)
        self._layers = layers_
        return {"class": "Model", "name": self.name, "dtype": self.dtype.name, "seed": self.seed,
                "inputs": [{"name": t.name or ("input" if i == 0 else f"input_{i}"), "shape": list(t.shape)}
                           for i, t in enumerate(self._inputs)],
                "layers": [l._spec() for l in layers_],
                "nodes": [{"layer": n["layer"].name, "inputs": n["inputs"], **({"args": n["args"]} if n["args"] else {})}
                          for n in nodes],
                "outputs": outs}

    @classmethod
    def _from_java(cls, jmodel):
        m = Sequential._from_java.__func__(cls, jmodel)
        m._single_output = len(list(jmodel.outputShapes())) == 1
        return m

    @property
    def inputs(self):
        return list(self._inputs) if hasattr(self, "_inputs") else None

    def add(self, layer):
        raise TypeError("a functional Model is defined by its inputs and outputs; add() is for Sequential")

    def build(self, input_shape=None):
        pass

    def compile(self, optimizer="adam", loss=None, metrics=None, loss_weights=None, from_logits: bool = False):
        """One loss for every output, or a list (one per output); ``loss_weights`` weighs their sum."""
        opt = _optimizers.get(optimizer)
        n_out = len(list(self._java.outputShapes()))
        losses = list(loss) if isinstance(loss, (list, tuple)) else [loss] * n_out
        for item in losses:
            if not isinstance(item, str) or item.lower() not in _LOSSES:
                raise ValueError(f"compile: unknown loss. Received: loss={item!r}; valid: {sorted(_LOSSES)}")
        if len(losses) != n_out:
            raise ValueError(f"compile: model '{self.name}' has {n_out} outputs but {len(losses)} losses were given")
        if loss_weights is not None and len(loss_weights) != n_out:
            raise ValueError(f"compile: {len(loss_weights)} loss_weights for {n_out} outputs")
        metrics = list(metrics or [])
        for m in metrics:
            if m not in ("accuracy", "acc"):
                raise ValueError(f"compile: unsupported metric {m!r}; supported: 'accuracy'")
        with java_errors():
            _jvm.jclass("org.pydl.py.PyBridge").compile(
                self._java, json.dumps(opt.get_config()),
                json.dumps([{"name": l.lower(), "from_logits": bool(from_logits)} for l in losses]),
                json.dumps(None if loss_weights is None else [float(w) for w in loss_weights]), json.dumps(metrics))
        self._compile_args = (opt, [l.lower() for l in losses], metrics, bool(from_logits))

    def _xs(self, x, what="x", switch=True):
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        shapes = [tuple(int(d) for d in s) for s in self._java.inputShapes()]
        if len(xs) != len(shapes):
            raise ValueError(f"{what}: model '{self.name}' has {len(shapes)} inputs, received {len(xs)} arrays")
        xs = [self._x(a, what) for a in xs]
        if switch and [a.shape[1:] for a in xs] != shapes and self._respecialize([a.shape[1:] for a in xs]):
            shapes = [tuple(int(d) for d in s) for s in self._java.inputShapes()]
        out = []
        for i, (a, shape) in enumerate(zip(xs, shapes)):
            if a.shape[1:] != shape:
                raise ValueError(f"{what}: model '{self.name}' input {i} expects shape (None, "
                                 f"{', '.join(map(str, shape))}), received {a.shape}")
            out.append(a)
        if len({len(a) for a in out}) > 1:
            raise ValueError(f"{what}: inputs have different numbers of samples {[len(a) for a in out]}")
        return out

    def _ys(self, y, n, what="y"):
        ys = list(y) if isinstance(y, (list, tuple)) else [y]
        losses = [str(l.name()) for l in self._java.losses()]
        if len(ys) != len(losses):
            raise ValueError(f"{what}: model '{self.name}' has {len(losses)} outputs, received {len(ys)} target arrays")
        out = []
        for a, loss in zip(ys, losses):
            a = _array.as_numeric(a, what)
            if a.ndim == 0 or len(a) != n:
                raise ValueError(f"{what} has {0 if a.ndim == 0 else len(a)} samples but x has {n}")
            out.append(a.astype(np.int32) if loss in _SPARSE and a.dtype != np.int32 else a)
        return out

    def _dataset(self, xs, ys, copies):
        ArrayList = _jvm.jclass("java.util.ArrayList")
        jx, jy = ArrayList(), ArrayList()
        for a in xs:
            copies.append(self._to_java_x(a))
            jx.add(copies[-1])
        for a in ys:
            copies.append(_array.to_java(a))
            jy.add(copies[-1])
        return _jvm.jclass("org.pydl.train.DataSet")(jx, jy)

    def fit(self, x, y, epochs=1, batch_size=32, validation_split=0.0, validation_data=None, shuffle=True,
            verbose=1, check_finite=True, seed=None) -> History:
        """Trains in Java; ``x`` and ``y`` are lists (one array per input / output) or single arrays."""
        if self._compile_args is None:
            raise RuntimeError(f"model '{self.name}' must be compiled before fit: call model.compile(...)")
        xs = self._xs(x, "fit")
        ys = self._ys(y, len(xs[0]))
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative int. Received: epochs={epochs!r}")
        epochs = int(epochs)
        batch_size = _positive_int("fit", "batch_size", batch_size)
        Net = _jvm.jclass("org.pydl.nn.Network")
        state = _jvm.jclass("org.pydl.train.ProgressState")()
        copies = []
        with java_errors():
            opts = Net.FitOptions().epochs(epochs).batchSize(batch_size).validationSplit(float(validation_split)) \
                .shuffle(bool(shuffle)).checkFinite(bool(check_finite)).listener(state)
            if seed is not None:
                opts = opts.seed(int(seed))
            if validation_data is not None:
                vxs = self._xs(validation_data[0], "validation x", switch=False)
                opts = opts.validationData(self._dataset(vxs, self._ys(validation_data[1], len(vxs[0])), copies))
            data = self._dataset(xs, ys, copies)
        from .progress import run_with_progress

        try:
            jhist = run_with_progress(lambda: self._java.fit(data, opts), state, self._java, verbose)
        finally:
            for c in copies:
                c.close()
        if jhist is None:
            return History({}, 0)
        h = json.loads(str(_jvm.jclass("org.pydl.py.PyBridge").toJson(jhist.history())))
        return History(_floats(h), int(jhist.epochs()))

    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        if self._compile_args is None:
            raise RuntimeError(f"model '{self.name}' must be compiled before evaluate")
        xs = self._xs(x, "evaluate")
        ys = self._ys(y, len(xs[0]))
        copies = []
        with java_errors():
            try:
                r = self._java.evaluate(self._dataset(xs, ys, copies), _positive_int("evaluate", "batch_size",
                                                                                     batch_size))
            finally:
                for c in copies:
                    c.close()
            d = _floats(json.loads(str(_jvm.jclass("org.pydl.py.PyBridge").toJson(r))))
        if return_dict:
            return d
        vals = list(d.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=32, verbose=0):
        """One NumPy array per output (a single array when the model was built with a single output)."""
        batch_size = _positive_int("predict", "batch_size", batch_size)
        fast = self._fast_inputs(x, batch_size)
        if fast is not None:
            outs = self._predict_all_one_batch(fast)
            return outs[0] if self._single_output else outs
        xs = self._xs(x, "predict")
        ArrayList = _jvm.jclass("java.util.ArrayList")
        copies = []
        with java_errors():
            jx = ArrayList()
            for a in xs:
                copies.append(self._to_java_x(a))
                jx.add(copies[-1])
            try:
                outs = [_array.to_numpy(o, own=True) for o in self._java.outputAll(jx, batch_size)]
            finally:
                for c in copies:
                    c.close()
        return outs[0] if self._single_output else outs

    def _fast_inputs(self, x, batch_size):
        """x as a list of arrays when it can take the one-batch fast path (NumPy arrays of the right shapes, the
        model's dtype or integer tokens, one batch), else None (the checked general path)."""
        if self._java is None:
            return None
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        shapes = self.__dict__.get("_in_shapes")
        if shapes is None:
            shapes = self.__dict__.setdefault("_in_shapes", [tuple(int(d) for d in s)
                                                             for s in self._java.inputShapes()])
        if len(xs) != len(shapes):
            return None
        for a, shape in zip(xs, shapes):
            if type(a) is not np.ndarray or a.shape[1:] != shape or a.ndim < 2 or \
                    not (a.dtype == self.dtype or a.dtype.kind in "iu"):
                return None
        n = xs[0].shape[0]
        if not 0 < n <= batch_size or any(a.shape[0] != n for a in xs):
            return None
        return xs

    def _predict_all_one_batch(self, xs):
        """Fast path for one batch of a functional model (the counterpart of Sequential's): inputs are copied into
        per-thread staging arrays reused while the batch shapes stay the same; small outputs (16 KiB in all) are
        written by Java into reused staging outputs (one JPype call) and copied, larger ones returned as views."""
        local = self.__dict__.get("_staging")
        if local is None:
            import threading

            local = self.__dict__.setdefault("_staging", threading.local())
        key = tuple(a.shape for a in xs)
        cached = getattr(local, "entry_all", None)
        if cached is None or cached[0] != key:
            ArrayList = _jvm.jclass("java.util.ArrayList")
            nd_in, jin = [], ArrayList()
            for a in xs:
                nd_in.append(_array.to_java(np.zeros(a.shape, self.dtype)))
                jin.add(nd_in[-1])
            views_in = [_array.to_numpy(nd) for nd in nd_in]
            out_shapes = [(key[0][0],) + tuple(int(d) for d in s) for s in self._java.outputShapes()]
            small = sum(int(np.prod(s)) for s in out_shapes) * self.dtype.itemsize <= self._SMALL_RESULT
            jout, views_out = None, None
            if small:
                jout = ArrayList()
                for s in out_shapes:
                    jout.add(_array.to_java(np.zeros(s, self.dtype)))
                views_out = [_array.to_numpy(nd) for nd in jout]
            cached = local.entry_all = (key, nd_in, views_in, jin, jout, views_out,
                                        _jvm.jclass("org.pydl.py.PyBridge").predictAllInto)
        for dst, a in zip(cached[2], xs):
            np.copyto(dst, a, casting="unsafe")
        try:
            if cached[4] is not None:
                cached[6](self._java, cached[3], cached[4])
                return [v.copy() for v in cached[5]]
            return [_array.to_numpy(o, own=True) for o in self._java.outputAll(cached[3])]
        except Exception as e:  # noqa: BLE001
            raise translate(e) from None


class _NestedModelLayer(_layers.Layer):
    """A built model used as a layer of a functional Model (one input, one output); shares the model's weights."""

    def __init__(self, model):
        super().__init__(model.name)
        self.model = model
        self.class_name = "Model" if isinstance(model, Model) else "Sequential"

    def get_config(self):
        cfg = json.loads(str(_jvm.jclass("org.pydl.py.PyBridge").toJson(self.model._java.config())))
        return {**super().get_config(), "model": cfg}


def _snake(name: str) -> str:
    import re

    return re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)).lower()


def load(path) -> Sequential:
    """Loads a model saved by :meth:`Sequential.save` (from Python or Java). Never runs code from the file."""
    try:
        p = os.fspath(path)
    except TypeError:
        raise TypeError(f"load: path must be a str or os.PathLike. Received: path={path!r} "
                        f"of type {type(path).__name__}") from None
    if isinstance(p, bytes):
        p = os.fsdecode(p)
    if not os.path.exists(p):
        raise FileNotFoundError(f"no such model file: {p!r}")
    if os.path.isdir(p):
        raise IsADirectoryError(f"load: {p!r} is a directory, not a pydl model file")
    Paths = _jvm.jclass("java.nio.file.Paths")
    try:
        jm = _jvm.jclass("org.pydl.io.ModelFile").loadNetwork(Paths.get(os.path.abspath(p)))
    except Exception as e:  # noqa: BLE001
        raise translate(e) from None
    if str(jm.getClass().getSimpleName()) == "Model":
        return Model._from_java(jm)
    return Sequential._from_java(jm)
