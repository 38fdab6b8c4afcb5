"""Runs the JUnit 5 tests (jvm/src/test/java) against the installed pydl.jar, so `pytest` runs every test."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from pydl import _jvm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUNIT = os.environ.get("JUNIT_JAR", "/usr/share/java/junit-platform-console-standalone.jar")


def test_junit(tmp_path):
    if not os.path.isfile(JUNIT):
        pytest.fail(f"JUnit console launcher not found at {JUNIT}: run `make test` (it installs Debian's junit5)")
    jar = _jvm.jar_path()
    sources = []
    for base, _, files in os.walk(os.path.join(ROOT, "jvm", "src", "test", "java")):
        sources += [os.path.join(base, f) for f in files if f.endswith(".java")]
    assert sources, "no Java tests found"
    classes = tmp_path / "classes"
    cp = f"{jar}:{JUNIT}"
    subprocess.run(["javac", "--release", "17", "-encoding", "UTF-8", "-d", str(classes), "-cp", cp, *sources],
                   check=True)
    # The native library comes from the jar (NativeLoader); NativeOpsTest loads it by path.
    lib_dir = tmp_path / "native"
    env = dict(os.environ, PYDL_CACHE_DIR=str(tmp_path / "cache"))
    extract = subprocess.run(["java", "-cp", jar, "-XshowSettings:none", "org.pydl.jni.NativeLoader"],
                             capture_output=True, text=True, env=env)
    lib = extract.stdout.strip().splitlines()[-1] if extract.returncode == 0 and extract.stdout.strip() else ""
    cmd = ["java", f"-Dpydl.native.lib={lib}", "-jar", JUNIT, "-cp", f"{classes}:{jar}", "--scan-classpath",
           str(classes), "--disable-banner", "--details=summary", "--fail-if-no-tests"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    sys.stdout.write(r.stdout[-20000:])
    sys.stderr.write(r.stderr[-5000:])
    m = re.search(r"\[\s*(\d+) tests successful\s*\]", r.stdout)
    assert r.returncode == 0, "JUnit tests failed:\n" + r.stdout[-8000:]
    assert m and int(m.group(1)) > 0
