"""Workspaces take turns in the queue, and per-workspace quotas refuse in plain sentences.

The sweep test uses real worker processes that hold their job until released
(``tests.helpers.held_jobs``), so it is about order and cap only: no TensorFlow runs.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.jobs.fairness import turn_order
from core.jobs.quotas import QuotaError
from core.jobs.sweeps import submit_sweep
from core.store.runs import RunStore
from tests.core.jobs.support import wait_until
from tests.helpers.held_jobs import held_runner, release, release_all
from tests.helpers.training import tiny_config, tiny_settings


@pytest.fixture
def fast_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder in memory when there is one: 500 runs' atomic writes skip the disk's fsync."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path
    yield folder
    if folder != tmp_path:
        shutil.rmtree(folder, ignore_errors=True)


def test_turns_go_round_the_workspaces_in_submission_order() -> None:
    entries = [SimpleNamespace(workspace=ws, state=state, job_id=f"{ws}{n}")
               for n, (ws, state) in enumerate([
                   ("a", "running"), ("a", "queued"), ("a", "queued"), ("a", "queued"),
                   ("b", "queued"), ("b", "queued"), ("c", "queued"),
               ])]  # fmt: skip
    order = [entry.job_id for entry in turn_order(entries)]
    # a already runs one: b and c go first, then a and b alternate.
    assert order == ["b4", "c6", "a1", "b5", "a2", "a3"]
    # a's job just ended: on the tie of first turns, the workspace that started one longest
    # ago goes first (c never did), then b, then a.
    waiting = [e for e in entries if e.state == "queued"]
    order = [e.job_id for e in turn_order(waiting, {"a": 30.0, "b": 20.0})]
    assert order == ["c6", "b4", "a1", "b5", "a2", "a3"]


def test_a_500_run_sweep_does_not_make_another_workspace_wait(
    tiny_dataset: Path, fast_folder: Path
) -> None:
    settings = dataclasses.replace(
        tiny_settings(fast_folder), max_jobs=1, max_sweep_runs=500, max_workspace_jobs=500
    )
    runner = held_runner(settings)
    sweeper, other = RunStore(fast_folder / "runs" / "a"), RunStore(fast_folder / "runs" / "b")
    config = tiny_config(tiny_dataset, epochs=1)
    try:
        swept = submit_sweep(runner, sweeper, [config] * 500)
        assert len(swept) == 500
        mine = runner.submit_training(other, config)
        assert runner.snapshot(other, mine).queue_position == 1  # behind the running one only
        running = [e for e in runner.active_jobs() if e.state == "running"]
        assert [e.run_id for e in running] == [swept[0]]
        release(settings, running[0].job_id)

        def next_running() -> list[str | None]:
            now = [e.run_id for e in runner.active_jobs() if e.state == "running"]
            return now if now and now != [swept[0]] else []

        assert wait_until(next_running, "the next job to start") == [mine]
        assert sum(e.run_id in swept for e in runner.active_jobs()) == 499
    finally:  # the held sweep must not go on starting workers after the test
        with runner.registry.locked() as state:
            for entry in state.queued():
                state.remove(entry.job_id)
        release_all(settings)


def test_quotas_refuse_with_plain_sentences_and_leave_nothing(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    settings = dataclasses.replace(
        tiny_settings(tmp_path), max_jobs=1, max_sweep_runs=3, max_workspace_jobs=4
    )
    runner = held_runner(settings)
    store = RunStore(tmp_path / "runs" / "a")
    config = tiny_config(tiny_dataset, epochs=1)
    with pytest.raises(QuotaError, match=r"would start 5 runs.*at most 3\. Choose fewer"):
        submit_sweep(runner, store, [config] * 5)
    assert store.run_ids() == []
    try:
        submit_sweep(runner, store, [config] * 3)
        with pytest.raises(QuotaError, match=r"already has 3 jobs.*at most 4, so 2 more cannot"):
            submit_sweep(runner, store, [config] * 2)
        assert len(store.run_ids()) == 3  # the refused sweep left no run folder
        runner.submit_training(store, config)  # the fourth fits
        with pytest.raises(QuotaError, match=r"already has 4 jobs queued or running"):
            runner.submit_training(store, config)
        assert len(store.run_ids()) == 4
    finally:
        with runner.registry.locked() as state:
            for entry in state.queued():
                state.remove(entry.job_id)
        release_all(settings)
