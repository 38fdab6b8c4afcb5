"""NumPy <-> off-heap NDArray: at most one copy in, zero copies out.

``to_numpy`` builds a NumPy array over the NDArray's native memory through ``__array_interface__``; the
NumPy array keeps the Java object alive (its ``base``), so the memory outlives every view of it.
"""
from __future__ import annotations

import numpy as np

from . import _jvm

_DTYPES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.int32): 2}
_CODES = {0: np.dtype(np.float32), 1: np.dtype(np.float64), 2: np.dtype(np.int32)}
_bridge = None
_jlong_array = None


def _init():
    global _bridge, _jlong_array
    if _bridge is None:
        import jpype

        _bridge = _jvm.jclass("org.pydl.py.PyBridge")
        _jlong_array = jpype.JArray(jpype.JLong)


class _JavaMemory:
    """Owner of a NumPy view of an NDArray: holds the Java array and exposes its memory."""

    __slots__ = ("ndarray", "__array_interface__")

    def __init__(self, ndarray, desc):
        self.ndarray = ndarray
        rank = int(desc[2])
        shape = tuple(int(v) for v in desc[3:3 + rank])
        strides = tuple(int(v) for v in desc[3 + rank:3 + 2 * rank])
        self.__array_interface__ = {
            "version": 3,
            "shape": shape,
            "typestr": _CODES[int(desc[1])].str,
            "data": (int(desc[0]), False),
            "strides": strides,
        }


def to_numpy(nd) -> np.ndarray:
    """A zero-copy NumPy view of a Java NDArray (kept alive by the view)."""
    _init()
    desc = _bridge.describe(nd)
    return np.asarray(_JavaMemory(nd, list(desc)))


def as_numeric(x, what: str, dtype=None) -> np.ndarray:
    """np.asarray with a clear TypeError for non-numeric input."""
    try:
        a = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} must be a numeric array, could not convert it: {e}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers (float or int), received dtype {a.dtype}")
    return a


def to_java(x, dtype=None):
    """Copies a NumPy array (any layout) into a new off-heap NDArray of ``dtype`` (default: x's own, floats
    other than float64 become float32, ints int32)."""
    _init()
    a = np.asarray(x)
    if dtype is None:
        if a.dtype == np.float64:
            dtype = np.float64
        elif a.dtype.kind in "iub":
            dtype = np.int32
        else:
            dtype = np.float32
    dt = np.dtype(dtype)
    nd = _bridge.empty(_DTYPES[dt], _jlong_array(a.shape))
    if a.size:
        dst = to_numpy(nd)
        np.copyto(dst, a, casting="unsafe")
    return nd
