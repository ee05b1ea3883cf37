"""Deleting a run ends its jobs first and leaves nothing behind (real, held worker processes)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import psutil
import pytest

from core.errors import StudioError
from core.jobs.deletion import delete_run
from core.jobs.request import read_state
from core.store.runs import RunStore
from tests.core.jobs.support import wait_until
from tests.helpers.held_jobs import held_runner, release_all
from tests.helpers.training import tiny_config, tiny_settings


def test_deleting_a_run_ends_its_jobs_and_leaves_no_ghost(tmp_path: Path) -> None:
    settings = dataclasses.replace(tiny_settings(tmp_path), max_jobs=1)
    runner = held_runner(settings)
    store = RunStore(tmp_path / "runs" / "ws")
    run_id = store.create(tiny_config(tmp_path, epochs=1))
    try:
        evaluating = runner.submit("evaluate", store, run_id)
        runner.submit("export", store, run_id)  # waits behind it
        folder = runner.job_status(store, evaluating, run_id).folder
        wait_until(lambda: read_state(folder).get("state") == "running", "the worker")
        pid = read_state(folder)["pid"]
        delete_run(runner, store, run_id)
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
        assert runner.active_jobs() == []
        time.sleep(1.0)  # a worker still alive would recreate its state.json by now
        assert not (store.root / run_id).exists() and run_id not in store.run_ids()
        assert not list((tmp_path / "cache").glob("**/export-*"))
    finally:
        release_all(settings)


def test_a_run_whose_training_waits_is_not_deleted(tiny_dataset: Path, tmp_path: Path) -> None:
    settings = dataclasses.replace(tiny_settings(tmp_path), max_jobs=1)
    runner = held_runner(settings)
    store = RunStore(tmp_path / "runs" / "ws")
    try:
        runs = [runner.submit_training(store, tiny_config(tiny_dataset)) for _ in range(2)]
        with pytest.raises(StudioError, match="stop it before deleting it"):
            delete_run(runner, store, runs[1])  # queued behind the first
        assert store.path(runs[1]).is_dir() and len(runner.active_jobs()) == 2
    finally:
        with runner.registry.locked() as state:
            for entry in state.queued():
                state.remove(entry.job_id)
        release_all(settings)
