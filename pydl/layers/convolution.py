"""Convolution and pooling layers (Keras names, defaults and weight layouts; channels-last by default).

A kernel has Keras's layout ``(k1, ..., kr, in_channels / groups, filters)``.
"""
from __future__ import annotations

import numpy as np

from .core import _INITIALIZERS, Layer, _check_activation, register

__all__ = ["Conv1D", "Conv2D", "Conv3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D"]


def _tuple(layer, what, value, rank):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * rank
    try:
        t = tuple(value)
    except TypeError:
        t = ()
    if len(t) != rank or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in t):
        raise ValueError(f"{layer}: {what} must be a positive int or a tuple of {rank} positive ints. "
                         f"Received: {what}={value!r}")
    return tuple(int(v) for v in t)


def _padding(layer, padding, allowed):
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ValueError(f"{layer}: padding must be one of {allowed}. Received: padding={padding!r}")
    return padding.lower()


def _data_format(layer, data_format):
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    return data_format


class _Conv(Layer):
    rank = 0

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, trainable=True):
        super().__init__(name, trainable)
        n = self.class_name
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{n}: filters must be a positive int. Received: filters={filters!r}")
        self.filters = int(filters)
        self.kernel_size = _tuple(n, "kernel_size", kernel_size, self.rank)
        self.strides = _tuple(n, "strides", strides, self.rank)
        self.dilation_rate = _tuple(n, "dilation_rate", dilation_rate, self.rank)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{n}: strides > 1 together with dilation_rate > 1 is not supported. "
                             f"Received: strides={strides!r}, dilation_rate={dilation_rate!r}")
        self.padding = _padding(n, padding, ("valid", "same", "causal") if self.rank == 1 else ("valid", "same"))
        self.data_format = _data_format(n, data_format)
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups <= 0 \
                or self.filters % groups:
            raise ValueError(f"{n}: groups must be a positive int dividing filters={self.filters}. "
                             f"Received: groups={groups!r}")
        self.groups = int(groups)
        self.activation = _check_activation(n, activation)
        self.use_bias = bool(use_bias)
        for what, v in (("kernel_initializer", kernel_initializer), ("bias_initializer", bias_initializer)):
            if v not in _INITIALIZERS:
                raise ValueError(f"{n}: unknown {what}. Received: {what}={v!r}")
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer}


