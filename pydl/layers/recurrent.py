"""Recurrent layers (Keras names and semantics): SimpleRNN, LSTM, GRU, and the wrappers Bidirectional and
TimeDistributed.

Input ``(batch, timesteps, features)``; output ``(batch, units)`` (last step) or ``(batch, timesteps, units)`` with
``return_sequences=True``. Weights in Keras's layout (``kernel``, ``recurrent_kernel``, ``bias``), so Keras weights
load with ``set_weights`` unchanged. As in Keras: ``return_state=True`` makes the layer return ``[output, *states]``
(LSTM: h and c), ``layer(x, initial_state=[...])`` starts from given states (functional models), and a Keras mask
(from ``Embedding(mask_zero=True)`` or ``Masking``) makes masked steps keep the previous state. ``dropout`` applies
one input mask per sequence, ``recurrent_dropout`` one state mask, in training only.
"""
from __future__ import annotations

import numpy as np

from .core import _INITIALIZERS, Input, Layer, _check_activation, register

__all__ = ["SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed"]

_RECURRENT_INITIALIZERS = _INITIALIZERS | {"orthogonal"}
_MERGE_MODES = ("concat", "sum", "mul", "ave")


def _check_units(layer, units):
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(f"{layer}: received an invalid value for `units`, expected a positive integer. "
                         f"Received: units={units!r}")
    return int(units)


def _check_initializer(layer, what, value, valid):
    if not isinstance(value, str) or value.lower() not in valid:
        raise ValueError(f"{layer}: unknown {what}. Received: {what}={value!r}; valid: {sorted(valid)}")
    return value.lower()


class _RNN(Layer):
    """Shared arguments of SimpleRNN, LSTM and GRU (Keras's names and defaults)."""

    _n_states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 return_sequences=False, go_backwards=False, input_shape=None, name=None, trainable=True,
                 return_state=False, dropout=0.0, recurrent_dropout=0.0, unroll=False, zero_output_for_mask=False,
                 **kwargs):
        super().__init__(name, trainable)
        cls = self.class_name
        if kwargs.get("stateful"):
            raise ValueError(f"{cls}: `stateful` is not supported by pydl. Received: stateful={kwargs['stateful']!r}")
        kwargs.pop("stateful", None)
        if kwargs:
            raise TypeError(f"{cls}: unexpected keyword arguments {sorted(kwargs)}")
        for what, v in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not 0 <= v < 1:
                raise ValueError(f"{cls}: `{what}` must be a float in [0, 1). Received: {what}={v!r}")
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_state = bool(return_state)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.unroll = bool(unroll)   # accepted for Keras configs; the result is the same either way
        self.units = _check_units(cls, units)
        self.activation = _check_activation(cls, activation)
        try:
            self.recurrent_activation = _check_activation(cls, recurrent_activation)
        except ValueError as e:
            raise ValueError(str(e).replace("activation", "recurrent_activation")) from None
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _check_initializer(cls, "kernel_initializer", kernel_initializer,
                                                     _RECURRENT_INITIALIZERS)
        self.recurrent_initializer = _check_initializer(cls, "recurrent_initializer", recurrent_initializer,
                                                        _RECURRENT_INITIALIZERS)
        self.bias_initializer = _check_initializer(cls, "bias_initializer", bias_initializer, _INITIALIZERS)
        self.return_sequences = bool(return_sequences)
        self.go_backwards = bool(go_backwards)
        self.input_shape = None if input_shape is None else Input(input_shape).shape
        if self.input_shape is not None and len(self.input_shape) != 2:
            raise ValueError(f"{cls}: expects input of rank 3 (batch, timesteps, features). "
                             f"Received: input_shape={input_shape!r}")

    def get_config(self):
        cfg = super().get_config()
        cfg.update(units=self.units, activation=self.activation, recurrent_activation=self.recurrent_activation,
                   use_bias=self.use_bias, return_sequences=self.return_sequences, go_backwards=self.go_backwards,
                   kernel_initializer=self.kernel_initializer, recurrent_initializer=self.recurrent_initializer,
                   bias_initializer=self.bias_initializer, return_state=self.return_state, dropout=self.dropout,
                   recurrent_dropout=self.recurrent_dropout)
        if self.zero_output_for_mask:
            cfg.update(zero_output_for_mask=True)
        return cfg

    def __call__(self, inputs, initial_state=None, mask=None, training=None):
        """``layer(x)`` or ``layer(x, initial_state=[h]`` (LSTM: ``[h, c]``) ``)``; returns the output, or
        ``[output, *states]`` with ``return_state=True``."""
        if mask is not None:
            raise ValueError(f"{self.class_name}: explicit `mask` call arguments are not supported; masks come from "
                             "Embedding(mask_zero=True) or Masking layers upstream")
        items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        # as Keras 3: a call given initial_state (a second tensor argument) computes without the input's mask
        args = {} if initial_state is None else {"use_input_mask": False}
        if len(items) != 1:
            if initial_state is not None:
                raise ValueError(f"{self.class_name}: pass the initial states either in the inputs list or as "
                                 "initial_state, not both")
            items, initial_state = items[:1], items[1:]
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != self._n_states:
                raise ValueError(f"{self.class_name}: initial_state must hold {self._n_states} tensor"
                                 f"{'s' if self._n_states > 1 else ''} (batch, units), received {len(states)}")
            items += states
        return self._apply(items, args, 1 + self._n_states if self.return_state else 1)


