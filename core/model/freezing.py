"""Freeze policies: which layers keep their weights fixed while training.

Layers are counted the way Keras lists them for the backbone cut at the chosen layer: position
0 is the input layer, then every backbone layer in order (surgery layers in their new place).
The preprocessing layers never train.

BatchNormalization layers of the backbone always stay frozen (``trainable=False``), whatever the
policy and while fine-tuning. In Keras 3 a frozen BatchNormalization layer runs in inference
mode (it normalises with its moving statistics and never updates them), which is what the
Keras fine-tuning recipe asks for. Passing ``training=False`` when calling the layer is not
enough: a functional model's ``fit`` overrides that argument with ``training=True``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from core.errors import StudioError
from core.model.heads import OUTPUT_LAYER
from core.model.preprocessing import is_preprocessing_layer
from core.model.spec import FreezeSpec

if TYPE_CHECKING:
    import keras


def backbone_layers(feature_extractor: keras.Model) -> list[keras.layers.Layer]:
    """The extractor's layers without preprocessing: input layer first, cut layer last."""
    return [layer for layer in feature_extractor.layers if not is_preprocessing_layer(layer)]


def index_of(layers: list[Any], name: str) -> int:
    names = [layer.name for layer in layers]
    if name not in names:
        raise StudioError(f"Layer '{name}' is not below the cut, so it cannot be a freeze point.")
    return names.index(name)


def is_batchnorm(layer: Any) -> bool:
    import keras

    return isinstance(layer, keras.layers.BatchNormalization)


def frozen_count(layers: list[Any], spec: FreezeSpec) -> int:
    """How many leading backbone layers ``spec`` freezes (the rest train)."""
    total = len(layers)
    counts = {
        "backbone": lambda: total,
        "all_but_last": lambda: total,
        "none": lambda: 0,
        "first_n": lambda: min(spec.n, total),
        "last_n_trainable": lambda: max(total - spec.n, 0),
        "up_to": lambda: index_of(layers, spec.layer or "") + 1,
    }
    return counts[spec.policy]()


def apply_freeze(
    feature_extractor: keras.Model,
    head: keras.Model,
    spec: FreezeSpec,
    keep_frozen: Iterable[str] = (),
) -> None:
    """Sets ``trainable`` on every layer according to ``spec``.

    Args:
        feature_extractor: Preprocessing + backbone up to the cut (+ surgery).
        head: The classifier head.
        spec: The freeze policy.
        keep_frozen: Layer names that stay frozen whatever the policy (surgery layers the
            user marked as not trainable).
    """
    for layer in feature_extractor.layers:
        if is_preprocessing_layer(layer):
            layer.trainable = False
    layers = backbone_layers(feature_extractor)
    frozen = frozen_count(layers, spec)
    fixed = set(keep_frozen)
    for position, layer in enumerate(layers):
        layer.trainable = position >= frozen and layer.name not in fixed and not is_batchnorm(layer)
    for layer in head.layers:
        layer.trainable = spec.policy != "all_but_last" or layer.name == OUTPUT_LAYER
