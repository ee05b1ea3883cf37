"""Each backbone's ``preprocess_input`` rebuilt from built-in Keras layers.

Preprocessing lives inside the model so the exported file takes raw RGB images (0..255) and
loads with ``keras.saving.load_model(path, safe_mode=True)``: no ``Lambda`` layer and no custom
object is used. The modes are those of ``keras.applications.imagenet_utils``:

- ``tf``: scale to -1..1, i.e. ``Rescaling(1/127.5, offset=-1)``.
- ``torch``: scale to 0..1 then subtract the ImageNet mean and divide by its standard deviation,
  i.e. ``Rescaling(1/255)`` + ``Normalization(mean, variance)``.
- ``caffe``: swap RGB to BGR and subtract the ImageNet BGR mean, done by one fixed 1x1
  ``Conv2D`` whose kernel is a channel permutation and whose bias is minus the mean.
- ``none``: the network already rescales its input (EfficientNet, ConvNeXt, MobileNetV3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

# ImageNet statistics used by keras.applications.imagenet_utils.
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
PREFIX = "preprocess_"  # every preprocessing layer name starts with this


def _caffe_layer(inputs: Any) -> Any:
    """Applies the fixed RGB->BGR swap and mean subtraction as a frozen 1x1 convolution."""
    import keras

    conv = keras.layers.Conv2D(3, 1, trainable=False, name=f"{PREFIX}caffe_bgr_mean")
    outputs = conv(inputs)
    # kernel[0, 0, in_channel, out_channel]: output channel 0 (B) reads input channel 2, etc.
    kernel = np.zeros((1, 1, 3, 3), dtype="float32")
    for out_channel, in_channel in enumerate((2, 1, 0)):
        kernel[0, 0, in_channel, out_channel] = 1.0
    bias = -np.asarray(CAFFE_MEAN_BGR, dtype="float32")
    conv.set_weights([kernel, bias])
    return outputs


def add_preprocessing(inputs: keras.KerasTensor, mode: str) -> keras.KerasTensor:
    """Appends the layers of preprocessing ``mode`` to ``inputs`` (raw RGB, 0..255).

    Args:
        inputs: Symbolic image tensor of shape ``(batch, height, width, 3)``.
        mode: ``tf``, ``torch``, ``caffe`` or ``none``.

    Returns:
        The preprocessed symbolic tensor (``inputs`` itself for ``none``).

    Raises:
        ValueError: for an unknown mode.
    """
    import keras

    if mode == "none":
        return inputs
    if mode == "tf":
        return keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name=f"{PREFIX}scale")(inputs)
    if mode == "torch":
        scaled = keras.layers.Rescaling(1.0 / 255.0, name=f"{PREFIX}scale")(inputs)
        normalize = keras.layers.Normalization(
            mean=list(TORCH_MEAN),
            variance=[std**2 for std in TORCH_STD],
            name=f"{PREFIX}normalize",
        )
        return normalize(scaled)
    if mode == "caffe":
        return _caffe_layer(inputs)
    raise ValueError(f"Unknown preprocessing mode '{mode}'; use tf, torch, caffe or none.")


def preprocessing_model(mode: str, input_size: int) -> keras.Model:
    """A small model that only preprocesses raw images (used by tests and previews)."""
    import keras

    inputs = keras.Input((input_size, input_size, 3), name="image")
    return keras.Model(inputs, add_preprocessing(inputs, mode), name=f"preprocess_{mode}")


def is_preprocessing_layer(layer: Any) -> bool:
    """True for layers created by ``add_preprocessing``."""
    return str(getattr(layer, "name", "")).startswith(PREFIX)