@register
class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)``; ``padding="causal"`` pads on the left only."""
    class_name, rank = "Conv1D", 1


@register
class Conv2D(_Conv):
    """2-D convolution over ``(batch, rows, cols, channels)``; kernel ``(kh, kw, in/groups, filters)``."""
    class_name, rank = "Conv2D", 2


@register
class Conv3D(_Conv):
    """3-D convolution over ``(batch, d1, d2, d3, channels)``."""
    class_name, rank = "Conv3D", 3


class _Pool(Layer):
    rank = 0

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None):
        super().__init__(name)
        n = self.class_name
        self.pool_size = _tuple(n, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else _tuple(n, "strides", strides, self.rank)
        self.padding = _padding(n, padding, ("valid", "same"))
        self.data_format = _data_format(n, data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}


class _GlobalPool(Layer):
    def __init__(self, data_format=None, keepdims=False, name=None):
        super().__init__(name)
        self.data_format = _data_format(self.class_name, data_format)
        self.keepdims = bool(keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


def _make(base, prefix, rank, doc):
    cls = type(f"{prefix}{rank}D", (base,), {"class_name": f"{prefix}{rank}D", "rank": rank, "__doc__": doc})
    cls.__module__ = __name__
    return register(cls)


MaxPooling1D, MaxPooling2D, MaxPooling3D = (
    _make(_Pool, "MaxPooling", r, f"Max over windows of ``pool_size`` ({r}-D); ``same`` padding ignores the pad.")
    for r in (1, 2, 3))
AveragePooling1D, AveragePooling2D, AveragePooling3D = (
    _make(_Pool, "AveragePooling", r, f"Mean over windows ({r}-D); with ``same`` padding, of the real elements only.")
    for r in (1, 2, 3))
GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D = (
    _make(_GlobalPool, "GlobalMaxPooling", r, f"Max over all {r} spatial axes.") for r in (1, 2, 3))
GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D = (
    _make(_GlobalPool, "GlobalAveragePooling", r, f"Mean over all {r} spatial axes.") for r in (1, 2, 3))


def _pairs(layer, what, value, rank, minimum):
    """Keras's int / (a, b, ...) / ((before, after), ...) forms -> [[before, after], ...] per axis."""
    def ok(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum
    try:
        if ok(value):
            return [[int(value), int(value)] for _ in range(rank)]
        t = list(value)
        if rank == 1 and len(t) == 2 and all(ok(v) for v in t):
            return [[int(t[0]), int(t[1])]]
        if len(t) == rank and all(ok(v) for v in t):
            return [[int(v), int(v)] for v in t]
        if len(t) == rank and all(len(p) == 2 and ok(p[0]) and ok(p[1]) for p in t):
            return [[int(p[0]), int(p[1])] for p in t]
    except TypeError:
        pass
    raise ValueError(f"{layer}: {what} must be an int >= {minimum}, a tuple of {rank} such ints, or a tuple of "
                     f"{rank} (before, after) pairs. Received: {what}={value!r}")


class _Resize(Layer):
    rank = 0
    key = ""
    minimum = 0

    def __init__(self, amount, data_format=None, name=None):
        super().__init__(name)
        self.data_format = _data_format(self.class_name, data_format)
        if self.key == "size":
            self.size = [p[0] for p in _pairs(self.class_name, "size", amount, self.rank, 1)]
        else:
            setattr(self, self.key, _pairs(self.class_name, self.key, amount, self.rank, 0))

    def get_config(self):
        cfg = {**super().get_config(), self.key: getattr(self, self.key), "data_format": self.data_format}
        if self.key == "size":
            cfg["interpolation"] = getattr(self, "interpolation", "nearest")
        return cfg


def _resize(prefix, key, rank, default, doc):
    def __init__(self, *args, data_format=None, name=None, **kw):
        amount = kw.pop(key, args[0] if args else default)
        interpolation = kw.pop("interpolation", "nearest") if prefix == "UpSampling" and rank == 2 else "nearest"
        valid = ("nearest", "bilinear") if prefix == "UpSampling" and rank == 2 else ("nearest",)
        if not isinstance(interpolation, str) or interpolation.lower() not in valid:
            raise ValueError(f"{prefix}{rank}D: interpolation must be one of {valid}. "
                             f"Received: interpolation={interpolation!r}")
        if kw:
            raise TypeError(f"{prefix}{rank}D got unexpected arguments {sorted(kw)}")
        _Resize.__init__(self, amount, data_format=data_format, name=name)
        if prefix == "UpSampling":
            self.interpolation = interpolation.lower()

    cls = type(f"{prefix}{rank}D", (_Resize,), {"class_name": f"{prefix}{rank}D", "rank": rank, "key": key,
                                               "__init__": __init__, "__doc__": doc})
    cls.__module__ = __name__
    return register(cls)


ZeroPadding1D, ZeroPadding2D, ZeroPadding3D = (
    _resize("ZeroPadding", "padding", r, 1, f"Adds zeros at both ends of each of the {r} spatial axes.")
    for r in (1, 2, 3))
Cropping1D, Cropping2D, Cropping3D = (
    _resize("Cropping", "cropping", r, 0, f"Removes elements at both ends of each of the {r} spatial axes.")
    for r in (1, 2, 3))
UpSampling1D, UpSampling2D, UpSampling3D = (
    _resize("UpSampling", "size", r, 2, f"Repeats each element ``size`` times along each of the {r} spatial axes "
            "(nearest)." + ("" if r != 2 else " ``interpolation='bilinear'`` interpolates instead, as Keras 3 "
            "(half-pixel centres: TensorFlow's bilinear resize, PyTorch's ``interpolate(mode='bilinear', "
            "align_corners=False)``).")) for r in (1, 2, 3))
__all__ += [f"{p}{r}D" for p in ("ZeroPadding", "Cropping", "UpSampling") for r in (1, 2, 3)]


def _positive_int(layer, what, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer}: {what} must be a positive int. Received: {what}={value!r}")
    return int(value)


def _initializer(layer, what, value):
    if value not in _INITIALIZERS:
        raise ValueError(f"{layer}: unknown {what}. Received: {what}={value!r}")
    return value


class _WindowConv(Layer):
    """Shared arguments of the depthwise, separable and transposed convolutions (valid/same padding)."""
    rank = 0

    def _window_args(self, kernel_size, strides, padding, data_format, dilation_rate):
        n = self.class_name
        self.kernel_size = _tuple(n, "kernel_size", kernel_size, self.rank)
        self.strides = _tuple(n, "strides", strides, self.rank)
        self.dilation_rate = _tuple(n, "dilation_rate", dilation_rate, self.rank)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{n}: strides > 1 together with dilation_rate > 1 is not supported. "
                             f"Received: strides={strides!r}, dilation_rate={dilation_rate!r}")
        self.padding = _padding(n, padding, ("valid", "same"))
        self.data_format = _data_format(n, data_format)

    def _window_config(self):
        return {"kernel_size": list(self.kernel_size), "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": list(self.dilation_rate)}


