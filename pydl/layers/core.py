"""Core layers (Input, Dense, Dropout, Activation, Embedding, Masking, shapes, merges, the applications' LayerScale
and CustomScaleLayer) and the Layer base class with the class registry."""
from __future__ import annotations

import numpy as np

from .. import _array
from ..errors import java_errors

_ACTIVATIONS = {"linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "gelu", "leaky_relu",
                "softplus", "softsign", "swish", "silu", "hard_sigmoid", "relu6", "exponential", "hard_swish",
                "hard_silu", "mish", "gelu_tanh", "hard_sigmoid_keras2"}
_INITIALIZERS = {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal", "zeros", "ones",
                 "random_normal", "random_uniform"}


def _check_activation(layer, activation):
    if activation is None:
        return "linear"
    if not isinstance(activation, str) or activation.lower() not in _ACTIVATIONS:
        raise ValueError(f"{layer}: unknown activation. Received: activation={activation!r}; "
                         f"valid: {sorted(_ACTIVATIONS)}")
    return activation.lower()


_CLASSES: dict = {}


def register(cls):
    """Class decorator: makes a layer class known by its Keras class name (model loading, configs)."""
    _CLASSES[cls.class_name] = cls
    return cls


class _Node:
    """One application of a layer (functional API): its input tensors, call arguments and number of outputs."""

    __slots__ = ("layer", "inputs", "args", "count")

    def __init__(self, layer, inputs, args, count):
        self.layer, self.inputs, self.args, self.count = layer, inputs, args, count


class SymbolicTensor:
    """An output of calling a layer on ``Input`` tensors (functional API): output ``index`` of application ``node``
    (a layer may have several outputs, e.g. ``LSTM(return_state=True)``)."""

    __slots__ = ("node", "index")

    def __init__(self, node, index=0):
        self.node = node
        self.index = index

    @property
    def layer(self):
        return self.node.layer

    @property
    def inputs(self):
        return self.node.inputs

    def __repr__(self):
        extra = f" output {self.index}" if self.node.count > 1 else ""
        return f"<SymbolicTensor from {self.layer.class_name} {self.layer.name or ''}{extra}>"


class Layer:
    """Base class: a name, a trainable flag, and (once the model is built) the Java layer.

    A subclass sets ``class_name`` (the Keras and Java class name), validates its arguments in ``__init__`` with
    messages that quote the received value, and returns its Keras-style config from ``get_config``.
    """

    class_name = "Layer"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # every layer takes Keras's <weight>_regularizer / <weight>_constraint / activity_regularizer arguments
        from ._options import accept_weight_options
        accept_weight_options(cls)

    def __init__(self, name: str | None = None, trainable: bool = True):
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"{self.class_name}: layer names are non-empty strings without '/'. Received: name={name!r}")
        self.name = name
        self.trainable = bool(trainable)
        self._java = None

    @property
    def trainable(self) -> bool:
        """False freezes the layer's weights (fine-tuning); takes effect at the next fit, as in Keras."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        java = getattr(self, "_java", None)
        if java is not None:
            with java_errors():
                java.setTrainable(self._trainable)

    def __call__(self, inputs, **kwargs):
        """Applies the layer to ``layers.Input`` tensors (or outputs of other calls) for a functional ``Model``.
        Calling the same layer object again shares its weights."""
        if kwargs:
            raise TypeError(f"{self.class_name}: unexpected call arguments {sorted(kwargs)}")
        items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        return self._apply(items, {})

    def _apply(self, items, args, count=1):
        """Records one application on ``items`` with call arguments ``args`` (Keras call kwargs, sent to Java) and
        ``count`` outputs; returns the output tensor, or the list of them when there are several."""
        for t in items:
            if not isinstance(t, (Input, SymbolicTensor)):
                raise TypeError(f"{self.class_name}: call layers on layers.Input(...) tensors (or on what such calls "
                                f"return) to build a functional pydl.Model; received {type(t).__name__}. "
                                "To run a model on data use model.predict(x)")
        node = _Node(self, items, dict(args), count)
        outs = [SymbolicTensor(node, i) for i in range(count)]
        return outs[0] if count == 1 else outs

    def get_config(self) -> dict:
        from ._options import weight_options_config
        cfg = {"trainable": self.trainable, **weight_options_config(self)}
        if self.name is not None:
            cfg["name"] = self.name
        return cfg

    def _spec(self) -> dict:
        return {"class": self.class_name, "config": self.get_config()}

    # weights, once built --------------------------------------------------------------------------------
    def _require_built(self):
        if self._java is None:
            raise ValueError(f"layer {self.name or self.class_name} is not built yet: it gets weights when its model "
                             "is built (add an Input layer, or call fit)")

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the layer's parameters (kernel first, then bias), as NumPy arrays."""
        self._require_built()
        with java_errors():
            return [np.array(_array.to_numpy(p.value())) for p in self._java.parameters()]

    def set_weights(self, weights) -> None:
        self._require_built()
        params = list(self._java.parameters())
        if len(weights) != len(params):
            raise ValueError(f"layer '{self._java.name()}' has {len(params)} weights, received {len(weights)}")
        with java_errors():
            for p, w in zip(params, weights):
                w = _array.as_numeric(w, f"weights of layer '{self._java.name()}'")
                expected = tuple(int(d) for d in p.value().shape())
                if w.shape != expected:
                    raise ValueError(f"layer '{self._java.name()}': weight '{p.name}' has shape {expected}, "
                                     f"received {w.shape}")
                p.set(_array.to_java(w, _array.to_numpy(p.value()).dtype))

    @property
    def weights(self):
        return self.get_weights()

    def __repr__(self):
        return f"<{self.class_name} name={self.name!r}>"


