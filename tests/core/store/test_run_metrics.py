"""metrics.json as ``RunMetrics``: typed reads, old files and merges kept exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.evaluate.metrics import update_run_metrics
from core.store.run_metrics import METRICS_FILE, RunMetrics, read_run_metrics

# A metrics.json as today's writers leave it: the run's end (core.train.metrics.run_metrics),
# then an evaluation and an export merged in (update_run_metrics).
TRAINED: dict[str, Any] = {
    "stopped": False,
    "epochs_run": 3,
    "final": {"loss": 0.41, "accuracy": 0.8, "val_loss": 0.5, "val_accuracy": 0.75},
    "best": {"epoch": 2, "loss": 0.45, "accuracy": 0.78, "val_loss": 0.48, "val_accuracy": 0.8},
    "val_accuracy": 0.8,
    "val_loss": 0.48,
    "val_count": 10,
    "test_accuracy": 0.7,
    "test_loss": 0.6,
    "test_count": 10,
    "per_class": {
        "ants": {"precision": 0.75, "recall": 0.6, "f1": 0.6667, "support": 5},
        "bees": {"precision": 0.6667, "recall": 0.8, "f1": 0.7273, "support": 5},
    },
    "confusion_matrix": [[3, 2], [1, 4]],
    "classes": ["ants", "bees"],
    "batch_size": 16,
    "cached_features": True,
    "features_from_cache": False,
    "phase_seconds": {"extract": 1.5, "head": 2.25},
    "images_per_second": {"extract": 40.0, "head": 300.5},
    "mlflow_run_id": "abc123",
}
EVALUATION = {"split": "test", "images": 10, "accuracy": 0.7, "macro_f1": 0.697, "notes": []}
EXPORT = {
    "parity": {"keras": 0.0, "tflite": 3e-08},
    "parity_images": 8,
    "parity_source": "test split",
    "quantised": False,
    "warnings": [],
}
# The automatic recipe's metrics.json (core.train.auto_run): no epochs, how heads were scored.
AUTOMATIC = {
    "stopped": False, "epochs_run": 0, "classes": ["a", "b"], "cached_features": True,
    "val_accuracy": 1, "val_loss": 0.1, "val_count": 4, "scored_by": "validation",
    "recipe": "automatic", "phase_seconds": {"extract": 0.5, "search": 0.25},
}  # fmt: skip


def test_a_trained_evaluated_exported_run_reads_typed_and_writes_back_unchanged(
    tmp_path: Path,
) -> None:
    (tmp_path / METRICS_FILE).write_text(json.dumps(TRAINED))
    update_run_metrics(tmp_path, {"evaluation": EVALUATION})
    update_run_metrics(tmp_path, {"export": EXPORT})
    stored = json.loads((tmp_path / METRICS_FILE).read_text())
    metrics = read_run_metrics(tmp_path / METRICS_FILE)
    assert metrics.to_dict() == stored and list(metrics.to_dict()) == list(stored)
    assert not metrics.extra  # every key today's writers write is a typed field
    assert metrics.best is not None and metrics.best.epoch == 2
    assert metrics.best_val_accuracy == 0.8 and metrics.held_out_accuracy == 0.7
    assert metrics.per_class is not None and metrics.per_class["bees"].support == 5
    assert metrics.confusion_matrix == ((3, 2), (1, 4)) and metrics.classes == ("ants", "bees")
    assert metrics.evaluation is not None and metrics.evaluation.macro_f1 == 0.697
    assert metrics.export is not None and metrics.export.parity == {"keras": 0.0, "tflite": 3e-08}


def test_the_automatic_recipe_and_older_files_read_with_what_they_have() -> None:
    metrics = RunMetrics.from_dict(AUTOMATIC)
    assert metrics.to_dict() == AUTOMATIC and not metrics.extra
    assert metrics.best is None and metrics.best_val_accuracy is None
    assert metrics.val_accuracy == 1 and metrics.recipe == "automatic"
    evaluated_only = RunMetrics.from_dict({"evaluation": {"accuracy": 0.5}})
    assert evaluated_only.held_out_accuracy == 0.5 and evaluated_only.test_accuracy is None
    assert read_run_metrics(Path("/nonexistent/metrics.json")) == RunMetrics()
    assert RunMetrics.from_dict(["not", "an", "object"]) == RunMetrics()


def test_unknown_keys_and_values_of_another_type_are_kept_not_read() -> None:
    data = {
        "best": "n/a",
        "batch_size": True,
        "calibration": {"ece": 0.05, "fitted_on": "val"},
        "per_class": {"a": {"f1": "high", "support": 2}},
        "newer": [1, {"x": None}],
    }
    metrics = RunMetrics.from_dict(data)
    assert metrics.best is None and metrics.batch_size is None
    assert metrics.per_class is not None and metrics.per_class["a"].f1 is None
    assert metrics.per_class["a"].extra == {"f1": "high"}
    assert metrics.calibration == {"ece": 0.05}
    assert metrics.to_dict() == data


def test_a_record_built_in_code_writes_only_what_is_set() -> None:
    assert RunMetrics(test_accuracy=0.5, stopped=True).to_dict() == {
        "stopped": True,
        "test_accuracy": 0.5,
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=12,
)
KEYS = st.sampled_from([*TRAINED, "evaluation", "export", "recipe", "scored_by"]) | st.text()


@given(st.dictionaries(KEYS, JSON, max_size=8))
def test_any_json_object_round_trips(data: dict[str, Any]) -> None:
    assert RunMetrics.from_dict(data).to_dict() == data