class _DepthwiseConv(_WindowConv):
    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, trainable=True):
        super().__init__(name, trainable)
        n = self.class_name
        self._window_args(kernel_size, strides, padding, data_format, dilation_rate)
        self.depth_multiplier = _positive_int(n, "depth_multiplier", depth_multiplier)
        self.activation = _check_activation(n, activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = _initializer(n, "depthwise_initializer", depthwise_initializer)
        self.bias_initializer = _initializer(n, "bias_initializer", bias_initializer)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier, **self._window_config(),
                "activation": self.activation, "use_bias": self.use_bias,
                "depthwise_initializer": self.depthwise_initializer, "bias_initializer": self.bias_initializer}


@register
class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution: kernel ``(k, in, depth_multiplier)``, output channel ``c * dm + m``."""
    class_name, rank = "DepthwiseConv1D", 1


@register
class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution: kernel ``(kh, kw, in, depth_multiplier)``, bias ``(in * depth_multiplier,)``."""
    class_name, rank = "DepthwiseConv2D", 2


class _SeparableConv(_WindowConv):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", name=None, trainable=True):
        super().__init__(name, trainable)
        n = self.class_name
        self.filters = _positive_int(n, "filters", filters)
        self._window_args(kernel_size, strides, padding, data_format, dilation_rate)
        self.depth_multiplier = _positive_int(n, "depth_multiplier", depth_multiplier)
        self.activation = _check_activation(n, activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = _initializer(n, "depthwise_initializer", depthwise_initializer)
        self.pointwise_initializer = _initializer(n, "pointwise_initializer", pointwise_initializer)
        self.bias_initializer = _initializer(n, "bias_initializer", bias_initializer)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier, "filters": self.filters,
                **self._window_config(), "activation": self.activation, "use_bias": self.use_bias,
                "depthwise_initializer": self.depthwise_initializer,
                "pointwise_initializer": self.pointwise_initializer, "bias_initializer": self.bias_initializer}


@register
class SeparableConv1D(_SeparableConv):
    """Depthwise 1-D convolution then a pointwise one: depthwise_kernel ``(k, in, dm)``, pointwise_kernel
    ``(1, in * dm, filters)``, bias ``(filters,)``."""
    class_name, rank = "SeparableConv1D", 1


@register
class SeparableConv2D(_SeparableConv):
    """Depthwise 2-D convolution then a pointwise one: depthwise_kernel ``(kh, kw, in, dm)``, pointwise_kernel
    ``(1, 1, in * dm, filters)``, bias ``(filters,)``."""
    class_name, rank = "SeparableConv2D", 2


def deconv_output_length(input_length, filter_size, padding, output_padding=None, stride=1, dilation=1):
    """Keras's output length of a transposed convolution along one axis."""
    filter_size = filter_size + (filter_size - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return input_length * stride + max(filter_size - stride, 0)
        return input_length * stride
    pad = filter_size // 2 if padding == "same" else 0
    return (input_length - 1) * stride + filter_size - 2 * pad + output_padding


class _ConvTranspose(_WindowConv):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, trainable=True):
        super().__init__(name, trainable)
        n = self.class_name
        self.filters = _positive_int(n, "filters", filters)
        self._window_args(kernel_size, strides, padding, data_format, dilation_rate)
        if output_padding is None:
            self.output_padding = None
        else:
            op = (output_padding,) * self.rank if isinstance(output_padding, (int, np.integer)) else output_padding
            try:
                op = tuple(op)
            except TypeError:
                op = ()
            if len(op) != self.rank or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                               and v >= 0 for v in op):
                raise ValueError(f"{n}: output_padding must be None, a non-negative int or a tuple of {self.rank} "
                                 f"non-negative ints. Received: output_padding={output_padding!r}")
            self.output_padding = tuple(int(v) for v in op)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"{n}: output_padding must be < strides. Received: "
                                 f"output_padding={output_padding!r}, strides={strides!r}")
        self.activation = _check_activation(n, activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializer(n, "kernel_initializer", kernel_initializer)
        self.bias_initializer = _initializer(n, "bias_initializer", bias_initializer)

    def get_config(self):
        cfg = {**super().get_config(), "filters": self.filters, **self._window_config(),
               "output_padding": None if self.output_padding is None else list(self.output_padding),
               "activation": self.activation, "use_bias": self.use_bias,
               "kernel_initializer": self.kernel_initializer, "bias_initializer": self.bias_initializer}
        return cfg


@register
class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution over ``(batch, steps, channels)``; kernel ``(k, filters, in)`` (Keras's layout)."""
    class_name, rank = "Conv1DTranspose", 1


@register
class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution; kernel ``(kh, kw, filters, in)``; output size per axis is Keras's
    ``deconv_output_length``."""
    class_name, rank = "Conv2DTranspose", 2


@register
class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution; kernel ``(k1, k2, k3, filters, in)``."""
    class_name, rank = "Conv3DTranspose", 3


__all__ += ["DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "Conv1DTranspose",
            "Conv2DTranspose", "Conv3DTranspose"]
