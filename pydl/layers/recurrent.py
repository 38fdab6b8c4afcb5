"""Recurrent layers (Keras names and semantics)."""
from __future__ import annotations

__all__: list[str] = []
