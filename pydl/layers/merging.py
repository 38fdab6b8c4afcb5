"""Merge layers beyond the elementwise ones of ``core``: ``Dot`` (Keras's ``keras.layers.Dot``)."""
from __future__ import annotations

import numpy as np

from .core import _Merge, register

__all__ = ["Dot"]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


@register
class Dot(_Merge):
    """Batched dot product of two inputs along one axis of each, as ``keras.layers.Dot``.

    Args:
        axes: int, or a pair of ints (one axis per input). Axes count the batch axis as 0, so they are >= 1 or
            negative (from the end of each input).
        normalize: L2-normalise both inputs along their axes first (``x / max(||x||, 1e-7)``): the result is then
            the cosine similarity.
    Shape:
        ``(batch, *a)`` and ``(batch, *b)`` -> the first input's shape without its summed axis followed by the
        second's without its batch and summed axes; ``(batch, 1)`` when nothing else remains.
        E.g. ``(batch, 3, 5)`` and ``(batch, 10, 3)`` with ``axes=(1, 2)`` give ``(batch, 5, 10)``.

    Example:
        >>> a, b = layers.Input((8,)), layers.Input((8,))
        >>> cosine = layers.Dot(axes=1, normalize=True)([a, b])     # (batch, 1)
    """

    class_name = "Dot"

    def __init__(self, axes, normalize=False, name=None):
        super().__init__(name)
        if _is_int(axes):
            self.axes = int(axes)
        elif isinstance(axes, (list, tuple)) and len(axes) == 2 and all(_is_int(a) for a in axes):
            self.axes = [int(a) for a in axes]
        else:
            raise ValueError(f"Dot: axes must be an int or a list/tuple of two ints. Received: axes={axes!r}")
        if not isinstance(normalize, (bool, np.bool_)):
            raise ValueError(f"Dot: normalize must be True or False. Received: normalize={normalize!r}")
        self.normalize = bool(normalize)

    def __call__(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"Dot: call it on a list of exactly 2 tensors. Received: {inputs!r}")
        return super().__call__(inputs)

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}
