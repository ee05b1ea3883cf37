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

Every analysis reads the run's cached features when training cached them (no backbone pass).
One analysis of a run runs at a time (the kind is "one per run").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
