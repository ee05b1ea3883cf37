"""The classifier head: a standalone Keras model from the cut's feature map to probabilities.

The head is its own ``keras.Model`` taking the cut output shape, so the training engine can
train it alone on cached features when everything below it is frozen, and the full model can
call the very same layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.config.model import HeadConfig
from core.errors import StudioError

if TYPE_CHECKING:
    import keras

OUTPUT_LAYER = "predictions"


def _conv_blocks(x: Any, spec: HeadConfig) -> Any:
    import keras

    for index, block in enumerate(spec.conv_blocks, start=1):
        if len(x.shape) != 4:
            raise StudioError("Convolution blocks need a feature map; this cut gives a vector.")
        height, width = x.shape[1], x.shape[2]
        if block.padding == "valid" and min(height, width) < block.kernel_size:
            raise StudioError(
                f"Head convolution {index} has a {block.kernel_size}x{block.kernel_size} kernel "
                f"but the feature map is only {height}x{width}: cut higher in the network, use "
                "a larger input size or 'same' padding."
            )
        x = keras.layers.Conv2D(
            block.filters, block.kernel_size, padding=block.padding,
            activation=block.activation, name=f"head_conv{index}",
        )(x)  # fmt: skip
        if block.pool_size > 1:
            if min(x.shape[1], x.shape[2]) < block.pool_size:
                raise StudioError(
                    f"Head pooling {index} ({block.pool_size}x{block.pool_size}) does not fit "
                    f"a {x.shape[1]}x{x.shape[2]} feature map; lower the pool size."
                )
            x = keras.layers.MaxPooling2D(block.pool_size, name=f"head_pool{index}")(x)
    return x


def _pooling(x: Any, pooling: str) -> Any:
    import keras

    if len(x.shape) == 2:
        return x  # already a vector (e.g. cut after a global pooling layer)
    layers = {
        "avg": lambda: keras.layers.GlobalAveragePooling2D(name="head_avg_pool"),
        "max": lambda: keras.layers.GlobalMaxPooling2D(name="head_max_pool"),
        "flatten": lambda: keras.layers.Flatten(name="head_flatten"),
    }
    return layers[pooling]()(x)


def build_head(
    feature_shape: Sequence[int | None], spec: HeadConfig, num_classes: int
) -> keras.Model:
    """Builds the head for features of ``feature_shape`` (batch dimension included or not).

    Args:
        feature_shape: Shape of the cut output, e.g. ``(None, 40, 40, 128)``.
        spec: Head settings.
        num_classes: Number of classes (2 or more).

    Returns:
        A model mapping features to probabilities: ``(B, num_classes)`` for softmax, ``(B, 1)``
        for the sigmoid option.

    Raises:
        StudioError: for too few classes, sigmoid with more than two classes, or layers that
            do not fit the feature map.
    """
    import keras

    _check_classes(spec, num_classes)
    inputs = keras.Input(_per_example_shape(feature_shape), name="features")
    x = _pooling(_conv_blocks(inputs, spec), spec.pooling)
    x = _dense_layers(x, spec)
    if spec.dropout > 0:
        x = keras.layers.Dropout(spec.dropout, name="head_dropout")(x)
    return keras.Model(inputs, _output_layer(x, spec, num_classes), name="head")


def _check_classes(spec: HeadConfig, num_classes: int) -> None:
    """Refuses fewer than two classes, and a single sigmoid output for more than two."""
    if num_classes < 2:
        raise StudioError(f"A classifier needs at least 2 classes, got {num_classes}.")
    if spec.output == "sigmoid" and num_classes != 2:
        raise StudioError(
            f"The single sigmoid output only works for 2 classes; this dataset has {num_classes}."
        )


def _per_example_shape(feature_shape: Sequence[int | None]) -> tuple[int | None, ...]:
    """``feature_shape`` without its batch dimension (a vector or a feature map may have one)."""
    shape = tuple(feature_shape)
    if len(shape) in (2, 4) and shape[0] is None:
        shape = shape[1:]
    return shape


def _dense_layers(x: Any, spec: HeadConfig) -> Any:
    """The dense layers after pooling, each followed by its optional BatchNorm and dropout."""
    import keras

    for index, dense in enumerate(spec.dense, start=1):
        x = keras.layers.Dense(dense.units, activation=dense.activation, name=f"head_dense{index}")(
            x
        )
        if dense.batch_norm:
            x = keras.layers.BatchNormalization(name=f"head_bn{index}")(x)
        if dense.dropout > 0:
            x = keras.layers.Dropout(dense.dropout, name=f"head_dropout{index}")(x)
    return x


def _output_layer(x: Any, spec: HeadConfig, num_classes: int) -> Any:
    """Probabilities: one sigmoid unit (two classes only) or a softmax over the classes."""
    import keras

    if spec.output == "sigmoid":
        return keras.layers.Dense(1, activation="sigmoid", name=OUTPUT_LAYER)(x)
    return keras.layers.Dense(num_classes, activation="softmax", name=OUTPUT_LAYER)(x)
