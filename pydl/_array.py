"""NumPy <-> off-heap NDArray: at most one copy in, zero copies out.

``to_numpy`` builds a NumPy array over the NDArray's native memory through ``__array_interface__``; the
NumPy array keeps the Java object alive (its ``base``), so the memory outlives every view of it.
"""
from __future__ import annotations

import numpy as np

from . import _jvm

_DTYPES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.int32): 2}
_CODES = {0: np.dtype(np.float32), 1: np.dtype(np.float64), 2: np.dtype(np.int32)}
_TYPESTR = {k: v.str for k, v in _CODES.items()}
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
        rank = desc[2]
        self.__array_interface__ = {
            "version": 3,
            "shape": tuple(desc[3:3 + rank]),
            "typestr": _TYPESTR[desc[1]],
            "data": (desc[0], False),
            "strides": tuple(desc[3 + rank:3 + 2 * rank]),
        }


class _OwnedJavaMemory(_JavaMemory):
    """Like _JavaMemory for an array that only Python holds (a fresh result): when the last NumPy view of it is
    gone, the Java array is closed at once, so its native memory does not wait for a JVM garbage collection."""

    __slots__ = ()

    def __del__(self):
        try:
            import jpype

            if jpype.isJVMStarted():
                self.ndarray.close()
        except Exception:  # noqa: BLE001  (never raise from a finalizer, e.g. at interpreter exit)
            pass


def to_numpy(nd, own: bool = False) -> np.ndarray:
    """A zero-copy NumPy view of a Java NDArray (kept alive by the view). With ``own=True`` the caller hands
    the array to Python: it is closed when the last view of it is garbage-collected (use only for fresh results
    that nothing in Java keeps)."""
    _init()
    desc = np.frombuffer(memoryview(_bridge.describe(nd)), dtype=np.int64).tolist()
    return np.asarray((_OwnedJavaMemory if own else _JavaMemory)(nd, desc))


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
