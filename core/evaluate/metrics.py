"""Honest metrics of a trained run on images it never trained on.

``compute_metrics`` turns true labels and predicted probabilities into accuracy, macro F1, a
per-class table, the confusion matrix and (for two classes) ROC and precision-recall curves.
``evaluate_run`` takes the run's held-out images from the split stored with it
(``core.evaluate.held_out``), predicts them and computes those metrics.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from core.atomic import write_json_atomic
from core.errors import DataError
from core.evaluate.held_out import held_out_items
from core.predict.predictor import Predictor


@dataclasses.dataclass(frozen=True)
class Curve:
    """A ROC or precision-recall curve for the positive (second) class."""

    x: list[float]  # false positive rate (ROC) or recall (PR)
    y: list[float]  # true positive rate (ROC) or precision (PR)
    area: float  # ROC AUC or average precision


@dataclasses.dataclass(frozen=True)
class EvalMetrics:
    """Metrics of one prediction set; every field is plain data (JSON-able via ``to_dict``)."""

    classes: list[str]
    accuracy: float
    macro_f1: float
    per_class: list[dict[str, Any]]  # class, precision, recall, f1, support
    confusion: list[list[int]]  # rows = true class, columns = predicted class
    confusion_normalised: list[list[float]]  # each row sums to 1 (0 for an empty row)
    roc: Curve | None = None
    pr: Curve | None = None

    def to_dict(self) -> dict[str, Any]:
        """Returns the metrics as JSON types."""
        return dataclasses.asdict(self)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (true, predicted) pairs into a (num_classes, num_classes) int matrix."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return matrix


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Divides element-wise, giving 0 where the denominator is 0 (undefined -> 0, like sklearn)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _ranked_true_positives(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks by descending score; per distinct threshold, its last index and true positives.

    One point per distinct threshold: the last index of each run of equal scores, so ties
    never split into separate points (as sklearn's curves do).
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    sorted_scores, sorted_true = np.asarray(scores)[order], y_true[order]
    last = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(sorted_scores) - 1]
    return last, np.cumsum(sorted_true)[last]


def roc_curve(y_true: np.ndarray, scores: np.ndarray) -> Curve:
    """ROC curve and AUC of binary labels (1 = positive) against scores (higher = positive)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    last, true_pos = _ranked_true_positives(y_true, scores)
    false_pos = (last + 1) - true_pos
    tpr = np.r_[0.0, _safe_divide(true_pos, np.full_like(true_pos, y_true.sum()))]
    fpr = np.r_[0.0, _safe_divide(false_pos, np.full_like(false_pos, (1 - y_true).sum()))]
    return Curve(x=fpr.tolist(), y=tpr.tolist(), area=float(np.trapezoid(tpr, fpr)))


def precision_recall_curve(y_true: np.ndarray, scores: np.ndarray) -> Curve:
    """Precision-recall curve and average precision (step-wise sum, as sklearn computes it)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    last, true_pos = _ranked_true_positives(y_true, scores)
    precision = true_pos / (last + 1)
    positives = y_true.sum()
    recall = _safe_divide(true_pos, np.full_like(true_pos, positives))
    previous_recall = np.r_[0.0, recall[:-1]]
    average_precision = float(np.sum((recall - previous_recall) * precision))
    return Curve(
        x=np.r_[0.0, recall].tolist(), y=np.r_[1.0, precision].tolist(), area=average_precision
    )


def compute_metrics(
    y_true: np.ndarray, probabilities: np.ndarray, classes: list[str]
) -> EvalMetrics:
    """Computes accuracy, macro F1, per-class table, confusion matrices and binary curves.

    Args:
        y_true: int class indices (N,).
        probabilities: (N, num_classes) predicted probabilities.
        classes: class names in index order.

    Returns:
        The metrics; ``roc``/``pr`` are set only when there are exactly two classes.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if len(y_true) == 0:
        raise DataError("There are no images to evaluate.")
    y_pred = probabilities.argmax(axis=1)
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    support = matrix.sum(axis=1)
    precision, recall, f1 = _precision_recall_f1(matrix)
    roc, pr = _binary_curves(y_true, probabilities, len(classes))
    return EvalMetrics(
        classes=list(classes),
        accuracy=float(np.mean(y_pred == y_true)),
        macro_f1=float(np.mean(f1)),
        per_class=_per_class_rows(classes, precision, recall, f1, support),
        confusion=matrix.tolist(),
        confusion_normalised=_safe_divide(matrix, support[:, None]).tolist(),
        roc=roc,
        pr=pr,
    )


