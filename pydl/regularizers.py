"""Weight and activity regularizers with Keras 3's names, defaults and formula.

A regularizer adds ``l1 * sum(|x|) + l2 * sum(x ** 2)`` to the training loss (and to ``evaluate``'s loss, as
Keras reports it). Any layer accepts one per weight, named as in Keras (``kernel_regularizer``,
``bias_regularizer``, ``recurrent_regularizer`` for an LSTM's ``recurrent_kernel``, ``depthwise_regularizer``,
``gamma_regularizer``, ``embeddings_regularizer``, ``alpha_regularizer``, ...), and ``activity_regularizer``,
whose penalty is taken on the layer's output for the whole batch (Keras 3 adds it as is; Keras 2 divided it by
the batch size).

Identifiers, as ``keras.regularizers.get`` takes them: an instance, ``"l1"`` / ``"l2"`` (factor 0.01),
``"l1_l2"`` / ``"l1l2"`` / ``"L1L2"`` (Keras 3's defaults l1 = l2 = 0), or a config dict
``{"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.001}}``.

Example:
    >>> layers.Dense(8, kernel_regularizer=pydl.regularizers.l1_l2(l1=1e-5, l2=1e-4), activity_regularizer="l1")
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize"]


def _factor(cls, name, v) -> float:
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    if not ok or not (v >= 0 and math.isfinite(v)):
        raise ValueError(f"{cls}: {name} must be a finite number >= 0. Received: {name}={v!r}")
    return float(v)


class Regularizer:
    """Base class: ``penalty = l1 * sum(|x|) + l2 * sum(x ** 2)``."""

    l1 = 0.0
    l2 = 0.0

    def __call__(self, x):
        """The penalty of a NumPy array (the same formula the Java training loop uses)."""
        x = np.asarray(x, dtype=np.float64)
        return self.l1 * np.abs(x).sum() + self.l2 * np.square(x).sum()

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    def __eq__(self, other):
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash((type(self).__name__, self.l1, self.l2))

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"


class L1(Regularizer):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1: float = 0.01):
        self.l1 = _factor("L1", "l1", l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x ** 2)``."""

    def __init__(self, l2: float = 0.01):
        self.l2 = _factor("L2", "l2", l2)

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``; Keras 3's defaults are 0 for both (``L1L2(l2=0.1)`` has no l1)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _factor("L1L2", "l1", 0.0 if l1 is None else l1)
        self.l2 = _factor("L1L2", "l2", 0.0 if l2 is None else l2)


# Keras 3 exports the classes under their snake-case names too
l1, l2, l1_l2 = L1, L2, L1L2

_BY_NAME = {"l1": L1, "L1": L1, "l2": L2, "L2": L2, "l1_l2": L1L2, "l1l2": L1L2, "L1L2": L1L2}


def get(identifier, what: str = "regularizer"):
    """A regularizer from an instance, a name or a config dict (None stays None); ``what`` names the argument
    in error messages."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in ("L1", "L2", "L1L2"):
        cfg = identifier.get("config") or {}
        try:
            return _BY_NAME[identifier["class_name"]](**cfg)
        except TypeError as e:
            raise ValueError(f"{what}: invalid config. Received: {what}={identifier!r}") from e
    raise ValueError(f"unsupported {what}. Received: {what}={identifier!r}; valid: pydl.regularizers.l1(f), l2(f), "
                     "l1_l2(l1, l2), the strings 'l1', 'l2', 'l1_l2', or {'class_name': 'L1'|'L2'|'L1L2', "
                     "'config': {...}}")


def serialize(regularizer) -> dict:
    """Keras's serialised form: ``{"class_name": "L2", "config": {"l2": 0.01}}``."""
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
