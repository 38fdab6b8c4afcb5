"""Java exceptions surface as Python exceptions carrying the Java message, never a Java stack dump."""
from __future__ import annotations

import contextlib
import functools

import jpype


def _message(e) -> str:
    try:
        msg = e.getMessage()
    except Exception:  # noqa: BLE001
        msg = None
    return str(msg) if msg is not None else str(e.getClass().getSimpleName())


def translate(e: BaseException) -> BaseException:
    """The Python exception for a Java exception (or e itself when it is not one)."""
    if not isinstance(e, jpype.JException):
        return e
    name = str(e.getClass().getName())
    msg = _message(e)
    if name == "org.pydl.nd.DTypeException":
        return TypeError(msg)
    if name in ("java.lang.IllegalArgumentException", "java.lang.IndexOutOfBoundsException",
                "java.lang.ArithmeticException") or isinstance(e, jpype.JClass("java.lang.IllegalArgumentException")):
        return ValueError(msg)
    if name in ("java.nio.file.NoSuchFileException", "java.io.FileNotFoundException"):
        return FileNotFoundError(msg)
    if isinstance(e, jpype.JClass("java.io.IOException")):
        return OSError(msg)
    if name == "java.lang.OutOfMemoryError":
        return MemoryError(msg)
    if name == "java.lang.IllegalStateException":
        return RuntimeError(msg)
    return RuntimeError(f"{name}: {msg}")


@contextlib.contextmanager
def java_errors():
    try:
        yield
    except jpype.JException as e:
        raise translate(e) from None


def wrap(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except jpype.JException as e:
            raise translate(e) from None

    return inner