class Input:
    """Declares the input shape (without the batch axis), like ``keras.Input``."""

    def __init__(self, shape, name: str | None = None):
        received = shape
        if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
            shape = (shape,)
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
            raise ValueError(f"Input: shape must be an int or a tuple of ints. Received: shape={received!r}")
        shape = tuple(shape)
        # no silent truncation: (2.5, 3) is an error, not (2, 3)
        if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in shape):
            raise ValueError(f"Input: shape must be an int or a tuple of ints. Received: shape={received!r}")
        shape = tuple(int(d) for d in shape)
        if not shape or any(d <= 0 for d in shape):
            raise ValueError(f"Input: shape dimensions must be positive integers. Received: shape={shape!r}")
        self.shape = shape
        self.name = name

    def __repr__(self):
        return f"Input(shape={self.shape})"


@register
class Dense(Layer):
    """Fully connected layer: ``activation(x @ kernel + bias)``, kernel of shape ``(in, units)``.

    Args:
        units: positive int, output size.
        activation: name of an activation ("relu", "softmax", ...) or None for linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializer names ("glorot_uniform", "zeros", "he_normal", ...).
        kernel_regularizer, bias_regularizer, activity_regularizer: ``pydl.regularizers`` (e.g. ``l2(0.01)`` adds
            0.01 * sum(w**2) to the loss); kernel_constraint, bias_constraint: ``pydl.constraints`` (every layer
            takes these options for its weights, see ``pydl/layers/_options.py``).
        input_shape: optional shape of the input (without batch) when the model has no Input.
    Shape:
        input ``(batch, ..., in)`` -> output ``(batch, ..., units)``.
    """

    class_name = "Dense"

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", input_shape=None, name=None, trainable=True):
        super().__init__(name, trainable)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: received an invalid value for `units`, expected a positive integer. "
                             f"Received: units={units!r}")
        self.units = int(units)
        self.activation = _check_activation("Dense", activation)
        self.use_bias = bool(use_bias)
        for what, v in (("kernel_initializer", kernel_initializer), ("bias_initializer", bias_initializer)):
            if v not in _INITIALIZERS:
                raise ValueError(f"Dense: unknown {what}. Received: {what}={v!r}; valid: {sorted(_INITIALIZERS)}")
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.input_shape = None if input_shape is None else Input(input_shape).shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(units=self.units, activation=self.activation, use_bias=self.use_bias,
                   kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer)
        return cfg


