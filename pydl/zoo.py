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

``resnet50`` and ``mobilenet_v2`` are functional ``pydl.Model`` models (residual connections).
"""
from __future__ import annotations

import math

import numpy as np

from . import layers
from .models import Sequential

__all__ = ["lenet5", "alexnet_small", "vgg16", "lstm_text_classifier", "char_lstm_lm", "bilstm_classifier",
           "autoencoder", "resnet50", "mobilenet_v2"]

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


def _make_divisible(v, divisor=8, min_value=None):
    """Keras's ``_make_divisible``: ``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``,
    default ``divisor``), rounded up by one more ``divisor`` where rounding lost more than 10%."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _correct_pad(side, kernel_size=3):
    """Keras's ``imagenet_utils.correct_pad`` along one axis of ``side`` pixels: ``(before, after)`` zero padding
    that makes a stride-2 ``valid`` convolution give ``ceil(side / 2)`` outputs, as TensorFlow's ``same`` does."""
    adjust = 1 - side % 2
    correct = kernel_size // 2
    return (correct - adjust, correct)


MOBILENET_V2_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6),
                       (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6),
                       (160, 1, 6), (160, 1, 6), (320, 1, 6))
"""(filters before ``alpha``, stride, expansion) of MobileNetV2's 17 inverted residual blocks (``block_id`` 0-16)."""


def _inverted_res_block(x, in_channels, side, expansion, stride, alpha, filters, block_id):
    """Keras's ``_inverted_res_block``: 1x1 expansion (not in block 0) -> 3x3 depthwise (stride 2 after a
    ``correct_pad`` zero padding, ``valid``) -> linear 1x1 projection, each with batch normalization (ReLU6 after
    the first two); a residual ``Add`` where the stride is 1 and the channels match. ``side`` is ``(height,
    width)`` of ``x``; returns ``(output, channels, side)``."""
    bn = dict(epsilon=1e-3, momentum=0.999)
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    inputs = x
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False, name=prefix + "expand")(x)
        x = layers.BatchNormalization(**bn, name=prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D((_correct_pad(side[0]), _correct_pad(side[1])), name=prefix + "pad")(x)
        side = tuple((s + 1) // 2 for s in side)
    x = layers.DepthwiseConv2D(3, strides=stride, use_bias=False, padding="same" if stride == 1 else "valid",
                               name=prefix + "depthwise")(x)
    x = layers.BatchNormalization(**bn, name=prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, 1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = layers.BatchNormalization(**bn, name=prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        x = layers.Add(name=prefix + "add")([inputs, x])
    return x, pointwise_filters, side


def mobilenet_v2(input_shape=(64, 64, 3), classes=10, alpha=1.0, seed=None):
    """MobileNetV2 (Sandler et al., 2018), the layout and layer names of ``keras.applications.MobileNetV2(
    include_top=True, weights=None)``: a functional ``pydl.Model``.

    ``Conv2D(32, 3, strides=2, same, no bias) -> BatchNormalization -> ReLU(6)`` (``Conv1``, ``bn_Conv1``,
    ``Conv1_relu``), then 17 inverted residual blocks (``expanded_conv_*``, then ``block_1_*`` ... ``block_16_*``)
    with 16, 24 x2, 32 x3, 64 x4, 96 x3, 160 x3, 320 output channels and stride 2 in blocks 1, 3, 6 and 13: a 1x1
    expansion to 6x the input channels (none in the first block), a 3x3 ``DepthwiseConv2D`` (stride-2 ones after
    Keras's ``correct_pad`` ``ZeroPadding2D`` with ``valid`` padding), a linear 1x1 projection, batch normalization
    after each and ReLU6 after the first two, and a residual ``Add`` where the stride is 1 and the channels match
    (10 of them). Then ``Conv2D(1280, 1, no bias) -> BatchNormalization -> ReLU(6)`` (``Conv_1``, ``Conv_1_bn``,
    ``out_relu``), ``GlobalAveragePooling2D -> Dense(classes, softmax)`` (``predictions``; no dropout, as in Keras).
    Convolutions have no bias; batch normalization uses Keras's ``epsilon=1e-3, momentum=0.999``.

    ``alpha`` scales every block's channels through Keras's ``_make_divisible(c * alpha, 8)`` (multiples of 8,
    at least 8); the last convolution keeps 1280 filters unless ``alpha > 1``. With 1000 classes and
    ``alpha=1.0`` this is Keras's 3,538,984 parameters (34,112 of them the non-trainable moving statistics),
    whatever the input size.

    Args:
        input_shape: ``(height, width, channels)`` of one image (channels last), each side at least 32 (as Keras).
        classes: number of output classes (softmax).
        alpha: width multiplier (Keras's 0.35, 0.5, 0.75, 1.0, 1.3, 1.4, or any positive number).
        seed: seed of the random initialisation; None picks one at random.

    Returns:
        A functional ``pydl.Model`` named ``"mobilenetv2_{alpha:0.2f}_{rows}"`` as Keras names it
        (``"mobilenetv2_1.00_224"``), built and uncompiled.
    """
    from .models import Model

    fn = "mobilenet_v2"
    shape = _image_shape(fn, input_shape)
    _check_min_side(fn, shape, 32, "as Keras's MobileNetV2")
    classes = _positive_int(fn, "classes", classes)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) \
            or not 0 < float(alpha) < math.inf:
        raise ValueError(f"{fn}: `alpha` must be a positive number. Received: alpha={alpha!r}")
    alpha = float(alpha)
    bn = dict(epsilon=1e-3, momentum=0.999)
    inputs = layers.Input(shape, name="input_layer")
    channels = _make_divisible(32 * alpha, 8)
    x = layers.Conv2D(channels, 3, strides=2, padding="same", use_bias=False, name="Conv1")(inputs)
    x = layers.BatchNormalization(**bn, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    side = tuple((s + 1) // 2 for s in shape[:2])
    for block_id, (filters, stride, expansion) in enumerate(MOBILENET_V2_BLOCKS):
        x, channels, side = _inverted_res_block(x, channels, side, expansion, stride, alpha, filters, block_id)
    last = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(**bn, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    x = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return Model(inputs, outputs, name=f"mobilenetv2_{alpha:0.2f}_{shape[0]}", seed=seed)
