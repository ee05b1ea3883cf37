"""Jobs: queue with a cap, stop, failure, NaN, interrupted run resumed, delete refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import StudioError
from core.jobs.manager import JobManager
from core.store.runs import RunStore
from tests.helpers.training import (
    corrupt_after_scan,
    poison_cached_features,
    tiny_config,
    tiny_settings,
)

TIMEOUT = 240


def _manager(tmp_path: Path, max_jobs: int = 1) -> tuple[JobManager, RunStore]:
    settings = tiny_settings(tmp_path)
    return JobManager(settings, max_jobs=max_jobs), RunStore(tmp_path / "runs")


def test_cap_one_queues_the_rest_with_positions(tiny_dataset: Path, tmp_path: Path) -> None:
    manager, store = _manager(tmp_path)
    jobs = [manager.submit(tiny_config(tiny_dataset, epochs=1), store) for _ in range(3)]
    positions = [job.snapshot().queue_position for job in jobs]
    assert positions == [None, 1, 2]
    assert store.status(jobs[2].run_id) == "queued"  # live in this process, not interrupted
    with pytest.raises(StudioError, match="in progress"):
        store.delete(jobs[2].run_id)
    for job in jobs:
        assert job.wait(TIMEOUT)
    snapshots = [job.snapshot() for job in jobs]
    assert [s.status for s in snapshots] == ["finished"] * 3
    assert all(s.queue_position is None and s.progress == 1.0 for s in snapshots)
    assert any("position 2" in line for line in snapshots[2].events)
    assert manager.get(jobs[0].run_id, store) is jobs[0]
    assert manager.get(jobs[0].run_id, RunStore(tmp_path / "other")) is None
    with pytest.raises(TypeError, match="RunStore"):
        manager.get(jobs[0].run_id, None)  # type: ignore[arg-type]
    store.delete(jobs[2].run_id)  # finished: deletable


def test_stop_a_queued_job(tiny_dataset: Path, tmp_path: Path) -> None:
    manager, store = _manager(tmp_path)
    first = manager.submit(tiny_config(tiny_dataset, epochs=1), store)
    second = manager.submit(tiny_config(tiny_dataset, epochs=1), store)
    second.stop()
    assert second.snapshot().status == "stopped" and store.status(second.run_id) == "stopped"
    assert first.wait(TIMEOUT) and first.snapshot().status == "finished"


def test_failure_is_plain_with_traceback_only_in_the_log(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.train.session

    real = poison_cached_features(monkeypatch, np.nan)
    manager, store = _manager(tmp_path)
    job = manager.submit(tiny_config(tiny_dataset), store)
    assert job.wait(TIMEOUT)
    snapshot = job.snapshot()
    assert snapshot.status == "failed" and "NaN" in (snapshot.error or "")
    assert "Traceback" not in (snapshot.error or "")
    record = store.load(job.run_id)
    assert record.status == "failed" and record.status_info["error"] == snapshot.error
    assert "Traceback" in record.paths["log"].read_text()
    # The manager stays usable for the next job.
    monkeypatch.setattr(core.train.session, "prepare_cached", real)
    assert manager.submit(tiny_config(tiny_dataset, epochs=1), store).wait(TIMEOUT)


def _crashed_in_second_epoch(tiny_dataset: Path, tmp_path: Path, epochs: int):  # type: ignore[no-untyped-def]
    """Returns (manager, store, run id) of a run that looks like its process died in epoch 2.

    Stop is pressed at the end of epoch 1 (so epoch 2 ends after its first batch), then the
    status is made to look like that of a process that no longer exists.
    """
    manager, store = _manager(tmp_path)
    job = manager.submit(tiny_config(tiny_dataset, epochs=epochs), store)
    original_epoch = job.epoch

    def stop_after_first(row: dict[str, Any]) -> None:
        original_epoch(row)
        job.stop()

    job.epoch = stop_after_first  # type: ignore[method-assign]
    assert job.wait(TIMEOUT)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    status_file = store.path(job.run_id) / "status.json"
    info = json.loads(status_file.read_text())
    info.update(status="training", pid=dead.pid, owner="crashed-process")
    status_file.write_text(json.dumps(info))
    return manager, store, job.run_id


def test_interrupted_run_is_resumed_to_the_end(tiny_dataset: Path, tmp_path: Path) -> None:
    manager, store, run_id = _crashed_in_second_epoch(tiny_dataset, tmp_path, epochs=3)
    record = store.load(run_id)
    assert record.status == "interrupted" and record.status_info["last_epoch"] == 2
    resumed = manager.resume(store, run_id)
    assert resumed.wait(TIMEOUT) and resumed.snapshot().status == "finished"
    record = store.load(run_id)
    assert [row["epoch"] for row in record.history] == [1, 2, 3] and record.has_model
    assert "Resuming after epoch 2" in record.paths["log"].read_text()
    with pytest.raises(StudioError, match="finished"):
        manager.resume(store, run_id)


def test_damaged_checkpoint_fails_resume_with_a_plain_message(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    manager, store, run_id = _crashed_in_second_epoch(tiny_dataset, tmp_path, epochs=3)
    checkpoint = store.path(run_id) / "last.weights.h5"
    checkpoint.write_bytes(b"\x89HDF\r\n")  # cut short, as by a kill mid-save in older code
    assert store.load(run_id).status == "interrupted"
    resumed = manager.resume(store, run_id)
    assert resumed.wait(TIMEOUT)
    snapshot = resumed.snapshot()
    assert snapshot.status == "failed"
    assert "checkpoint file is damaged" in (snapshot.error or "")
    assert "Traceback" not in (snapshot.error or "")


def test_killed_training_process_reads_interrupted_and_resumes(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import time

    config = tiny_config(tiny_dataset, epochs=12, batch_size=2, cache_features=False)
    config_file = tmp_path / "run.json"
    config_file.write_text(config.to_json())
    runs = tmp_path / "runs"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "STUDIO_CACHE_DIR": str(tmp_path / "c")}
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "train", "--config", str(config_file), "--out", str(runs),
         "--quiet"],
        cwd=Path(__file__).resolve().parents[3], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    store = RunStore(runs)
    deadline = time.time() + TIMEOUT
    try:
        while time.time() < deadline and process.poll() is None:
            ids = store.run_ids()
            if ids and int(store.read_status(ids[0]).get("last_epoch") or 0) >= 2:
                break
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    run_id = store.run_ids()[0]
    record = store.load(run_id)
    assert record.status == "interrupted", "the training process ended before it was killed"
    done = int(record.status_info["last_epoch"])
    assert 2 <= done < 12 and not record.has_model
    manager = JobManager(tiny_settings(tmp_path), max_jobs=1)
    job = manager.resume(store, run_id)
    assert job.wait(TIMEOUT) and job.snapshot().status == "finished"
    record = store.load(run_id)
    assert [row["epoch"] for row in record.history] == list(range(1, 13)) and record.has_model


def test_file_corrupted_after_the_scan_fails_the_end_to_end_job_naming_it(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corrupted = corrupt_after_scan(monkeypatch)
    manager, store = _manager(tmp_path)
    job = manager.submit(tiny_config(tiny_dataset, epochs=1, cache_features=False), store)
    assert job.wait(TIMEOUT)
    snapshot = job.snapshot()
    relative = corrupted[0].relative_to(tiny_dataset).as_posix()
    assert snapshot.status == "failed"
    assert (snapshot.error or "").startswith(f"Could not read image '{relative}'")
    assert "Traceback" not in (snapshot.error or "") and str(tiny_dataset) not in (
        snapshot.error or ""
    )
    record = store.load(job.run_id)
    assert record.status == "failed" and record.status_info["error"] == snapshot.error
    log = record.paths["log"].read_text()
    assert "Traceback" in log and "InvalidArgumentError" in log  # the detail stays in the log
