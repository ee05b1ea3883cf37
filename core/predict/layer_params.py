"""The variables a Keras layer will allocate, computed from its saved config alone (no Keras).

Keras 3 saves every built layer with ``build_config.input_shape``; loading a ``.keras`` file
calls ``build_from_config`` with it, which is where the layer's variables (and their memory)
are created. So a layer's config plus that input shape say exactly what loading will allocate,
before anything is built. ``variable_shapes`` returns those shapes for the layer types an image
classifier uses (``RULES``), nothing for the types that hold no variables (``WEIGHTLESS``), and
refuses every other type: what cannot be counted cannot be let through a parameter cap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from core.errors import ModelFileError

Shape = tuple[int, ...]
_MAX_DIM = 2**31  # larger than any real tensor side; keeps the arithmetic of a hostile config sane

WEIGHTLESS = frozenset(
    {
        "InputLayer", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Identity",
        "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
        "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Masking",
        "Flatten", "Reshape", "Permute", "RepeatVector",
        "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
        "Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
        "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
        "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
        "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
        "Rescaling", "Resizing", "CenterCrop", "UnitNormalization",
        "RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast", "RandomTranslation",
        "RandomBrightness", "RandomCrop", "RandomGrayscale", "RandomHue", "RandomSaturation",
        "RandomSharpness", "RandomShear", "RandomColorJitter", "RandomColorDegeneration",
        "RandomPosterization", "RandomInvert", "RandomErasing", "RandomGaussianBlur",
        "RandomPerspective", "AutoContrast", "Solarization", "Equalization",
    }
)  # fmt: skip


def _refuse(layer: str, why: str) -> ModelFileError:
    return ModelFileError(
        f"The model cannot be checked before it is loaded: a {layer} layer {why}. Upload a "
        "model saved with model.save('name.keras') from built-in Keras image layers."
    )


def _int(value: Any, layer: str, what: str) -> int:
    """A positive integer of the config, or a refusal."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_DIM:
        raise _refuse(layer, f"has no usable {what}")
    return value


def _dim(shape: list[Any], axis: int, layer: str) -> int:
    """The size of ``axis`` of the layer's input shape (it must be known to count weights)."""
    if not -len(shape) <= axis < len(shape):
        raise _refuse(layer, "has an input shape without that axis")
    return _int(shape[axis], layer, "input size")


def _channels(config: dict[str, Any], shape: list[Any], layer: str) -> int:
    axis = 1 if config.get("data_format") == "channels_first" else -1
    return _dim(shape, axis, layer)


def _kernel(config: dict[str, Any], layer: str) -> Shape:
    size = config.get("kernel_size")
    if not isinstance(size, list) or not size:
        raise _refuse(layer, "has no usable kernel size")
    return tuple(_int(value, layer, "kernel size") for value in size)


def _bias(config: dict[str, Any], units: int) -> list[Shape]:
    return [(units,)] if config.get("use_bias", True) else []


