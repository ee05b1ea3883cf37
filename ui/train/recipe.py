"""The recipe a run trained with, in one plain sentence for its result card.

Read from the run's own ``config.json`` (not from today's defaults or the demo's constants), so
the card tells what actually ran: backbone, weights, input size, resize mode, augmentation,
cached views and epochs. The demo run (``core.config.recipes.DEMO_RUN_NAME``) says it is the demo.
"""

from __future__ import annotations

from core.config.backbones import get_backbone
from core.config.data import AugmentConfig
from core.config.recipes import DEMO_RUN_NAME
from core.config.run import RunConfig
from core.train.plan import cache_decision

RESIZE_WORDS = {"crop": "centre crop", "pad": "padded to a square", "stretch": "stretched"}


def augmentation_words(augment: AugmentConfig) -> str:
    """Which random changes were on, e.g. "flip left-right, rotation up to 10°"."""
    sides = (("left-right", augment.flip_horizontal), ("top-bottom", augment.flip_vertical))
    flips = [side for side, on in sides if on]
    parts = [f"flip {' and '.join(flips)}"] if flips else []
    if augment.rotation:
        parts.append(f"rotation up to {augment.rotation:g}°")
    for name, value in (
        ("shift", augment.translation),
        ("zoom", augment.zoom),
        ("contrast", augment.contrast),
        ("brightness", augment.brightness),
    ):
        if value:
            parts.append(f"{name} up to {value:.0%}")
    return ", ".join(parts)


def features_words(config: RunConfig) -> str:
    """How the head trained: on cached features (with how many views) or end-to-end."""
    model = config.model
    # The same rule the trainer applies: nothing below the head trains during the head phase.
    fully_frozen = model.freeze.policy == "backbone" and not any(
        op.trainable for op in model.surgery
    )
    cached, _ = cache_decision(config, fully_frozen)
    if not cached:
        return "trained end-to-end"
    if config.data.augmentation.enabled:
        return f"{config.train.augment_views} cached views per image"
    return "backbone features cached once"


def recipe_caption(config: RunConfig) -> str:
    """One sentence naming the recipe of ``config`` ("Recipe: ..." or "Demo recipe: ...")."""
    model, data, train = config.model, config.data, config.train
    weights = "ImageNet" if model.weights == "imagenet" else "random weights"
    resize = RESIZE_WORDS.get(data.resize_mode, data.resize_mode)
    backbone = (
        f"{get_backbone(model.backbone).keras_name} ({weights}) at "
        f"{model.resolved_input_size} px, {resize}"
    )
    augment = data.augmentation
    augmentation = (
        f"augmentation on ({augmentation_words(augment)})" if augment.enabled else "no augmentation"
    )
    epochs = f"{train.epochs} epoch{'s' if train.epochs != 1 else ''} of the head"
    if train.fine_tune is not None:
        epochs += f", then {train.fine_tune.epochs} of fine-tuning"
    label = "Demo recipe" if config.name == DEMO_RUN_NAME else "Recipe"
    return f"{label}: {backbone}; {augmentation}; {features_words(config)}; {epochs}."
