"""README command 1: the main demo trains to >= 95% held-out accuracy and Java predicts the same classes."""
import os
import subprocess
import sys


def test_demo_end_to_end(tmp_path):
    out = tmp_path / "mnist.pydl"
    r = subprocess.run([sys.executable, "-m", "pydl", "demo", "--out", str(out)], capture_output=True, text=True,
                       timeout=900, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "demo OK" in r.stdout
    acc = float(r.stdout.split("test accuracy on 1000 held-out digits: ")[1].split()[0])
    assert acc >= 0.95
    assert "predicted the same class as Python for 1000/1000" in r.stdout
    assert os.path.getsize(out) > 1_000_000
