"""Attention layers (Keras names, semantics and weight layouts)."""
from __future__ import annotations

__all__: list[str] = []
