"""Whether a run config trains with the automatic recipe, and with what (``AutoPlan``).

The automatic recipe takes the backbone and its weights from the model settings and decides
the rest itself: input size, the pooled blocks, the head. Settings it cannot honour send the
run down the hand-set path with a sentence saying why (layer surgery, a trainable backbone,
convolutions in the head, a fine-tune phase set by hand, feature caching off, a distribution
strategy), so nothing the
user chose is silently ignored. The cut layer is not a blocker: the taps replace it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config.auto import AUTO_FACTS, AutoRecipeConfig
from core.config.backbones import get_backbone, validate_input_size
from core.config.model import ModelConfig
from core.config.run import RunConfig


@dataclass(frozen=True)
class AutoPlan:
    """What an automatic-recipe run builds and searches.

    Attributes:
        backbone: registry id of the backbone.
        weights: "imagenet" or "none".
        input_size: input side in pixels.
        taps: layers whose pooled outputs are concatenated (empty: the backbone's output).
        resize_mode: how images are fitted to the input.
        settings: the recipe's settings (budget, heads, C values, ...).
    """

    backbone: str
    weights: str
    input_size: int
    taps: tuple[str, ...]
    resize_mode: str
    settings: AutoRecipeConfig

    def model_config(self) -> ModelConfig:
        """The backbone part as a ``ModelConfig`` (what the feature cache key describes)."""
        return ModelConfig(backbone=self.backbone, input_size=self.input_size, weights=self.weights)


def auto_blockers(config: RunConfig) -> list[str]:
    """Settings of ``config`` the automatic recipe cannot honour, one phrase each."""
    model, train = config.model, config.train
    reasons = []
    if model.surgery:
        reasons.append("the model has layer surgery")
    if model.freeze.policy != "backbone":
        reasons.append("some backbone layers are set to train")
    if model.head.conv_blocks:
        reasons.append("the head has convolution blocks")
    if train.fine_tune is not None:
        reasons.append("a fine-tune phase is set by hand")
    if not train.cache_features:
        reasons.append("feature caching is off")
    if train.strategy != "default":
        reasons.append(f"the {train.strategy} distribution strategy is set")
    return reasons


def auto_plan(config: RunConfig) -> tuple[AutoPlan | None, str]:
    """The automatic recipe's plan for ``config``, or None; and one sentence saying which.

    Raises:
        ValueError: the recipe's input size does not suit the backbone.
    """
    settings = config.train.auto
    if settings is None:
        return None, "Training with the settings chosen by hand (automatic recipe off)."
    blockers = auto_blockers(config)
    if blockers:
        return None, (
            "The automatic recipe was not used because " + " and ".join(blockers) + ": "
            "training with the settings chosen by hand."
        )
    model = config.model
    info = get_backbone(model.backbone)
    facts = AUTO_FACTS.get(model.backbone)
    # A size set on the Model page (or --input-size) wins over the measured one.
    size = settings.input_size or model.input_size or (facts.input_size if facts else None)
    size = size or info.default_size
    if info.fixed_size:
        size = info.default_size
    validate_input_size(info, size)
    taps = settings.taps or (facts.taps if facts else ())
    plan = AutoPlan(
        backbone=model.backbone,
        weights=model.weights,
        input_size=size,
        taps=tuple(taps),
        resize_mode=config.data.resize_mode,
        settings=settings,
    )
    return plan, "Automatic recipe: " + plan_sentence(plan)


def plan_sentence(plan: AutoPlan) -> str:
    """What the plan does, in one sentence (the run log and the result card say it)."""
    blocks = f"{len(plan.taps)} blocks" if plan.taps else "the last feature map"
    return (
        f"{get_backbone(plan.backbone).keras_name} frozen at {plan.input_size} px, pooled "
        f"features of {blocks} computed once; heads compared on validation, the best "
        f"refitted on train + validation, within {plan.settings.time_budget_s} s."
    )
