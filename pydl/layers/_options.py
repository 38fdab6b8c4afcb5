"""Keras's per-weight options for every layer: ``<weight>_regularizer``, ``<weight>_constraint`` and
``activity_regularizer``.

Each layer class's ``__init__`` is wrapped (from ``Layer.__init_subclass__``) so that these keyword arguments are
taken out, checked (``pydl.regularizers.get`` / ``pydl.constraints.get``), kept as attributes and written into the
layer's config in Keras's serialised form; the Java layer attaches them to its weights by Keras's naming rule
(``kernel`` -> ``kernel_*``, ``recurrent_kernel`` -> ``recurrent_*``, ``depthwise_kernel`` -> ``depthwise_*``,
any other weight by its name) and rejects, when built, an option for a weight it does not have.
"""
from __future__ import annotations

import functools
import inspect
import re

from .. import constraints as _constraints
from .. import regularizers as _regularizers

_OPTION = re.compile(r"^[a-z][a-z0-9_]*_(regularizer|constraint)$")


def accept_weight_options(cls) -> None:
    """Wraps ``cls.__init__`` (if the class defines one) to take the weight options out of its keyword arguments."""
    init = cls.__dict__.get("__init__")
    if init is None or getattr(init, "_takes_weight_options", False):
        return
    explicit = set(inspect.signature(init).parameters)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        options = {k: kwargs.pop(k) for k in list(kwargs) if _OPTION.match(k) and k not in explicit}
        init(self, *args, **kwargs)
        if options:
            set_weight_options(self, options)

    __init__._takes_weight_options = True
    cls.__init__ = __init__


def set_weight_options(layer, options: dict) -> None:
    """Checks and records ``{"kernel_regularizer": ..., "bias_constraint": ...}`` on a layer."""
    store = layer.__dict__.setdefault("_weight_options", {})
    for key, value in options.items():
        try:
            obj = (_regularizers.get(value, key) if key.endswith("_regularizer")
                   else _constraints.get(value, key))
        except ValueError as e:
            raise ValueError(f"{layer.class_name}: {e}") from None
        setattr(layer, key, obj)
        if obj is None:
            store.pop(key, None)
        else:
            store[key] = (_regularizers.serialize(obj) if key.endswith("_regularizer")
                          else _constraints.serialize(obj))


def weight_options_config(layer) -> dict:
    """The options in Keras's serialised form, for ``get_config`` (a layer loaded from a model file has them as
    plain config attributes)."""
    loaded = {k: v for k, v in vars(layer).items() if _OPTION.match(k) and isinstance(v, dict)}
    return {**loaded, **layer.__dict__.get("_weight_options", {})}
