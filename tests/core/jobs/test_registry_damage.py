"""The queue survives a damaged ``.jobs.json``: set aside, rebuilt from the job folders, cap and
memory plan kept.

Real worker processes (``tests.helpers.held_jobs``: every job waits to be released), real
registry file and lock; the file is truncated in the middle while a worker runs and two jobs
wait behind it with a cap of one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from core.jobs.recovery import read_notice
from core.jobs.request import read_state
from core.jobs.runner import JobRunner
from core.store.runs import RunStore
from tests.core.jobs.support import wait_until
from tests.helpers.held_jobs import held_runner, release_all
from tests.helpers.training import tiny_settings

KIND = "dataset_duplicates"  # needs no run and checks nothing at submission


def _running_states(store: RunStore, runner: JobRunner, job_ids: list[str]) -> int:
    states = [runner.job_status(store, job_id).state for job_id in job_ids]
    return states.count("running")


def test_a_truncated_registry_loses_nothing_keeps_the_cap_and_leaves_a_notice(
    tmp_path: Path,
) -> None:
    settings = dataclasses.replace(tiny_settings(tmp_path), max_jobs=1)
    runner = held_runner(settings)
    store = RunStore(tmp_path / "runs" / "ws")
    jobs = [runner.submit(KIND, store) for _ in range(3)]
    first = runner.job_status(store, jobs[0]).folder
    wait_until(lambda: read_state(first).get("state") == "running", "the first worker")
    pid = read_state(first)["pid"]
    plans = [(e.planned_mb, e.lane) for e in runner.active_jobs()]
    assert all(planned > 0 for planned, _ in plans)

    text = runner.registry.path.read_text()
    runner.registry.path.write_text(text[: len(text) // 2])  # a write cut short mid-queue

    entries = runner.active_jobs()  # the next reader rebuilds it
    assert [(e.job_id, e.state) for e in entries] == [
        (jobs[0], "running"), (jobs[1], "queued"), (jobs[2], "queued")
    ]  # fmt: skip
    assert entries[0].handle is not None and entries[0].handle["pid"] == pid
    assert [(e.planned_mb, e.lane) for e in entries] == plans  # the memory plan is kept too
    aside = list(runner.registry.root.glob(".jobs.json.damaged-*"))
    assert len(aside) == 1 and aside[0].read_text() == text[: len(text) // 2]
    notice = read_notice(runner.registry.root)
    assert notice is not None and "rebuilt" in notice and "2 waiting, 1 running" in notice
    assert str(tmp_path) not in notice  # a file name, never a server path
    assert _running_states(store, runner, jobs) == 1  # the cap held: nothing else started

    release_all(settings)

    def all_ended() -> bool:
        assert _running_states(store, runner, jobs) <= 1
        return all(runner.job_status(store, j).state == "finished" for j in jobs)

    wait_until(all_ended, "the three jobs to finish one after the other")
    assert runner.active_jobs() == []
