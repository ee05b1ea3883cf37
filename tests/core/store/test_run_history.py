"""history.json rows as ``EpochRow``: typed reads, rows written back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.store.run_history import EpochRow, history_rows, read_history

# Rows as the training callback writes them (core.train.callback), a fine-tune epoch included;
# a run without validation images has no val_* keys.
ROWS: list[dict[str, Any]] = [
    {"epoch": 1, "phase": "head", "loss": 0.9, "accuracy": 0.5, "val_loss": 0.8,
     "val_accuracy": 0.6, "lr": 0.001},
    {"epoch": 2, "phase": "fine_tune", "loss": 0.4, "accuracy": 1, "lr": 0.0001},
]  # fmt: skip


def test_rows_read_typed_and_write_back_unchanged(tmp_path: Path) -> None:
    (tmp_path / "history.json").write_text(json.dumps(ROWS))
    rows = read_history(tmp_path / "history.json")
    assert [row.to_dict() for row in rows] == ROWS
    assert [list(row.to_dict()) for row in rows] == [list(row) for row in ROWS]
    assert rows[1].epoch == 2 and rows[1].phase == "fine_tune" and rows[1].val_loss is None
    assert rows[0].score("val_accuracy") == 0.6 and not rows[0].extra


def test_damaged_files_and_rows_read_as_what_can_be_read(tmp_path: Path) -> None:
    (tmp_path / "history.json").write_text("{half")
    assert read_history(tmp_path / "history.json") == []
    assert history_rows({"epoch": 1}) == []
    row = EpochRow.from_dict({"epoch": "one", "loss": None, "note": "x"})
    assert row.epoch == 0 and row.loss is None and row.extra == {"epoch": "one", "note": "x"}
    assert row.to_dict() == {"epoch": "one", "loss": None, "note": "x"}
    assert history_rows([{"epoch": 3}, "junk"]) == [EpochRow(epoch=3)]


def test_an_unknown_score_name_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown epoch score 'lr'"):
        EpochRow(epoch=1).score("lr")


JSON = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
KEYS = st.sampled_from([*ROWS[0], "extra", "keys"]) | st.text()


@given(st.dictionaries(KEYS, JSON | st.lists(JSON), max_size=8))
def test_any_row_round_trips(data: dict[str, Any]) -> None:
    assert EpochRow.from_dict(data).to_dict() == data
