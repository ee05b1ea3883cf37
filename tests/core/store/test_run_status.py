"""``status.json`` as a typed record: read with types, written back identical."""

from __future__ import annotations

import json
from pathlib import Path

from core.store.run_status import RunStatus, effective_status
from core.store.runs import RunStore
from tests.helpers.training import tiny_config


def test_a_stored_status_reads_typed_and_writes_back_identical(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "ws")
    run_id = store.create(tiny_config(tmp_path))
    store.update_status(run_id, status="training", last_epoch=3, best_value=0.25, job="train-1")
    stored = json.loads((store.path(run_id) / "status.json").read_text())
    status = store.run_status(run_id)
    assert (status.status, status.last_epoch, status.best_value, status.job) == (
        "training", 3, 0.25, "train-1",
    )  # fmt: skip
    assert status.active and status.error is None and isinstance(status.pid, int)
    assert json.dumps(status.to_dict()) == json.dumps(stored)  # same keys, same order


def test_malformed_or_unknown_values_read_as_defaults_and_are_kept() -> None:
    status = RunStatus.from_dict({"pid": "12", "last_epoch": None, "heartbeat": True, "x": [1]})
    assert (status.status, status.pid, status.last_epoch, status.heartbeat) == (
        "interrupted", None, 0, None,
    )  # fmt: skip
    assert status.extra == {"x": [1]} and status.to_dict()["x"] == [1]
    assert RunStatus.from_dict("not a dict") == RunStatus()


def test_an_active_status_without_a_live_process_reads_interrupted(tmp_path: Path) -> None:
    gone = RunStatus(status="training", pid=None, host="another-host", heartbeat=0.0)
    assert effective_status(gone, tmp_path, stale_s=60) == "interrupted"
    assert effective_status(RunStatus(status="finished"), tmp_path, stale_s=60) == "finished"
