"""Attention layers (Keras names, semantics and weight layouts): MultiHeadAttention, Attention, AdditiveAttention.

They take several inputs, so they live in functional models::

    x = layers.Input((10, 16))
    y = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)          # or mha([x, x]), mha(q, v, k)

Call arguments as Keras 3: ``use_causal_mask=True``, ``return_attention_scores=True`` (the layer then returns
``(output, scores)``) and, for MultiHeadAttention, an ``attention_mask`` tensor ``(batch, T, S)`` (nonzero = attend).
Keras masks of the inputs (from ``Embedding(mask_zero=True)`` or ``Masking``) are applied automatically.
``use_causal_mask`` is also accepted as a constructor flag. MultiHeadAttention also takes inputs
``(batch, d1, ..., dn, features)`` and attends over ``attention_axes`` (default: all of d1..dn), as Keras; masks
need rank-3 inputs.
"""
from __future__ import annotations

import numpy as np

from .core import _INITIALIZERS, Layer, register

__all__ = ["MultiHeadAttention", "Attention", "AdditiveAttention"]


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _check_rate(layer, what, v):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not 0 <= v < 1:
        raise ValueError(f"{layer}: `{what}` must be a float in [0, 1). Received: {what}={v!r}")
    return float(v)


def _check_bool(layer, what, v):
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{layer}: `{what}` must be a bool. Received: {what}={v!r}")
    return bool(v)


class _AttentionBase(Layer):
    """Shared call convention: ``layer(query, value)``, ``layer(query, value, key)`` or ``layer([query, value(, key)])``,
    plus Keras's call arguments ``return_attention_scores`` and ``use_causal_mask``."""

    def __call__(self, query, value=None, key=None, return_attention_scores=False, use_causal_mask=False, mask=None,
                 training=None):
        if value is None and key is None and isinstance(query, (list, tuple)):
            items = list(query)
            if not 2 <= len(items) <= 3:
                raise ValueError(f"{self.class_name} layer accepts inputs list of length 2 or 3, namely "
                                 f"[query, value] or [query, value, key]. Received length: {len(items)}.")
        else:
            if value is None:
                raise ValueError(f"{self.class_name}: call it on a query and a value tensor: layer(query, value), "
                                 f"layer(query, value, key) or layer([query, value]). Received only {query!r}")
            items = [query, value] + ([] if key is None else [key])
        if mask is not None:
            raise ValueError(f"{self.class_name}: explicit `mask` call arguments are not supported; masks come from "
                             "Embedding(mask_zero=True) or Masking layers upstream")
        return self._attend(items, {}, return_attention_scores, use_causal_mask)

    def _attend(self, items, args, return_attention_scores, use_causal_mask):
        """Records the call with Keras's call arguments; returns the output, or (output, scores)."""
        if _check_bool(self.class_name, "use_causal_mask", use_causal_mask):
            args["use_causal_mask"] = True
        scores = _check_bool(self.class_name, "return_attention_scores", return_attention_scores)
        if scores:
            args["return_attention_scores"] = True
        out = self._apply(items, args, 2 if scores else 1)
        return tuple(out) if scores else out