@register
class Dropout(Layer):
    """Inverted dropout: during training zeroes ``rate`` of the inputs and scales the rest by ``1/(1-rate)``."""

    class_name = "Dropout"

    def __init__(self, rate, noise_shape=None, name=None, seed=None):
        super().__init__(name)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout: `rate` must be a float in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)
        if noise_shape is not None:
            ok = isinstance(noise_shape, (list, tuple)) and len(noise_shape) >= 1 and all(
                d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0)
                for d in noise_shape)
            if not ok:
                raise ValueError("Dropout: `noise_shape` must be a tuple (batch axis first) of positive ints or None. "
                                 f"Received: noise_shape={noise_shape!r}")
            noise_shape = [None if d is None else int(d) for d in noise_shape]
        self.noise_shape = noise_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(rate=self.rate)
        if self.noise_shape is not None:
            cfg.update(noise_shape=self.noise_shape)
        return cfg


@register
class Activation(Layer):
    """Applies an activation function by name."""

    class_name = "Activation"

    def __init__(self, activation, name=None):
        super().__init__(name)
        self.activation = _check_activation("Activation", activation)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(activation=self.activation)
        return cfg



def _int_tuple(layer, what, value, allow_minus_one=False):
    try:
        t = tuple(value)
    except TypeError:
        raise ValueError(f"{layer}: {what} must be a tuple of ints. Received: {what}={value!r}") from None
    ok = all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and (d > 0 or (allow_minus_one and d == -1))
             for d in t)
    if not t or not ok or (allow_minus_one and sum(d == -1 for d in t) > 1):
        raise ValueError(f"{layer}: {what} must be a non-empty tuple of positive ints"
                         f"{' (one may be -1)' if allow_minus_one else ''}. Received: {what}={value!r}")
    return tuple(int(d) for d in t)


@register
class Flatten(Layer):
    """Flattens all axes but the batch axis: ``(batch, d1, d2, ...) -> (batch, d1*d2*...)``; with
    ``data_format="channels_first"`` the channels axis (1) moves last first, as Keras does."""

    class_name = "Flatten"

    def __init__(self, data_format=None, name=None):
        super().__init__(name)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError("Flatten: data_format must be 'channels_last' or 'channels_first'. "
                             f"Received: data_format={data_format!r}")
        self.data_format = data_format or "channels_last"

    def get_config(self):
        cfg = super().get_config()
        if self.data_format == "channels_first":
            cfg.update(data_format="channels_first")
        return cfg


@register
class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (batch axis excluded; one entry may be -1)."""

    class_name = "Reshape"

    def __init__(self, target_shape, name=None):
        super().__init__(name)
        self.target_shape = _int_tuple("Reshape", "target_shape", target_shape, allow_minus_one=True)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


@register
class Permute(Layer):
    """Permutes the non-batch axes; ``dims`` are 1-based (``Permute((2, 1))`` swaps the two axes)."""

    class_name = "Permute"

    def __init__(self, dims, name=None):
        super().__init__(name)
        self.dims = _int_tuple("Permute", "dims", dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1..{len(self.dims)}. Received: dims={dims!r}")

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


@register
class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``."""

    class_name = "RepeatVector"

    def __init__(self, n, name=None):
        super().__init__(name)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"RepeatVector: n must be a positive int. Received: n={n!r}")
        self.n = int(n)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


@register
class Embedding(Layer):
    """Maps integer ids ``(batch, ...)`` to vectors ``(batch, ..., output_dim)`` through a trainable table
    ``embeddings`` of shape ``(input_dim, output_dim)`` (Keras's layout; default init uniform(-0.05, 0.05)).
    With ``mask_zero=True`` id 0 is padding: the following recurrent, attention and average-pooling layers skip it."""

    class_name = "Embedding"

    def __init__(self, input_dim, output_dim, embeddings_initializer="random_uniform", mask_zero=False, name=None,
                 trainable=True):
        super().__init__(name, trainable)
        for what, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"Embedding: {what} must be a positive int. Received: {what}={v!r}")
        if embeddings_initializer not in _INITIALIZERS:
            raise ValueError(f"Embedding: unknown embeddings_initializer. Received: "
                             f"embeddings_initializer={embeddings_initializer!r}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        self.mask_zero = bool(mask_zero)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": self.embeddings_initializer, "mask_zero": self.mask_zero}


