"""The job registry and the reaper, without workers: order, positions, lost jobs, pid checks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil

from core.jobs.executor import HOST, LocalProcessExecutor
from core.jobs.recovery import read_notice
from core.jobs.registry import JobEntry, JobRegistry
from core.jobs.request import read_state, write_state
from core.jobs.scheduler import LOST_RUN_MESSAGE, keep_queued_alive, mark_queued, reap
from core.jobs.worker import WORKER_MODULE
from core.store.runs import RunStore
from tests.helpers.training import tiny_config


def _entry(job_id: str, folder: Path, run_id: str | None = None, workspace: str = "") -> JobEntry:
    return JobEntry(job_id, "train", workspace, run_id, str(folder), submitted=time.time())


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_queue_order_positions_and_a_damaged_row_rebuilds_the_queue(tmp_path: Path) -> None:
    registry = JobRegistry(tmp_path)
    with registry.locked() as state:
        for name in ("a", "b", "c"):
            state.add(_entry(name, tmp_path / name))
        state.mark_running(state.entries[0], {"pid": 1}, time.time())
        with registry.locked() as nested:  # reentrant: same lock, same entries
            assert nested is state
    assert [e.job_id for e in registry.entries()] == ["a", "b", "c"]
    with registry.locked() as state:
        assert [state.position(n) for n in ("a", "b", "c")] == [None, 1, 2]
        assert state.remove("b") is not None and state.position("c") == 1
    data = json.loads(registry.path.read_text())
    data["jobs"].append({"job_id": "broken"})  # a row the registry never wrote
    registry.path.write_text(json.dumps(data))
    # Not trusted: set aside and rebuilt from the job folders (these entries have none).
    assert registry.entries() == []
    assert len(list(tmp_path.glob(".jobs.json.damaged-*"))) == 1
    assert "rebuilt" in (read_notice(tmp_path) or "")


def test_a_dead_worker_is_reaped_and_only_its_own_run_reads_interrupted(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "ws")
    lost_run, other_run = (store.create(tiny_config(tmp_path)) for _ in range(2))
    for run_id, job in ((lost_run, "lost"), (other_run, "someone-else")):
        mark_queued(store, run_id, job)
        assert store.status(run_id) == "queued"  # the queue owns it, not this process
        info = store.read_status(run_id)
        info.update(status="training", pid=_dead_pid(), owner="worker")
        (store.path(run_id) / "status.json").write_text(json.dumps(info))
    folder = tmp_path / "job"
    folder.mkdir()
    write_state(folder, state="running")
    registry = JobRegistry(tmp_path)
    with registry.locked() as state:
        for job_id, run_id in (("lost", lost_run), ("other", other_run)):
            entry = _entry(job_id, folder, run_id, str(store.root))
            handle = {"pid": _dead_pid(), "started": time.time(), "host": HOST}
            state.add(entry)
            state.mark_running(entry, handle, time.time())
        lost = reap(state, LocalProcessExecutor(WORKER_MODULE))
    assert [e.run_id for e in lost] == [lost_run, other_run] and registry.entries() == []
    assert store.load(lost_run).status_info["error"] == LOST_RUN_MESSAGE
    assert store.status(lost_run) == "interrupted"
    assert store.read_status(other_run)["status"] == "training"  # another job's run: untouched
    assert read_state(folder)["state"] == "interrupted"


def test_a_reused_pid_or_a_zombie_is_not_the_worker(tmp_path: Path) -> None:
    executor = LocalProcessExecutor(WORKER_MODULE)
    me = psutil.Process()
    assert executor.is_alive({"pid": me.pid, "started": me.create_time(), "host": HOST})
    assert not executor.is_alive({"pid": me.pid, "started": me.create_time() - 50, "host": HOST})
    assert not executor.is_alive({"pid": _dead_pid(), "started": None, "host": HOST})
    assert executor.is_alive({"pid": 1, "host": "another-machine"})  # cannot tell: keep it
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # never waited for here
    while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.01)
    assert not executor.is_alive({"pid": zombie.pid, "started": None, "host": HOST})
    zombie.wait()


def test_queued_runs_get_a_fresh_heartbeat(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "ws", stale_s=60)
    run_id = store.create(tiny_config(tmp_path))
    mark_queued(store, run_id, "job-1")
    status_file = store.path(run_id) / "status.json"
    info = json.loads(status_file.read_text())
    info.update(heartbeat=time.time() - 3600, pid=_dead_pid())  # its last refresher is gone
    status_file.write_text(json.dumps(info))
    assert store.status(run_id) == "interrupted"
    registry = JobRegistry(tmp_path)
    with registry.locked() as state:
        state.add(_entry("job-1", tmp_path / "job-1", run_id, str(store.root)))
        keep_queued_alive(state)
    assert store.status(run_id) == "queued"