@register
class MultiHeadAttention(_AttentionBase):
    """Multi-head attention as Keras 3 (``keras.layers.MultiHeadAttention``), with Keras's weights:

    ``query/kernel (d_q, num_heads, key_dim)``, ``query/bias (num_heads, key_dim)``, ``key/kernel (d_k, num_heads,
    key_dim)``, ``key/bias``, ``value/kernel (d_v, num_heads, value_dim)``, ``value/bias (num_heads, value_dim)``,
    ``attention_output/kernel (num_heads, value_dim, *output_shape)``, ``attention_output/bias (*output_shape)``
    (``output_shape`` defaults to ``d_q``; the biases exist only with ``use_bias``).

    ``softmax(Q K^T / sqrt(key_dim))`` over the keys, dropout on the probabilities in training, then ``probs V`` and
    the output projection. ``use_causal_mask=True`` lets position ``i`` attend only to positions ``j <= i`` (masked
    scores are set to -1e9, as Keras's Softmax layer does).

    Call: ``mha(query, value)``, ``mha(query, value, key)`` or ``mha([query, value, key])`` with inputs of shape
    ``(batch, T, d_q)``, ``(batch, S, d_v)``, ``(batch, S, d_k)``; output ``(batch, T, *output_shape)``.
    Higher-rank inputs ``(batch, d1, ..., dn, d_q)`` attend over ``attention_axes`` (default all of d1..dn; one softmax
    over all their positions, the other axes acting as batch axes), output ``(batch, d1, ..., dn, *output_shape)``.
    """

    class_name = "MultiHeadAttention"

    def __call__(self, query, value=None, key=None, attention_mask=None, return_attention_scores=False,
                 use_causal_mask=False, training=None):
        """``mha(query, value, key=None, attention_mask=None, return_attention_scores=False, use_causal_mask=False)``
        as Keras 3; ``attention_mask`` is a tensor of shape ``(batch, T, S)``, nonzero where attending is allowed."""
        if attention_mask is None:
            return super().__call__(query, value, key, return_attention_scores=return_attention_scores,
                                    use_causal_mask=use_causal_mask)
        if value is None:
            raise ValueError("MultiHeadAttention: call it as mha(query, value, attention_mask=...) when passing an "
                             "attention_mask")
        items = [query, value] + ([] if key is None else [key]) + [attention_mask]
        args = {"inputs": ["query", "value"] + ([] if key is None else ["key"]) + ["attention_mask"]}
        return self._attend(items, args, return_attention_scores, use_causal_mask)

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 use_causal_mask=False, name=None, trainable=True):
        super().__init__(name, trainable)
        n = "MultiHeadAttention"
        for what, v in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not _is_int(v) or v <= 0:
                raise ValueError(f"{n}: `{what}` must be a positive integer. Received: {what}={v!r}")
        if value_dim is not None and (not _is_int(value_dim) or value_dim <= 0):
            raise ValueError(f"{n}: `value_dim` must be a positive integer or None. Received: value_dim={value_dim!r}")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout = _check_rate(n, "dropout", dropout)
        self.use_bias = _check_bool(n, "use_bias", use_bias)
        if output_shape is not None and not (isinstance(output_shape, (list, tuple)) and len(output_shape) == 0):
            shape = (output_shape,) if _is_int(output_shape) else output_shape
            if (not isinstance(shape, (list, tuple)) or not all(_is_int(d) and d > 0 for d in shape)):
                raise ValueError(f"{n}: Invalid `output_shape`: expected a positive int or a tuple of positive "
                                 f"ints. Received: output_shape={output_shape!r}")
            self.output_shape = [int(d) for d in shape]
        else:
            self.output_shape = None
        if attention_axes is not None:
            axes = (attention_axes,) if _is_int(attention_axes) else attention_axes
            if not isinstance(axes, (list, tuple)) or not axes or not all(_is_int(a) for a in axes):
                raise ValueError(f"{n}: `attention_axes` must be an int or a non-empty list of ints (axes of the "
                                 f"inputs, not batch or features). Received: attention_axes={attention_axes!r}")
            attention_axes = [int(a) for a in axes]
        self.attention_axes = attention_axes
        for what, v in (("kernel_initializer", kernel_initializer), ("bias_initializer", bias_initializer)):
            if v not in _INITIALIZERS:
                raise ValueError(f"{n}: unknown {what}. Received: {what}={v!r}; valid: {sorted(_INITIALIZERS)}")
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.use_causal_mask = _check_bool(n, "use_causal_mask", use_causal_mask)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(num_heads=self.num_heads, key_dim=self.key_dim, value_dim=self.value_dim, dropout=self.dropout,
                   use_bias=self.use_bias, output_shape=self.output_shape, attention_axes=self.attention_axes,
                   kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer,
                   use_causal_mask=self.use_causal_mask)
        return cfg


@register
class Attention(_AttentionBase):
    """Dot-product (Luong-style) attention as Keras 3 (``keras.layers.Attention``).

    Inputs ``[query (batch, Tq, dim), value (batch, Tv, dv)(, key (batch, Tv, dim))]``; output ``(batch, Tq, dv)``.
    ``score_mode="dot"``: scores ``Q K^T`` (times a trainable scalar ``scale``, init 1, with ``use_scale``);
    ``"concat"``: ``concat_score_weight * sum(tanh(scale * (q_i + k_j)), -1)`` (trainable scalars, init 1).
    Softmax over Tv, dropout on the distribution in training, then ``weights @ V``. ``use_causal_mask=True`` subtracts
    1e9 from the scores of positions ``j > i`` (as Keras).
    """

    class_name = "Attention"

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, use_causal_mask=False, name=None,
                 trainable=True):
        super().__init__(name, trainable)
        self.use_scale = _check_bool(self.class_name, "use_scale", use_scale)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{self.class_name}: Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode!r}")
        self.score_mode = score_mode
        self.dropout = _check_rate(self.class_name, "dropout", dropout)
        self.use_causal_mask = _check_bool(self.class_name, "use_causal_mask", use_causal_mask)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(use_scale=self.use_scale, score_mode=self.score_mode, dropout=self.dropout,
                   use_causal_mask=self.use_causal_mask)
        return cfg


@register
class AdditiveAttention(_AttentionBase):
    """Additive (Bahdanau-style) attention as Keras 3 (``keras.layers.AdditiveAttention``): scores
    ``sum(scale * tanh(q_i + k_j), -1)`` with ``scale`` a trainable vector ``(dim,)`` (glorot_uniform) when
    ``use_scale`` (default True), else 1; then as :class:`Attention`."""

    class_name = "AdditiveAttention"

    def __init__(self, use_scale=True, dropout=0.0, use_causal_mask=False, name=None, trainable=True):
        super().__init__(name, trainable)
        self.use_scale = _check_bool(self.class_name, "use_scale", use_scale)
        self.dropout = _check_rate(self.class_name, "dropout", dropout)
        self.use_causal_mask = _check_bool(self.class_name, "use_causal_mask", use_causal_mask)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(use_scale=self.use_scale, dropout=self.dropout, use_causal_mask=self.use_causal_mask)
        return cfg
