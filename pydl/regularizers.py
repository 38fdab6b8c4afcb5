"""Weight regularizers (Keras names)."""
from __future__ import annotations

import math

import numpy as np


class L2:
    """Adds ``l2 * sum(w ** 2)`` to the loss."""

    def __init__(self, l2: float = 0.01):
        ok = isinstance(l2, (int, float, np.integer, np.floating)) and not isinstance(l2, bool)
        if not ok or not (l2 >= 0 and math.isfinite(l2)):
            raise ValueError(f"L2: factor must be a finite number >= 0. Received: l2={l2!r}")
        self.l2 = float(l2)

    def __repr__(self):
        return f"L2(l2={self.l2})"


def l2(l2: float = 0.01) -> L2:
    return L2(l2)
