"""The ``analyse`` job kind: the analyses of a finished run that the Evaluate page offers.

Parameter ``analysis`` names one of ``ANALYSES``:

- ``label_issues``: images whose label is probably wrong (cleanlab on out-of-fold probabilities
  of a linear probe on the run's cached features; ``core.evaluate.label_issues``). The result
  is ``LabelIssueReport.to_dict()`` (at most ``MAX_ISSUES`` issues, most likely wrong first)
  plus ``issue_count`` and ``root``: the dataset folder the paths are relative to, for the page
  to show the images (a server path: never shown).
- ``learning_curve``: probe accuracy at 25/50/75/100 % of the training images and a verdict
  sentence (``core.evaluate.learning_curve``); the result is ``LearningCurve.to_dict()``.
- ``calibrate``: temperature scaling fitted on validation (``core.evaluate.calibration``). The
  result is ``CalibrationResult.to_dict()`` with ``stored`` (False unless the parameter
  ``store`` is true, which writes the temperature into the run's ``labels.json``); the
  uncalibrated validation probabilities and labels go to ``CALIBRATION_FILE`` in the job
  folder, for the reliability chart.

The Evaluate page reads the results back typed: ``LabelIssuesResult``, ``LearningCurve`` and
``CalibrationJobResult``.

Every analysis reads the run's cached features when training cached them (no backbone pass).
One analysis of a run runs at a time (the kind is "one per run").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from core.atomic import write_json_atomic
from core.config.settings import Settings
from core.errors import StudioError
from core.evaluate.calibration import (
    calibrate_probabilities,
    calibrate_run,
    calibration_verdict,
    run_probabilities,
)
from core.evaluate.label_issues import find_run_label_issues
from core.evaluate.learning_curve import run_learning_curve
from core.jobs.context import JobContext
from core.predict.predictor import Predictor
from core.store.json_record import (
    JsonFileRecord,
    JsonObject,
    Reader,
    flag,
    integer,
    number,
    objects,
    text,
    texts,
)

ANALYSES = ("label_issues", "learning_curve", "calibrate")
MAX_ISSUES = 200  # more would not be reviewed by hand; the count says how many there were
CALIBRATION_FILE = "calibration.json"


def check(folder: Path, params: dict[str, Any], settings: Settings) -> None:
    """Refuses an unknown analysis at submission (cheap: no TensorFlow)."""
    del folder, settings  # the parameters alone decide
    name = params.get("analysis")
    if name not in ANALYSES:
        raise StudioError(f"Unknown analysis '{name}'; choose from {', '.join(ANALYSES)}.")


def run(context: JobContext) -> dict[str, Any]:
    """Runs the analysis named in ``context.params["analysis"]``; see the module docstring."""
    name = context.params.get("analysis")
    runners = {
        "label_issues": _label_issues,
        "learning_curve": _learning_curve,
        "calibrate": _calibrate,
    }
    if name not in runners:
        raise StudioError(f"Unknown analysis '{name}'; choose from {', '.join(ANALYSES)}.")
    return {"analysis": name, **runners[name](context)}


def _label_issues(context: JobContext) -> dict[str, Any]:
    context.report(0.05, "Looking for images whose label is probably wrong.")
    report = find_run_label_issues(context.run_dir(), context.settings)
    context.report(1.0, f"Found {len(report.issues)} likely label errors.")
    data = report.to_dict()
    data["issue_count"] = len(report.issues)
    data["issues"] = data["issues"][:MAX_ISSUES]
    data["root"] = report.root
    return data


def _learning_curve(context: JobContext) -> dict[str, Any]:
    context.report(0.05, "Training a simple head on shares of the training images.")
    curve = run_learning_curve(context.run_dir(), context.settings)
    context.report(1.0, "Learning curve done.")
    return curve.to_dict()


def _calibrate(context: JobContext) -> dict[str, Any]:

    run_dir = context.run_dir()
    if context.params.get("store"):
        context.report(0.05, "Fitting the temperature and storing it in the run.")
        result = calibrate_run(run_dir, context.settings, write=True, when_helped=True)
        helped, verdict = calibration_verdict(result.to_dict()["splits"])
        return {**result.to_dict(), "stored": helped, "verdict": verdict}
    context.report(0.05, "Fitting the temperature on the validation images.")
    held_out = run_probabilities(run_dir, Predictor.from_run(run_dir), context.settings)
    result = calibrate_probabilities(held_out)
    probabilities, labels = held_out["val"]
    write_json_atomic(
        context.folder / CALIBRATION_FILE,
        {"probabilities": probabilities.tolist(), "labels": labels.tolist()},
    )
    context.report(1.0, f"Temperature {result.temperature:.2f}.")
    helped, verdict = calibration_verdict(result.to_dict()["splits"])
    return {
        **result.to_dict(),
        "stored": False,
        "helped": helped,
        "verdict": verdict,
        "probabilities_file": CALIBRATION_FILE,
    }


def _split_scores(value: Any) -> dict[str, JsonObject] | None:
    """Split name -> scores, each with numeric ECE before and after; else None."""
    if not isinstance(value, dict):
        return None
    for split in value.values():
        if not isinstance(split, dict) or any(
            number(split.get(key)) is None for key in ("ece_before", "ece_after")
        ):
            return None
    return dict(value)


_ISSUE_READERS: dict[str, Reader] = {
    **dict.fromkeys(("analysis", "root"), text),
    **dict.fromkeys(
        ("images", "folds", "extracted_images", "issue_count", "chance_flags"), integer
    ),
    "splits": texts,
    "issues": objects,
}


_CALIBRATION_READERS: dict[str, Reader] = {
    **dict.fromkeys(("analysis", "verdict", "probabilities_file"), text),
    **dict.fromkeys(("stored", "helped"), flag),
    "temperature": number,
    "splits": _split_scores,
}


@dataclass(frozen=True)
class LabelIssuesResult(JsonFileRecord):
    """A finished ``label_issues`` analysis's ``result.json``, typed (see the module docstring).

    Attributes:
        issues: the likely label errors as stored, most likely wrong first (at most
            ``MAX_ISSUES``); issue_count: how many there were in all.
        images: images checked; chance_flags: flags expected by chance alone.
        root: the dataset folder the issue paths are relative to (a server path: never shown).
        extra: any other key (``analysis``, ``splits``, ``folds``, ...), kept as stored.
    """

    analysis: str | None = None
    images: int | None = None
    splits: tuple[str, ...] | None = None
    folds: int | None = None
    extracted_images: int | None = None
    chance_flags: int | None = None
    issues: tuple[JsonObject, ...] | None = None
    issue_count: int | None = None
    root: str | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    READERS: ClassVar[Mapping[str, Reader]] = _ISSUE_READERS


@dataclass(frozen=True)
class CalibrationJobResult(JsonFileRecord):
    """A finished ``calibrate`` analysis's ``result.json``, typed (see the module docstring).

    Attributes:
        temperature: the fitted temperature.
        splits: split name -> ``{"images", "ece_before", "ece_after", ...}`` as stored.
        stored: whether the temperature was written into the run.
        helped, verdict: ``calibration_verdict``'s answer.
        probabilities_file: the job folder's file of validation probabilities (not stored).
        extra: any other key, kept as stored.
    """

    analysis: str | None = None
    temperature: float | None = None
    splits: dict[str, JsonObject] | None = None
    stored: bool | None = None
    helped: bool | None = None
    verdict: str | None = None
    probabilities_file: str | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    READERS: ClassVar[Mapping[str, Reader]] = _CALIBRATION_READERS
