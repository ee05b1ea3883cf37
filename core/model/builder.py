"""Build the whole classifier from a ``ModelConfig``.

The model takes raw RGB images (0..255) and is made of two parts that share layer objects:

- ``feature_extractor``: input -> preprocessing -> backbone layers up to the cut (+ surgery),
  flat (every backbone layer is a layer of this model, so it can be frozen by name);
- ``head``: a standalone model from the cut's feature map to class probabilities.

``model`` is ``head(feature_extractor(image))``. When no weight below the head is trainable
(``fully_frozen_extractor``), the training engine may compute features once and train the head
alone; training the full model afterwards updates the very same head layers.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.config.backbones import get_backbone
from core.config.model import ModelConfig
from core.errors import StudioError
from core.model.backbones import build_backbone
from core.model.freezing import apply_freeze, backbone_layers, index_of, is_batchnorm
from core.model.heads import build_head
from core.model.preprocessing import add_preprocessing
from core.model.summary import count_params
from core.model.surgery import restack, surgery_layer_name

if TYPE_CHECKING:
    import keras


@dataclass
class BuiltModel:
    """A built classifier and its two parts (see the module docstring).

    Attributes:
        spec: The spec it was built from.
        num_classes: Number of classes.
        model: Raw image -> probabilities ``(B, num_classes)`` (``(B, 1)`` for sigmoid).
        feature_extractor: Raw image -> cut output.
        head: Cut output -> probabilities.
        cut_layer: Name of the backbone layer the network was cut at.
        keep_frozen: Surgery layers that stay frozen whatever the policy.
    """

    spec: ModelConfig
    num_classes: int
    model: keras.Model
    feature_extractor: keras.Model
    head: keras.Model
    cut_layer: str
    keep_frozen: tuple[str, ...] = ()

    @property
    def fully_frozen_extractor(self) -> bool:
        """True when nothing below the head has a trainable weight (features can be cached)."""
        return not self.feature_extractor.trainable_weights

    @property
    def feature_shape(self) -> tuple[int | None, ...]:
        """Shape of the cut output without the batch dimension."""
        return tuple(self.feature_extractor.output.shape[1:])

    def backbone_layer_names(self) -> list[str]:
        """Backbone layer names in order (input layer first), as freeze policies count them."""
        return [layer.name for layer in backbone_layers(self.feature_extractor)]

    def param_counts(self) -> dict[str, int]:
        """Total / trainable / non-trainable parameters of the full model, as Keras counts."""
        return count_params(self.model)


def _resolve_cut(backbone: keras.Model, spec: ModelConfig) -> str:
    names = [layer.name for layer in backbone.layers]
    cut = spec.cut_layer or names[-1]
    if cut not in names[1:]:
        close = difflib.get_close_matches(cut, names, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise StudioError(f"{spec.backbone} has no layer named '{cut}' to cut at.{hint}")
    return cut


def build_model(spec: ModelConfig, num_classes: int) -> BuiltModel:
    """Builds the classifier described by ``spec`` for ``num_classes`` classes.

    Args:
        spec: Backbone, input size, weights, cut, surgery, head and freeze policy.
        num_classes: Number of classes (2 or more).

    Returns:
        The built model with its feature extractor and head; freeze policy applied.

    Raises:
        StudioError: for a bad cut, surgery, head or missing weights (plain-language message).
    """
    import keras

    info = get_backbone(spec.backbone)
    size = spec.resolved_input_size
    backbone = build_backbone(spec.backbone, size, spec.weights)
    cut = _resolve_cut(backbone, spec)
    inputs = keras.Input((size, size, 3), name="image")
    features = restack(backbone, add_preprocessing(inputs, info.preprocess), cut, spec.surgery)
    feature_extractor = keras.Model(inputs, features, name="feature_extractor")
    head = build_head(features.shape, spec.head, num_classes)
    model = keras.Model(inputs, head(features), name=f"{spec.backbone}_classifier")
    keep_frozen = tuple(
        surgery_layer_name(op, index) for index, op in enumerate(spec.surgery) if not op.trainable
    )
    apply_freeze(feature_extractor, head, spec.freeze, keep_frozen)
    return BuiltModel(
        spec=spec,
        num_classes=num_classes,
        model=model,
        feature_extractor=feature_extractor,
        head=head,
        cut_layer=cut,
        keep_frozen=keep_frozen,
    )


def set_trainable_from(
    built: BuiltModel,
    layer_name: str | None = None,
    last_n: int | None = None,
) -> int:
    """Fine-tune phase: unfreezes the top of the extractor from ``layer_name`` or the last N.

    Layers below stay frozen, the head stays trainable, BatchNormalization layers stay frozen
    (so in inference mode). Recompile the model afterwards.

    Args:
        built: The model returned by ``build_model``.
        layer_name: First layer to unfreeze (inclusive).
        last_n: Number of top backbone layers to unfreeze (used when no name is given).

    Returns:
        The number of backbone layers now trainable.

    Raises:
        StudioError: when neither or both of ``layer_name``/``last_n`` are given, or the layer
            is unknown.
    """
    if (layer_name is None) == (last_n is None):
        raise StudioError("Choose where fine-tuning starts: a layer name or a number of layers.")
    layers = backbone_layers(built.feature_extractor)
    if layer_name is not None:
        start = index_of(layers, layer_name)
    else:
        start = max(len(layers) - max(int(last_n or 0), 0), 0)
    fixed = set(built.keep_frozen)
    unfrozen = 0
    for position, layer in enumerate(layers):
        train = position >= start and layer.name not in fixed and not is_batchnorm(layer)
        layer.trainable = train
        unfrozen += int(train)
    for layer in built.head.layers:
        layer.trainable = True
    return unfrozen
