"""The spatial layers in textbook form: 2-D convolution, max pooling and average pooling on images.

Each sample is ``(channels, height, width)``; a batch adds the leading axis. The maths, with every formula,
is in :mod:`netkit.plugins.textbook.convolution`; these classes are the layers around it:

conv2d   z = conv(x, K) + b, a = f(z)          K is (kh, kw, C, F): its last axis indexes the filters
         backward: dz = f'(z) * dy, then (dx, dK, db) = conv2d_backward(x, K, dz)
maxpool2d  y = the maximum of each window      backward: dy goes to each window's (first) maximum
avgpool2d  y = the mean of each window         backward: dy / size^2 to every input of the window

Their options, checks and docs live here once; the fast forms (:mod:`netkit.plugins.spatial`) derive from
these classes and only add speed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.errors import ConfigError
from netkit.model.layer import Layer, OnnxOperator, Shape
from netkit.protocols import Activation
from netkit.registry import active_registry
from netkit.types import Config, FloatArray

from . import convolution as maths
from .layers import INITIALISERS, _activation, _known_init, initialize_weights

PADDINGS = maths.PADDINGS


def _whole(name: str, value: Any) -> int:
    try:
        if isinstance(value, bool) or not float(value).is_integer():
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number. Received: {name}={value!r}") from None


def _to_filters(value: Any) -> int:
    return _whole("filters", value)


def _to_stride(value: Any) -> int:
    return _whole("stride", value)


def _to_size(value: Any) -> int:
    return _whole("size", value)


def _to_optional_stride(value: Any) -> int | None:
    return None if value is None else _whole("stride", value)


def _positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and value < 1:
        raise ConfigError(f"{attribute.name} must be at least 1. Received: {attribute.name}={value!r}")


def _kernel(value: Any) -> tuple[int, int]:
    """``kernel=5`` or ``kernel=[3, 5]`` (height, width) as a pair of positive whole numbers."""
    pair = [value, value] if not isinstance(value, list | tuple) else list(value)
    if len(pair) != 2:
        raise ConfigError(f"kernel must be a whole number or a [height, width] pair. Received: kernel={value!r}")
    height, width = (_whole("kernel", side) for side in pair)
    if height < 1 or width < 1:
        raise ConfigError(f"kernel must be at least 1. Received: kernel={value!r}")
    return height, width


def _known_padding(instance: Any, attribute: Any, value: str) -> None:
    if value not in PADDINGS:
        raise ConfigError(f"padding must be one of {', '.join(PADDINGS)}. Received: padding={value!r}")


def _image_shape(kind: str, input_shape: Shape) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ConfigError(
            f"{kind} takes images shaped (channels, height, width), not {input_shape}: "
            "it must come before any flatten or dense layer"
        )
    channels, height, width = input_shape
    return channels, height, width


def initialize_kernel(kernel: FloatArray, bias: FloatArray, scheme: str, rng: np.random.Generator) -> None:
    """He normal or Xavier/Glorot uniform over a kernel's fan-in kh*kw*C and fan-out kh*kw*F; a zero bias."""
    kh, kw, channels, filters = kernel.shape
    initialize_weights(kernel, bias, scheme, rng, kh * kw * channels, kh * kw * filters)


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # forward keeps x, z and a for backward
class Conv2D(Layer):
    """A 2-D convolution: ``filters`` kernels of ``kernel`` x ``kernel`` slide over the image (``stride``
    1), each giving one output channel, then the activation (relu). Options: ``filters``, ``kernel``,
    ``stride``, ``padding`` (``valid``: no border; ``same``: zeros around so that the output is the input's
    size divided by the stride), ``activation``, ``init``.

    ``init`` defaults to what the activation prefers (He normal for the ReLU family, Xavier/Glorot uniform
    otherwise) over each kernel's kh*kw*channels inputs. The bias starts at zero. The activation defaults to
    relu, not the dense layer's sigmoid: convolutional nets are trained with ReLU (and LeNet-5 is, here).
    """

    weights: ClassVar[tuple[str, ...]] = ("kernel",)
    weighted_sums: ClassVar[bool] = True
    conformance_config: ClassVar[Config] = {"filters": 2, "kernel": 3, "padding": "same", "activation": "tanh"}
    example_input_shape: ClassVar[Shape] = (2, 5, 4)

    filters: int = attrs.field(converter=_to_filters, validator=_positive)
    kernel: tuple[int, int] = attrs.field(converter=_kernel)
    stride: int = attrs.field(default=1, converter=_to_stride, validator=_positive)
    padding: str = attrs.field(default="valid", validator=_known_padding)
    activation: Activation = attrs.field(factory=lambda: _activation("relu"), converter=_activation)
    init: str | None = attrs.field(default=None, validator=_known_init)

    def get_config(self) -> Config:
        kh, kw = self.kernel
        config: Config = {
            "filters": self.filters,
            "kernel": kh if kh == kw else [kh, kw],
            "stride": self.stride,
            "padding": self.padding,
            "activation": active_registry().spec_of("activations", self.activation),
        }
        if self.init is not None:
            config["init"] = self.init
        return config

    @classmethod
    def from_config(cls, config: Config) -> Any:
        missing = [key for key in ("filters", "kernel") if key not in config]
        if missing:
            raise ConfigError(f"a conv2d layer needs {' and '.join(map(repr, missing))}. Received: {dict(config)!r}")
        return cls(**config)

    def describe(self) -> str:
        kh, kw = self.kernel
        stride = f"/{self.stride}" if self.stride != 1 else ""
        activation = active_registry().name_of("activations", self.activation)
        return f"conv2d {self.filters}@{kh}x{kw}{stride} {self.padding} ({activation})"

    def brief(self) -> str:
        kh, kw = self.kernel
        stride = f"/{self.stride}" if self.stride != 1 else ""
        padding = "(same)" if self.padding == "same" else ""
        return f"conv{self.filters}@{kh}x{kw}{stride}{padding}"

    def build(self, input_shape: Shape) -> Shape:
        image = _image_shape("conv2d", input_shape)
        self.channels, self.image_size = image[0], image[1:]
        try:
            return maths.conv2d_output_shape(image, self.kernel, self.filters, self.stride, self.padding)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def onnx_operator(self) -> OnnxOperator:
        kh, kw = self.kernel
        top, bottom = maths.padding_amounts(self.image_size[0], kh, self.stride, self.padding)
        left, right = maths.padding_amounts(self.image_size[1], kw, self.stride, self.padding)
        attributes = {"kernel_shape": [kh, kw], "strides": [self.stride] * 2, "pads": [top, left, bottom, right]}
        # ONNX kernels are (filters, channels, kh, kw).
        return OnnxOperator("Conv", attributes, (("kernel", (3, 2, 0, 1)), ("bias", None)))

    def parameter_shapes(self) -> dict[str, Shape]:
        return {"kernel": (*self.kernel, self.channels, self.filters), "bias": (self.filters,)}

    def initialize(self, rng: np.random.Generator) -> None:
        scheme = self.init or type(self.activation).init
        initialize_kernel(self.parameters["kernel"], self.parameters["bias"], scheme, rng)

    def forward(self, x: FloatArray, training: bool = False) -> FloatArray:
        self.x = x
        self.z = self.weighted_sum(x)
        self.a = self.activation.forward(self.z)
        return self.a

    def unit_terms(self, x: FloatArray, unit: int) -> tuple[FloatArray, Any, Any]:
        """Filter f at row i, column j sums its window: z = Σ_{u,v,c} x[c, i·s + u - top, j·s + v - left] ·
        K[u, v, c, f] + b[f], the zeros of the padding included; inputs in K's (u, v, c) order."""
        out = maths.conv2d_output_shape(
            (self.channels, *self.image_size), self.kernel, self.filters, self.stride, self.padding
        )
        f, i, j = (int(n) for n in np.unravel_index(unit, out))
        (kh, kw), s = self.kernel, self.stride
        padded = maths.pad_input(x[np.newaxis], self.kernel, self.stride, self.padding)[0]
        window = padded[:, i * s : i * s + kh, j * s : j * s + kw]  # (c, u, v)
        return window.transpose(1, 2, 0).reshape(-1), (slice(None), slice(None), slice(None), f), f

    def weighted_sum(self, x: FloatArray) -> FloatArray:
        """z = conv(x, K) + b: filter f at (i, j) holds b[f] + the sum over its window of x times K."""
        return maths.conv2d_forward(x, self.parameters["kernel"], self.parameters["bias"], self.stride, self.padding)

    def backward(self, dy: FloatArray) -> FloatArray:
        dz = self.activation.backward(self.z, self.a, dy)
        dx, dkernel, dbias = maths.conv2d_backward(self.x, self.parameters["kernel"], dz, self.stride, self.padding)
        # The model owns the gradient arrays (views into one flat vector): fill them, do not rebind them.
        self.gradients["kernel"][...] = dkernel
        self.gradients["bias"][...] = dbias
        return dx


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)
class Pool2D(Layer):
    """What both poolings share: a ``size`` x ``size`` window moved by ``stride`` (default: ``size``, so
    that windows tile the image), over each channel on its own, with no padding and no parameters."""

    kind: ClassVar[str] = "pool2d"
    brief_name: ClassVar[str] = "pool"  # in a network's repr: pool2 (max pooling, the usual kind), avgpool2
    conformance_config: ClassVar[Config] = {"size": 2}
    example_input_shape: ClassVar[Shape] = (2, 5, 4)

    size: int = attrs.field(default=2, converter=_to_size, validator=_positive)
    stride: int | None = attrs.field(default=None, converter=_to_optional_stride, validator=_positive)

    @property
    def step(self) -> int:
        """The distance between windows: ``stride``, or ``size`` when not given."""
        return self.stride if self.stride is not None else self.size

    onnx_name: ClassVar[str] = ""

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator(self.onnx_name, {"kernel_shape": [self.size] * 2, "strides": [self.step] * 2})

    def get_config(self) -> Config:
        config: Config = {"size": self.size}
        if self.stride is not None:
            config["stride"] = self.stride
        return config

    def describe(self) -> str:
        stride = f"/{self.stride}" if self.stride is not None and self.stride != self.size else ""
        return f"{self.kind} {self.size}x{self.size}{stride}"

    def brief(self) -> str:
        stride = f"/{self.stride}" if self.stride is not None and self.stride != self.size else ""
        return f"{self.brief_name}{self.size}{stride}"

    def build(self, input_shape: Shape) -> Shape:
        image = _image_shape(self.kind, input_shape)
        try:
            return maths.pool2d_output_shape(image, self.size, self.step)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # forward keeps x for backward