@register
class Masking(Layer):
    """Masks time steps whose features all equal ``mask_value`` (Keras's ``Masking``): input ``(batch, timesteps,
    features)``; masked steps become zeros and the following recurrent, attention and average-pooling layers skip them.
    """

    class_name = "Masking"

    def __init__(self, mask_value=0.0, name=None, trainable=True):
        super().__init__(name, trainable)
        ok = isinstance(mask_value, (int, float, np.integer, np.floating)) and not isinstance(mask_value, bool)
        if not ok or not np.isfinite(mask_value):
            raise ValueError(f"Masking: mask_value must be a finite number. Received: mask_value={mask_value!r}")
        self.mask_value = float(mask_value)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


@register
class LayerScale(Layer):
    """Per-channel scaling ``x * gamma`` of Keras's ConvNeXt applications (``keras.applications.convnext.LayerScale``,
    CaiT's "layer scale"): ``gamma`` has shape ``(projection_dim,)``, starts at ``init_values`` and is learned.

    Args:
        init_values: initial value of every factor (Keras's ConvNeXt uses 1e-6).
        projection_dim: positive int, the size of the input's last axis.
    Shape:
        input ``(batch, ..., projection_dim)`` -> output of the same shape.
    """

    class_name = "LayerScale"

    def __init__(self, init_values, projection_dim, name=None, trainable=True):
        super().__init__(name, trainable)
        ok = isinstance(init_values, (int, float, np.integer, np.floating)) and not isinstance(init_values, bool)
        if not ok or not np.isfinite(init_values):
            raise ValueError(f"LayerScale: init_values must be a finite number. Received: init_values={init_values!r}")
        if isinstance(projection_dim, bool) or not isinstance(projection_dim, (int, np.integer)) or projection_dim <= 0:
            raise ValueError(f"LayerScale: projection_dim must be a positive int. Received: "
                             f"projection_dim={projection_dim!r}")
        self.init_values, self.projection_dim = float(init_values), int(projection_dim)

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}


@register
class CustomScaleLayer(Layer):
    """The scaled residual sum of Keras's InceptionResNetV2 application
    (``keras.applications.inception_resnet_v2.CustomScaleLayer``): called on ``[x, residual]`` (one shape), returns
    ``x + residual * scale``. No weights.
    """

    class_name = "CustomScaleLayer"

    def __init__(self, scale, name=None, trainable=True):
        super().__init__(name, trainable)
        ok = isinstance(scale, (int, float, np.integer, np.floating)) and not isinstance(scale, bool)
        if not ok or not np.isfinite(scale):
            raise ValueError(f"CustomScaleLayer: scale must be a finite number. Received: scale={scale!r}")
        self.scale = float(scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class _Merge(Layer):
    """Merges a list of tensors of one shape (functional models)."""

    def __init__(self, name=None):
        super().__init__(name)

    def __call__(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"{self.class_name}: call it on a list of at least 2 tensors. Received: {inputs!r}")
        return super().__call__(inputs)


@register
class Add(_Merge):
    """Elementwise sum of its inputs."""
    class_name = "Add"


@register
class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""
    class_name = "Subtract"


@register
class Multiply(_Merge):
    """Elementwise product of its inputs."""
    class_name = "Multiply"


@register
class Average(_Merge):
    """Elementwise mean of its inputs."""
    class_name = "Average"


@register
class Maximum(_Merge):
    """Elementwise maximum of its inputs."""
    class_name = "Maximum"


@register
class Minimum(_Merge):
    """Elementwise minimum of its inputs."""
    class_name = "Minimum"


@register
class Concatenate(_Merge):
    """Concatenation along ``axis`` (default -1); other dimensions must match."""
    class_name = "Concatenate"

    def __init__(self, axis=-1, name=None):
        super().__init__(name)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis == 0:
            raise ValueError(f"Concatenate: axis must be a non-zero int (axis 0 is the batch). Received: axis={axis!r}")
        self.axis = int(axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
