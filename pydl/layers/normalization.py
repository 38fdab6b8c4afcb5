"""Normalization layers (Keras names, defaults, weight layouts and formulas).

* ``BatchNormalization``: weights ``gamma, beta, moving_mean, moving_variance`` (the moving statistics are
  non-trainable state, saved in model files); training normalises with the batch statistics and updates
  ``moving = moving * momentum + batch * (1 - momentum)`` (biased batch variance, as Keras 3); inference uses the
  moving statistics. A layer with ``trainable=False`` always runs in inference mode, as in Keras 3.
* ``LayerNormalization``: per-sample statistics over ``axis``; weights ``gamma, beta``.
* ``GroupNormalization``: per-sample statistics over groups of channels; weights ``gamma, beta``.
* ``RMSNormalization``: per-sample root mean square over ``axis``, no centring; weight ``scale``.
"""
from __future__ import annotations

import numpy as np

from .core import _INITIALIZERS, Input, Layer, register

__all__ = ["BatchNormalization", "LayerNormalization", "GroupNormalization", "RMSNormalization"]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _check_axis(layer, axis, allow_list=False):
    valid = "an integer or a list of integers" if allow_list else "an integer"
    if allow_list and isinstance(axis, (list, tuple)):
        if not axis or not all(_is_int(a) for a in axis):
            raise ValueError(f"{layer}: `axis` must be {valid} other than the batch axis 0. Received: axis={axis!r}")
        if any(int(a) == 0 for a in axis):
            raise ValueError(f"{layer}: `axis` cannot include the batch axis 0. Received: axis={axis!r}")
        if len({int(a) for a in axis}) != len(axis):
            raise ValueError(f"{layer}: `axis` has a repeated entry. Received: axis={axis!r}")
        return [int(a) for a in axis]
    if not _is_int(axis):
        raise ValueError(f"{layer}: `axis` must be {valid}. Received: axis={axis!r}")
    if int(axis) == 0:
        raise ValueError(f"{layer}: `axis` cannot be the batch axis 0. Received: axis={axis!r}")
    return int(axis)


def _check_epsilon(layer, epsilon):
    if not _is_number(epsilon) or not 0 < float(epsilon) < float("inf"):
        raise ValueError(f"{layer}: `epsilon` must be a positive number. Received: epsilon={epsilon!r}")
    return float(epsilon)


def _check_initializer(layer, what, v):
    if v not in _INITIALIZERS:
        raise ValueError(f"{layer}: unknown {what}. Received: {what}={v!r}; valid: {sorted(_INITIALIZERS)}")
    return v


class _Normalization(Layer):
    def __init__(self, epsilon, center, scale, beta_initializer, gamma_initializer, input_shape, name, trainable):
        super().__init__(name, trainable)
        n = self.class_name
        self.epsilon = _check_epsilon(n, epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = _check_initializer(n, "beta_initializer", beta_initializer)
        self.gamma_initializer = _check_initializer(n, "gamma_initializer", gamma_initializer)
        self.input_shape = None if input_shape is None else Input(input_shape).shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(epsilon=self.epsilon, center=self.center, scale=self.scale,
                   beta_initializer=self.beta_initializer, gamma_initializer=self.gamma_initializer)
        return cfg


@register
class BatchNormalization(_Normalization):
    """Normalises each feature (along ``axis``) with batch statistics in training and moving statistics otherwise.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Args:
        axis: the feature axis (int, default -1: channels last); statistics are taken over every other axis.
        momentum: float in [0, 1], moving statistics update ``moving * momentum + batch * (1 - momentum)``.
        epsilon: positive float added to the variance (default 1e-3).
        center, scale: whether to learn ``beta`` and ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer, moving_variance_initializer: names
            (defaults zeros, ones, zeros, ones).
    Weights: ``gamma, beta, moving_mean, moving_variance``, each ``(channels,)``; the last two are non-trainable.
    """

    class_name = "BatchNormalization"

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 input_shape=None, name=None, trainable=True):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, input_shape, name, trainable)
        n = self.class_name
        self.axis = _check_axis(n, axis)
        if not _is_number(momentum) or not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"{n}: `momentum` must be a number in [0, 1]. Received: momentum={momentum!r}")
        self.momentum = float(momentum)
        self.moving_mean_initializer = _check_initializer(n, "moving_mean_initializer", moving_mean_initializer)
        self.moving_variance_initializer = _check_initializer(n, "moving_variance_initializer",
                                                              moving_variance_initializer)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis, momentum=self.momentum, moving_mean_initializer=self.moving_mean_initializer,
                   moving_variance_initializer=self.moving_variance_initializer)
        return cfg


@register
class LayerNormalization(_Normalization):
    """Normalises each sample over ``axis`` (int or list of ints, default -1), in training and inference alike.

    Weights: ``gamma, beta`` of shape ``input_shape[axis]`` (one dimension per listed axis).
    """

    class_name = "LayerNormalization"

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", input_shape=None, name=None, trainable=True):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, input_shape, name, trainable)
        self.axis = _check_axis(self.class_name, axis, allow_list=True)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis)
        return cfg


@register
class RMSNormalization(Layer):
    """Root-mean-square normalisation as Keras 3 (``keras.layers.RMSNormalization``): per sample,
    ``x / sqrt(mean(x**2 over axis) + epsilon) * scale``, with no centring and no offset. Training and inference
    compute the same thing.

    Args:
        axis: int or list of ints (default -1), the axes to normalise over.
        epsilon: positive float (default 1e-6).
    Weights: ``scale`` of shape ``input_shape[axis]`` (ones at first).
    """

    class_name = "RMSNormalization"

    def __init__(self, axis=-1, epsilon=1e-6, name=None, trainable=True):
        super().__init__(name, trainable)
        self.axis = _check_axis(self.class_name, axis, allow_list=True)
        self.epsilon = _check_epsilon(self.class_name, epsilon)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


@register
class GroupNormalization(_Normalization):
    """Splits the channels (along ``axis``) into ``groups`` groups and normalises each sample's groups.

    Args:
        groups: positive int dividing the number of channels (default 32), or -1 for one group per channel.
        axis: the channel axis (default -1).
    Weights: ``gamma, beta`` of shape ``(channels,)``.
    """

    class_name = "GroupNormalization"

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", input_shape=None, name=None, trainable=True):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, input_shape, name, trainable)
        n = self.class_name
        if not _is_int(groups) or not (groups > 0 or groups == -1):
            raise ValueError(f"{n}: `groups` must be a positive integer (or -1 for one group per channel). "
                             f"Received: groups={groups!r}")
        self.groups = int(groups)
        self.axis = _check_axis(n, axis)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(groups=self.groups, axis=self.axis)
        return cfg
