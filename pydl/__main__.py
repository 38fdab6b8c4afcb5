"""Command line: ``python -m pydl demo`` | ``python -m pydl info``."""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv[0] if argv else "help"
    if cmd == "demo":
        from .demo import main as demo

        return demo(argv[1:])
    if cmd == "info":
        import pydl
        from pydl import _jvm

        print(f"pydl {pydl.__version__}\njar: {_jvm.jar_path()}\nnative: {pydl.native_info()}")
        return 0
    print("usage: python -m pydl {demo|info}\n  demo  train an MLP on MNIST digits, save it, predict from Java\n"
          "  info  show the jar and native library in use")
    return 0 if cmd in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main())
