"""Keras model import: Keras 3 ``.keras`` files, full-model HDF5 ``.h5`` files written by Keras 3 (legacy format)
or Keras 2 / tf.keras, and architecture JSON + weights (``.weights.h5`` or legacy ``.h5``) pairs.

    >>> from pydl.importers import keras
    >>> model = keras.load("model.keras")          # a pydl.Sequential or pydl.Model with Keras's weights
    >>> model.predict(x)                            # same numbers as Keras
    >>> model.save("model.pydl")                    # loads from Java with org.pydl.io.ModelFile.loadNetwork

How it works: the Keras config (JSON) is translated layer by layer into pydl's layers (same class names, config
keys and weight layouts); functional graphs are rebuilt by calling the pydl layers on pydl tensors in the order
Keras recorded (shared layers, several inputs/outputs, nested models, call arguments such as
``return_attention_scores``); the weights are read with h5py and set layer by layer, with their shapes checked
before any data is read. Every unsupported layer or option of the whole model is collected and reported in one
:class:`KerasImportError`. Loading never runs code from the file: no pickle, no ``eval``, no ``Lambda``
(register a replacement with :func:`register`).
"""
from __future__ import annotations

import inspect
import io
import json
import math
import os
import warnings
import zipfile

import numpy as np

__all__ = ["load", "register", "unregister", "KerasImportError"]

_MAX_MEMBER = 8 << 30          # largest zip member read (bytes): a bigger claim is refused before reading
_MAX_SIZE = 1 << 31            # any size-like integer of a layer config above this is refused (absurd sizes)
_MAX_PARAMS = 4 << 30          # total weights a config may declare (estimated before building)


class KerasImportError(ValueError):
    """A Keras file pydl cannot import; the message lists every problem found (layer names included)."""


_CUSTOM: dict = {}


def register(name: str, fn) -> None:
    """Registers a replacement for a Keras layer class (or for one layer, by its name; a layer name wins over a
    class name): ``fn(config) -> pydl layer``, called with the layer's Keras config dict. This is how a ``Lambda``
    or a custom layer is imported: pydl never runs code stored in a file.

        >>> from pydl import layers
        >>> keras.register("Lambda", lambda cfg: layers.Activation("relu", name=cfg["name"]))
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"register: name must be a non-empty str. Received: name={name!r}")
    if not callable(fn):
        raise TypeError(f"register: fn must be callable (config dict -> pydl layer). Received: {fn!r}")
    _CUSTOM[name] = fn


def unregister(name: str) -> None:
    _CUSTOM.pop(name, None)


# ---- reading files -------------------------------------------------------------------------------------------------
def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is in the test extra
        raise ImportError("pydl.importers.keras needs h5py to read Keras weights: pip install h5py") from None
    return h5py


_ZIP_MAGIC = b"PK\x03\x04"
_H5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _kind(path):
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head == _H5_MAGIC:
        return "h5"
    if head.lstrip()[:1] == b"{":
        return "json"
    return None


def _safe_member(name):
    parts = name.replace("\\", "/").split("/")
    return not (name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"))


def _read_zip(path):
    """config, metadata and an in-memory h5py file of a ``.keras`` zip; nothing is extracted to disk."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise KerasImportError(f"{path!r} is not a readable .keras file (a zip archive): {e}") from None
    with zf:
        names = zf.namelist()
        bad = [n for n in names if not _safe_member(n)]
        if bad:
            raise KerasImportError(f"{path!r}: refusing a .keras archive with unsafe entry names {bad} (absolute "
                                   "paths or '..' components)")
        for need in ("config.json", "model.weights.h5"):
            if need not in names:
                raise KerasImportError(f"{path!r}: the .keras archive has no {need!r} (entries: {names})")

        def read(n):
            info = zf.getinfo(n)
            if info.file_size > _MAX_MEMBER:
                raise KerasImportError(f"{path!r}: entry {n!r} declares {info.file_size} bytes; refusing more than "
                                       f"{_MAX_MEMBER}")
            try:
                return zf.read(n)
            except (zipfile.BadZipFile, OSError, EOFError, zlib_error()) as e:
                raise KerasImportError(f"{path!r}: entry {n!r} is damaged: {e}") from None

        try:
            config = json.loads(read("config.json"))
        except ValueError as e:
            raise KerasImportError(f"{path!r}: config.json is not valid JSON: {e}") from None
        metadata = {}
        if "metadata.json" in names:
            try:
                metadata = json.loads(read("metadata.json"))
            except ValueError:
                metadata = {}
        weights = read("model.weights.h5")
    try:
        h5 = _h5py().File(io.BytesIO(weights), "r")
    except OSError as e:
        raise KerasImportError(f"{path!r}: model.weights.h5 is not a readable HDF5 file: {e}") from None
    return config, metadata, h5


def zlib_error():
    import zlib

    return zlib.error


def _open_h5(path):
    try:
        return _h5py().File(path, "r")
    except OSError as e:
        raise KerasImportError(f"{path!r} is not a readable HDF5 file: {e}") from None


