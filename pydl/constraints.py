"""Weight constraints with Keras 3's names, defaults and formulas, applied to a weight after each optimizer step
(``w = constraint(w)``, as Keras does after ``apply_gradients``).

With ``n = sqrt(sum(w ** 2, axis, keepdims=True))`` and ``eps = 1e-7``:

- ``MaxNorm(max_value=2, axis=0)``: ``w * clip(n, 0, max_value) / (eps + n)``
- ``NonNeg()``: ``w * (w >= 0)``
- ``UnitNorm(axis=0)``: ``w / (eps + n)``
- ``MinMaxNorm(min_value=0, max_value=1, rate=1, axis=0)``:
  ``w * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (eps + n)``

``axis`` is an int or a list of ints: for a Dense kernel ``(in, units)`` axis 0 constrains each unit's incoming
weights; for a Conv2D kernel ``(kh, kw, in, out)`` use ``[0, 1, 2]``. Any layer takes one per weight, named as
in Keras: ``kernel_constraint``, ``bias_constraint``, ``recurrent_constraint``, ``gamma_constraint``, ...
Identifiers: an instance, a name (``"max_norm"``, ``"non_neg"``, ``"unit_norm"``, ``"min_max_norm"`` or the class
name, with the defaults), or ``{"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}``.

Example:
    >>> layers.Dense(8, kernel_constraint=pydl.constraints.max_norm(3.0), bias_constraint="non_neg")
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg", "unit_norm",
           "min_max_norm", "get", "serialize"]

EPSILON = 1e-7


def _float(cls, name, v, low=0.0, high=None):
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)
    if not ok or v < low or (high is not None and v > high):
        rng = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{cls}: {name} must be a finite number {rng}. Received: {name}={v!r}")
    return float(v)


def _axis(cls, axis):
    def is_int(a):
        return isinstance(a, (int, np.integer)) and not isinstance(a, bool)
    if is_int(axis):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(is_int(a) for a in axis):
        return [int(a) for a in axis]
    raise ValueError(f"{cls}: axis must be an int or a non-empty list of ints. Received: axis={axis!r}")


class Constraint:
    """Base class: ``__call__`` projects a NumPy weight (the formula the Java training loop applies)."""

    def get_config(self) -> dict:
        return {}

    def _norms(self, w):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        return np.sqrt(np.square(w).sum(axis=axis, keepdims=True))

    def __eq__(self, other):
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash(type(self).__name__)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"


class MaxNorm(Constraint):
    """Scales each slice along ``axis`` down to a norm of at most ``max_value``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _float("MaxNorm", "max_value", max_value)
        self.axis = _axis("MaxNorm", axis)

    def __call__(self, w):
        n = self._norms(w)
        return w * (np.clip(n, 0, self.max_value) / (EPSILON + n))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to 0."""

    def __call__(self, w):
        return w * (w >= 0)


class UnitNorm(Constraint):
    """Scales each slice along ``axis`` to unit norm."""

    def __init__(self, axis=0):
        self.axis = _axis("UnitNorm", axis)

    def __call__(self, w):
        return w / (EPSILON + self._norms(w))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's norm into ``[min_value, max_value]`` (fully when ``rate`` = 1, part of the way below)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _float("MinMaxNorm", "min_value", min_value)
        self.max_value = _float("MinMaxNorm", "max_value", max_value, low=self.min_value)
        self.rate = _float("MinMaxNorm", "rate", rate, high=1.0)
        self.axis = _axis("MinMaxNorm", axis)

    def __call__(self, w):
        n = self._norms(w)
        desired = self.rate * np.clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return w * (desired / (EPSILON + n))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_CLASSES = (MaxNorm, NonNeg, UnitNorm, MinMaxNorm)
_BY_NAME = {**{c.__name__: c for c in _CLASSES},
            **{"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm}}


def get(identifier, what: str = "constraint"):
    """A constraint from an instance, a name or a config dict (None stays None)."""
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_NAME:
        try:
            return _BY_NAME[identifier["class_name"]](**(identifier.get("config") or {}))
        except TypeError as e:
            raise ValueError(f"{what}: invalid config. Received: {what}={identifier!r}") from e
    raise ValueError(f"unsupported {what}. Received: {what}={identifier!r}; valid: pydl.constraints.max_norm(...), "
                     "non_neg(), unit_norm(...), min_max_norm(...), their names as strings, or "
                     "{'class_name': 'MaxNorm', 'config': {...}}")


def serialize(constraint) -> dict:
    """Keras's serialised form: ``{"class_name": "MaxNorm", "config": {"max_value": 2.0, "axis": 0}}``."""
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}
