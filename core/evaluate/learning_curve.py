"""Would more images help? Probe accuracy at 25/50/75/100 % of the training split.

A linear probe (``core.evaluate.linear_probe``) is trained on a class-stratified share of the
run's cached training features and scored on its validation features (the test split stays
untouched). Smaller shares are drawn ``repeats`` times with different seeds (mean ± sd); the
full split is deterministic, so it is fitted once. If accuracy still climbs from 75 % to 100 %,
more images of the same kind are likely to help; if it is flat, better labels, another cut or
fine-tuning are likelier to; when the repeats' error bars overlap, the verdict says "unclear".
No backbone pass for a run that cached its features.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from core.config.settings import Settings
from core.evaluate.linear_probe import probe_accuracy
from core.evaluate.run_features import load_run_features, read_run_split

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
STILL_RISING = 0.01  # accuracy gained from 75 % to 100 % that counts as "still rising"


@dataclass(frozen=True)
class CurvePoint:
    """Probe accuracy at one share of the training split."""

    fraction: float
    images: int
    accuracy: float  # mean over the repeats
    accuracy_sd: float
    repeats: int


@dataclass(frozen=True)
class LearningCurve:
    """The points, where they were scored, and a one-sentence answer."""

    points: list[CurvePoint]
    scored_on: str  # "val" (or "test" when the run has no validation split)
    verdict: str
    extracted_images: int = 0  # backbone passes needed (0: all from the cache)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "scored_on": self.scored_on,
            "verdict": self.verdict,
            "extracted_images": self.extracted_images,
            "points": [asdict(point) for point in self.points],
        }

    @classmethod
    def from_dict(cls, data: Any) -> LearningCurve:
        """Reads ``to_dict``'s content (the ``analyse`` job's result); a missing or malformed
        value reads as its default, a malformed point is left out."""
        data = data if isinstance(data, dict) else {}
        names = {f.name for f in fields(CurvePoint)}
        points = [
            CurvePoint(**{name: point[name] for name in names})
            for point in data.get("points") or []
            if isinstance(point, dict) and names <= set(point)
        ]
        extracted = data.get("extracted_images")
        return cls(
            points=points,
            scored_on=str(data.get("scored_on") or "val"),
            verdict=str(data.get("verdict") or ""),
            extracted_images=extracted if isinstance(extracted, int) else 0,
        )


def stratified_share(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of about ``fraction`` of each class (at least one image per class)."""
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = max(1, round(len(members) * fraction))
        chosen.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(chosen))


def learning_curve(
    train: tuple[np.ndarray, np.ndarray],
    held_out: tuple[np.ndarray, np.ndarray],
    *,
    fractions: tuple[float, ...] = FRACTIONS,
    repeats: int = 3,
    seed: int = 0,
    scored_on: str = "val",
) -> LearningCurve:
    """Probe accuracy on ``held_out`` when trained on shares of ``train`` ((features, labels)).

    Raises:
        ValueError: a fraction is not in (0, 1], or the training split has one class only.
    """
    features, labels = train
    points = []
    for fraction in fractions:
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"A share of the training images must be in (0, 1], got {fraction}.")
        times = 1 if fraction == 1.0 else max(1, repeats)
        scores = []
        for repeat in range(times):
            index = stratified_share(labels, fraction, seed + repeat)
            scores.append(probe_accuracy((features[index], labels[index]), held_out, seed))
        points.append(
            CurvePoint(
                fraction=fraction,
                images=len(stratified_share(labels, fraction, seed)),
                accuracy=round(float(np.mean(scores)), 4),
                accuracy_sd=round(float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0, 4),
                repeats=times,
            )
        )
    return LearningCurve(points, scored_on, curve_verdict(points))


def curve_verdict(points: list[CurvePoint]) -> str:
    """A plain answer to "would more images help?" from the last two points.

    Their error bars (mean ± sd over the repeats) decide what can be said: a rise counts only
    when it is larger than the bars' spread; when the bars overlap and the spread is itself
    large enough to hide a rise, the answer is "unclear", not a guess.
    """
    if len(points) < 2:
        return "Too few points to tell whether more images would help."
    last, before = points[-1], points[-2]
    gain = 100 * (last.accuracy - before.accuracy)
    spread = 100 * (last.accuracy_sd + before.accuracy_sd)
    if last.accuracy >= 0.99:
        return "Probably not: a simple head on these features is already almost always right."
    if gain >= 100 * STILL_RISING and gain > spread:
        return (
            f"Likely yes: accuracy still rose by {gain:.1f} points from {before.images} to "
            f"{last.images} training images, so more images of the same kind should help."
        )
    if abs(gain) <= spread and spread >= 100 * STILL_RISING:
        return (
            f"Unclear: accuracy changed by {gain:+.1f} points from {before.images} to "
            f"{last.images} training images, but repeats on different images spread by "
            f"±{spread:.1f} points, so the curve cannot tell. More images may or may not help."
        )
    return (
        f"Probably not much: accuracy changed by {gain:+.1f} points from {before.images} to "
        f"{last.images} training images. Fixing labels, another cut or fine-tuning may help more."
    )


def run_learning_curve(
    run_dir: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    repeats: int = 3,
    seed: int = 0,
) -> LearningCurve:
    """The learning curve of a run, on its cached features (see the module docstring).

    Raises:
        ValueError: the run has neither a validation nor a test split.
        DataError: the run's dataset is gone.
    """
    config, run_split = read_run_split(run_dir)
    scored_on = "val" if run_split.split.val else "test"
    if not getattr(run_split.split, scored_on):
        raise ValueError("A learning curve needs a validation or test split; this run has none.")
    loaded = load_run_features(
        run_dir, settings, splits=("train", scored_on), run=(config, run_split)
    )
    curve = learning_curve(
        (loaded.features["train"], loaded.labels["train"]),
        (loaded.features[scored_on], loaded.labels[scored_on]),
        repeats=repeats,
        seed=seed,
        scored_on=scored_on,
    )
    return LearningCurve(curve.points, scored_on, curve.verdict, loaded.extracted_images)
