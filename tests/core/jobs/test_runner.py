"""JobRunner with real worker processes: queue and cap, stop, kill -9 and resume, memory refusal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.jobs.progress import read_progress
from core.jobs.request import STOP_FILE, read_state
from core.jobs.runner import JobRunner
from core.jobs.scheduler import LOST_RUN_MESSAGE
from tests.core.jobs.support import TIMEOUT_S, make_runner, wait_until
from tests.helpers.training import tiny_config

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_cap_one_queues_in_order_and_every_run_finishes_in_its_own_process(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    runner, store = make_runner(tmp_path, max_jobs=1)
    run_ids = [runner.submit_training(store, tiny_config(tiny_dataset, epochs=1)) for _ in range(4)]
    snapshots = [runner.snapshot(store, run_id) for run_id in run_ids]
    assert [s.queue_position for s in snapshots] == [None, 1, 2, 3]
    assert all(s.status == "queued" for s in snapshots)  # the first is starting
    assert any("position 2" in line for line in snapshots[2].events)
    runner.stop(store, run_ids[3])  # still queued: dropped at once, never started
    assert runner.snapshot(store, run_ids[3]).status == "stopped"
    assert [runner.snapshot(store, r).queue_position for r in run_ids[1:3]] == [1, 2]
    # Resume of a queued run (a second tab) returns its job: still one job per run.
    assert JobRunner(runner.settings).resume(store, run_ids[1]) == snapshots[1].job_id

    def all_done() -> bool:
        assert len([e for e in runner.active_jobs() if e.state == "running"]) <= 1
        return not any(runner.snapshot(store, run_id).active for run_id in run_ids)

    wait_until(all_done, "three runs to finish one after the other")
    pids = set()
    for run_id in run_ids[:3]:
        snapshot = runner.snapshot(store, run_id)
        assert snapshot.status == "finished" and snapshot.progress == 1.0, snapshot.error
        assert [row.epoch for row in snapshot.history] == [1]
        assert snapshot.batch_history and snapshot.queue_position is None
        assert "Started in its own worker process." in snapshot.events[0]
        assert store.load(run_id).has_model
        job = runner.latest_job(store, run_id, "train")
        assert job is not None and job.state == "finished"
        pids.add(read_state(job.folder)["pid"])
    assert len(pids) == 3 and os.getpid() not in pids  # one fresh process per run
    assert runner.active_jobs() == []
    with pytest.raises(ValueError, match="this one is finished"):
        runner.resume(store, run_ids[0])


def test_stop_from_a_restarted_server_reaches_the_worker(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    runner, store = make_runner(tmp_path)
    run_id = runner.submit_training(store, tiny_config(tiny_dataset, epochs=300, batch_size=2))
    wait_until(lambda: runner.snapshot(store, run_id).history, "the first epoch")
    restarted = JobRunner(runner.settings)  # a new server process knows only the files
    assert restarted.snapshot(store, run_id).status == "training"
    restarted.stop(store, run_id)
    snapshot = restarted.wait_for_run(store, run_id, TIMEOUT_S)
    assert snapshot.status == "stopped", snapshot.error
    assert 1 <= len(snapshot.history) < 300 and store.load(run_id).has_model
    assert not (store.path(run_id) / STOP_FILE).exists()
    assert any("Stopped by the user" in line for line in snapshot.events)


def test_killed_worker_reads_interrupted_and_racing_resumes_start_one_job(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    runner, store = make_runner(tmp_path)
    config = tiny_config(tiny_dataset, epochs=12, batch_size=2, cache_features=False)
    run_id = runner.submit_training(store, config)

    def two_epochs_done() -> bool:
        return int(store.read_status(run_id).get("last_epoch") or 0) >= 2

    wait_until(two_epochs_done, "two epochs before the kill")
    (entry,) = runner.active_jobs()
    os.kill(entry.handle["pid"], signal.SIGKILL)  # type: ignore[index]
    snapshot = wait_until(
        lambda: (s := runner.snapshot(store, run_id)).status == "interrupted" and s, "the reaper"
    )
    assert snapshot.error == LOST_RUN_MESSAGE and not store.load(run_id).has_model
    done = int(store.read_status(run_id)["last_epoch"])
    assert 2 <= done < 12
    before = store.load(run_id).history[:done]

    barrier, job_ids = threading.Barrier(4), []

    def click_resume() -> None:
        other = JobRunner(runner.settings)  # each click in its own runner (own lock handle)
        barrier.wait()
        job_ids.append(other.resume(store, run_id))

    threads = [threading.Thread(target=click_resume) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(job_ids) == 4 and len(set(job_ids)) == 1  # four clicks, one job
    assert len(runner.active_jobs()) == 1
    snapshot = runner.wait_for_run(store, run_id, TIMEOUT_S)
    assert snapshot.status == "finished", snapshot.error
    record = store.load(run_id)
    assert [row.epoch for row in record.history] == list(range(1, 13))
    assert record.history[:done] == before  # the epochs before the kill were not retrained
    assert f"Resuming after epoch {done}" in record.paths["log"].read_text()
    assert any("Resuming in a new worker process." in line for line in snapshot.events)


def test_a_run_that_cannot_fit_the_memory_budget_is_refused_with_what_to_change(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    runner, store = make_runner(tmp_path, memory_budget_mb=1.0)
    run_id = runner.submit_training(store, tiny_config(tiny_dataset, epochs=1))
    snapshot = runner.wait_for_run(store, run_id, TIMEOUT_S)
    assert snapshot.status == "failed"
    error = snapshot.error or ""
    assert "only 0 MB of memory is free" in error and "STUDIO_MEMORY_BUDGET_MB" in error
    assert "To make it fit" in error and "Traceback" not in error and str(tmp_path) not in error
    assert any(error in line for line in read_progress(store.path(run_id))["events"])


def test_importing_the_runner_does_not_import_tensorflow() -> None:
    code = (
        "import sys, core.jobs.runner, core.jobs.kinds.registry; "
        "print(json.dumps(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout) == []
