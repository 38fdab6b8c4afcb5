"""Activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax) and noise/regularisation layers (GaussianNoise,
GaussianDropout, AlphaDropout, SpatialDropout1D/2D/3D), with Keras 3's names, defaults and formulas.

The noise layers are active only in training (``fit``); ``predict`` and ``evaluate`` pass inputs through. Their
randomness comes from the model's seed (like :class:`Dropout`): the same seed gives the same noise. A ``seed``
argument is accepted for Keras compatibility and ignored.
"""
from __future__ import annotations

import math

import numpy as np

from ._options import set_weight_options
from .core import _INITIALIZERS, Input, Layer, register

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "GaussianNoise", "GaussianDropout", "AlphaDropout",
           "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]


def _is_number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))


def _is_int(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


def _float(layer, what, v, *, low=0.0, allow_none=False, high=None, high_open=False):
    """Checks a float argument: a finite number >= low (and < or <= high). Messages quote the received value."""
    if v is None and allow_none:
        return None
    ok = _is_number(v) and math.isfinite(v) and v >= low
    if ok and high is not None:
        ok = v < high if high_open else v <= high
    if not ok:
        if high is None:
            rng = f"a float >= {low:g}" + (" or None" if allow_none else "")
        else:
            rng = f"a float in [{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{layer}: `{what}` must be {rng}. Received: {what}={v!r}")
    return float(v)


class _Simple(Layer):
    """A layer without weights whose config is its constructor arguments."""

    _keys: tuple = ()

    def __init__(self, name=None, trainable=True, input_shape=None):
        super().__init__(name, trainable)
        self.input_shape = None if input_shape is None else Input(input_shape).shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update({k: getattr(self, k) for k in self._keys})
        return cfg


# ---- activation layers ---------------------------------------------------------------------------------------
@register
class ReLU(_Simple):
    """Rectified linear unit with Keras's options, computed as Keras 3 does::

        f(x) = min(x, max_value)                  for x > threshold
        f(x) = negative_slope * (x - threshold)   for x <= threshold

    (with ``threshold == 0`` and no ``max_value`` this is a leaky ReLU; at ``x == threshold`` the result is 0).

    Args:
        max_value: float >= 0 or None (no maximum).
        negative_slope: float >= 0.
        threshold: float >= 0.
    """

    class_name = "ReLU"
    _keys = ("max_value", "negative_slope", "threshold")

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, name=None, trainable=True,
                 input_shape=None):
        super().__init__(name, trainable, input_shape)
        self.max_value = _float("ReLU", "max_value", max_value, allow_none=True)
        self.negative_slope = _float("ReLU", "negative_slope", negative_slope)
        self.threshold = _float("ReLU", "threshold", threshold)


@register
class LeakyReLU(_Simple):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise. ``alpha`` is the Keras 2 name of ``negative_slope``."""

    class_name = "LeakyReLU"
    _keys = ("negative_slope",)

    def __init__(self, negative_slope=0.3, name=None, trainable=True, input_shape=None, alpha=None):
        super().__init__(name, trainable, input_shape)
        if alpha is not None:
            negative_slope = alpha
        self.negative_slope = _float("LeakyReLU", "negative_slope", negative_slope)


@register
class ELU(_Simple):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""

    class_name = "ELU"
    _keys = ("alpha",)

    def __init__(self, alpha=1.0, name=None, trainable=True, input_shape=None):
        super().__init__(name, trainable, input_shape)
        if not (_is_number(alpha) and math.isfinite(alpha)):
            raise ValueError(f"ELU: `alpha` must be a finite float. Received: alpha={alpha!r}")
        self.alpha = float(alpha)


@register
class Softmax(_Simple):
    """Softmax along ``axis`` (counted with the batch axis, as in Keras: -1 is the last axis), or jointly along
    several axes when ``axis`` is a list. An axis outside the input's rank fails when the model is built."""

    class_name = "Softmax"
    _keys = ("axis",)

    def __init__(self, axis=-1, name=None, trainable=True, input_shape=None):
        super().__init__(name, trainable, input_shape)
        if _is_int(axis):
            self.axis = int(axis)
        elif (isinstance(axis, (list, tuple)) and axis and all(_is_int(a) for a in axis)
              and len(set(int(a) for a in axis)) == len(axis)):
            self.axis = [int(a) for a in axis]
        else:
            raise ValueError(f"Softmax: `axis` must be an integer or a non-empty list of distinct integers. "
                             f"Received: axis={axis!r}")


