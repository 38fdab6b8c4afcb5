"""The ops of pydl's Java core, callable on NumPy arrays: ``pydl.ops.relu(x)`` runs ``Ops.relu`` (Java) and the
native ``relu`` kernel, and returns a NumPy array. :func:`grad` returns gradients through pydl's autodiff.

Example:
    >>> pydl.ops.softmax(np.array([[1.0, 2.0]]), axis=-1)
    >>> pydl.ops.grad("tanh", np.array([0.5]))          # d/dx sum(tanh(x)), float64
"""
from __future__ import annotations

import numpy as np

from . import _array, _jvm
from .errors import java_errors


def _Ops():
    return _jvm.jclass("org.pydl.ops.Ops")


def _j(x, dtype=None):
    if isinstance(x, np.ndarray) or np.isscalar(x) or isinstance(x, (list, tuple)):
        a = _array.as_numeric(x, "op input")
        if dtype is None and a.dtype.kind in "iub":
            dtype = np.float32
        return _array.to_java(a, dtype)
    return x


def _is_py_scalar(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, np.generic)


def _no_axes(axis) -> bool:
    """axis=() reduces over nothing (NumPy); Java's empty axis list means "all axes", so it is handled here."""
    return isinstance(axis, (tuple, list)) and len(axis) == 0


def _axes(axis):
    import jpype

    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return jpype.JArray(jpype.JInt)([int(a) for a in axis])


# name -> (java call taking (Ops, *java arrays, **kw)), arity
_TABLE = {
    "neg": (lambda O, x: O.neg(x), 1), "exp": (lambda O, x: O.exp(x), 1), "log": (lambda O, x: O.log(x), 1),
    "sqrt": (lambda O, x: O.sqrt(x), 1), "tanh": (lambda O, x: O.tanh(x), 1),
    "sigmoid": (lambda O, x: O.sigmoid(x), 1), "relu": (lambda O, x: O.relu(x), 1),
    "leaky_relu": (lambda O, x, negative_slope=0.2: O.leakyRelu(x, float(negative_slope)), 1),
    "elu": (lambda O, x, alpha=1.0: O.elu(x, float(alpha)), 1),
    "gelu": (lambda O, x, approximate=False: O.gelu(x, bool(approximate)), 1),
    "softplus": (lambda O, x: O.softplus(x), 1), "abs": (lambda O, x: O.abs(x), 1),
    "square": (lambda O, x: O.square(x), 1), "selu": (lambda O, x: O.selu(x), 1),
    "swish": (lambda O, x: O.swish(x), 1), "softsign": (lambda O, x: O.softsign(x), 1),
    "hard_sigmoid": (lambda O, x: O.hardSigmoid(x), 1), "relu6": (lambda O, x: O.relu6(x), 1),
    "add": (lambda O, a, b: O.add(a, b), 2), "sub": (lambda O, a, b: O.sub(a, b), 2),
    "mul": (lambda O, a, b: O.mul(a, b), 2), "div": (lambda O, a, b: O.div(a, b), 2),
    "pow": (lambda O, a, b: O.pow(a, b), 2), "maximum": (lambda O, a, b: O.maximum(a, b), 2),
    "minimum": (lambda O, a, b: O.minimum(a, b), 2), "matmul": (lambda O, a, b: O.matmul(a, b), 2),
    "sum": (lambda O, x, axis=None, keepdims=False: O.contiguous(x) if _no_axes(axis) else
            O.sum(x, _axes(axis), bool(keepdims)), 1),
    "mean": (lambda O, x, axis=None, keepdims=False: O.contiguous(x) if _no_axes(axis) else
            O.mean(x, _axes(axis), bool(keepdims)), 1),
    "max": (lambda O, x, axis=None, keepdims=False: O.contiguous(x) if _no_axes(axis) else
            O.max(x, _axes(axis), bool(keepdims)), 1),
    "softmax": (lambda O, x, axis=-1: O.softmax(x, int(axis)), 1),
    "log_softmax": (lambda O, x, axis=-1: O.logSoftmax(x, int(axis)), 1),
    "reshape": (lambda O, x, shape: O.reshape(x, *[int(d) for d in shape]), 1),
    "transpose": (lambda O, x, axes=(): O.transpose(x, *[int(a) for a in axes]), 1),
    "slice": (lambda O, x, axis, start, end: O.slice(x, int(axis), int(start), int(end)), 1),
    "dropout": (lambda O, x, rate, seed=0: O.dropout(x, float(rate), int(seed)), 1),
}


def call(name: str, *inputs, **kwargs) -> np.ndarray:
    """Runs op ``name`` on NumPy inputs; returns a NumPy array."""
    if name not in _TABLE:
        raise ValueError(f"unknown op {name!r}; ops: {sorted(_TABLE)}")
    fn, arity = _TABLE[name]
    # only the first ``arity`` positional arguments are arrays; the rest (axis, rate, shape, ...) are options
    arrays, options = inputs[:arity], inputs[arity:]
    # Python scalars are "weak" (as in NumPy): add(float32_array, 2.0) stays float32 instead of failing on
    # float32 vs float64
    like = next((np.asarray(a).dtype for a in arrays if not _is_py_scalar(a)), None)
    weak = like if like is not None and like.kind == "f" else None
    with java_errors():
        out = fn(_Ops(), *[_j(x, weak if _is_py_scalar(x) else None) for x in arrays], *options, **kwargs)
        return _array.to_numpy(out.contiguous())


def grad(name: str, *inputs, weights=None, **kwargs) -> list[np.ndarray]:
    """Gradients of ``sum(op(*inputs) * weights)`` w.r.t. every input, through pydl's autodiff, in float64."""
    if name not in _TABLE:
        raise ValueError(f"unknown op {name!r}; ops: {sorted(_TABLE)}")
    fn, arity = _TABLE[name]
    inputs, options = inputs[:arity], inputs[arity:]
    with java_errors():
        O = _Ops()
        js = [_array.to_java(np.asarray(x, dtype=np.float64)).setRequiresGrad(True) for x in inputs]
        out = fn(O, *js, *options, **kwargs)
        if weights is not None:
            out = O.mul(out, _array.to_java(np.asarray(weights, dtype=np.float64)))
        O.sum(out).backward()
        return [np.array(_array.to_numpy(j.grad().contiguous())) if j.grad() is not None
                else np.zeros(np.shape(x)) for j, x in zip(js, inputs)]


def cross_entropy(logits, labels) -> np.ndarray:
    """Per-row ``logsumexp(logits) - logits[label]`` (fused softmax cross-entropy)."""
    with java_errors():
        return _array.to_numpy(_Ops().sparseSoftmaxCrossEntropy(_j(logits), _array.to_java(labels, np.int32)))


def argmax(x, axis=-1) -> np.ndarray:
    with java_errors():
        return _array.to_numpy(_Ops().argmax(_j(x), int(axis)))


def concat(xs, axis=0) -> np.ndarray:
    import jpype

    with java_errors():
        lst = jpype.JClass("java.util.ArrayList")()
        for x in xs:
            lst.add(_j(x))
        return _array.to_numpy(_Ops().concat(lst, int(axis)))


def _make(name):
    def op(*inputs, **kwargs):
        return call(name, *inputs, **kwargs)

    op.__name__ = name
    op.__doc__ = f"``{name}``: Java ``Ops`` op and native kernel of the same name; NumPy in, NumPy out."
    return op


for _name in _TABLE:
    globals()[_name] = _make(_name)

__all__ = sorted(_TABLE) + ["call", "grad", "cross_entropy", "argmax", "concat"]