def _dense(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    units = _int(config.get("units"), layer, "number of units")
    return [(_dim(shape, -1, layer), units), *_bias(config, units)]


def _conv(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    filters = _int(config.get("filters"), layer, "number of filters")
    groups = _int(config.get("groups", 1), layer, "number of groups")
    channels = _channels(config, shape, layer)
    if channels % groups:
        raise _refuse(layer, "has input channels that its groups do not divide")
    return [(*_kernel(config, layer), channels // groups, filters), *_bias(config, filters)]


def _conv_transpose(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    filters = _int(config.get("filters"), layer, "number of filters")
    channels = _channels(config, shape, layer)
    return [(*_kernel(config, layer), filters, channels), *_bias(config, filters)]


def _depthwise(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    multiplier = _int(config.get("depth_multiplier", 1), layer, "depth multiplier")
    channels = _channels(config, shape, layer)
    kernel = (*_kernel(config, layer), channels, multiplier)
    return [kernel, *_bias(config, channels * multiplier)]


def _separable(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    filters = _int(config.get("filters"), layer, "number of filters")
    multiplier = _int(config.get("depth_multiplier", 1), layer, "depth multiplier")
    channels = _channels(config, shape, layer)
    kernel = _kernel(config, layer)
    pointwise = (*(1 for _ in kernel), channels * multiplier, filters)
    return [(*kernel, channels, multiplier), pointwise, *_bias(config, filters)]


def _axes(config: dict[str, Any], shape: list[Any], layer: str) -> Shape:
    axis = config.get("axis", -1)
    axes = axis if isinstance(axis, list) else [axis]
    if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        raise _refuse(layer, "has no usable axis")
    return tuple(_dim(shape, a, layer) for a in axes)


def _batch_norm(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    if config.get("renorm"):
        raise _refuse(layer, "uses batch renormalization")
    size = _axes(config, shape, layer)
    scale = [size] if config.get("scale", True) else []
    center = [size] if config.get("center", True) else []
    return [*scale, *center, size, size]  # gamma, beta, moving mean, moving variance


def _layer_norm(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    size = _axes(config, shape, layer)
    scale = [size] if config.get("scale", True) else []
    center = [size] if config.get("center", True) and not config.get("rms_scaling") else []
    return [*scale, *center]


def _group_norm(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    size = (_dim(shape, config.get("axis", -1), layer),)
    return [size] * (bool(config.get("scale", True)) + bool(config.get("center", True)))


def _rms_norm(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    return [(_dim(shape, config.get("axis", -1), layer),)]


def _normalization(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    if config.get("mean") is not None:
        return []  # given in the config (kept as constants, not variables)
    size = _axes(config, shape, layer)
    return [size, size, ()]  # mean, variance, count


def _embedding(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    rows = _int(config.get("input_dim"), layer, "input dimension")
    return [(rows, _int(config.get("output_dim"), layer, "output dimension"))]


def _prelu(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    shared = config.get("shared_axes") or []
    sides = [1 if axis in shared else _dim(shape, axis, layer) for axis in range(1, len(shape))]
    return [tuple(sides)]


def _layer_scale(config: dict[str, Any], shape: list[Any], layer: str) -> list[Shape]:
    return [(_int(config.get("projection_dim"), layer, "projection size"),)]


Rule = Callable[[dict[str, Any], list[Any], str], list[Shape]]
RULES: dict[str, Rule] = {
    "Dense": _dense,
    "Conv1D": _conv, "Conv2D": _conv, "Conv3D": _conv,
    "Conv1DTranspose": _conv_transpose, "Conv2DTranspose": _conv_transpose,
    "Conv3DTranspose": _conv_transpose,
    "DepthwiseConv1D": _depthwise, "DepthwiseConv2D": _depthwise,
    "SeparableConv1D": _separable, "SeparableConv2D": _separable,
    "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm,
    "GroupNormalization": _group_norm, "RMSNormalization": _rms_norm,
    "Normalization": _normalization, "Embedding": _embedding, "PReLU": _prelu,
    "LayerScale": _layer_scale,  # ConvNeXt's (keras.applications.convnext)
}  # fmt: skip


def _check_plain(layer: str, config: dict[str, Any]) -> None:
    """Refuses the variants whose variables differ from the plain layer's (LoRA, quantized)."""
    if config.get("lora_rank"):
        raise _refuse(layer, "uses LoRA")
    dtype = config.get("dtype")
    name = dtype.get("config", {}).get("name") if isinstance(dtype, dict) else dtype
    if isinstance(name, str) and any(tag in name for tag in ("int8", "int4", "float8")):
        raise _refuse(layer, "is quantized")


def variable_shapes(layer: str, config: dict[str, Any], input_shape: Any) -> list[Shape]:
    """The shapes of the variables that building a ``layer`` layer with ``config`` creates.

    Args:
        layer: the layer's class name (``Conv2D``...).
        config: the layer's ``config`` as saved.
        input_shape: its ``build_config["input_shape"]`` (None when the file has none).

    Raises:
        ModelFileError: a type that is neither counted nor known to hold no variables, a
            counted layer without a usable input shape, or a variant that cannot be counted.
    """
    if layer in WEIGHTLESS:
        return []
    rule = RULES.get(layer)
    if rule is None:
        raise _refuse(layer, "is of a type the studio does not know")
    if not isinstance(input_shape, list) or not input_shape:
        raise _refuse(layer, "has no saved input shape")
    _check_plain(layer, config)
    return rule(config, input_shape, layer)


def count_values(shapes: list[Shape]) -> int:
    """Numbers held by variables of these shapes."""
    return sum(math.prod(shape) for shape in shapes)
