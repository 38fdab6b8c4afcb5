"""pydl: deep learning with a Java core and native CPU kernels, driven from Python.

    >>> import pydl
    >>> from pydl import layers
    >>> model = pydl.Sequential([layers.Input(784), layers.Dense(512, activation="relu"),
    ...                          layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
"""
from . import constraints, layers, ops, optimizers, regularizers, zoo
from .models import History, Model, Sequential, load

__version__ = "0.1.0"


def set_num_threads(n: int) -> None:
    """Threads used by native kernels and BLAS (default: all cores)."""
    from . import _jvm

    _jvm.jclass("org.pydl.jni.NativeLoader").load()
    _jvm.jclass("org.pydl.jni.NativeOps").setNumThreads(int(n))


def native_info() -> str:
    from . import _jvm

    _jvm.jclass("org.pydl.nd.NDArray")
    return str(_jvm.jclass("org.pydl.jni.NativeOps").version())


__all__ = ["Sequential", "Model", "History", "load", "layers", "optimizers", "regularizers", "constraints", "ops", "zoo", "set_num_threads",
           "native_info"]
