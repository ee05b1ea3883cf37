"""``recipe.json``: what the automatic recipe chose for a run, and why (``RecipeRecord``).

Written by the automatic recipe (``core.train.auto_run``) next to ``metrics.json``; read by the
CLI (printed at the end of ``python -m core train``) and the Train page's result card. A run
trained by hand has no such file (``read_recipe`` gives None), so older run folders read as they
always did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECIPE_FILE = "recipe.json"


@dataclass(frozen=True)
class HeadScore:
    """One candidate head and how it scored (validation or cross-validation)."""

    name: str
    head: str
    c: float | None
    accuracy: float
    log_loss: float
    epochs: int | None = None
    seconds: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadScore:
        """Reads one row of ``recipe.json``'s ``scores`` (unknown keys are ignored)."""
        return cls(
            name=str(data["name"]), head=str(data["head"]), c=data.get("c"),
            accuracy=float(data["accuracy"]), log_loss=float(data["log_loss"]),
            epochs=data.get("epochs"), seconds=float(data.get("seconds", 0.0)),
        )  # fmt: skip


@dataclass(frozen=True)
class RecipeRecord:
    """The automatic recipe's choice for one run.

    Attributes:
        plan: the recipe in one sentence (backbone, size, taps, budget).
        backbone: registry id of the backbone.
        input_size: input side in pixels.
        taps: the pooled layers.
        scored_by: "validation" or "k-fold cross-validation".
        scores: every candidate tried, best first (the first is the chosen head).
        skipped: candidates the time budget left out, by name.
        refit: the chosen head was refitted on train + validation.
        time_budget_s: the run's budget.
        stages: seconds per stage ("extract", "search", "refit", "save").
    """

    plan: str
    backbone: str
    input_size: int
    taps: tuple[str, ...]
    scored_by: str
    scores: tuple[HeadScore, ...]
    skipped: tuple[str, ...] = ()
    refit: bool = True
    time_budget_s: int = 0
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def chosen(self) -> HeadScore:
        """The head the run kept (the best score)."""
        return self.scores[0]

    def sentence(self) -> str:
        """The choice in one sentence, for the CLI and the result card."""
        best = self.chosen
        others = ", ".join(f"{s.name} {s.accuracy:.1%}" for s in self.scores[1:4])
        text = f"Automatic recipe chose {best.name}: {best.accuracy:.1%} by {self.scored_by}"
        text += f" (runners-up: {others})." if others else "."
        if self.skipped:
            text += f" Not tried within the {self.time_budget_s} s budget: {len(self.skipped)}."
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; ``chosen`` is repeated at the top for readers of the file."""
        return {
            "plan": self.plan, "backbone": self.backbone, "input_size": self.input_size,
            "taps": list(self.taps), "scored_by": self.scored_by,
            "chosen": self.chosen.name, "score": self.chosen.accuracy,
            "scores": [vars(score) for score in self.scores], "skipped": list(self.skipped),
            "refit": self.refit, "time_budget_s": self.time_budget_s, "stages": self.stages,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecipeRecord:
        """Reads ``to_dict``'s output."""
        return cls(
            plan=str(data["plan"]), backbone=str(data["backbone"]),
            input_size=int(data["input_size"]), taps=tuple(data["taps"]),
            scored_by=str(data["scored_by"]),
            scores=tuple(HeadScore.from_dict(row) for row in data["scores"]),
            skipped=tuple(data.get("skipped", ())), refit=bool(data.get("refit", True)),
            time_budget_s=int(data.get("time_budget_s", 0)), stages=dict(data.get("stages", {})),
        )  # fmt: skip


def read_recipe(run_dir: str | Path) -> RecipeRecord | None:
    """The run's ``recipe.json``, or None (trained by hand, or an unreadable file)."""
    path = Path(run_dir) / RECIPE_FILE
    try:
        return RecipeRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
