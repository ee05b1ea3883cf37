"""The automatic recipe's network: pooled features of several blocks, and the saved classifier.

A ``TapNetwork`` wraps one ``keras.applications`` backbone and the layers it is tapped at. From
its layers (shared, never copied) it builds:

- ``featurizer``: raw RGB 0..255 -> preprocessing -> a multi-output sub-model of the backbone
  (one output per tap) -> ``GlobalAveragePooling2D`` per tap -> ``Concatenate``: one vector;
- ``extraction_model``: the same vector, followed by the flattened activations at the
  fine-tuning cut when there is one (one array per image, so one backbone pass caches both);
- ``upper_model``: the backbone above the cut, from the cut's activations to the pooled taps
  above it (its layers ARE the backbone's, so training it trains the saved network);
- ``classifier``: ONE Keras model of built-in layers, image -> features -> head, optionally the
  average of the probabilities of the image and its mirror image (``mirror_images``).

Everything is Keras's own layers, so the saved file loads with ``safe_mode=True`` and exports
to SavedModel, TFLite and ONNX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config.auto_plan import AutoPlan
from core.config.backbones import get_backbone
from core.errors import StudioError
from core.model.backbones import build_backbone
from core.model.freezing import is_batchnorm
from core.model.preprocessing import add_preprocessing


@dataclass
class TapNetwork:
    """A backbone and where it is tapped (see the module docstring).

    Attributes:
        base: the backbone (expects preprocessed input), frozen.
        input_size: input side in pixels.
        preprocess: the backbone's preprocessing mode (``core.model.preprocessing``).
        taps: tapped layer names in layer order.
        cut: the fine-tuning cut (None: no fine-tuning stage).
        lower_taps: taps at or below the cut (all taps without a cut).
        upper_taps: taps above the cut.
    """

    base: Any
    input_size: int
    preprocess: str
    taps: list[str]
    cut: str | None = None
    lower_taps: list[str] = field(default_factory=list)
    upper_taps: list[str] = field(default_factory=list)

    def tap_widths(self, names: list[str]) -> list[int]:
        """Channels of each named tap (the width of its pooled vector)."""
        return [int(self.base.get_layer(name).output.shape[-1]) for name in names]

    @property
    def feature_width(self) -> int:
        """Length of the concatenated pooled vector."""
        return sum(self.tap_widths(self.taps))

    @property
    def cut_shape(self) -> tuple[int, ...]:
        """(h, w, c) of the activations at the cut."""
        assert self.cut is not None
        return tuple(int(d) for d in self.base.get_layer(self.cut).output.shape[1:])


def build_tap_network(plan: AutoPlan) -> TapNetwork:
    """Builds the frozen backbone of ``plan`` and resolves its taps and cut.

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
    network = TapNetwork(base, plan.input_size, get_backbone(plan.backbone).preprocess, taps)
    cut = plan.fine_tune_cut
    if cut is not None and cut in names:
        lower = [t for t in taps if names.index(t) <= names.index(cut)]
        upper = [t for t in taps if names.index(t) > names.index(cut)]
        if lower and upper:  # the cut must split the taps; else there is nothing to tune
            network.cut, network.lower_taps, network.upper_taps = cut, lower, upper
    if network.cut is None:
        network.lower_taps = list(taps)
    return network


def _pooled(outputs: list[Any], names: list[str]) -> Any:
    """Global average pooling per tap, concatenated when there are several."""
    import keras

    pooled = [
        keras.layers.GlobalAveragePooling2D(name=f"pool_{name}")(output)
        for output, name in zip(outputs, names, strict=True)
    ]
    return pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="tapped")(pooled)


def _tap_outputs(network: TapNetwork, images: Any, extra: list[str]) -> list[Any]:
    """The backbone's outputs at every tap (then at ``extra`` layers) for raw ``images``."""
    import keras

    base = network.base
    names = [*network.taps, *extra]
    backbone = keras.Model(base.input, [base.get_layer(n).output for n in names], name="backbone")
    outputs = backbone(add_preprocessing(images, network.preprocess))
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def featurizer(network: TapNetwork) -> Any:
    """Raw RGB image -> the concatenated pooled taps, as one model named ``features``."""
    import keras

    size = network.input_size
    images = keras.Input((size, size, 3), name="image")
    outputs = _tap_outputs(network, images, [])
    return keras.Model(images, _pooled(outputs, network.taps), name="features")


def extraction_model(network: TapNetwork) -> Any:
    """Raw image -> [pooled taps, flattened cut activations] in one row (the featurizer alone
    without a cut): one backbone pass caches both the search's and the fine-tuning's inputs."""
    import keras

    if network.cut is None:
        return featurizer(network)
    size = network.input_size
    images = keras.Input((size, size, 3), name="image")
    outputs = _tap_outputs(network, images, [network.cut])
    pooled = _pooled(outputs[:-1], network.taps)
    flat = keras.layers.Flatten(name="cut_activations")(outputs[-1])
    return keras.Model(images, keras.layers.Concatenate(name="cached")([pooled, flat]))


def upper_model(network: TapNetwork) -> Any:
    """The backbone above the cut: cut activations -> pooled upper taps (shared layers).

    Its BatchNormalization layers are frozen (inference mode) and every other layer trainable.
    """
    import keras

    assert network.cut is not None
    base = network.base
    cut_output = base.get_layer(network.cut).output
    outputs = [base.get_layer(name).output for name in network.upper_taps]
    upper = keras.Model(cut_output, outputs, name="upper_blocks")
    upper.trainable = True
    for layer in upper.layers:
        layer.trainable = not is_batchnorm(layer)
    maps = keras.Input(tuple(cut_output.shape[1:]), name="cut_activations")
    called = upper(maps)
    called = list(called) if isinstance(called, list | tuple) else [called]
    return keras.Model(maps, _pooled(called, network.upper_taps), name="upper_pooled")


def mirror_images(images: Any, size: int) -> Any:
    """Left-right mirror image from built-in layers: exact (each output is 1 * one input).

    ``Permute`` puts the width last, a fixed anti-identity ``Dense`` (no bias, not trainable)
    reverses it, and ``Permute`` puts it back.
    """
    import keras

    flip = keras.layers.Dense(size, use_bias=False, trainable=False, name="mirror")
    width_last = keras.layers.Permute((1, 3, 2), name="width_last")(images)
    mirrored = keras.layers.Permute((1, 3, 2), name="channels_last")(flip(width_last))
    flip.set_weights([np.eye(size, dtype="float32")[::-1]])
    return mirrored


def classifier(features: Any, head: Any, input_size: int, flip_average: bool) -> Any:
    """The saved model: raw image -> ``features`` -> ``head`` probabilities.

    Args:
        features: the featurizer (``featurizer``), shared with the image's mirror.
        head: a model from the feature vector to class probabilities.
        input_size: input side in pixels.
        flip_average: average the probabilities of the image and of its mirror image.
    """
    import keras

    images = keras.Input((input_size, input_size, 3), name="image")
    probabilities = head(features(images))
    if flip_average:
        mirrored = head(features(mirror_images(images, input_size)))
        probabilities = keras.layers.Average(name="flip_average")([probabilities, mirrored])
    return keras.Model(images, probabilities, name="auto_classifier")
