"""Unit tests of the Train page's helpers that need no script run (ETA, chart points, results)."""

from __future__ import annotations

import pytest

from core.jobs.snapshot import RunSnapshot
from core.store.run_history import EpochRow
from core.store.run_metrics import RunMetrics
from ui.train.snapshot import epoch_points, format_eta, log_lines, result_values


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "estimating..."), (-1, "estimating..."), (42.4, "42 s"), (65, "1 min 05 s")],
)
def test_format_eta(seconds: float | None, text: str) -> None:
    assert format_eta(seconds) == text


def test_epoch_points_counts_rows_with_a_loss() -> None:
    snapshot = RunSnapshot(
        run_id="r",
        status="training",
        history=[EpochRow(loss=1.0), EpochRow.from_dict({"loss": None}), EpochRow()],
    )
    assert epoch_points(snapshot) == 1
    assert snapshot.active and not RunSnapshot(run_id="r", status="finished").active


def test_result_values_prefer_the_final_metrics_and_include_the_test_split() -> None:
    snapshot = RunSnapshot(
        run_id="r",
        status="finished",
        history=[EpochRow(val_accuracy=0.5, val_loss=0.9)],
        metrics=RunMetrics(val_accuracy=0.75, test_accuracy=0.625, test_loss=0.8),
    )
    assert result_values(snapshot) == {
        "val_accuracy": 0.75,  # the final weights' score, not the last epoch's row
        "val_loss": 0.9,  # not in metrics.json: the last epoch's value
        "test_accuracy": 0.625,
        "test_loss": 0.8,
    }
    stopped = RunSnapshot(run_id="r", status="stopped")
    assert set(result_values(stopped).values()) == {None}


def test_log_lines_keep_the_newest() -> None:
    snapshot = RunSnapshot(run_id="r", status="training", events=[str(i) for i in range(500)])
    lines = log_lines(snapshot)
    assert len(lines) == 200 and lines[-1] == "499"
