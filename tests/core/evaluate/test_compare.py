"""Runs comparison: table rows, overlay curves and the config diff."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config.run import RunConfig
from core.evaluate.compare import config_diff, flatten_config, overlay_figure, runs_table
from core.store.run_history import EpochRow
from core.store.run_metrics import RunMetrics


@dataclass
class FakeRecord:
    run_id: str
    config: RunConfig
    status: str = "finished"
    history: list[EpochRow] = field(default_factory=list)
    metrics: RunMetrics = field(default_factory=RunMetrics)


def _config(lr: float, pooling: str = "avg") -> RunConfig:
    return RunConfig.from_dict(
        {
            "name": f"lr {lr}",
            "data": {"path": "/data/flowers/", "seed": 42},
            "model": {
                "backbone": "mobilenet_v2",
                "cut_layer": None,
                "head": {"pooling": pooling, "dense": [{"units": 64}], "dropout": 0.2},
            },
            "train": {"epochs": 3, "learning_rate": lr, "fine_tune": None},
        }
    )


RUN_A = FakeRecord(
    "20261126-083200-000001-ab12",
    _config(0.001),
    history=[EpochRow(epoch=1, val_accuracy=0.5), EpochRow(epoch=2, val_accuracy=0.8)],
    metrics=RunMetrics.from_dict(
        {
            "best": {"val_accuracy": 0.8},
            "test_accuracy": 0.75,
            "phase_seconds": {"head": 10.0, "fine_tune": 2.5},
        }
    ),
)
RUN_B = FakeRecord("20261126-090000-000001-cd34", _config(0.01, "max"), status="failed")


def test_table_rows_hold_the_run_facts() -> None:
    first, second = runs_table([RUN_A, RUN_B])
    assert first["date"] == "2026-11-26 08:32"
    assert first["dataset"] == "flowers"
    assert first["cut"] == "default"
    assert first["head"] == "pool=avg, dense 64, dropout 0.2"
    assert first["epochs"] == 2
    assert first["best val accuracy"] == 0.8 and first["test accuracy"] == 0.75
    assert first["wall time (s)"] == 12.5
    assert second["status"] == "failed" and second["epochs"] == 3
    assert second["best val accuracy"] is None


def test_overlay_has_one_trace_per_run() -> None:
    figure = overlay_figure([RUN_A, RUN_B])
    assert [trace.name for trace in figure.data] == ["lr 0.001", "lr 0.01"]
    assert list(figure.data[0].y) == [0.5, 0.8]


def test_config_diff_marks_changed_keys_first() -> None:
    assert flatten_config({"a": {"b": 1, "c": [1, 2]}}) == {"a.b": 1, "a.c": "1, 2"}
    rows = config_diff({"A": RUN_A.config.to_dict(), "B": RUN_B.config.to_dict()})
    changed = [row["setting"] for row in rows if row["changed"]]
    assert set(changed) == {"name", "model.head.pooling", "train.learning_rate"}
    assert rows[0]["changed"] and not rows[-1]["changed"]
    pooling = next(row for row in rows if row["setting"] == "model.head.pooling")
    assert (pooling["A"], pooling["B"]) == ("avg", "max")


def test_config_diff_shows_text_and_never_the_server_path() -> None:
    import pandas as pd
    import pyarrow as pa

    rows = config_diff({"A": RUN_A.config.to_dict(), "B": RUN_B.config.to_dict()})
    path = next(row for row in rows if row["setting"] == "data.path")
    assert (path["A"], path["B"]) == ("flowers", "flowers")
    assert not any("/data/" in str(value) for row in rows for value in row.values())
    # Each run's column mixes booleans, numbers and names: text only, or pyarrow refuses it.
    assert all(isinstance(row[label], str) for row in rows for label in ("A", "B"))
    pa.Table.from_pandas(pd.DataFrame(rows))