class MaxPool2D(Pool2D):
    """Max pooling: each ``size`` x ``size`` window (2) of each channel gives its largest value; windows
    move by ``stride`` (default ``size``). Options: ``size``, ``stride``. The gradient goes back to the
    input that was the maximum (on a tie, the first in reading order)."""

    kind: ClassVar[str] = "maxpool2d"
    brief_name: ClassVar[str] = "pool"
    onnx_name: ClassVar[str] = "MaxPool"

    def forward(self, x: FloatArray, training: bool = False) -> FloatArray:
        self.x = x
        return maths.max_pool2d_forward(x, self.size, self.step)

    def backward(self, dy: FloatArray) -> FloatArray:
        return maths.max_pool2d_backward(self.x, dy, self.size, self.step)


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # forward keeps the input's shape for backward
class AvgPool2D(Pool2D):
    """Average pooling: each ``size`` x ``size`` window (2) of each channel gives its mean; windows move by
    ``stride`` (default ``size``). Options: ``size``, ``stride``. Every input of a window gets an equal
    share of its gradient."""

    kind: ClassVar[str] = "avgpool2d"
    brief_name: ClassVar[str] = "avgpool"
    onnx_name: ClassVar[str] = "AveragePool"

    def forward(self, x: FloatArray, training: bool = False) -> FloatArray:
        self.input_shape = x.shape
        return maths.avg_pool2d_forward(x, self.size, self.step)

    def backward(self, dy: FloatArray) -> FloatArray:
        return maths.avg_pool2d_backward(self.input_shape, dy, self.size, self.step)


__all__ = ["INITIALISERS", "AvgPool2D", "Conv2D", "MaxPool2D", "Pool2D", "initialize_kernel"]