@register
class PReLU(Layer):
    """Parametric ReLU: ``relu(x) - alpha * relu(-x)`` with a learned ``alpha`` of the input's shape (without the
    batch axis), of size 1 along ``shared_axes``.

    Args:
        alpha_initializer: initializer name (default "zeros").
        alpha_regularizer: a ``pydl.regularizers`` identifier or None.
        alpha_constraint: a ``pydl.constraints`` identifier or None (e.g. "non_neg").
        shared_axes: int or list of ints, axes (1 = first axis after the batch axis, as in Keras) along which
            alpha is shared; e.g. ``[1, 2]`` for one alpha per channel of ``(batch, height, width, channels)``.
    """

    class_name = "PReLU"

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 name=None, trainable=True, input_shape=None):
        super().__init__(name, trainable)
        init = alpha_initializer.lower() if isinstance(alpha_initializer, str) else alpha_initializer
        if init not in _INITIALIZERS:
            raise ValueError(f"PReLU: unknown alpha_initializer. Received: alpha_initializer={alpha_initializer!r}; "
                             f"valid: {sorted(_INITIALIZERS)}")
        self.alpha_initializer = init
        set_weight_options(self, {"alpha_regularizer": alpha_regularizer, "alpha_constraint": alpha_constraint})
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not axes or not all(_is_int(a) and a >= 1 for a in axes):
                raise ValueError(f"PReLU: `shared_axes` must be an int >= 1 or a non-empty list of them (axis 1 is the "
                                 f"first axis after the batch axis). Received: shared_axes={shared_axes!r}")
            self.shared_axes = [int(a) for a in axes]
        self.input_shape = None if input_shape is None else Input(input_shape).shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(alpha_initializer=self.alpha_initializer, shared_axes=self.shared_axes)
        return cfg


# ---- noise and regularisation --------------------------------------------------------------------------------
@register
class GaussianNoise(_Simple):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` in training; identity at inference.

    Keras 3 limits ``stddev`` to [0, 1]; pydl accepts any finite ``stddev >= 0`` (as Keras 2 did).
    """

    class_name = "GaussianNoise"
    _keys = ("stddev",)

    def __init__(self, stddev, seed=None, name=None, trainable=True, input_shape=None):
        super().__init__(name, trainable, input_shape)
        self.stddev = _float("GaussianNoise", "stddev", stddev)


@register
class GaussianDropout(_Simple):
    """Multiplies by 1-centred Gaussian noise of standard deviation ``sqrt(rate / (1 - rate))`` in training."""

    class_name = "GaussianDropout"
    _keys = ("rate",)

    def __init__(self, rate, seed=None, name=None, trainable=True, input_shape=None):
        super().__init__(name, trainable, input_shape)
        self.rate = _float("GaussianDropout", "rate", rate, high=1.0, high_open=True)


@register
class AlphaDropout(_Simple):
    """Dropout that keeps zero mean and unit variance (for SELU networks): dropped values are set to
    ``alpha' = -1.7580993408473766``, then ``a * x + b`` restores the moments (Keras's formula).

    Args:
        rate: float in [0, 1).
        noise_shape: optional shape of the mask, batch axis included, ``None`` entries taking the input's size;
            e.g. ``(None, 1, features)`` shares the mask across timesteps.
    """

    class_name = "AlphaDropout"
    _keys = ("rate", "noise_shape")

    def __init__(self, rate, noise_shape=None, seed=None, name=None, trainable=True, input_shape=None):
        super().__init__(name, trainable, input_shape)
        self.rate = _float("AlphaDropout", "rate", rate, high=1.0, high_open=True)
        if noise_shape is not None:
            if (not isinstance(noise_shape, (list, tuple)) or not noise_shape
                    or not all(d is None or (_is_int(d) and d >= 1) for d in noise_shape)):
                raise ValueError(f"AlphaDropout: `noise_shape` must be a tuple of positive ints or None entries. "
                                 f"Received: noise_shape={noise_shape!r}")
            noise_shape = [None if d is None else int(d) for d in noise_shape]
        self.noise_shape = noise_shape


class _SpatialDropout(_Simple):
    _dims = 1
    _keys = ("rate", "data_format")

    def __init__(self, rate, data_format=None, seed=None, name=None, trainable=True, input_shape=None):
        super().__init__(name, trainable, input_shape)
        self.rate = _float(self.class_name, "rate", rate, high=1.0, high_open=True)
        if data_format is None:
            data_format = "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{self.class_name}: `data_format` must be 'channels_last' or 'channels_first'. "
                             f"Received: data_format={data_format!r}")
        self.data_format = data_format


@register
class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of ``(batch, steps, channels)`` inputs in training (mask ``(batch, 1, channels)``),
    scaling the kept ones by ``1 / (1 - rate)``."""

    class_name = "SpatialDropout1D"
    _keys = ("rate",)

    def __init__(self, rate, seed=None, name=None, trainable=True, input_shape=None):
        super().__init__(rate, None, seed, name, trainable, input_shape)


@register
class SpatialDropout2D(_SpatialDropout):
    """Drops whole channels of ``(batch, rows, cols, channels)`` inputs in training (channels_first:
    ``(batch, channels, rows, cols)``), scaling the kept ones by ``1 / (1 - rate)``."""

    class_name = "SpatialDropout2D"


@register
class SpatialDropout3D(_SpatialDropout):
    """Drops whole channels of ``(batch, d1, d2, d3, channels)`` inputs in training (or channels_first),
    scaling the kept ones by ``1 / (1 - rate)``."""

    class_name = "SpatialDropout3D"
