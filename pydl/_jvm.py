"""Starts the JVM in-process (JPype) with pydl's jar, lazily, once.

The jar is ``pydl/_lib/pydl.jar`` (built by ``pip install .``) unless ``PYDL_JAR`` names another; the native
library travels inside it (see ``org.pydl.jni.NativeLoader``). When pyspark is installed its ``jars/`` are put on
the classpath too, so pydl's Java classes and Spark's share one JVM without clashing.
"""
from __future__ import annotations

import glob
import os
import threading

import jpype

_lock = threading.Lock()
_started = False


def jar_path() -> str:
    env = os.environ.get("PYDL_JAR")
    if env:
        return env
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lib", "pydl.jar")
    if os.path.isfile(here):
        return here
    # Running from a source checkout (its pydl/ shadows the installed one): use the installed build's jar.
    try:
        from importlib.metadata import distribution

        installed = str(distribution("pydl").locate_file("pydl/_lib/pydl.jar"))
        if os.path.isfile(installed):
            return installed
    except Exception:  # noqa: BLE001
        pass
    return here


def _spark_jars() -> list[str]:
    try:
        import importlib.util

        spec = importlib.util.find_spec("pyspark")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted(glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "jars", "*.jar")))


def classpath() -> list[str]:
    return [jar_path()] + _spark_jars()


def start() -> None:
    """Starts the JVM if needed (idempotent, thread-safe)."""
    global _started
    if _started:
        return
    with _lock:
        if _started:
            return
        jar = jar_path()
        if not os.path.isfile(jar):
            raise RuntimeError(
                f"pydl's jar was not found at {jar}. Install pydl with `pip install .` from the repository "
                "(it builds the jar and the native library), or set PYDL_JAR to a built pydl.jar."
            )
        if jpype.isJVMStarted():
            # Someone else started the JVM: our classes must be reachable from it.
            try:
                jpype.JClass("org.pydl.nd.NDArray")
            except Exception as e:  # noqa: BLE001
                raise RuntimeError(
                    "a JVM is already running in this process without pydl.jar on its classpath; "
                    f"import pydl before starting it, or add {jar} to its classpath"
                ) from e
        else:
            opts = [o for o in os.environ.get("PYDL_JVM_OPTS", "").split() if o]
            if not any(o.startswith("-Xmx") for o in opts):
                opts.append("-Xmx2g")
            jpype.startJVM(*opts, classpath=classpath(), convertStrings=True)
        _started = True


def jclass(name: str):
    start()
    return jpype.JClass(name)
