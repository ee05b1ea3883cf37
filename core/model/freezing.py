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

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from core.config.model import FreezeConfig, SurgeryConfig
from core.errors import StudioError
from core.model.cuts import LayerInfo
from core.model.heads import OUTPUT_LAYER
from core.model.preprocessing import is_preprocessing_layer

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


def frozen_count(layers: list[Any], spec: FreezeConfig) -> int:
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
    spec: FreezeConfig,
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


def unfreeze_candidates(
    layers: Sequence[LayerInfo], cut_layer: str | None, surgery: Sequence[SurgeryConfig] = ()
) -> list[LayerInfo]:
    """The layers a fine-tune phase can unfreeze from, in the order to offer them.

    Only layers up to the cut exist in the built feature extractor, and layers that surgery
    replaced do not exist either. Block ends (``LayerInfo.block_end``) below the cut come
    first, deepest first: unfreezing from a deep layer trains few layers, the safe choice.
    Every other surviving layer follows, deepest first.

    Args:
        layers: The backbone's layers in order (``core.model.cuts.list_layers``).
        cut_layer: The layer the backbone is cut after; the last layer when None. A name not
            in ``layers`` keeps every layer (the cut is checked when the model is built).
        surgery: The model's surgery steps; ``replace`` steps remove their layers.

    Returns:
        The surviving layers, block ends first, each group deepest first.
    """
    names = [layer.name for layer in layers]
    cut = cut_layer or (names[-1] if names else "")
    kept = list(layers[: names.index(cut) + 1]) if cut in names else list(layers)
    replaced: set[str] = set()
    for op in surgery:
        if op.action == "replace" and op.first in names and op.last_layer in names:
            replaced.update(names[names.index(op.first) : names.index(op.last_layer) + 1])
    top_first = [layer for layer in reversed(kept) if layer.name not in replaced]
    recommended = [layer for layer in top_first if layer.block_end and layer.name != cut]
    return recommended + [layer for layer in top_first if layer not in recommended]