def _attr_str(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return str(v)


class _Store:
    """Weights of a Keras 3 weights file (``model.weights.h5`` / ``.weights.h5``): ``layers/<name>/vars/<i>``,
    sub-layers as child groups (``cell``, ``forward_layer``, ``query_dense``, ...), nested models under
    ``layers/<name>/layers/<inner>``."""

    hierarchical = True
    _FIRST = ("cell", "forward_layer", "backward_layer", "query_dense", "key_dense", "value_dense", "output_dense",
              "layer")

    def __init__(self, root, label):
        self.root, self.label = root, label
        self._index = {}            # path of a "layers" group -> {layer name: its group} (built once: O(layers))

    def _child(self, g, name):
        """The group of layer ``name`` under ``g/layers``: groups are keyed by class-derived names ("conv2d_1"),
        the layer's own name is the ``name`` attribute of its ``vars`` group."""
        if "layers" not in g:
            return None
        layers = g["layers"]
        key = layers.name
        index = self._index.get(key)
        if index is None:
            index = {}
            for k, sub in layers.items():
                if hasattr(sub, "keys") and "vars" in sub:
                    index.setdefault(_attr_str(sub["vars"].attrs.get("name", "")), sub)
            self._index[key] = index
        sub = index.get(name)
        if sub is not None:
            return sub
        return layers[name] if name in layers else None

    def group(self, path):
        g = self.root
        for name in path:
            g = self._child(g, name)
            if g is None:
                return None
        return g

    def arrays(self, path):
        g = self.group(path)
        if g is None:
            return None
        out = []

        def walk(g):
            if "vars" in g:
                v = g["vars"]
                out.extend(v[k] for k in sorted(v.keys(), key=lambda s: (len(s), s)))
            kids = [k for k in g.keys() if k != "vars" and hasattr(g[k], "keys")]
            kids.sort(key=lambda k: (self._FIRST.index(k) if k in self._FIRST else len(self._FIRST), k))
            for k in kids:
                walk(g[k])

        walk(g)
        return out


class _LegacyStore:
    """Weights of a full-model ``.h5`` (``model_weights`` group) or a legacy weights-only ``.h5``: one group per
    layer whose ``weight_names`` attribute lists its weights in Keras's order; a nested model's group lists all its
    weights."""

    hierarchical = False

    def __init__(self, root, label):
        self.root, self.label = root, label

    def arrays(self, path):
        if path[0] not in self.root:
            return None
        g = self.root[path[0]]
        names = [_attr_str(n) for n in g.attrs.get("weight_names", [])]
        out = []
        for n in names:
            if n not in g:
                raise KerasImportError(f"{self.label}: weight {n!r} of layer {path[0]!r} is listed but missing")
            out.append(g[n])
        return out


# ---- config translation --------------------------------------------------------------------------------------------
_DROP = {"name", "trainable", "dtype", "seed", "build_config", "batch_input_shape", "batch_shape", "input_shape",
         "shared_object_id", "module", "registered_name", "autocast", "unroll", "implementation", "input_length",
         "compile_config", "zero_output_for_mask", "query_shape", "key_shape", "value_shape"}
# options that only matter for training or performance, ignored with a warning when pydl lacks them
_TRAINING_ONLY = ("_constraint", "activity_regularizer", "recurrent_dropout")
# options pydl may lack: accepted when they have this (Keras default) value
_DEFAULTS = {"stateful": False, "time_major": False, "sparse": False, "ragged": False, "use_gate": False,
             "sliding_window": None, "rms_scaling": False, "synchronized": False, "renorm": False, "lora_rank": None,
             "lora_alpha": None, "groups": 1, "noise_shape": None, "quantization_config": None, "optional": False,
             "data_format": "channels_last", "return_state": False, "zero_output_for_mask": False,
             "renorm_clipping": None, "renorm_momentum": 0.99, "adjustment": None, "fused": None,
             "virtual_batch_size": None, "dropout": 0.0, "flash_attention": None, "interpolation": "nearest",
             "mask_value": 0.0, "keepdims": False, "center": True, "scale": True, "use_bias": True, "axis": -1,
             "depth_multiplier": 1, "dilation_rate": 1, "padding": "valid", "strides": 1, "output_padding": None,
             "unit_forget_bias": True, "reset_after": True, "go_backwards": False, "return_sequences": False,
             "merge_mode": "concat", "invert": False, "offset": 0.0, "min_value": None, "max_value": None,
             "negative_slope": 0.0, "threshold": 0.0, "softmax_robust_masking": False}
_SIZE_KEYS = {"units", "filters", "input_dim", "output_dim", "num_heads", "key_dim", "value_dim", "n", "target_shape",
              "kernel_size", "pool_size", "size", "cropping", "padding", "groups", "depth_multiplier", "output_shape",
              "batch_shape", "batch_input_shape", "dims"}
_WRAPPERS = {"Bidirectional", "TimeDistributed"}
_MODELS = {"Sequential", "Functional", "Model"}


def _norm(v):
    """JSON-ish value -> plain Python (tuples for lists so equality with defaults works)."""
    return tuple(_norm(x) for x in v) if isinstance(v, list) else v


def _as_default(v):
    if isinstance(v, (list, tuple)) and v and all(x == v[0] for x in v):
        return v[0]
    return v


class _Ctx:
    def __init__(self, label, keras2):
        self.label = label
        self.keras2 = keras2
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.declared = 0
        self.flex = {}          # input layer name -> per axis: True where Keras declared None (variable size)
        self.placeholder = _FLEX_PLACEHOLDERS[0]
        self.renamed: dict = {}

    def pyname(self, name):
        """The pydl name of a Keras layer/model name: pydl names cannot hold '/' (it separates a layer's name from
        its weights' names), which Keras 2 allowed (MobileNetV3's 'Conv/BatchNorm'): each '/' becomes '.'."""
        if not isinstance(name, str) or "/" not in name:
            return name
        self.renamed[name] = name.replace("/", ".")
        return self.renamed[name]

    def problem(self, layer, cls, what):
        self.problems.append(f"layer '{layer}' ({cls}): {what}")

    def warn(self, layer, cls, what):
        self.warnings.append(f"layer '{layer}' ({cls}): {what}")


def _dtype_name(v):
    if isinstance(v, dict):
        return (v.get("config") or {}).get("name", "float32")
    return v or "float32"


def _check_sizes(lname, cls, cfg, ctx):
    def ints(v):
        if isinstance(v, bool):
            return []
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return [v]
        if isinstance(v, (list, tuple)):
            return [x for e in v for x in ints(e)]
        return []

    for k in _SIZE_KEYS & set(cfg):
        for x in ints(cfg[k]):
            if isinstance(x, float) and not math.isfinite(x) or abs(x) > _MAX_SIZE:
                ctx.problem(lname, cls, f"{k}={cfg[k]!r} is an absurd size (limit {_MAX_SIZE}); refusing to build it")
                return False
    # a rough count of the weights the config declares: products of its size-like integers
    big = [int(x) for k in ("units", "filters", "input_dim", "output_dim", "num_heads", "key_dim", "value_dim")
           for x in ints(cfg.get(k)) if x > 0]
    if len(big) >= 2:
        big.sort()
        ctx.declared += big[-1] * big[-2]
    return True


def _activation(lname, cls, key, v, ctx):
    """The pydl name of a Keras activation, or None (reported) when it cannot be imported."""
    if isinstance(v, dict):
        ctx.problem(lname, cls, f"{key}={v.get('class_name', v)!r} is a serialized function; only named activations "
                    "are imported")
        return None
    if ctx.keras2 and v == "hard_sigmoid":
        return "hard_sigmoid_keras2"    # Keras 2: clip(0.2 * x + 0.5, 0, 1); Keras 3: relu6(x + 3) / 6
    return v


def _regularizer(v):
    """Keras regularizer config -> pydl regularizer, or None when pydl has no equivalent."""
    if v is None:
        return None
    from .. import regularizers

    name = v.get("class_name") if isinstance(v, dict) else v
    cfg = v.get("config", {}) if isinstance(v, dict) else {}
    if name in ("L2", "l2") and hasattr(regularizers, "l2"):
        return regularizers.l2(float(cfg.get("l2", 0.01)))
    if name in ("L1L2",) and not cfg.get("l1") and hasattr(regularizers, "l2"):
        return regularizers.l2(float(cfg.get("l2", 0.0)))
    return False


def _translate_layer(cls, cfg, ctx, inner=False):
    """A pydl layer object for one Keras layer config, or None (the problems are recorded in ctx)."""
    from .. import layers as L

    lname = cfg.get("name", cls)
    custom = _CUSTOM.get(lname) or _CUSTOM.get(cls)
    if cls.startswith("Custom>"):               # tf.keras's register_keras_serializable default package (tf_keras's
        cls = cls[len("Custom>"):]              # applications register CustomScaleLayer so)
        custom = custom or _CUSTOM.get(cls)
    if custom is not None:
        try:
            layer = custom(dict(cfg))
        except Exception as e:  # noqa: BLE001 - the user's hook: report its failure with the layer name
            ctx.problem(lname, cls, f"the registered replacement failed: {type(e).__name__}: {e}")
            return None
        if not isinstance(layer, L.Layer) and not hasattr(layer, "_as_layer"):
            ctx.problem(lname, cls, f"the registered replacement returned {type(layer).__name__}, not a pydl layer")
            return None
        if isinstance(layer, L.Layer) and layer.name is None:
            layer.name = ctx.pyname(lname)
        return layer
    if cls == "Lambda":
        ctx.problem(lname, cls, "Lambda layers hold Python code, which pydl never runs from a file; register a "
                    "replacement: pydl.importers.keras.register('Lambda' or the layer name, fn(config) -> pydl layer)")
        return None
    if cls == "Identity":
        return L.Activation("linear", name=ctx.pyname(lname))
    if cls == "ActivityRegularization":
        if cfg.get("l1") or cfg.get("l2"):
            ctx.warn(lname, cls, f"l1={cfg.get('l1')}, l2={cfg.get('l2')}: a training-only penalty on the activity, "
                     "imported as the identity (predict matches Keras; fit does not add the penalty)")
        return L.Activation("linear", name=ctx.pyname(lname))
    if cls in _AUGMENTATION:
        ctx.warn(lname, cls, "random data augmentation, applied by Keras in training only: imported as the identity "
                 "(predict matches Keras; fit does not augment)")
        return L.Activation("linear", name=ctx.pyname(lname))
    if cls == "ThresholdedReLU":                            # Keras 2 only: x where x > theta, else 0
        cls = "ReLU"                                        # (ReLU's threshold keeps x == theta: measure zero)
        cfg = {k: v for k, v in cfg.items() if k != "theta"} | {"threshold": float(cfg.get("theta", 1.0))}
    if cls == "GRU" and ctx.keras2 and "reset_after" not in cfg:
        cfg = dict(cfg, reset_after=False)                  # Keras 2 before 2.1.4 had no reset_after: the v1 GRU
    if cls == "RNN":
        merged = _rnn_of_cell(lname, cfg, ctx)
        if merged is None:
            return None
        cls, cfg = merged
    if cls == "EinsumDense":
        cfg = _einsum_as_dense(lname, cfg, ctx)
        if cfg is None:
            return None
        cls = "Dense"
    pycls = L._CLASSES.get(cls)
    if pycls is None:
        ctx.problem(lname, cls, "layer class not supported by pydl (register a replacement with "
                    "pydl.importers.keras.register)")
        return None
    if not _check_sizes(lname, cls, cfg, ctx):
        return None
    sig = inspect.signature(pycls.__init__).parameters
    var_kw = any(p.kind == p.VAR_KEYWORD for p in sig.values())
    kw = {}
    ok = True
    dt = _dtype_name(cfg.get("dtype"))
    if dt not in ("float32", "float64", "mixed_float16", "mixed_bfloat16", "int32", "int64") and cls != "InputLayer":
        ctx.problem(lname, cls, f"dtype {dt!r} is not supported (float32 or float64)")
        ok = False
    for key, v in cfg.items():
        if key in _DROP or key.endswith("_initializer"):
            continue
        if key in ("activation", "recurrent_activation"):
            v = _activation(lname, cls, key, v, ctx)
            if v is None:
                ok = False
                continue
        if cls in _WRAPPERS and key in ("layer", "backward_layer"):
            if v is None:
                continue
            sub = _translate_layer(v["class_name"], v["config"], ctx, inner=True)
            if sub is None:
                ok = False
                continue
            kw[key] = sub
            continue
        if key.endswith("_regularizer") and key != "activity_regularizer":
            if v is None:
                continue
            r = _regularizer(v)
            if r is not False and key in sig:
                kw[key] = r
            else:
                ctx.warn(lname, cls, f"{key}={v!r} is ignored (training only; pydl has no equivalent here)")
            continue
        if key.endswith(_TRAINING_ONLY):
            if v not in (None, 0, 0.0) and key not in sig:
                ctx.warn(lname, cls, f"{key}={v!r} is ignored (it only affects training)")
                continue
            if key not in sig:
                continue
        if key == "noise_shape" and v is not None and key not in sig:
            ctx.warn(lname, cls, f"noise_shape={v!r} is ignored: inference is exact, but fit drops elements "
                     "independently (pydl's Dropout has no noise_shape)")
            continue
        v = _norm(v)
        if key not in sig and key in _DEFAULTS and _as_default(v) == _DEFAULTS[key]:
            continue
        if key == "axis" and isinstance(v, tuple) and len(v) == 1 and cls != "Normalization":
            v = v[0]                                # Keras 2 writes axis=[3]
        if key in sig and key not in ("self", "input_shape") or var_kw and key not in ("input_shape",):
            kw[key] = list(v) if isinstance(v, tuple) and key in ("target_shape", "dims") else v
            continue
        if key in _DEFAULTS and _as_default(v) == _DEFAULTS[key]:
            continue
        if key == "data_format" and v == "channels_first" and cls in ("Flatten",):
            ctx.problem(lname, cls, "data_format='channels_first' (Keras moves channels last before flattening) is "
                        "not supported by pydl's Flatten")
        else:
            ctx.problem(lname, cls, f"option {key}={v!r} is not supported by pydl")
        ok = False
    if not ok:
        return None
    if "name" in sig:
        kw["name"] = ctx.pyname(lname)
    if "trainable" in sig and cfg.get("trainable") is False:
        kw["trainable"] = False
    try:
        layer = pycls(**kw)
    except (TypeError, ValueError) as e:
        ctx.problem(lname, cls, str(e))
        return None
    if cfg.get("trainable") is False:
        layer.trainable = False
    return layer


# the sizes a variable (None) input dimension is built with until data of another size arrives (Model._respecialize):
# the first that builds (a long Conv1D kernel or many strided stages need more than 64)
_FLEX_PLACEHOLDERS = (64, 256, 1024)
# random augmentation layers: the identity at inference (Keras 3 and Keras 2 alike); not RandomCrop (it crops then)
_AUGMENTATION = {"RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast", "RandomTranslation",
                 "RandomBrightness", "RandomHeight", "RandomWidth"}
_CELLS = {"LSTMCell": "LSTM", "GRUCell": "GRU", "SimpleRNNCell": "SimpleRNN"}


def _einsum_as_dense(lname, cfg, ctx):
    """``EinsumDense`` whose equation contracts the input's last axis with a 2-D kernel into the output's last axis
    (``"abc,cd->abd"``, ``"...b,bc->...c"``, bias on that axis or none) is ``Dense`` (same kernel and bias layouts):
    its config translated, or None (a problem recorded)."""
    eq = str(cfg.get("equation", "")).replace(" ", "")
    out = cfg.get("output_shape")
    units = out if isinstance(out, int) else (out[-1] if isinstance(out, list) and out else None)
    try:
        lhs, res = eq.split("->")
        x, k = lhs.split(",")
    except ValueError:
        x = k = res = ""
    bias = cfg.get("bias_axes")
    ok = (len(k) == 2 and x and x[-1] == k[0] and res == x[:-1] + k[1] and k[0] not in res and k[1] not in x
          and isinstance(units, int) and bias in (None, "", k[1]))
    if not ok:
        ctx.problem(lname, "EinsumDense", f"equation {eq!r} (output_shape={out!r}, bias_axes={bias!r}) is not "
                    "supported: only a 2-D kernel contracting the last input axis into the last output axis "
                    "(\"abc,cd->abd\", which is Dense)")
        return None
    dense = {k_: v for k_, v in cfg.items() if k_ not in ("equation", "output_shape", "bias_axes")}
    dense.update(units=units, use_bias=bool(bias))
    return dense


def _rnn_of_cell(lname, cfg, ctx):
    """``keras.layers.RNN(cell)`` with a built-in cell is the cell's layer (``RNN(LSTMCell(8))`` is ``LSTM(8)``: same
    computation, same weights): returns (layer class, merged config), or None (a problem recorded)."""
    cell = cfg.get("cell")
    ccls = cell.get("class_name") if isinstance(cell, dict) else None
    if ccls not in _CELLS:
        what = "StackedRNNCells (several cells in one RNN)" if ccls == "StackedRNNCells" else repr(ccls)
        ctx.problem(lname, "RNN", f"RNN with cell {what} is not supported: only RNN(LSTMCell / GRUCell / "
                    "SimpleRNNCell), imported as LSTM / GRU / SimpleRNN")
        return None
    merged = {k: v for k, v in (cell.get("config") or {}).items() if k not in ("name", "trainable", "dtype")}
    merged.update({k: v for k, v in cfg.items() if k != "cell"})
    return _CELLS[ccls], merged


def _input_shape(lname, batch_shape, ctx, overrides):
    if lname in overrides:
        return tuple(int(d) for d in overrides[lname])
    if batch_shape is None:
        ctx.problem(lname, "InputLayer", "the model has no input shape")
        return None
    shape = list(batch_shape)[1:]
    if any(d is None for d in shape):       # built for a placeholder size; predict/fit rebuild for the real one
        ctx.flex[lname] = tuple(d is None for d in shape)
        shape = [ctx.placeholder if d is None else d for d in shape]
    if any(not isinstance(d, int) or d <= 0 or d > _MAX_SIZE for d in shape):
        ctx.problem(lname, "InputLayer", f"input shape {tuple(batch_shape)} is not a shape of positive sizes")
        return None
    return tuple(shape)


def _first_batch_shape(cfg):
    for k in ("batch_shape", "batch_input_shape"):
        if cfg.get(k) is not None:
            return cfg[k]
    return None


class _Built:
    """A translated model: the pydl model and, per Keras layer (in Keras's order), what gets its weights."""

    def __init__(self, model, entries):
        self.model = model
        self.entries = entries     # [(keras name, keras class, pydl layer or None, _Built for nested models)]


def _build_sequential(mcfg, ctx, overrides, name):
    from .. import layers as L
    from ..models import Sequential

    layer_cfgs = mcfg.get("layers", [])
    shape = None
    entries, objs = [], []
    for i, lc in enumerate(layer_cfgs):
        cls, cfg = lc["class_name"], lc.get("config", {})
        lname = cfg.get("name", cls)
        if cls == "InputLayer":
            shape = _input_shape(lname, _first_batch_shape(cfg), ctx, overrides)
            continue
        if i == 0 or (i == 1 and layer_cfgs[0]["class_name"] == "InputLayer" and shape is None):
            bs = _first_batch_shape(cfg) or (mcfg.get("build_input_shape") if shape is None else None)
            if shape is None and (bs is not None or name in overrides):
                shape = _input_shape(name if name in overrides else lname, bs, ctx, overrides)
        if cls in _MODELS:
            sub = _build_model(lc, ctx, overrides)
            if sub is None:
                continue
            objs.append(sub.model._as_layer())
            entries.append((lname, cls, None, sub))
            continue
        obj = _translate_layer(cls, cfg, ctx)
        if obj is not None:
            objs.append(obj)
            entries.append((lname, cls, obj, None))
    if shape is None and not any("InputLayer" in p or "input shape" in p for p in ctx.problems):
        ctx.problem(name, "Sequential", "the model has no input shape (no InputLayer, batch_input_shape or "
                    f"build_input_shape); pass input_shapes={{'{name}': (...)}} to load")
    if ctx.problems:
        return None
    from ..errors import java_errors  # noqa: F401 - Sequential.build translates Java errors itself

    if any(sub is not None for _, _, _, sub in entries):
        # a model nested in a Sequential (transfer learning: a frozen application under a new head): built as a
        # functional chain, which shares the nested model's weights (a pydl Sequential would build its own copy)
        from ..models import Model

        x = t = L.Input(shape)
        for obj in objs:
            t = obj(t)
        return _Built(Model(x, t, name=ctx.pyname(name), seed=0, dtype=ctx.dtype), entries)
    model = Sequential([L.Input(shape)] + objs, name=ctx.pyname(name), seed=0, dtype=ctx.dtype)
    model.build()
    return _Built(model, entries)


def _history(v, keras2):
    """A tensor reference -> (layer, node, index), or None."""
    if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
        h = v["config"]["keras_history"]
        return (h[0], int(h[1]), int(h[2]))
    if keras2 and isinstance(v, list) and len(v) in (3, 4) and isinstance(v[0], str) \
            and isinstance(v[1], int) and isinstance(v[2], int):
        return (v[0], v[1], v[2])
    return None


def _is_tensor_ref(v, keras2):
    return _history(v, keras2) is not None


def _map_refs(v, fn, keras2):
    """Replaces every tensor reference inside args/kwargs by fn(ref)."""
    h = _history(v, keras2)
    if h is not None:
        return fn(h)
    if isinstance(v, list):
        return [_map_refs(x, fn, keras2) for x in v]
    if isinstance(v, dict):
        return {k: _map_refs(x, fn, keras2) for k, x in v.items()}
    return v


def _refs(v, keras2):
    out = []
    _map_refs(v, lambda h: out.append(h), keras2)
    return out


def _node_call(node, keras2):
    """A Keras inbound node -> (args list, kwargs dict), tensors as references."""
    if isinstance(node, dict):                      # Keras 3
        return list(node.get("args", [])), dict(node.get("kwargs", {}))
    # Keras 2: [[layer, node, index, kwargs], ...]; a TFOpLambda node is one flat [layer, node, index, kwargs]
    if node and isinstance(node[0], str):
        return [[node[0], node[1], node[2]]], dict(node[3]) if len(node) > 3 and node[3] else {}
    items = [[x[0], x[1], x[2]] for x in node]
    kwargs = dict(node[0][3]) if node and len(node[0]) > 3 and node[0][3] else {}
    return ([items[0]] if len(items) == 1 else [items]), kwargs


def _io_list(v):
    if v and isinstance(v[0], str):
        return [v], True
    return [list(x) for x in v], False


def _build_functional(mcfg, ctx, overrides, name):
    from .. import layers as L
    from ..models import Model

    keras2 = ctx.keras2
    layer_cfgs = mcfg.get("layers", [])
    inputs_ref, _ = _io_list(mcfg.get("input_layers", []))
    outputs_ref, single = _io_list(mcfg.get("output_layers", []))
    objs, entries, pending = {}, [], []
    tensors = {}                                    # (layer, node, index) -> pydl tensor
    inputs = []
    for lc in layer_cfgs:
        cls, cfg = lc["class_name"], lc.get("config", {})
        lname = lc.get("name") or cfg.get("name")
        if cls == "InputLayer":
            shape = _input_shape(lname, _first_batch_shape(cfg), ctx, overrides)
            if shape is not None:
                t = L.Input(shape, name=ctx.pyname(lname))
                tensors[(lname, 0, 0)] = t
            continue
        if _is_op(lc):
            # a Keras 3 operation recorded in the graph (x * 2.0, keras.ops.tanh(x), a mask computed by ops)
            for k, node in enumerate(lc.get("inbound_nodes", [])):
                op = _translate_op(lname, cls, cfg, node, ctx, keras2)
                if op is _MASK_OP:
                    tensors[(lname, k, 0)] = _MASK_OP
                elif op is not None:
                    objs[(lname, k)] = op[0]
                    pending.append((lname, cls, k, op[1]))
            continue
        if cls in _MODELS:
            sub = _build_model(lc, ctx, overrides)
            if sub is not None:
                objs[lname] = sub.model
                entries.append((lname, cls, None, sub))
        else:
            obj = _translate_layer(cls, cfg, ctx)
            if obj is not None:
                objs[lname] = obj
                entries.append((lname, cls, obj, None))
        for k, node in enumerate(lc.get("inbound_nodes", [])):
            pending.append((lname, cls, k, node))
    # a nested model's node indices may count its own first node (Keras skips it when saving, or not: Keras 2
    # numbers them from 1): detect the offset from the references themselves
    offset = {}
    counts = {lc.get("name") or lc.get("config", {}).get("name"): len(lc.get("inbound_nodes", []))
              for lc in layer_cfgs if lc["class_name"] in _MODELS}
    refs = [h for lc in layer_cfgs for node in lc.get("inbound_nodes", []) for h in _refs(list(_node_call(node, keras2)),
                                                                                        keras2)]
    refs += [tuple(r) for r in outputs_ref]
    for h in refs:
        if h[0] in counts and int(h[1]) >= counts[h[0]]:
            offset[h[0]] = 1

    def key(h):
        return (h[0], int(h[1]) - offset.get(h[0], 0), int(h[2]))

    for ref in inputs_ref:
        t = tensors.get((ref[0], 0, 0))
        if t is None and not ctx.problems:
            ctx.problem(ref[0], "InputLayer", "listed as a model input but not defined")
        inputs.append(t)
    if ctx.problems:
        return None
    outer_probe, ctx.shape_of = getattr(ctx, "shape_of", None), _shape_prober(inputs, ctx)
    # call the layers in dependency order (a shared layer's later node may need layers defined after it)
    while pending:
        progress = False
        rest = []
        for lname, cls, k, node in pending:
            args, kwargs = _node_call(node, keras2)
            needed = _refs(args, keras2) + _refs(kwargs, keras2)
            if not all(key(h) in tensors for h in needed):
                rest.append((lname, cls, k, node))
                continue
            progress = True
            a = _map_refs(args, lambda h: tensors[key(h)], keras2)
            kw = _map_refs(kwargs, lambda h: tensors[key(h)], keras2)
            training = kw.pop("training", None)
            if training:
                ctx.warn(lname, cls, "called with training=True in Keras; pydl runs it in inference mode in predict")
            if kw.get("mask", "absent") is None or kw.get("mask", "absent") is _MASK_OP:
                kw.pop("mask")          # a mask computed by ops (Masking, Embedding): pydl propagates it itself
            if any(v is _MASK_OP for v in _refs_values(a)):
                ctx.problem(lname, cls, "uses a boolean mask computed by Keras operations as data; only the mask= "
                            "argument of a layer can take such a mask")
                continue
            try:
                out = (objs[(lname, k)] if (lname, k) in objs else objs[lname])(*a, **kw)
            except (TypeError, ValueError) as e:
                ctx.problem(lname, cls, f"call {k} is not supported: {e}")
                continue
            except Exception as e:  # noqa: BLE001 - Java errors (shapes) arrive translated
                ctx.problem(lname, cls, f"call {k} failed: {e}")
                continue
            outs = list(out) if isinstance(out, (list, tuple)) else [out]
            for i, t in enumerate(outs):
                tensors[(lname, k, i)] = t
        pending = rest
        if not progress:
            if not ctx.problems:
                ctx.problem(pending[0][0], pending[0][1], "its inputs are never computed (the graph has a cycle or "
                            "references unknown layers)")
            break
    ctx.shape_of = outer_probe
    outputs = []
    for ref in outputs_ref:
        t = tensors.get(key(ref))
        if t is None and not ctx.problems:
            ctx.problem(ref[0], "?", "listed as a model output but never computed")
        outputs.append(t)
    if ctx.problems:
        return None
    used = set()
    for t in outputs:
        _collect_layers(t, used)
    entries = [e for e in entries if id(e[2] if e[2] is not None else e[3].model._as_layer()) in used]
    model = Model(inputs, outputs[0] if single or len(outputs) == 1 else outputs, name=ctx.pyname(name), seed=0,
                  dtype=ctx.dtype)
    return _Built(model, entries)


_MASK_OP = object()     # the output of a Keras op that only computes a mask (NotEqual / Any / LogicalAnd ...)
_MASK_OPS = {"NotEqual", "Any", "All", "LogicalAnd", "LogicalOr", "LogicalNot", "Equal"}
_UNARY_OPS = {"Tanh": "tanh", "Sigmoid": "sigmoid", "Relu": "relu", "Relu6": "relu6", "Silu": "silu",
              "Swish": "silu", "Softplus": "softplus", "Softsign": "softsign", "Exp": "exponential", "Elu": "elu",
              "Selu": "selu", "HardSigmoid": "hard_sigmoid", "HardSilu": "hard_silu", "HardSwish": "hard_silu",
              "Mish": "mish", "LogSoftmax": "log_softmax", "Softmax": "softmax"}
_BINARY_OPS = {"Add", "Subtract", "Multiply", "Divide", "TrueDivide"}
# elementwise operations whose config option selects the pydl activation: class -> (option, Keras's default,
# {value: activation})
_OPTION_OPS = {"Gelu": ("approximate", True, {False: "gelu", True: "gelu_tanh"})}
_TF_OPS = {"__operators__.add": "Add", "math.add": "Add", "math.subtract": "Subtract", "math.multiply": "Multiply",
           "math.truediv": "TrueDivide", "math.divide": "TrueDivide", "math.tanh": "Tanh", "math.sigmoid": "Sigmoid",
           "nn.sigmoid": "Sigmoid", "nn.relu": "Relu", "nn.relu6": "Relu6", "nn.silu": "Silu", "nn.swish": "Silu",
           "nn.elu": "Elu", "nn.selu": "Selu", "math.exp": "Exp", "math.softplus": "Softplus",
           "nn.softplus": "Softplus", "nn.softsign": "Softsign", "math.softsign": "Softsign",
           "nn.softmax": "Softmax", "nn.log_softmax": "LogSoftmax", "math.not_equal": "NotEqual",
           "math.reduce_any": "Any", "math.reduce_mean": "Mean", "math.reduce_max": "Max",
           "__operators__.getitem": "GetItem", "concat": "Concatenate", "nn.gelu": "Gelu",
           "reshape": "Reshape", "compat.v1.transpose": "Transpose", "transpose": "Transpose",
           "expand_dims": "ExpandDims", "compat.v1.squeeze": "Squeeze", "squeeze": "Squeeze",
           "math.negative": "Negative", "__operators__.neg": "Negative", "math.square": "Square"}

# Keras 3 operation classes recognised in legacy .h5 configs (which do not name their module)
_KNOWN_OPS = _MASK_OPS | set(_UNARY_OPS) | _BINARY_OPS | set(_OPTION_OPS) | {
    "Mean", "Sum", "Max", "Min", "Power", "Sqrt", "Square", "Abs", "Log", "Reshape", "Transpose", "Matmul",
    "Concatenate", "Stack", "ExpandDims", "Squeeze", "Cast", "Arange", "Einsum", "GetItem", "Maximum", "Minimum",
    "Negative", "Erf", "Where", "Clip", "LeakyRelu", "Absolute"}


def _is_op(lc):
    """Whether a functional-graph entry is a Keras operation rather than a layer: Keras 3 ``.keras`` configs name the
    module (``keras.src.ops...``); legacy ``.h5`` configs of Keras 3 omit it, so there an operation is known by its
    class name and its config, which lacks the ``trainable`` flag every layer config has (``a + b`` is an ``Add``
    operation, ``layers.Add()`` a layer); Keras 2 records ``TFOpLambda``."""
    cls = lc["class_name"]
    if cls in ("TFOpLambda", "SlicingOpLambda") or str(lc.get("module") or "").startswith("keras.src.ops"):
        return True
    return "module" not in lc and cls in _KNOWN_OPS and "trainable" not in (lc.get("config") or {})


def _refs_values(v):
    if isinstance(v, (list, tuple)):
        return [x for e in v for x in _refs_values(e)]
    if isinstance(v, dict):
        return [x for e in v.values() for x in _refs_values(e)]
    return [v]


def _translate_op(lname, cls, cfg, node, ctx, keras2):
    """A Keras 3 operation node of a functional graph -> (pydl layer, node calling it on tensors only), _MASK_OP
    for the boolean ops of a mask computation, or None (a problem recorded)."""
    from .. import layers as L

    args, kwargs = _node_call(node, keras2)
    if cls in ("TFOpLambda", "SlicingOpLambda"):           # Keras 2: tf.math.multiply(x, y=2.0), x + y, ...
        fn = str(cfg.get("function", ""))
        kwargs.pop("name", None)
        if "y" in kwargs:
            args = args + [kwargs.pop("y")]
        if fn == "__operators__.getitem" and "slice_spec" in kwargs:
            args = args + [kwargs.pop("slice_spec")]
        if fn == "nn.gelu":
            kwargs.setdefault("approximate", False)         # tf.nn.gelu's default (keras.ops.gelu's is True)
        if kwargs.get("conjugate") is False:
            kwargs.pop("conjugate")                         # tf.transpose's complex-number option
        for tf_key, key in (("shape", "newshape"), ("perm", "axes")):
            if tf_key in kwargs:
                kwargs[key] = kwargs.pop(tf_key)
        cls = _TF_OPS.get(fn, f"{cls}({fn})")
        cfg, kwargs = {"name": cfg.get("name"), **kwargs}, {}
    tensors = [a for a in args if _is_tensor_ref(a, keras2)]
    consts = [a for a in args if not _is_tensor_ref(a, keras2)]
    if cls in _MASK_OPS:
        return _MASK_OP
    extra = {k: v for k, v in cfg.items() if k not in ("name", "dtype")}

    def as_node(targs):
        return {"args": targs, "kwargs": {}}

    if cls in _OPTION_OPS and len(tensors) == 1 and not consts:
        key, default, names = _OPTION_OPS[cls]
        value = extra.pop(key, kwargs.pop(key, default))
        if not extra and not kwargs and value in names:
            return L.Activation(names[value], name=ctx.pyname(lname)), as_node(tensors)
    if cls in _UNARY_OPS and len(tensors) == 1 and not consts:
        axis = extra.pop("axis", kwargs.pop("axis", -1))
        if extra or kwargs or (cls in ("Softmax", "LogSoftmax") and axis not in (-1, None)):
            ctx.problem(lname, cls, f"operation {cls} with {dict(extra, **kwargs)} is not supported")
            return None
        return L.Activation(_UNARY_OPS[cls], name=ctx.pyname(lname)), as_node(tensors)
    if cls in _BINARY_OPS and len(args) == 2 and not kwargs and not extra:
        if len(tensors) == 2:
            merge = {"Add": L.Add, "Subtract": L.Subtract, "Multiply": L.Multiply}.get(cls)
            if merge is not None:
                return merge(name=ctx.pyname(lname)), as_node([tensors])
        elif len(tensors) == 1:
            c = _constant(consts[0])
            layer = _constant_op(cls, c, _is_tensor_ref(args[0], keras2), _ref_shape(tensors[0]), ctx.pyname(lname))
            if layer is not None:
                return layer, as_node(tensors)
    if cls in _REDUCE_OPS and len(tensors) == 1 and not consts and not kwargs:
        axis = extra.pop("axis", None)
        keep = bool(extra.pop("keepdims", False))
        if extra.get("initial", "absent") is None:
            extra.pop("initial")
        if not extra and axis is not None:
            name, kind = ctx.pyname(lname), _REDUCE_OPS[cls]

            def check(shape):
                rank = len(shape)
                axes = sorted(a + rank if a < 0 else a for a in ((axis,) if isinstance(axis, int) else axis))
                if not 3 <= rank <= 5 or axes != list(range(1, rank - 1)):
                    return (f"{cls} over axis={axis!r} of a tensor of shape {tuple(shape)}: only over every axis but "
                            "batch and features (global pooling) is supported")
                return None

            def reduce(t, shape):
                if check(shape):
                    raise ValueError(check(shape))
                return getattr(L, f"{kind}{len(shape) - 2}D")(keepdims=keep, name=name)(t)
            recorded = _ref_shape(tensors[0])
            if recorded is not None and check(recorded):       # the rank is known: report it with the rest
                ctx.problem(lname, cls, f"Keras operation {check(recorded)}")
                return None
            return _Shaped(reduce, tensors[0], ctx), as_node(tensors)
    if cls == "GetItem" and len(args) == 2 and len(tensors) == 1 and not kwargs:
        key, name = args[1], ctx.pyname(lname)

        def why(shape):
            return (f"indexing {_key_str(key)} of a tensor of shape {tuple(shape)}: only integers and slices with "
                    "step 1 on the axes between batch and features are supported")

        def getitem(t, shape):
            chain = _getitem(shape, key, name)
            if chain is None:
                raise ValueError(why(shape))
            return chain(t)
        recorded = _ref_shape(tensors[0])
        if recorded is not None and None not in recorded[1:] and _getitem(recorded, key, name) is None:
            ctx.problem(lname, cls, f"Keras operation {why(recorded)}")
            return None
        return _Shaped(getitem, tensors[0], ctx), as_node(tensors)
    if cls == "Negative" and len(tensors) == 1 and not consts and not kwargs and not extra:
        return L.Rescaling(-1.0, name=ctx.pyname(lname)), as_node(tensors)
    if cls == "Square" and len(tensors) == 1 and not consts and not kwargs and not extra:
        return L.Multiply(name=ctx.pyname(lname)), as_node([[tensors[0], tensors[0]]])
    if cls in _SHAPE_OPS and len(tensors) == 1 and not consts and not kwargs:
        option = _SHAPE_OPS[cls]
        value = extra.pop(option, None)
        if not extra and (value is not None or cls == "Squeeze"):
            name = ctx.pyname(lname)

            def reshape(t, shape):
                target = _shape_op(cls, value, shape)
                if target is None:
                    raise ValueError(f"{cls} with {option}={value!r} of a tensor of shape {tuple(shape)}: only shapes "
                                     "that keep the batch axis are supported")
                return (L.Permute(target, name=name) if cls == "Transpose" else L.Reshape(target, name=name))(t)
            return _Shaped(reshape, tensors[0], ctx), as_node(tensors)
    if cls == "Matmul" and len(tensors) == 2 and not consts and not kwargs and not extra:
        ranks = [len(_ref_shape(t) or ()) for t in tensors]
        if ranks == [3, 3]:                              # (b, t, d) @ (b, d, s): Keras's batched Dot
            return L.Dot(axes=[2, 1], name=ctx.pyname(lname)), as_node([tensors])
    if cls == "Concatenate" and len(args) == 1 and isinstance(args[0], list) and \
            all(_is_tensor_ref(a, keras2) for a in args[0]) and set(extra) <= {"axis"} and not kwargs:
        return L.Concatenate(axis=int(extra.get("axis", 0)), name=ctx.pyname(lname)), as_node([args[0]])
    ctx.problem(lname, cls, f"Keras operation {cls} (in the graph through keras.ops or an operator on tensors) is "
                "not supported: supported are elementwise activations, negation and squares; +, -, *, / between "
                "tensors, or with a number or a constant array; mean / max over all axes but batch and features; indexing and slicing of the "
                "axes between batch and features (x[:, 0]); concatenate; and mask computations")
    return None


_REDUCE_OPS = {"Mean": "GlobalAveragePooling", "Max": "GlobalMaxPooling"}
_SHAPE_OPS = {"Reshape": "newshape", "ExpandDims": "axis", "Squeeze": "axis", "Transpose": "axes"}


def _shape_op(cls, value, shape):
    """The pydl Reshape target (or Permute dims, 1-based) of a Keras reshape / expand_dims / squeeze / transpose of
    a tensor of the given shape (batch first), or None when the batch axis would not stay first."""
    rank = len(shape)
    dims = list(shape[1:])
    if cls == "Transpose":
        axes = [a + rank if a < 0 else a for a in value]
        return tuple(axes[1:]) if sorted(axes) == list(range(rank)) and axes[0] == 0 else None
    if cls == "Reshape":
        new = list(value) if isinstance(value, (list, tuple)) else [value]
        if not new or new[0] not in (-1, None) or any(d is None for d in dims):
            return None
        rest = [-1 if d is None else int(d) for d in new[1:]]
        return tuple(rest) if rest.count(-1) <= 1 and all(d == -1 or d > 0 for d in rest) and rest else None
    if any(d is None for d in dims):
        return None
    if cls == "ExpandDims":
        a = value + rank + 1 if value < 0 else value
        return tuple(dims[:a - 1] + [1] + dims[a - 1:]) if 1 <= a <= rank else None
    axes = [i for i in range(1, rank) if shape[i] == 1] if value is None else \
        [a + rank if a < 0 else a for a in ((value,) if isinstance(value, int) else value)]
    if not axes or any(not 1 <= a < rank or shape[a] != 1 for a in axes):
        return None
    kept = tuple(d for i, d in enumerate(dims, 1) if i not in axes)
    return kept if kept else None


class _Shaped:
    """An operation whose translation depends on its input's shape: ``fn(tensor, shape)`` is called with the shape
    Keras recorded or, where that has unknown sizes (or Keras 2 recorded none), the shape pydl computes."""

    def __init__(self, fn, ref, ctx):
        self.fn, self.recorded, self.ctx = fn, _ref_shape(ref), ctx

    def __call__(self, t):
        shape = self.recorded
        if shape is None or None in shape[1:]:
            shape = self.ctx.shape_of(t)
        return self.fn(t, list(shape))


def _shape_prober(inputs, ctx):
    """``shape_of(tensor)``: the (None, ...) shape of a pydl graph tensor, from a throw-away model of the graph up to
    it (zero-filled weights; the final model rebinds every layer)."""
    from .. import layers as L
    from ..models import Model

    cache = {}

    def shape_of(t):
        if isinstance(t, L.Input):
            return [None] + list(t.shape)
        if id(t) not in cache:
            reach, stack, seen = set(), [t], set()
            while stack:
                u = stack.pop()
                if isinstance(u, L.Input):
                    reach.add(id(u))
                elif id(u.node) not in seen:
                    seen.add(id(u.node))
                    stack.extend(u.node.inputs)
            probe = Model([i for i in inputs if id(i) in reach], t, name="shape_probe", seed=0, dtype=ctx.dtype)
            cache[id(t)] = [None] + [int(d) for d in probe._java.outputShapes()[0]]
        return cache[id(t)]

    return shape_of


def _key_str(key):
    def one(k):
        if isinstance(k, dict):
            c = k.get("config", k)
            return ":".join("" if c.get(x) is None else str(c.get(x)) for x in ("start", "stop", "step")).rstrip(":")
        return str(k)
    return "[" + ", ".join(one(k) for k in (key if isinstance(key, list) else [key])) + "]"


def _ref_shape(v):
    """The shape (batch axis first, None) Keras 3 records with a tensor reference, or None."""
    if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
        shape = (v.get("config") or {}).get("shape")
        return list(shape) if isinstance(shape, list) else None
    return None


def _constant(v):
    """A constant operand of a Keras operation (a number, a Keras 3 ``__tensor__``, a nested list) as a float
    array, or None."""
    if isinstance(v, dict) and v.get("class_name") in ("__tensor__", "__numpy__"):
        v = (v.get("config") or {}).get("value")
    if isinstance(v, bool) or v is None:
        return None
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return a if a.size and np.all(np.isfinite(a)) else None


def _constant_op(cls, c, first, shape, name):
    """``x op c`` (``c op x`` when not first) with a constant c as one pydl layer, or None: a number or one value per
    feature -> Rescaling (x * scale + offset); an array of the input's trailing shape added or subtracted (a
    positional embedding computed once, ``x + pos_emb(arange(n))``) -> Normalization with mean -c (or c) and
    variance 1, i.e. x + c exactly."""
    from .. import layers as L

    if c is None:
        return None
    while c.ndim > 0 and c.shape[0] == 1 and c.size > 1:
        c = c[0]                                        # a leading batch axis of 1
    scalar = c.size == 1
    if scalar:
        c = c.reshape(())
    elif c.ndim != 1 or shape is None or shape[-1] != c.shape[0]:
        c_ok = shape is not None and c.ndim < len(shape) and list(c.shape) == list(shape[len(shape) - c.ndim:])
        if not c_ok or cls not in ("Add", "Subtract") or (cls == "Subtract" and not first):
            return None
        axes = list(range(len(shape) - c.ndim, len(shape)))
        mean = -c if cls == "Add" else c
        return L.Normalization(axis=axes, mean=mean.tolist(), variance=np.ones_like(c).tolist(), name=name)
    nonzero = bool(np.all(c != 0))
    one, zero = (1.0, 0.0) if scalar else (np.ones_like(c).tolist(), np.zeros_like(c).tolist())
    val, neg = (float(c), -float(c)) if scalar else (c.tolist(), (-c).tolist())
    inv = (1.0 / float(c) if scalar else (1.0 / c).tolist()) if nonzero else None
    scale, offset = {"Add": (one, val), "Multiply": (val, zero),
                     "Subtract": (one, neg) if first else ((-1.0 if scalar else (-np.ones_like(c)).tolist()), val),
                     "Divide": (inv, zero) if first and nonzero else (None, None),
                     "TrueDivide": (inv, zero) if first and nonzero else (None, None)}.get(cls, (None, None))
    if scale is None:
        return None
    return L.Rescaling(scale, offset=offset, name=name)


def _getitem(shape, key, name):
    """``x[key]`` on the axes between batch and features (``x[:, 0]``, ``x[:, -1]``, ``x[:, 2:5]``, ``x[:, :, 1]``)
    as Cropping1D/2D/3D, then Reshape when integers drop axes: a callable applying them, or None."""
    from .. import layers as L

    if shape is None or not 3 <= len(shape) <= 5 or any(d is None for d in shape[1:]):
        return None
    key = key if isinstance(key, list) else [key]
    if len(key) > len(shape):
        return None
    key = key + [{"class_name": "__slice__", "config": {}}] * (len(shape) - len(key))
    crops, keep = [], []
    for axis, k in enumerate(key):
        n = shape[axis]
        if isinstance(k, dict) and (k.get("class_name") == "__slice__" or set(k) == {"start", "stop", "step"}):
            c = k.get("config") or {} if "class_name" in k else k
            if c.get("step") not in (None, 1) or any(v is not None and not isinstance(v, int)
                                                     for v in (c.get("start"), c.get("stop"))):
                return None
            if axis in (0, len(shape) - 1):             # batch and features stay whole
                if c.get("start") not in (None, 0) or c.get("stop") is not None:
                    return None
                continue
            b, e, _ = slice(c.get("start"), c.get("stop")).indices(n)
            if e <= b:
                return None
            crops.append((b, n - e))
            keep.append(e - b)
        elif isinstance(k, int) and not isinstance(k, bool) and 0 < axis < len(shape) - 1 and -n <= k < n:
            i = k + n if k < 0 else k
            crops.append((i, n - i - 1))
        else:
            return None
    layers_ = []
    if any(c != (0, 0) for c in crops):
        layers_.append(getattr(L, f"Cropping{len(shape) - 2}D")(tuple(crops), name=f"{name}_crop"))
    if len(keep) + 1 < len(shape) - 1 or not layers_:
        layers_.append(L.Reshape(tuple(keep) + (shape[-1],), name=name))
    elif layers_:
        layers_[-1].name = name

    def apply(t):
        for layer in layers_:
            t = layer(t)
        return t

    return apply


def _collect_layers(t, seen_layers, seen_nodes=None):
    from .. import layers as L

    seen_nodes = set() if seen_nodes is None else seen_nodes
    stack = [t]
    while stack:
        t = stack.pop()
        if isinstance(t, L.Input) or id(t.node) in seen_nodes:
            continue
        seen_nodes.add(id(t.node))
        seen_layers.add(id(t.node.layer))
        stack.extend(t.node.inputs)


def _build_zero_filled(config, ctx, overrides):
    """Builds the model with zero-filled weights (each is overwritten by the file's right after): drawing random
    initial values would be most of the time of building a large model (ResNet50: ~0.7 s of ~1.9 s)."""
    from .. import _jvm

    init = _jvm.jclass("org.pydl.nn.Initializer")
    before = init.zeroFill(True)
    try:
        return _build_model(config, ctx, overrides)
    finally:
        init.zeroFill(before)


def _build_model(lc, ctx, overrides):
    cls, cfg = lc["class_name"], lc.get("config", {})
    if cls == "Sequential" and isinstance(cfg, list):      # Keras <= 2.2.4: a Sequential's config is its layer list
        cfg = {"name": lc.get("name", "sequential"), "layers": cfg}
    name = cfg.get("name", lc.get("name", "model"))
    if cls == "Sequential":
        return _build_sequential(cfg, ctx, overrides, name)
    if "layers" not in cfg:
        ctx.problem(name, cls, "a subclassed Keras model (no layer graph in its config) cannot be imported")
        return None
    return _build_functional(cfg, ctx, overrides, name)


# ---- weights -------------------------------------------------------------------------------------------------------
def _params(obj):
    """The Java parameters of a pydl layer (or of a model used as a layer)."""
    java = obj._java
    return list(java.parameters()) if hasattr(java, "parameters") else []


def _fixup(cls, arrays):
    if cls == "Normalization" and len(arrays) == 3:
        return arrays[:2]                    # mean, variance, count: pydl keeps no count
    return arrays


def _assign(pyl, cls, datasets, label):
    from .. import _array

    params = _params(pyl)
    datasets = _fixup(cls, datasets)
    if len(datasets) != len(params):
        raise KerasImportError(f"{label}: layer '{pyl.name}' ({cls}) has {len(params)} weights in pydl "
                               f"{[str(p.name) for p in params]} but the file holds {len(datasets)} "
                               f"{[getattr(d, 'name', '?') for d in datasets]}")
    targets = []
    for p, d in zip(params, datasets):
        want = tuple(int(s) for s in p.value().shape())
        if tuple(d.shape) != want:
            raise KerasImportError(f"{label}: layer '{pyl.name}' ({cls}): weight '{p.name}' has shape {want} in the "
                                   f"model but {tuple(d.shape)} in the file ({getattr(d, 'name', '?')})")
        if np.dtype(d.dtype).kind not in "fiu":
            raise KerasImportError(f"{label}: layer '{pyl.name}': weight {getattr(d, 'name', '?')} has dtype {d.dtype}")
        targets.append(_array.to_numpy(p.value()))
    # written in place into the (freshly built, never run) parameters: one copy, file -> Java memory
    for dst, d in zip(targets, datasets):
        if hasattr(d, "read_direct") and d.dtype == dst.dtype and dst.flags.c_contiguous and dst.size:
            d.read_direct(dst)
        else:
            np.copyto(dst, np.asarray(d[()]), casting="unsafe")
    return params


def _set_weights(built, store, path, label):
    for kname, cls, pyl, sub in built.entries:
        if sub is not None and store.hierarchical:
            _set_weights(sub, store, path + [kname], label)
            continue
        if sub is not None:                         # legacy files: one flat list for the whole nested model
            flat = store.arrays([kname])
            if flat is None:
                raise KerasImportError(f"{label}: the weights file has no weights for nested model '{kname}'")
            _set_flat(sub, flat, label, getattr(store, "order", None))
            continue
        n = len(_params(pyl))
        ds = store.arrays(path + [kname])
        if ds is None:
            if n == 0:
                continue
            raise KerasImportError(f"{label}: the weights file has no weights for layer '{kname}' ({cls}), which "
                                   f"needs {n}")
        order = _assign(pyl, cls, ds, label)
        if hasattr(store, "order"):
            store.order.extend(order)


def _set_flat(built, flat, label, order=None):
    """Legacy files: a nested model's weights are one flat list, in its layers' order (the pydl parameters they
    went to are appended to ``order``)."""
    for kname, cls, pyl, sub in built.entries:
        target = sub.model._as_layer() if sub is not None else pyl
        n = len(_params(target))
        part, flat = flat[:n], flat[n:]
        if len(part) < n:
            raise KerasImportError(f"{label}: the file holds too few weights for layer '{kname}' ({cls})")
        if sub is not None:
            _set_flat(sub, part, label, order)
        else:
            assigned = _assign(pyl, cls, part, label)
            if order is not None:
                order.extend(assigned)
    if flat:
        raise KerasImportError(f"{label}: {len(flat)} weights left over in a nested model")


# ---- compile config ------------------------------------------------------------------------------------------------
_LOSS_NAMES = {"sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
               "categoricalcrossentropy": "categorical_crossentropy", "binarycrossentropy": "binary_crossentropy",
               "meansquarederror": "mse", "mse": "mse", "mean_squared_error": "mse"}


def _loss(v):
    from_logits = False
    if isinstance(v, dict):
        from_logits = bool((v.get("config") or {}).get("from_logits", False))
        v = v.get("class_name") or (v.get("config") or {}).get("name")
    if not isinstance(v, str):
        return None
    key = v.lower()
    name = _LOSS_NAMES.get(key.replace("_", ""), _LOSS_NAMES.get(key, key))
    return name, from_logits


def _schedule(v, notes):
    """A Keras learning-rate schedule config -> a pydl schedule, or its initial rate (float) with a note saying why
    when pydl has no equivalent."""
    from .. import optimizers as O

    cls = str(v.get("class_name", "")).split(">")[-1]
    cfg = v.get("config") or {}
    initial = cfg.get("initial_learning_rate", cfg.get("learning_rate"))
    if cls == "ExponentialDecay" and cfg.get("staircase"):
        return O.schedules.StepDecay(float(initial), int(cfg["decay_steps"]), float(cfg["decay_rate"]))
    if cls == "CosineDecay" and not cfg.get("warmup_steps"):
        return O.schedules.CosineDecay(float(initial), int(cfg["decay_steps"]), float(cfg.get("alpha", 0.0)))
    if cls == "PiecewiseConstantDecay":
        values = cfg.get("values") or [None]
        notes.append(f"learning-rate schedule PiecewiseConstantDecay(boundaries={cfg.get('boundaries')}, "
                     f"values={values}) has no pydl equivalent: imported as the constant rate {values[0]}")
        return float(values[0]) if values[0] is not None else None
    why = {"ExponentialDecay": "ExponentialDecay without staircase (pydl has the staircase form, StepDecay)",
           "CosineDecay": "CosineDecay with warm-up steps"}.get(cls, f"{cls or v!r}")
    if initial is None:
        notes.append(f"learning-rate schedule {why} has no pydl equivalent and no initial rate")
        return None
    notes.append(f"learning-rate schedule {why} has no pydl equivalent: imported as the constant rate "
                 f"{float(initial)} (pass a pydl.optimizers.schedules object to compile for a schedule)")
    return float(initial)


def _optimizer(v, notes):
    from .. import optimizers as O

    if isinstance(v, str):
        return O.get(v)
    cls = v.get("class_name", "")
    cfg = dict(v.get("config") or {})
    pycls = {"Adam": O.Adam, "SGD": O.SGD, "RMSprop": O.RMSprop, "AdamW": O.AdamW}.get(cls.split(">")[-1])
    if pycls is None:
        return None
    lr = cfg.get("learning_rate", cfg.get("lr"))
    if isinstance(lr, dict):
        lr = _schedule(lr, notes)
        if lr is None:
            return None
    sig = inspect.signature(pycls.__init__).parameters
    kw = {k: cfg[k] for k in sig if k in cfg and k not in ("self", "learning_rate") and cfg[k] is not None}
    for k in ("amsgrad", "centered", "decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "weight_decay",
              "gradient_accumulation_steps", "loss_scale_factor"):
        if k not in sig and cfg.get(k) not in (None, 0, 0.0, False):
            notes.append(f"optimizer option {k}={cfg[k]!r} is ignored (pydl's {pycls.__name__} has no equivalent)")
    if lr is not None:
        kw["learning_rate"] = lr if isinstance(lr, O._Schedule) else float(lr)
    return pycls(**kw)


def _compile(model, training, label):
    """Applies a Keras training config (optimizer + loss); a warning when pydl has no equivalent."""
    if not training:
        return
    opt_cfg = training.get("optimizer") or training.get("optimizer_config")
    loss_cfg = training.get("loss")
    if opt_cfg is None or loss_cfg is None:
        return
    notes = []
    try:
        opt = _optimizer(opt_cfg, notes)
        losses = loss_cfg if isinstance(loss_cfg, list) else [loss_cfg]
        parsed = [_loss(x) for x in losses]
        if opt is None or any(p is None for p in parsed):
            raise ValueError(f"optimizer {opt_cfg.get('class_name') if isinstance(opt_cfg, dict) else opt_cfg!r} "
                             f"/ loss {loss_cfg!r}")
        metrics = []
        for m in training.get("metrics") or []:
            for x in (m if isinstance(m, list) else [m]):
                if isinstance(x, str) and x in ("accuracy", "acc"):
                    metrics.append("accuracy")
        from_logits = parsed[0][1]
        if len(parsed) == 1:
            model.compile(opt, loss=parsed[0][0], metrics=metrics, from_logits=from_logits)
        else:
            model.compile(opt, loss=[p[0] for p in parsed], metrics=metrics, from_logits=from_logits)
    except (ValueError, TypeError, RuntimeError) as e:
        warnings.warn(f"{label}: the training configuration was not imported ({e}); compile the model yourself",
                      stacklevel=3)
    for n in notes:
        warnings.warn(f"{label}: {n}", stacklevel=3)


# Keras optimizer slot names (Keras 3 variable names end with them; Keras 2 uses the short ones) -> slot kind
_SLOT_KINDS = {"momentum": "momentum", "m": "momentum", "velocity": "velocity", "v": "velocity",
               "average_gradient": "average_gradient", "mg": "average_gradient", "velocity_hat": "velocity_hat",
               "vhat": "velocity_hat", "rms": "velocity"}
# pydl's slots (Optimizer.slotNames order) as Keras slot kinds; a slot list is cut to the pydl optimizer's length
_PYDL_SLOT_KINDS = {"Adam": ("momentum", "velocity"), "AdamW": ("momentum", "velocity"), "SGD": ("momentum",),
                    "RMSprop": ("velocity", "momentum")}


def _slot_kind(name):
    """The slot kind of an optimizer variable's name, or None (iteration, learning rate, other hyper-parameters):
    Keras 3 'adam/<weight path>_momentum', Keras 2 'Adam/m/dense/kernel:0', tf.keras < 2.11 'Adam/dense/kernel/m:0'."""
    parts = name.split(":")[0].split("/")
    if len(parts) > 2 and parts[1] in _SLOT_KINDS:
        return _SLOT_KINDS[parts[1]]
    if len(parts) > 2 and parts[-1] in _SLOT_KINDS:
        return _SLOT_KINDS[parts[-1]]
    for suffix in sorted((k for k in _SLOT_KINDS if len(k) > 2), key=len, reverse=True):
        if parts[-1].endswith("_" + suffix):
            return _SLOT_KINDS[suffix]
    return None


def _unnamed_slot_kinds(opt, n_fixed, n_weights):
    """A ``.keras`` file's optimizer/vars are unnamed: their layout as Keras 3 builds them. Adam/AdamW interleave
    (momentum, velocity) per weight; SGD has one momentum per weight; RMSprop lists every velocity, then every
    momentum, then every average gradient (centered)."""
    name = type(opt).__name__
    kinds = [None] * n_fixed
    if name in ("Adam", "AdamW"):
        kinds += ["momentum", "velocity"] * n_weights
    elif name == "SGD":
        kinds += ["momentum"] * (n_weights if opt.momentum else 0)
    elif name == "RMSprop":
        kinds += ["velocity"] * n_weights + ["momentum"] * (n_weights if opt.momentum else 0)
    return kinds


def _optimizer_state(model, h5, order, label):
    """The optimizer's slots (Adam/AdamW moments, SGD momentum, RMSprop velocity and momentum) and its iteration
    count, so fine-tuning continues where Keras stopped. Read from a ``.keras`` file's ``optimizer/vars`` (unnamed:
    Keras 3's layout, :func:`_unnamed_slot_kinds`) or a full-model ``.h5``'s ``optimizer_weights`` (named by Keras 3
    or Keras 2); each slot kind lists one array per trainable weight, in the model's trainable-weights order.
    Skipped with a warning when the file's variables do not match the model; files of an optimizer that never ran
    hold no slots and are left alone."""
    from .. import _array, _jvm

    opt = model.optimizer
    name = type(opt).__name__
    if name not in _PYDL_SLOT_KINDS:
        return
    trainable = [p for p in order if bool(p.trainable)]
    if "optimizer" in h5 and "vars" in h5["optimizer"]:           # .keras
        v = h5["optimizer"]["vars"]
        arrays = [v[k] for k in sorted(v.keys(), key=int)]
        per = len(_unnamed_slot_kinds(opt, 0, 1))
        n_fixed = len(arrays) - per * len(trainable)    # iteration, and the learning rate unless a schedule
        kinds = _unnamed_slot_kinds(opt, n_fixed, len(trainable)) if n_fixed in (1, 2) else []
        iteration = arrays[0] if arrays else None
    elif "optimizer_weights" in h5:                                 # full-model .h5
        g = h5["optimizer_weights"]
        names = [_attr_str(n) for n in g.attrs.get("weight_names", [])]
        arrays = [g[n] for n in names if n in g]
        kinds = [_slot_kind(n) for n in names]
        iteration = next((g[n] for n, k in zip(names, kinds) if k is None and "iter" in n.split("/")[-1]), None)
    else:
        return
    want = _PYDL_SLOT_KINDS[name][:len(model._java.optimizer().slotNames())]
    by_kind = {}
    for a, k in zip(arrays, kinds):
        if k is not None:
            by_kind.setdefault(k, []).append(a)
    if iteration is not None and int(np.asarray(iteration[()])) == 0 or not any(k is not None for k in kinds) \
            and len(arrays) <= 2:
        return                                                      # an optimizer that never ran: nothing to carry
    shapes_ok = len(kinds) == len(arrays) and all(
        len(by_kind.get(k, [])) == len(trainable)
        and all(tuple(a.shape) == tuple(int(d) for d in p.value().shape()) for a, p in zip(by_kind[k], trainable))
        for k in want)
    if not shapes_ok or iteration is None:
        if arrays:
            warnings.warn(f"{label}: the optimizer state ({len(arrays)} variables) does not match the model's "
                          f"{len(trainable)} trainable weights for {name}; its slots start fresh", stacklevel=3)
        return
    iterations = int(np.asarray(iteration[()]))
    jopt = model._java.optimizer()
    NDArray = _jvm.jclass("org.pydl.nd.NDArray")
    import jpype

    dtype = np.float64 if model.dtype == np.float64 else np.float32
    for i, p in enumerate(trainable):
        jopt.setSlots(p, jpype.JArray(NDArray)([_array.to_java(np.asarray(by_kind[k][i][()]), dtype) for k in want]))
    jopt.setIterations(iterations)


def _attach_flex(model, flex, config):
    """Marks the model's variable input dimensions, so that predict/fit rebuild it for the sizes of the data."""
    if not flex:
        return
    from ..models import Model

    if isinstance(model, Model):
        f = [flex.get(t.name) for t in model.inputs]
    else:
        cfg = config.get("config", {})
        first = (cfg.get("layers") or [{}])[0]
        names = [(first.get("config") or {}).get("name"), cfg.get("name")]
        f = [next((flex[n] for n in names if n in flex), None)]
    if any(x is not None for x in f):
        shapes = [tuple(int(d) for d in s) for s in model._java.inputShapes()]
        model._flex = [x if x is not None else (False,) * len(s) for x, s in zip(f, shapes)]


# ---- entry point ---------------------------------------------------------------------------------------------------
def _keras2(version):
    v = str(version or "")
    return v[:1] in ("1", "2")


def load(path, weights=None, input_shapes=None, compile: bool = True):
    """Imports a Keras model as a pydl model (``pydl.Sequential`` or ``pydl.Model``) with Keras's weights.

    Args:
        path: a ``.keras`` file, a full-model ``.h5`` (Keras 3 legacy or Keras 2 / tf.keras), or an architecture
            JSON file (``model.to_json()``) — then ``weights`` names the weights file (``.weights.h5`` of Keras 3
            or a legacy ``.h5`` of ``save_weights``).
        input_shapes: ``{input layer name: shape without batch}``: sizes for inputs Keras declared with ``None``
            dimensions. Without it such a model is built for a placeholder size (64, 256 or 1024: the first that
            builds) and rebuilt, weights and optimizer state carried over, whenever ``predict``/``fit``/``evaluate``
            get data of another size in those dimensions (a saved ``.pydl`` keeps the size last built).
        compile: apply the file's training configuration (optimizer, loss), so that ``fit`` continues.
    Raises:
        KerasImportError: listing every unsupported layer/option, or describing a damaged / mismatching file.
    """
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(f"no such Keras file: {p!r}")
    label = os.path.basename(p)
    kind = _kind(p)
    training, h5 = None, None
    version = None
    if kind == "zip":
        config, metadata, h5 = _read_zip(p)
        version = metadata.get("keras_version", "3")
        training = config.get("compile_config")
        store = _Store(h5, label)
        store.order = []            # pydl parameters in Keras's weights order (optimizer state follows it)
    elif kind == "h5":
        h5 = _open_h5(p)
        if "model_config" not in h5.attrs:
            raise KerasImportError(f"{p!r} holds weights only (no model_config); pass the architecture: "
                                   "load('model.json', weights='model.weights.h5')")
        try:
            config = json.loads(_attr_str(h5.attrs["model_config"]))
            if "training_config" in h5.attrs:
                training = json.loads(_attr_str(h5.attrs["training_config"]))
        except ValueError as e:
            raise KerasImportError(f"{p!r}: model_config is not valid JSON: {e}") from None
        version = _attr_str(h5.attrs.get("keras_version", "2"))
        if "model_weights" not in h5:
            raise KerasImportError(f"{p!r}: no model_weights group (the file holds no weights)")
        store = _LegacyStore(h5["model_weights"], label)
        store.order = []
    elif kind == "json":
        with open(p, encoding="utf-8") as f:
            try:
                config = json.load(f)
            except ValueError as e:
                raise KerasImportError(f"{p!r}: not valid JSON: {e}") from None
        version = config.get("keras_version", "3")
        if weights is None:
            raise KerasImportError(f"{p!r} is an architecture file; pass its weights: load(json, weights=...)")
        wp = os.fspath(weights)
        if not os.path.isfile(wp) or _kind(wp) != "h5":
            raise KerasImportError(f"{wp!r} is not an HDF5 weights file")
        h5 = _open_h5(wp)
        label = os.path.basename(wp)
        if "layers" in h5 or "vars" in h5:
            store = _Store(h5, label)
        else:
            store = _LegacyStore(h5["model_weights"] if "model_weights" in h5 else h5, label)
    else:
        raise KerasImportError(f"{p!r} is neither a .keras zip, an HDF5 file nor a JSON architecture")
    try:
        if not isinstance(config, dict) or "class_name" not in config:
            raise KerasImportError(f"{label}: the model config has no class_name")
        top = config.get("config") if isinstance(config.get("config"), dict) else {}   # (a list: Keras <= 2.2.4)
        dtype = _dtype_name(top.get("dtype"))
        if dtype not in ("float32", "float64"):
            if dtype.startswith("mixed"):
                warnings.warn(f"{label}: dtype policy {dtype!r} is imported as float32", stacklevel=2)
            dtype = "float32"
        if config["class_name"] not in _MODELS:
            raise KerasImportError(f"{label}: top-level class {config['class_name']!r} is not a Keras model")
        for placeholder in _FLEX_PLACEHOLDERS:
            ctx = _Ctx(label, _keras2(version))
            ctx.dtype, ctx.placeholder = dtype, placeholder
            try:
                built = _build_zero_filled(config, ctx, dict(input_shapes or {}))
            except ValueError:                      # the graph's shapes (the Java build) refused this size
                if not ctx.flex or placeholder == _FLEX_PLACEHOLDERS[-1]:
                    raise
                continue
            if not (ctx.flex and ctx.problems):     # built, or failed for a reason a larger size cannot fix
                break
        if ctx.declared > _MAX_PARAMS and not ctx.problems:
            ctx.problem(top.get("name", "model"), config["class_name"],
                        f"the config declares about {ctx.declared} weights; refusing more than {_MAX_PARAMS}")
        if ctx.problems or built is None:
            raise KerasImportError(f"{label}: cannot import this Keras model; {len(ctx.problems)} problem(s):\n  - "
                                   + "\n  - ".join(ctx.problems))
        for w in ctx.warnings:
            warnings.warn(f"{label}: {w}", stacklevel=2)
        if ctx.renamed:
            some = ", ".join(f"{k!r} -> {v!r}" for k, v in list(ctx.renamed.items())[:3])
            warnings.warn(f"{label}: {len(ctx.renamed)} layer name(s) with '/' renamed ('/' separates layer and weight "
                          f"names in pydl): {some}{', ...' if len(ctx.renamed) > 3 else ''}", stacklevel=2)
        _set_weights(built, store, [], label)
        _attach_flex(built.model, ctx.flex, config)
        if compile:
            _compile(built.model, training, label)
            if kind in ("zip", "h5") and built.model.optimizer is not None:
                _optimizer_state(built.model, h5, store.order, label)
        return built.model
    finally:
        if h5 is not None:
            h5.close()
