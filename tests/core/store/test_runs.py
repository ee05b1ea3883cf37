"""Run store: ids, atomic files, listing, loading, deleting, interrupted detection."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from core.config.run import RunConfig
from core.errors import StudioError
from core.store.run_history import EpochRow
from core.store.run_status import HOST, mark_live
from core.store.runs import RunNotFoundError, RunStore, new_run_id, validate_run_id
from tests.helpers.runs import named_config


def _store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs", stale_s=30)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_ids_sort_by_creation_time_and_are_validated() -> None:
    first = new_run_id()
    time.sleep(0.002)
    second = new_run_id()
    assert first < second
    assert validate_run_id(first) == first


@pytest.mark.parametrize(
    "bad",
    ["../etc", "..", "/etc/passwd", "20261126-083200-123456-ab12/../x", "", None, "a" * 27,
     "20261126-083200-123456-AB12", "20261126-083200-123456-ab12\n"],
)  # fmt: skip
def test_malformed_ids_are_refused_before_touching_the_disk(tmp_path: Path, bad: object) -> None:
    with pytest.raises(RunNotFoundError):
        _store(tmp_path).path(bad)  # type: ignore[arg-type]


def test_create_load_list_delete(tmp_path: Path) -> None:
    store = _store(tmp_path)
    run_id = store.create(named_config("first", epochs=3))
    other = store.create(named_config("second"))
    store.write_json(run_id, "history", [{"epoch": 1, "loss": 0.5}])
    store.write_json(run_id, "metrics", {"best": {"val_accuracy": 0.9}})
    store.update_status(run_id, status="finished", last_epoch=1)
    store.append_log(run_id, "hello\nworld")
    record = store.load(run_id)
    assert record.config.name == "first" and record.status == "finished"
    assert record.history == [EpochRow(epoch=1, loss=0.5)] and not record.has_model
    assert record.metrics.best is not None and record.metrics.best.val_accuracy == 0.9
    assert record.paths["log"].read_text().count("\n") == 2
    summaries = store.list_runs()
    assert [s.run_id for s in summaries] == [other, run_id]  # newest first
    assert summaries[1].backbone == "mobilenet_v2" and summaries[1].val_accuracy == 0.9
    store.delete(run_id)
    assert store.run_ids() == [other]
    with pytest.raises(RunNotFoundError):
        store.load(run_id)
    assert not list((tmp_path / "runs").glob(".*"))  # no temp files left behind


def test_corrupt_json_files_do_not_break_listing(tmp_path: Path) -> None:
    store = _store(tmp_path)
    run_id = store.create(named_config("x"))
    (store.path(run_id) / "history.json").write_text("{half")
    (store.path(run_id) / "status.json").write_text("")
    assert store.load(run_id).history == []
    assert store.list_runs()[0].status == "interrupted"


def test_run_of_a_dead_process_reads_interrupted_with_its_last_epoch(tmp_path: Path) -> None:
    store = _store(tmp_path)
    run_id = store.create(named_config("x"))
    store.update_status(run_id, status="training", last_epoch=3)
    info = store.read_status(run_id)
    info.update(pid=_dead_pid(), owner="another-process")
    (store.path(run_id) / "status.json").write_text(__import__("json").dumps(info))
    assert store.status(run_id) == "interrupted"
    assert store.list_runs()[0].last_epoch == 3
    store.delete(run_id)  # an interrupted run can be deleted


def test_run_of_an_unreaped_dead_child_reads_interrupted(tmp_path: Path) -> None:
    """A worker that died but was not yet reaped (a zombie) still has a pid; it works on nothing."""
    store = _store(tmp_path)
    run_id = store.create(named_config("x"))
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:  # exited, not waited for
        assert time.monotonic() < deadline
        time.sleep(0.05)
    info = {"status": "training", "pid": child.pid, "host": HOST, "owner": "other",
            "heartbeat": time.time()}  # fmt: skip
    (store.path(run_id) / "status.json").write_text(json.dumps(info))
    try:
        assert store.status(run_id) == "interrupted"
    finally:
        child.wait()


def test_live_other_process_with_fresh_heartbeat_stays_active(tmp_path: Path) -> None:
    import json
    import os

    store = _store(tmp_path)
    run_id = store.create(named_config("x"))
    base = {"status": "training", "pid": os.getppid(), "host": HOST, "owner": "other"}
    status_file = store.path(run_id) / "status.json"
    status_file.write_text(json.dumps({**base, "heartbeat": time.time()}))
    assert store.status(run_id) == "training"
    with pytest.raises(StudioError, match="in progress"):
        store.delete(run_id)
    status_file.write_text(json.dumps({**base, "heartbeat": time.time() - 120}))
    assert store.status(run_id) == "interrupted"  # stale heartbeat: the process hung or died


def test_run_owned_here_is_active_only_while_live(tmp_path: Path) -> None:
    store = _store(tmp_path)
    run_id = store.create(named_config("x"))
    store.update_status(run_id, status="training")
    assert store.status(run_id) == "interrupted"  # owned by this process, not being worked on
    mark_live(store.path(run_id), True)
    try:
        assert store.status(run_id) == "training"
        with pytest.raises(StudioError):
            store.delete(run_id)
    finally:
        mark_live(store.path(run_id), False)


def test_record_config_is_typed_and_older_run_folders_still_load(tmp_path: Path) -> None:
    store = _store(tmp_path)
    run_id = store.create(named_config("old", epochs=4))
    config_file = store.path(run_id) / "config.json"
    written = json.loads(config_file.read_text())
    assert written["data"]["resize_mode"] == "crop"  # today's default is stored explicitly
    del written["data"]["resize_mode"]  # as written before the setting existed
    written["train"]["strategy"] = "multi_worker"  # refused for new runs since
    config_file.write_text(json.dumps(written))
    record = store.load(run_id)
    assert isinstance(record.config, RunConfig)
    assert record.config.data.resize_mode == "stretch"  # what those runs really used
    assert record.config.train.strategy == "default"
    assert record.config.train.total_epochs == 4


def test_a_damaged_config_is_named_and_not_listed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    good, bad = store.create(named_config("good")), store.create(named_config("bad"))
    (store.path(bad) / "config.json").write_text('{"data": {"path": "x"}, "colour": 1}')
    with pytest.raises(StudioError, match=r"config\.json") as caught:
        store.load(bad)
    assert "colour" in str(caught.value) and str(tmp_path) not in str(caught.value)
    assert [summary.run_id for summary in store.list_runs()] == [good]
