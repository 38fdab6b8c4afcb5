"""A small model zoo: classic architectures as random-init pydl models (``Sequential``, or ``Model`` where the
architecture has residual connections), ready to compile.

Every builder takes a ``seed`` (same seed, same initial weights) and returns a built but *uncompiled* model: its
weights exist, so ``summary()``, ``count_params()``, ``get_weights()`` and ``predict`` work at once, and
``compile(...)`` makes it ready for ``fit``. Layer sizes follow the published architectures (scaled down where the
docstring says so); ``width`` multipliers make tiny versions for tests.

Example:
    >>> import pydl
    >>> from pydl import zoo
    >>> model = zoo.lenet5(seed=0)
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> model.summary()
    >>> model.fit(x_train.reshape(-1, 28, 28, 1), y_train, epochs=5)

``resnet50`` is a functional ``pydl.Model`` (residual connections); ``mobilenet_v2`` needs ``DepthwiseConv2D``,
which pydl does not have yet: its builder exists so that the name is discoverable, and raises
``NotImplementedError`` until then.
"""
from __future__ import annotations

import math

import numpy as np

from . import layers
from .models import Sequential

__all__ = ["lenet5", "alexnet_small", "vgg16", "lstm_text_classifier", "char_lstm_lm", "bilstm_classifier",
           "autoencoder", "resnet50", "mobilenet_v2"]

_DEPTHWISE = "needs DepthwiseConv2D (issue 3, next step)"


# --- argument checks (messages name the builder and quote the received value, as the layers do) ----------------
def _positive_int(fn, what, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{fn}: `{what}` must be a positive integer. Received: {what}={v!r}")
    return int(v)


def _width(fn, width):
    if isinstance(width, bool) or not isinstance(width, (int, float, np.integer, np.floating)) \
            or not 0 < float(width) < math.inf:
        raise ValueError(f"{fn}: `width` must be a positive number. Received: width={width!r}")
    return float(width)


def _scaled(n, width):
    """``n`` channels or units times ``width``, rounded, at least 1."""
    return max(1, int(round(n * width)))


def _image_shape(fn, input_shape):
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0
                                  for d in shape):
        raise ValueError(f"{fn}: `input_shape` must be (height, width, channels) of positive ints (channels last). "
                         f"Received: input_shape={input_shape!r}")
    return tuple(int(d) for d in shape)


def _built(model):
    """Builds the model (creates its weights), as Keras does for a model that starts with an Input."""
    model.build()
    return model


def _check_min_side(fn, shape, minimum, why):
    if min(shape[:2]) < minimum:
        raise ValueError(f"{fn}: height and width must be at least {minimum} ({why}). "
                         f"Received: input_shape={shape!r}")


# --- convolutional networks --------------------------------------------------------------------------------------
def lenet5(input_shape=(28, 28, 1), classes=10, activation="tanh", seed=None):
    """LeNet-5 (LeCun et al., 1998) for 28x28 digits.

    ``Conv2D(6, 5, padding="same") -> AveragePooling2D(2) -> Conv2D(16, 5) -> AveragePooling2D(2) -> Flatten ->
    Dense(120) -> Dense(84) -> Dense(classes, softmax)``. The first convolution pads to keep 28x28, so a 28x28 input
    gives the original 32x32 network's feature maps (6@28x28, 16@10x10) and its 61,706 parameters (10 classes).

    Args:
        input_shape: ``(height, width, channels)`` of one image (channels last), each side at least 12.
        classes: number of output classes (softmax).
        activation: hidden activation; the original used ``"tanh"``, ``"relu"`` trains faster.
        seed: seed of the random initialisation (and of dropout, if any); None picks one at random.

    Returns:
        A built, uncompiled ``pydl.Sequential`` named ``"lenet5"``; compile it with ``sparse_categorical_crossentropy``.
    """
    fn = "lenet5"
    shape = _image_shape(fn, input_shape)
    _check_min_side(fn, shape, 12, "two 2x2 poolings and a 5x5 valid convolution")
    classes = _positive_int(fn, "classes", classes)
    return _built(Sequential([
        layers.Input(shape),
        layers.Conv2D(6, 5, padding="same", activation=activation, name="conv1"),
        layers.AveragePooling2D(2, name="pool1"),
        layers.Conv2D(16, 5, activation=activation, name="conv2"),
        layers.AveragePooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(120, activation=activation, name="fc1"),
        layers.Dense(84, activation=activation, name="fc2"),
        layers.Dense(classes, activation="softmax", name="predictions"),
    ], name=fn, seed=seed))