@register
class SimpleRNN(_RNN):
    """Fully connected RNN: ``h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)``.

    Weights: kernel ``(features, units)``, recurrent_kernel ``(units, units)``, bias ``(units,)``.
    """

    class_name = "SimpleRNN"

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", return_sequences=False,
                 go_backwards=False, input_shape=None, name=None, trainable=True, **kwargs):
        super().__init__(units, activation, "sigmoid", use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, return_sequences, go_backwards, input_shape, name, trainable, **kwargs)

    def get_config(self):
        cfg = super().get_config()
        del cfg["recurrent_activation"]
        return cfg


@register
class LSTM(_RNN):
    """Long short-term memory (Keras's equations). Gate order i, f, c, o in kernel ``(features, 4*units)``,
    recurrent_kernel ``(units, 4*units)`` and bias ``(4*units,)``; ``unit_forget_bias`` sets the forget-gate bias
    to ones at initialisation."""

    class_name = "LSTM"
    _n_states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, return_sequences=False, go_backwards=False, input_shape=None, name=None,
                 trainable=True, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, return_sequences, go_backwards, input_shape, name,
                         trainable, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(unit_forget_bias=self.unit_forget_bias)
        return cfg


@register
class GRU(_RNN):
    """Gated recurrent unit (Keras's equations). Gate order z, r, h in kernel ``(features, 3*units)`` and
    recurrent_kernel ``(units, 3*units)``. ``reset_after=True`` (Keras 3 default, PyTorch/cuDNN compatible): bias
    ``(2, 3*units)`` (input bias, recurrent bias) and the reset gate applied after the recurrent matmul;
    ``reset_after=False``: bias ``(3*units,)`` and the reset gate applied to the state before it."""

    class_name = "GRU"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 return_sequences=False, go_backwards=False, reset_after=True, input_shape=None, name=None,
                 trainable=True, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, return_sequences, go_backwards, input_shape, name,
                         trainable, **kwargs)
        self.reset_after = bool(reset_after)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(reset_after=self.reset_after)
        return cfg


def _wrapped_spec(owner, layer):
    if isinstance(layer, dict) and "class" in layer:  # a loaded model's config
        return layer
    if not isinstance(layer, Layer):
        raise ValueError(f"{owner}: `layer` must be a pydl layer. Received: layer={layer!r}")
    return layer._spec()


@register
class TimeDistributed(Layer):
    """Applies ``layer`` to every time step: input ``(batch, timesteps, ...)``; the wrapped layer sees
    ``(batch, ...)``. Its weights are the wrapped layer's, shared by all steps."""

    class_name = "TimeDistributed"

    def __init__(self, layer, input_shape=None, name=None, trainable=True):
        super().__init__(name, trainable)
        self.layer = _wrapped_spec("TimeDistributed", layer)
        self.input_shape = None if input_shape is None else Input(input_shape).shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(layer=self.layer)
        return cfg


@register
class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards over the sequence and merges the two outputs
    (``merge_mode`` "concat" (default), "sum", "mul", "ave", or None: both outputs, forward first). With
    ``return_sequences`` the backward output is re-reversed so both align in time (and masked steps output zeros).
    Weights: the forward layer's, then the backward layer's."""

    class_name = "Bidirectional"

    def __init__(self, layer, merge_mode="concat", backward_layer=None, input_shape=None, name=None,
                 trainable=True):
        super().__init__(name, trainable)
        self._n_states = getattr(layer, "_n_states", 2 if isinstance(layer, dict) and layer.get("class") == "LSTM"
                                 else 1)
        self.layer = _wrapped_spec("Bidirectional", layer)
        if self.layer.get("class") not in ("SimpleRNN", "LSTM", "GRU"):
            raise ValueError("Bidirectional: `layer` must be a SimpleRNN, LSTM or GRU layer. "
                             f"Received: layer={self.layer.get('class')!r}")
        if merge_mode is not None and merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: invalid merge_mode. Received: merge_mode={merge_mode!r}; valid: "
                             f"{list(_MERGE_MODES)} or None (two outputs)")
        self.merge_mode = merge_mode
        self.backward_layer = None if backward_layer is None else _wrapped_spec("Bidirectional", backward_layer)
        self.input_shape = None if input_shape is None else Input(input_shape).shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(layer=self.layer, merge_mode=self.merge_mode)
        if self.backward_layer is not None:
            cfg.update(backward_layer=self.backward_layer)
        return cfg

    def __call__(self, inputs, initial_state=None, mask=None, training=None):
        """``bi(x)`` or ``bi(x, initial_state=[forward states..., backward states...])``; with the wrapped layer's
        ``return_state=True`` returns ``[output, *forward_states, *backward_states]``."""
        if mask is not None:
            raise ValueError("Bidirectional: explicit `mask` call arguments are not supported; masks come from "
                             "Embedding(mask_zero=True) or Masking layers upstream")
        items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != 2 * self._n_states:
                raise ValueError(f"Bidirectional: initial_state must hold {2 * self._n_states} tensors (the forward "
                                 f"layer's states, then the backward layer's), received {len(states)}")
            items += states
        return_state = bool(self.layer.get("config", {}).get("return_state"))
        outputs = 2 if self.merge_mode is None else 1
        args = {} if initial_state is None else {"use_input_mask": False}     # as Keras 3 (see _RNN.__call__)
        return self._apply(items, args, outputs + (2 * self._n_states if return_state else 0))
