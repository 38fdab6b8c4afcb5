"""Importers of models from other libraries: ``pydl.importers.keras.load("model.keras")``."""
from . import keras  # noqa: F401

__all__ = ["keras"]
