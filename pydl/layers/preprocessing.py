"""Preprocessing layers that run inside a model at inference, with Keras 3's names and formulas: Rescaling and
Normalization (statistics from the config or from weights; ``adapt`` is not offered)."""
from __future__ import annotations

import math

import numpy as np

from .activation import _Simple, _is_int, _is_number
from .core import register

__all__ = ["Rescaling", "Normalization"]


def _floats(layer, what, v, allow_none=False):
    """A finite float or a non-empty list of finite floats (one per channel); messages quote the received value."""
    if v is None and allow_none:
        return None
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if _is_number(v) and math.isfinite(v):
        return float(v)
    if isinstance(v, (list, tuple)) and v and all(_is_number(x) and math.isfinite(x) for x in np.ravel(v).tolist()):
        return [float(x) for x in np.ravel(v).tolist()]
    raise ValueError(f"{layer}: `{what}` must be a finite float or a list of finite floats. Received: {what}={v!r}")


@register
class Rescaling(_Simple):
    """``x * scale + offset``, e.g. ``Rescaling(1 / 255)`` for images; ``scale``/``offset`` may be lists (one value
    per channel of the last axis)."""

    class_name = "Rescaling"
    _keys = ("scale", "offset")

    def __init__(self, scale, offset=0.0, name=None, trainable=True, input_shape=None):
        super().__init__(name, trainable, input_shape)
        self.scale = _floats("Rescaling", "scale", scale)
        self.offset = _floats("Rescaling", "offset", offset)


@register
class Normalization(_Simple):
    """``(x - mean) / max(sqrt(variance), 1e-7)`` per position of the kept ``axis`` (Keras's inference formula;
    ``invert=True`` maps back: ``mean + x * max(sqrt(variance), 1e-7)``). Without ``mean``/``variance`` the
    statistics are the layer's weights ``[mean, variance]`` (set them with ``set_weights``, or import them)."""

    class_name = "Normalization"
    _keys = ("axis", "mean", "variance", "invert")

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, name=None, trainable=True,
                 input_shape=None):
        super().__init__(name, trainable, input_shape)
        if axis is None:
            self.axis = []
        elif _is_int(axis):
            self.axis = [int(axis)]
        elif isinstance(axis, (list, tuple)) and all(_is_int(a) for a in axis):
            self.axis = [int(a) for a in axis]
        else:
            raise ValueError(f"Normalization: `axis` must be an int, a list of ints or None. Received: axis={axis!r}")
        self.mean = _floats("Normalization", "mean", mean, allow_none=True)
        self.variance = _floats("Normalization", "variance", variance, allow_none=True)
        if (self.mean is None) != (self.variance is None):
            raise ValueError("Normalization: when setting `mean` or `variance`, both must be set. Received: "
                             f"mean={mean!r} and variance={variance!r}")
        if self.variance is not None and min(np.ravel(self.variance)) < 0:
            raise ValueError(f"Normalization: `variance` must be >= 0. Received: variance={variance!r}")
        if not isinstance(invert, (bool, np.bool_)):
            raise ValueError(f"Normalization: `invert` must be a bool. Received: invert={invert!r}")
        self.invert = bool(invert)
