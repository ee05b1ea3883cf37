"""A run's ``metrics.json`` as a typed record (``RunMetrics``) and its typed parts.

``metrics.json`` is written when a run ends (``core.train.metrics.run_metrics``, the run and the
automatic recipe), then an evaluation adds ``evaluation`` and an export adds ``export`` by
merging into the file (``core.evaluate.metrics.update_run_metrics``). Readers (run list, run
comparison, model card, the Train, Runs and Home pages) use ``RunMetrics``: every key the file
may hold is a typed, optional field; a key it does not know, or a value of another type, stays
in ``extra``, so ``to_dict`` gives back exactly the file it read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from core.store.json_record import (
    JsonFileRecord,
    JsonObject,
    Reader,
    flag,
    integer,
    number,
    number_map,
    record_to_dict,
    split_known,
    text,
    texts,
)

METRICS_FILE = "metrics.json"
_SCORES = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class EpochScores:
    """The ``best`` (lowest monitored loss) or ``final`` (last) epoch's scores."""

    epoch: int | None = None
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> EpochScores | None:
        """Reads ``best`` or ``final``; None when the value is not an object."""
        if not isinstance(data, dict):
            return None
        return cls(**split_known(data, {"epoch": integer, **dict.fromkeys(_SCORES, number)}))


_CLASS_READERS: dict[str, Reader] = {
    "precision": number, "recall": number, "f1": number, "support": integer,
}  # fmt: skip


@dataclass(frozen=True)
class ClassScores:
    """One class's test scores (``per_class``): precision, recall, F1 and image count."""

    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    support: int | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> ClassScores | None:
        """Reads one class's row; None when the value is not an object."""
        if not isinstance(data, dict):
            return None
        return cls(**split_known(data, _CLASS_READERS))

    def to_dict(self) -> JsonObject:
        """The row as stored."""
        return record_to_dict(self)


@dataclass(frozen=True)
class EvaluationSummary:
    """The last evaluation's headline numbers (``evaluation``, ``EvalResult.summary``)."""

    split: str | None = None
    images: int | None = None
    accuracy: float | None = None
    macro_f1: float | None = None
    notes: tuple[str, ...] | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> EvaluationSummary | None:
        """Reads ``evaluation``; None when the value is not an object."""
        if not isinstance(data, dict):
            return None
        readers = {"split": text, "images": integer, "accuracy": number,
                   "macro_f1": number, "notes": texts}  # fmt: skip
        return cls(**split_known(data, readers))


@dataclass(frozen=True)
class ExportSummary:
    """The last export's parity check (``export``): max |Δp| per format and its warnings."""

    parity: dict[str, float] | None = None
    parity_images: int | None = None
    parity_source: str | None = None
    quantised: bool | None = None
    warnings: tuple[str, ...] | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> ExportSummary | None:
        """Reads ``export``; None when the value is not an object."""
        if not isinstance(data, dict):
            return None
        readers = {"parity": number_map, "parity_images": integer, "parity_source": text,
                   "quantised": flag, "warnings": texts}  # fmt: skip
        return cls(**split_known(data, readers))


def _per_class(value: Any) -> dict[str, ClassScores] | None:
    if not isinstance(value, dict) or not all(isinstance(row, dict) for row in value.values()):
        return None
    rows = {str(name): ClassScores.from_dict(row) for name, row in value.items()}
    return {name: row for name, row in rows.items() if row is not None}


def _matrix(value: Any) -> tuple[tuple[int, ...], ...] | None:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        return None
    if not all(integer(cell) is not None for row in value for cell in row):
        return None
    return tuple(tuple(row) for row in value)


_RUN_READERS: dict[str, Reader] = {
    "stopped": flag, "epochs_run": integer, "final": EpochScores.from_dict,
    "best": EpochScores.from_dict, "val_accuracy": number, "val_loss": number,
    "val_count": integer, "test_accuracy": number, "test_loss": number, "test_count": integer,
    "per_class": _per_class, "confusion_matrix": _matrix, "classes": texts,
    "batch_size": integer, "cached_features": flag, "features_from_cache": flag,
    "phase_seconds": number_map, "images_per_second": number_map, "scored_by": text,
    "recipe": text, "mlflow_run_id": text, "evaluation": EvaluationSummary.from_dict,
    "export": ExportSummary.from_dict,
}  # fmt: skip


@dataclass(frozen=True)
class RunMetrics(JsonFileRecord):
    """The content of a run's ``metrics.json`` (every field None when the file lacks it).

    Attributes:
        stopped: the user stopped the run; epochs_run: epochs trained (0 for the automatic
            recipe, which trains no epochs).
        final, best: the last and the best epoch's scores.
        val_accuracy, val_loss, val_count: the kept model's scores on the validation split.
        test_accuracy, test_loss, test_count: the same on the test split.
        per_class: test scores per class name; confusion_matrix: test counts, rows = truth.
        classes: class names in output order; batch_size: the batch size trained with.
        cached_features, features_from_cache: the head trained on cached backbone features,
            read from an earlier run's cache.
        phase_seconds, images_per_second: per training phase (or recipe stage).
        scored_by, recipe: how the automatic recipe scored its heads ("automatic").
        mlflow_run_id: the run's MLflow run when tracking was on.
        evaluation: the last evaluation's summary; export: the last export's parity check.
        extra: any other key of the file (e.g. a newer writer's), kept as stored.
    """

    stopped: bool | None = None
    epochs_run: int | None = None
    final: EpochScores | None = None
    best: EpochScores | None = None
    val_accuracy: float | None = None
    val_loss: float | None = None
    val_count: int | None = None
    test_accuracy: float | None = None
    test_loss: float | None = None
    test_count: int | None = None
    per_class: dict[str, ClassScores] | None = None
    confusion_matrix: tuple[tuple[int, ...], ...] | None = None
    classes: tuple[str, ...] | None = None
    batch_size: int | None = None
    cached_features: bool | None = None
    features_from_cache: bool | None = None
    phase_seconds: dict[str, float] | None = None
    images_per_second: dict[str, float] | None = None
    scored_by: str | None = None
    recipe: str | None = None
    mlflow_run_id: str | None = None
    evaluation: EvaluationSummary | None = None
    export: ExportSummary | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    READERS: ClassVar[Mapping[str, Reader]] = _RUN_READERS

    @property
    def held_out_accuracy(self) -> float | None:
        """Test accuracy measured at the end of training, else by the last evaluation."""
        value = self.test_accuracy
        if value is None and self.evaluation is not None:
            value = self.evaluation.accuracy
        return float(value) if value is not None else None

    @property
    def best_val_accuracy(self) -> float | None:
        """The best epoch's validation accuracy (None for a run without epochs)."""
        return self.best.val_accuracy if self.best is not None else None

    @property
    def calibration(self) -> dict[str, float]:
        """The numbers of a ``calibration`` object when the file has one (written by hand or by
        an older version: the studio keeps calibration in ``labels.json``); else none."""
        stored = self.extra.get("calibration")
        if not isinstance(stored, dict):
            return {}
        return {str(k): v for k, v in stored.items() if number(v) is not None}


def read_run_metrics(path: Path) -> RunMetrics:
    """Reads a ``metrics.json`` file; a missing or unreadable file reads as an empty record."""
    try:
        return RunMetrics.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return RunMetrics()
