"""The typed records of job results: a result as its kind writes it round-trips unchanged, and
an older or partial ``result.json`` still loads (missing values read as None)."""

from __future__ import annotations

from typing import Any

from core.data.near_duplicates import DuplicatePair, DuplicateReport
from core.evaluate.calibration import CalibrationResult, SplitCalibration, calibration_verdict
from core.evaluate.cut_advisor import CutAdvice, CutRow
from core.evaluate.label_issues import LabelIssue, LabelIssueReport
from core.jobs.kinds.advise_cut import CutAdviceResult
from core.jobs.kinds.analyse import CalibrationJobResult, LabelIssuesResult
from core.jobs.kinds.dataset_duplicates import DuplicatesResult
from core.jobs.kinds.evaluate import EvaluateResult


def _row(cut: str, accuracy: float, chosen: bool, default: bool) -> CutRow:
    return CutRow(cut, [4, 4, 8], 100, "block end", accuracy, default, chosen, False)


def test_cut_advice_round_trips_and_an_old_result_loads() -> None:
    rows = [_row("block_3", 0.9, True, False), _row("out_relu", 0.8, False, True)]
    written = CutAdvice("mobilenet_v2", 32, rows, 2.5, 1.5, 0.5, 12, 12).to_dict()
    record = CutAdviceResult.from_dict(written)
    assert record.to_dict() == written and list(record.to_dict()) == list(written)
    assert (record.chosen, record.images, record.pass_seconds) == ("block_3", 12, 1.5)
    assert record.rows is not None and record.rows[1]["cut"] == "out_relu"
    old = CutAdviceResult.from_dict({"rows": [{"cut": "a"}], "chosen": "a", "seconds": 1})
    assert (old.seconds, old.advice, old.extracted_images) == (1, None, None)
    assert CutAdviceResult.from_dict({"rows": "broken"}).rows is None


def test_duplicates_result_round_trips_and_gives_back_its_pairs() -> None:
    pair = DuplicatePair("train/a.png", "val/b.png", "train", "val", "ants", "ants", True, 0, None)
    written = DuplicateReport([pair], images=13, features_used=False).to_dict()
    record = DuplicatesResult.from_dict(written)
    assert record.to_dict() == written and list(record.to_dict()) == list(written)
    assert (record.images, record.leaks, record.duplicate_pairs()) == (13, 1, [pair])
    old = DuplicatesResult.from_dict({"images": 4})
    assert (old.images, old.duplicate_pairs()) == (4, [])


def _issue_result() -> dict[str, Any]:
    issue = LabelIssue("train/red/x.png", "train", "blue", "red", 0.9, 0.05)
    report = LabelIssueReport([issue], 20, ("train", "val"), 5, {"train": "cache"}, 0, 1)
    return {"analysis": "label_issues", **report.to_dict(), "issue_count": 1, "root": "/data"}


def test_label_issues_result_round_trips_and_a_partial_one_loads() -> None:
    written = _issue_result()
    record = LabelIssuesResult.from_dict(written)
    assert record.to_dict() == written and list(record.to_dict()) == list(written)
    assert (record.issue_count, record.images, record.chance_flags, record.root) == (
        1, 20, 1, "/data"
    )  # fmt: skip
    assert record.issues is not None and record.issues[0]["suggested_label"] == "red"
    old = LabelIssuesResult.from_dict({"issues": []})
    assert (old.issues, old.issue_count, old.root) == ((), None, None)


def test_calibration_result_round_trips_and_a_partial_one_loads() -> None:
    fitted = CalibrationResult(1.7, {"val": SplitCalibration(10, 0.2, 0.1, 0.9, 0.8)})
    helped, verdict = calibration_verdict(fitted.to_dict()["splits"])
    written = {"analysis": "calibrate", **fitted.to_dict(), "stored": False, "helped": helped,
               "verdict": verdict, "probabilities_file": "calibration.json"}  # fmt: skip
    record = CalibrationJobResult.from_dict(written)
    assert record.to_dict() == written and list(record.to_dict()) == list(written)
    assert (record.temperature, record.stored, record.helped) == (1.7, False, True)
    assert record.splits is not None and record.splits["val"]["ece_after"] == 0.1
    old = CalibrationJobResult.from_dict({"temperature": 2.0, "splits": {"val": {"images": 3}}})
    assert (old.temperature, old.splits, old.probabilities_file) == (2.0, None, None)


def test_evaluate_result_round_trips_and_an_old_one_loads() -> None:
    built = EvaluateResult(
        summary={"split": "test", "images": 4, "accuracy": 0.5, "macro_f1": 0.4},
        mistake_count=2,
        mistakes=({"path": "a.png", "true": "ants", "predicted": "bees", "confidence": 0.9},),
        gradcam=({"path": "a.png", "true": "ants", "predicted": "bees"},),
        warnings=("Grad-CAM is not available for this model: no conv layer",),
        evaluation_file="evaluation.json",
    )
    written = built.to_dict()
    assert list(written) == [
        "summary", "mistake_count", "mistakes", "gradcam", "warnings", "evaluation_file"
    ]  # fmt: skip
    assert isinstance(written["gradcam"], list) and isinstance(written["warnings"], list)
    record = EvaluateResult.from_dict(written)
    assert record.to_dict() == written and record == built
    old = EvaluateResult.from_dict({"summary": {"images": 4}, "mistakes": []})
    assert (old.gradcam, old.warnings, old.mistake_count) == (None, None, None)
    assert EvaluateResult.from_dict(None).gradcam is None
