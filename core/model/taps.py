"""The automatic recipe's network: pooled features of several blocks, and the saved classifier.

A ``TapNetwork`` wraps one ``keras.applications`` backbone and the layers it is tapped at. From
its layers (shared, never copied) it builds:

- ``featurizer``: raw RGB 0..255 -> preprocessing -> a multi-output sub-model of the backbone
  (one output per tap) -> ``GlobalAveragePooling2D`` per tap -> ``Concatenate``: one vector;
- ``classifier``: ONE Keras model of built-in layers, image -> features -> head.

Everything is Keras's own layers, so the saved file loads with ``safe_mode=True`` and exports
to SavedModel, TFLite and ONNX.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.config.auto_plan import AutoPlan
from core.config.backbones import get_backbone
from core.errors import StudioError
from core.model.backbones import build_backbone
from core.model.preprocessing import add_preprocessing


@dataclass
class TapNetwork:
    """A backbone and where it is tapped (see the module docstring).

    Attributes:
        base: the backbone (expects preprocessed input), frozen.
        input_size: input side in pixels.
        preprocess: the backbone's preprocessing mode (``core.model.preprocessing``).
        taps: tapped layer names in layer order.
    """

    base: Any
    input_size: int
    preprocess: str
    taps: list[str]

    def tap_widths(self, names: list[str]) -> list[int]:
        """Channels of each named tap (the width of its pooled vector)."""
        return [int(self.base.get_layer(name).output.shape[-1]) for name in names]

    @property
    def feature_width(self) -> int:
        """Length of the concatenated pooled vector."""
        return sum(self.tap_widths(self.taps))


def build_tap_network(plan: AutoPlan) -> TapNetwork:
    """Builds the frozen backbone of ``plan`` and resolves its taps.

    Raises:
        StudioError: a tapped layer does not exist in the backbone.
    """
    base = build_backbone(plan.backbone, plan.input_size, plan.weights)
    base.trainable = False
    names = [layer.name for layer in base.layers]
    for name in plan.taps:
        if name not in names:
            raise StudioError(f"{plan.backbone} has no layer named '{name}' to pool features at.")
    taps = sorted(plan.taps, key=names.index) if plan.taps else [names[-1]]
    return TapNetwork(base, plan.input_size, get_backbone(plan.backbone).preprocess, taps)


def _pooled(outputs: list[Any], names: list[str]) -> Any:
    """Global average pooling per tap, concatenated when there are several."""
    import keras

    pooled = [
        keras.layers.GlobalAveragePooling2D(name=f"pool_{name}")(output)
        for output, name in zip(outputs, names, strict=True)
    ]
    return pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="tapped")(pooled)


def _tap_outputs(network: TapNetwork, images: Any) -> list[Any]:
    """The backbone's outputs at every tap for raw ``images`` (one multi-output sub-model)."""
    import keras

    base = network.base
    names = network.taps
    backbone = keras.Model(base.input, [base.get_layer(n).output for n in names], name="backbone")
    outputs = backbone(add_preprocessing(images, network.preprocess))
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def featurizer(network: TapNetwork) -> Any:
    """Raw RGB image -> the concatenated pooled taps, as one model named ``features``."""
    import keras

    size = network.input_size
    images = keras.Input((size, size, 3), name="image")
    outputs = _tap_outputs(network, images)
    return keras.Model(images, _pooled(outputs, network.taps), name="features")


def classifier(features: Any, head: Any, input_size: int) -> Any:
    """The saved model: raw image -> ``features`` (``featurizer``) -> ``head`` probabilities."""
    import keras

    images = keras.Input((input_size, input_size, 3), name="image")
    return keras.Model(images, head(features(images)), name="auto_classifier")