def _alexnet_side(h):
    """Spatial side after each AlexNet-small stage (conv s2 same, then three 3x3/2 valid poolings)."""
    sides = [math.ceil(h / 2)]
    for _ in range(3):
        sides.append((sides[-1] - 3) // 2 + 1 if sides[-1] >= 3 else 0)
    return sides


def alexnet_small(input_shape=(64, 64, 3), classes=10, width=1.0, dense_units=1024, dropout=0.5, seed=None):
    """An AlexNet-style network (Krizhevsky et al., 2012) scaled down for small images (64x64 by default).

    AlexNet's shape with its (torchvision) channel counts: five convolutions (64, 192, 384, 256, 256 filters; the
    first with a large kernel and a stride, the first two and the last followed by 3x3 max pooling with stride 2),
    then two dropout + dense layers and the softmax. Scaled down: a 5x5 stride-2 first convolution instead of 11x11
    stride 4 (inputs are 64x64, not 224x224), and ``dense_units`` (1024) instead of 4096. No local response
    normalisation (modern AlexNet variants drop it).

    ``Conv2D(64, 5, strides=2, same) -> MaxPool(3, 2) -> Conv2D(192, 5, same) -> MaxPool(3, 2) -> Conv2D(384, 3,
    same) -> Conv2D(256, 3, same) -> Conv2D(256, 3, same) -> MaxPool(3, 2) -> Flatten -> Dropout -> Dense(1024) ->
    Dropout -> Dense(1024) -> Dense(classes, softmax)``; 64x64 inputs give 3x3x256 features before Flatten.

    Args:
        input_shape: ``(height, width, channels)`` of one image (channels last), each side at least 29.
        classes: number of output classes (softmax).
        width: multiplier of every convolution's filters and of ``dense_units`` (e.g. 0.125 for a tiny test model).
        dense_units: units of the two hidden dense layers (before ``width``).
        dropout: dropout rate before each hidden dense layer.
        seed: seed of the random initialisation and of dropout; None picks one at random.

    Returns:
        A built, uncompiled ``pydl.Sequential`` named ``"alexnet_small"``.
    """
    fn = "alexnet_small"
    shape = _image_shape(fn, input_shape)
    if min(min(_alexnet_side(shape[0])), min(_alexnet_side(shape[1]))) < 1:
        raise ValueError(f"{fn}: height and width must be at least 29 (a stride-2 convolution and three 3x3/2 "
                         f"poolings). Received: input_shape={shape!r}")
    classes = _positive_int(fn, "classes", classes)
    dense_units = _positive_int(fn, "dense_units", dense_units)
    w = _width(fn, width)
    c = [_scaled(n, w) for n in (64, 192, 384, 256, 256)]
    d = _scaled(dense_units, w)
    return _built(Sequential([
        layers.Input(shape),
        layers.Conv2D(c[0], 5, strides=2, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling2D(3, strides=2, name="pool1"),
        layers.Conv2D(c[1], 5, padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D(3, strides=2, name="pool2"),
        layers.Conv2D(c[2], 3, padding="same", activation="relu", name="conv3"),
        layers.Conv2D(c[3], 3, padding="same", activation="relu", name="conv4"),
        layers.Conv2D(c[4], 3, padding="same", activation="relu", name="conv5"),
        layers.MaxPooling2D(3, strides=2, name="pool5"),
        layers.Flatten(name="flatten"),
        layers.Dropout(dropout, name="drop6"),
        layers.Dense(d, activation="relu", name="fc6"),
        layers.Dropout(dropout, name="drop7"),
        layers.Dense(d, activation="relu", name="fc7"),
        layers.Dense(classes, activation="softmax", name="predictions"),
    ], name=fn, seed=seed))


VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
"""Filters of VGG16's 13 convolutions, by block (each block ends with 2x2 max pooling)."""


def vgg16(input_shape=(64, 64, 3), classes=10, width=1.0, seed=None):
    """VGG16 (Simonyan & Zisserman, 2014), the layout of ``keras.applications.VGG16(include_top=True)``.

    Five blocks of 3x3 ``same`` ReLU convolutions (64, 64 | 128, 128 | 256 x3 | 512 x3 | 512 x3 filters), each
    block ending with 2x2 max pooling, then ``Flatten -> Dense(4096, relu) -> Dense(4096, relu) ->
    Dense(classes, softmax)``: 13 convolutions and 3 dense layers, with Keras's layer names (``block1_conv1``, ...,
    ``fc1``, ``fc2``, ``predictions``). At 224x224x3 and 1000 classes this is Keras's 138,357,544 parameters; at the
    default 64x64 input the features before Flatten are 2x2x512.

    Args:
        input_shape: ``(height, width, channels)`` of one image (channels last), each side at least 32
            (five 2x2 poolings).
        classes: number of output classes (softmax).
        width: multiplier of every layer's filters and of the 4096 dense units (``width=1/16`` builds a tiny
            VGG16 with the same 16 weight layers: 4, 4 | 8, 8 | 16 x3 | 32 x3 | 32 x3 filters, 256 dense units).
        seed: seed of the random initialisation; None picks one at random.

    Returns:
        A built, uncompiled ``pydl.Sequential`` named ``"vgg16"``.
    """
    fn = "vgg16"
    shape = _image_shape(fn, input_shape)
    _check_min_side(fn, shape, 32, "five 2x2 poolings")
    classes = _positive_int(fn, "classes", classes)
    w = _width(fn, width)
    stack = [layers.Input(shape)]
    for b, filters in enumerate(VGG16_BLOCKS, start=1):
        for i, f in enumerate(filters, start=1):
            stack.append(layers.Conv2D(_scaled(f, w), 3, padding="same", activation="relu",
                                       name=f"block{b}_conv{i}"))
        stack.append(layers.MaxPooling2D(2, strides=2, name=f"block{b}_pool"))
    stack += [layers.Flatten(name="flatten"),
              layers.Dense(_scaled(4096, w), activation="relu", name="fc1"),
              layers.Dense(_scaled(4096, w), activation="relu", name="fc2"),
              layers.Dense(classes, activation="softmax", name="predictions")]
    return _built(Sequential(stack, name=fn, seed=seed))


# --- recurrent networks ------------------------------------------------------------------------------------------
def lstm_text_classifier(vocab, maxlen, classes, embed_dim=64, units=64, seed=None):
    """Text classifier: ``Embedding(vocab, embed_dim) -> LSTM(units) -> Dense(classes, softmax)``.

    Args:
        vocab: vocabulary size; inputs are integer token ids in ``[0, vocab)``.
        maxlen: tokens per sequence (pad or cut sequences to this length).
        classes: number of output classes (softmax; use 2 for binary tasks).
        embed_dim: size of the token vectors.
        units: LSTM units (the last step's output feeds the classifier).
        seed: seed of the random initialisation; None picks one at random.

    Input ``(batch, maxlen)`` int ids -> output ``(batch, classes)`` probabilities.

    Returns:
        A built, uncompiled ``pydl.Sequential`` named ``"lstm_text_classifier"``; compile it with
        ``sparse_categorical_crossentropy``.
    """
    fn = "lstm_text_classifier"
    vocab, maxlen, classes = (_positive_int(fn, k, v) for k, v in
                              (("vocab", vocab), ("maxlen", maxlen), ("classes", classes)))
    return _built(Sequential([
        layers.Input((maxlen,)),
        layers.Embedding(vocab, _positive_int(fn, "embed_dim", embed_dim), name="embedding"),
        layers.LSTM(_positive_int(fn, "units", units), name="lstm"),
        layers.Dense(classes, activation="softmax", name="predictions"),
    ], name=fn, seed=seed))


def char_lstm_lm(vocab, seq_len, embed_dim=32, units=128, seed=None):
    """Character-level language model: ``Embedding(vocab, embed_dim) -> LSTM(units, return_sequences=True) ->
    TimeDistributed(Dense(vocab, softmax))`` — at every position, the distribution of the next character.

    Args:
        vocab: number of distinct characters; inputs are integer ids in ``[0, vocab)``.
        seq_len: characters per training sequence.
        embed_dim: size of the character vectors.
        units: LSTM units.
        seed: seed of the random initialisation; None picks one at random.

    Input ``(batch, seq_len)`` int ids -> output ``(batch, seq_len, vocab)`` probabilities.

    Returns:
        A built, uncompiled ``pydl.Sequential`` named ``"char_lstm_lm"``. Train it with ``categorical_crossentropy`` on
        one-hot next characters ``(batch, seq_len, vocab)`` (e.g. ``np.eye(vocab, dtype="float32")[ids]``): pydl's
        ``sparse_categorical_crossentropy`` accepts only ``(batch, classes)`` outputs so far.
    """
    fn = "char_lstm_lm"
    vocab, seq_len = _positive_int(fn, "vocab", vocab), _positive_int(fn, "seq_len", seq_len)
    return _built(Sequential([
        layers.Input((seq_len,)),
        layers.Embedding(vocab, _positive_int(fn, "embed_dim", embed_dim), name="embedding"),
        layers.LSTM(_positive_int(fn, "units", units), return_sequences=True, name="lstm"),
        layers.TimeDistributed(layers.Dense(vocab, activation="softmax"), name="next_char"),
    ], name=fn, seed=seed))


def bilstm_classifier(vocab, maxlen, classes, embed_dim=64, units=32, seed=None):
    """Bidirectional LSTM classifier: ``Embedding(vocab, embed_dim) -> Bidirectional(LSTM(units)) ->
    Dense(classes, softmax)``; the forward and backward final states are concatenated (``2 * units`` features).

    Args:
        vocab: vocabulary size; inputs are integer token ids in ``[0, vocab)``.
        maxlen: tokens per sequence.
        classes: number of output classes (softmax).
        embed_dim: size of the token vectors.
        units: LSTM units per direction.
        seed: seed of the random initialisation; None picks one at random.

    Returns:
        A built, uncompiled ``pydl.Sequential`` named ``"bilstm_classifier"``.
    """
    fn = "bilstm_classifier"
    vocab, maxlen, classes = (_positive_int(fn, k, v) for k, v in
                              (("vocab", vocab), ("maxlen", maxlen), ("classes", classes)))
    return _built(Sequential([
        layers.Input((maxlen,)),
        layers.Embedding(vocab, _positive_int(fn, "embed_dim", embed_dim), name="embedding"),
        layers.Bidirectional(layers.LSTM(_positive_int(fn, "units", units)), name="bilstm"),
        layers.Dense(classes, activation="softmax", name="predictions"),
    ], name=fn, seed=seed))


# --- autoencoder -------------------------------------------------------------------------------------------------
def autoencoder(input_dim=784, code=32, hidden=128, seed=None):
    """Dense autoencoder: encoder ``Dense(hidden, relu) -> Dense(code, relu)``, decoder ``Dense(hidden, relu) ->
    Dense(input_dim, sigmoid)``.

    Inputs are flat vectors scaled to ``[0, 1]`` (e.g. MNIST pixels / 255); train it to reproduce its input,
    ``model.fit(x, x)``, with ``binary_crossentropy`` or ``mse``. The first two layers are named ``encoder_1``,
    ``code``; the last two ``decoder_1``, ``reconstruction``. 784-128-32-128-784 has 209,968 parameters.

    Args:
        input_dim: size of an input vector.
        code: size of the bottleneck (the code).
        hidden: units of the hidden layer on each side of the code.
        seed: seed of the random initialisation; None picks one at random.

    Returns:
        A built, uncompiled ``pydl.Sequential`` named ``"autoencoder"``.
    """
    fn = "autoencoder"
    input_dim, code, hidden = (_positive_int(fn, k, v) for k, v in
                               (("input_dim", input_dim), ("code", code), ("hidden", hidden)))
    return _built(Sequential([
        layers.Input(input_dim),
        layers.Dense(hidden, activation="relu", name="encoder_1"),
        layers.Dense(code, activation="relu", name="code"),
        layers.Dense(hidden, activation="relu", name="decoder_1"),
        layers.Dense(input_dim, activation="sigmoid", name="reconstruction"),
    ], name=fn, seed=seed))


# --- models that need the functional API -------------------------------------------------------------------------
def _resnet_block(x, filters, stride, conv_shortcut, name):
    """Keras's ``block1`` (bottleneck, v1): 1x1 -> 3x3 -> 1x1 (4 x filters) convolutions with batch norm, plus a
    shortcut (a strided 1x1 convolution + batch norm where the shape changes), then ReLU."""
    bn = dict(epsilon=1.001e-5)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(**bn, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(**bn, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(**bn, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(**bn, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


RESNET50_STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
"""(filters, blocks, first stride) of ResNet50's four stages (``conv2`` ... ``conv5``)."""


def resnet50(input_shape=(64, 64, 3), classes=10, width=1.0, seed=None):
    """ResNet50 (He et al., 2015), the layout and layer names of ``keras.applications.ResNet50(include_top=True,
    weights=None)``: a functional ``pydl.Model``.

    ``ZeroPadding2D(3) -> Conv2D(64, 7, strides=2) -> BatchNormalization -> ReLU -> ZeroPadding2D(1) ->
    MaxPooling2D(3, 2)``, then four stages of 3, 4, 6 and 3 bottleneck blocks (1x1, 3x3, 1x1 convolutions with
    64, 128, 256, 512 filters, the last convolution of each block 4x wider, each followed by batch normalization;
    a residual ``Add`` and ReLU; the first block of each stage has a 1x1 convolution shortcut and, from the second
    stage on, stride 2), then ``GlobalAveragePooling2D -> Dense(classes, softmax)``. Batch normalization uses
    Keras's ``epsilon=1.001e-5``. With 10 classes this is Keras's 23,608,202 parameters (53,120 of them the
    non-trainable moving statistics), whatever the input size.

    Args:
        input_shape: ``(height, width, channels)`` of one image (channels last), each side at least 32.
        classes: number of output classes (softmax).
        width: multiplier of every convolution's filters (not in Keras; ``width=1/16`` builds a tiny ResNet50
            with the same 53 convolutions, for tests).
        seed: seed of the random initialisation; None picks one at random.

    Returns:
        A functional ``pydl.Model`` named ``"resnet50"``, built and uncompiled.
    """
    from .models import Model

    fn = "resnet50"
    shape = _image_shape(fn, input_shape)
    _check_min_side(fn, shape, 32, "five stride-2 reductions")
    classes = _positive_int(fn, "classes", classes)
    w = _width(fn, width)
    inputs = layers.Input(shape, name="input_layer")
    x = layers.ZeroPadding2D(((3, 3), (3, 3)), name="conv1_pad")(inputs)
    x = layers.Conv2D(_scaled(64, w), 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=1.001e-5, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks, stride) in enumerate(RESNET50_STAGES, start=2):
        for b in range(1, blocks + 1):
            x = _resnet_block(x, _scaled(filters, w), stride if b == 1 else 1, b == 1, f"conv{stage}_block{b}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return Model(inputs, outputs, name=fn, seed=seed)


def mobilenet_v2(input_shape=(64, 64, 3), classes=10, alpha=1.0, seed=None):
    """MobileNetV2 (Sandler et al., 2018), the layout of ``keras.applications.MobileNetV2``: not available yet.

    Its inverted-residual blocks are built around ``DepthwiseConv2D`` (3x3 depthwise convolutions), which pydl does
    not have yet; the residual connections themselves are expressible with ``pydl.Model`` and ``layers.Add``.

    Raises:
        NotImplementedError: always, until pydl has ``DepthwiseConv2D`` (issue 3).
    """
    raise NotImplementedError(f"mobilenet_v2 {_DEPTHWISE}")
