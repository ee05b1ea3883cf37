"""The automatic recipe's settings (``AutoRecipeConfig``) and its per-backbone facts.

With the automatic recipe, a run computes pooled features of a few blocks of the frozen
backbone once (cached), tries several heads on them (logistic regression with a few L2
strengths, today's dense head, a small non-linear head), keeps the one that scores best on
validation (cross-validated on train + validation when validation is small), refits it on train
+ validation and saves ONE Keras model (raw RGB 0..255 in). Candidates after the first are tried
only while the time budget lasts.

``AUTO_FACTS`` holds what was measured per backbone (issue #22, ``bench/multiclass.py``): the
input size and the blocks whose pooled features pay. A backbone without an entry uses its
default size and its last feature map alone: adding a backbone's recipe is adding one entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config.base import ConfigMixin, check_range

HEAD_KINDS = ("logistic", "dense", "mlp")
HEAD_LABELS = {
    "logistic": "logistic regression",
    "dense": "dense head (the Model page's head)",
    "mlp": "hidden layer of 256 + dropout 0.5",
}


@dataclass(frozen=True)
class AutoFacts:
    """What the automatic recipe uses for one backbone.

    Attributes:
        input_size: the measured input size (larger than ImageNet's 224 where it paid).
        taps: layers whose globally average-pooled outputs are concatenated, in layer order.
    """

    input_size: int
    taps: tuple[str, ...]


# MobileNetV2 on trashnet6 (6 classes; /tmp research of issue #22, seeds 1-3, logistic head
# refitted on train + val): out_relu alone at 224 px 78.2 %; these four taps 79.1 % at 224,
# 83.1 % at 288; one backbone pass per image either way. 256 px keeps most of the gain at 80 %
# of 288's pixels.
AUTO_FACTS: dict[str, AutoFacts] = {
    "mobilenet_v2": AutoFacts(
        input_size=256,
        taps=("block_13_expand_relu", "block_15_expand_relu", "block_16_expand_relu", "out_relu"),
    ),
}


def _check_choices(name: str, values: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    if not values:
        raise ValueError(f"{name} needs at least one entry.")
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValueError(
            f"Unknown {name.lower()} '{unknown[0]}'; choose from {', '.join(allowed)}."
        )


@dataclass(frozen=True)
class AutoRecipeConfig(ConfigMixin):
    """Settings of the automatic recipe (``TrainConfig.auto``; None trains by hand).

    Attributes:
        time_budget_s: seconds the head search may take (the one extraction is a fixed cost
            before it). Checked before each candidate after the first; the first candidate,
            the refit and the save always run, and the best head so far is kept.
        input_size: input side in pixels; None: the backbone's measured size (``AUTO_FACTS``).
        taps: layers whose pooled outputs are concatenated; empty: the backbone's measured
            taps (``AUTO_FACTS``), or its last feature map.
        heads: the head kinds tried (``HEAD_KINDS``).
        c_values: inverse L2 strengths tried for the logistic regression, most promising first
            (the order the budget cuts them in).
        refit: refit the chosen head on train + validation (validation then scored the choice).
        cv_below: with fewer validation images than this, heads are scored by k-fold
            cross-validation on train + validation instead.
        folds: k of that cross-validation.
    """

    time_budget_s: int = 120
    input_size: int | None = None
    taps: tuple[str, ...] = ()
    heads: tuple[str, ...] = HEAD_KINDS
    c_values: tuple[float, ...] = (0.01, 0.03, 0.003, 0.1)
    refit: bool = True
    cv_below: int = 100
    folds: int = 5

    def __post_init__(self) -> None:
        for name, value, low, high in (
            ("The time budget (seconds)", self.time_budget_s, 1, 86_400),
            ("The validation size below which heads are cross-validated", self.cv_below, 0, 10**6),
            ("Cross-validation folds", self.folds, 2, 20),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    f"{name} must be a whole number from {low} to {high}, got {value!r}."
                )
        if self.input_size is not None and not 32 <= self.input_size <= 1024:
            raise ValueError(f"Input size must be from 32 to 1024 pixels, got {self.input_size}.")
        _check_choices("Head kinds", self.heads, HEAD_KINDS)
        if not self.c_values:
            raise ValueError("The logistic regression needs at least one C value.")
        for c_value in self.c_values:
            check_range("A C value of the logistic regression", c_value, 0.0, 1e6, low_open=True)
        if any(not str(tap).strip() for tap in self.taps):
            raise ValueError("A tapped layer must have a name.")