def _precision_recall_f1(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 from a confusion matrix (rows: true classes)."""
    true_pos = np.diag(matrix).astype(np.float64)
    precision = _safe_divide(true_pos, matrix.sum(axis=0))
    recall = _safe_divide(true_pos, matrix.sum(axis=1))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return precision, recall, f1


def _per_class_rows(
    classes: list[str],
    precision: np.ndarray,
    recall: np.ndarray,
    f1: np.ndarray,
    support: np.ndarray,
) -> list[dict[str, Any]]:
    """One row per class for the metrics table."""
    return [
        {
            "class": name,
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(classes)
    ]


def _binary_curves(
    y_true: np.ndarray, probabilities: np.ndarray, num_classes: int
) -> tuple[Curve | None, Curve | None]:
    """ROC and PR curves of class 1 for two classes, else (None, None)."""
    both_present = 0 < y_true.sum() < len(y_true)  # a curve needs both classes present
    if num_classes != 2 or not both_present:
        return None, None
    scores = probabilities[:, 1]
    return roc_curve(y_true, scores), precision_recall_curve(y_true, scores)


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """A run's evaluation: which split, the metrics and every image's prediction."""

    split: str  # "test" or "validation"
    paths: list[str]
    y_true: list[int]
    probabilities: list[list[float]]
    metrics: EvalMetrics
    notes: list[str] = dataclasses.field(default_factory=list)  # e.g. the dataset changed

    def misclassified(self) -> list[dict[str, Any]]:
        """Wrong predictions, most confident first: path, true, predicted, confidence."""
        classes = self.metrics.classes
        rows = []
        for path, truth, probs in zip(self.paths, self.y_true, self.probabilities, strict=True):
            predicted = int(np.argmax(probs))
            if predicted != truth:
                rows.append(
                    {
                        "path": path,
                        "true": classes[truth],
                        "predicted": classes[predicted],
                        "confidence": float(probs[predicted]),
                    }
                )
        return sorted(rows, key=lambda row: -row["confidence"])

    def summary(self) -> dict[str, Any]:
        """The headline numbers stored in the run's metrics.json."""
        return {
            "split": self.split,
            "images": len(self.paths),
            "accuracy": self.metrics.accuracy,
            "macro_f1": self.metrics.macro_f1,
            "notes": list(self.notes),
        }


def evaluate_run(
    run_dir: str | os.PathLike[str], data_path: str | None = None, predictor: Any = None
) -> EvalResult:
    """Evaluates a finished run on its test split (or validation when there is no test split).

    The images come from the split stored with the run (``core.evaluate.held_out``); when the
    dataset folder changed since training, ``EvalResult.notes`` says how.

    Args:
        run_dir: the run folder (config.json, model.keras, labels.json).
        data_path: another dataset folder with the same class names (optional).
        predictor: an already loaded ``Predictor`` for this run (optional, saves a reload).

    Returns:
        The evaluation; its summary is also merged into the run's ``metrics.json``.
    """
    predictor = predictor or Predictor.from_run(run_dir)
    held_out = held_out_items(run_dir, data_path)
    index = _class_mapping(held_out.classes, predictor.classes)
    paths = [path for path, _ in held_out.items]
    y_true = [index[label] for _, label in held_out.items]
    probabilities = predictor.predict_sources(paths)
    metrics = compute_metrics(np.asarray(y_true), probabilities, predictor.classes)
    result = EvalResult(
        held_out.split, paths, y_true, probabilities.tolist(), metrics, held_out.notes
    )
    if data_path is None:  # only the run's own split is the run's official test score
        update_run_metrics(run_dir, {"evaluation": result.summary()})
    return result


def _class_mapping(data_classes: list[str], model_classes: list[str]) -> dict[int, int]:
    """Maps dataset class indices to model output indices by class name."""
    missing = sorted(set(data_classes) - set(model_classes))
    if missing:
        raise DataError(
            f"The dataset has classes the model does not know: {', '.join(missing[:5])}. "
            "Evaluate on a dataset with the same class folders."
        )
    return {i: model_classes.index(name) for i, name in enumerate(data_classes)}


def update_run_metrics(run_dir: str | os.PathLike[str], updates: dict[str, Any]) -> None:
    """Merges ``updates`` into the run's metrics.json with an atomic write."""
    path = Path(run_dir) / "metrics.json"
    try:
        current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        current = {}  # a damaged file is replaced rather than blocking the evaluation
    if not isinstance(current, dict):
        current = {}
    current.update(updates)
    write_json_atomic(path, current)
