"""Keras-like layers. Each is a config (Keras names, defaults and weight layouts); the Java class of the same name
does the work. One module per family, like Keras's ``keras/src/layers/``.

Example:
    >>> from pydl import layers
    >>> model = pydl.Sequential([layers.Input(784), layers.Dense(64, activation="relu"), layers.Dense(10)])
"""
from .core import (  # noqa: F401
    _ACTIVATIONS, _CLASSES, _INITIALIZERS, Activation, Dense, Dropout, Embedding, Flatten, Input, Layer, LayerScale,
    CustomScaleLayer, Masking, Permute,
    RepeatVector, Reshape, SymbolicTensor, register,
    Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract,
)
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .merging import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .preprocessing import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
