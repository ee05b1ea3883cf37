"""Deleting a run with its jobs: nothing is left behind, no job keeps writing into it.

A run's evaluation, export or analysis may still be queued or running when its owner deletes
it. Deleting only the folder left a ghost: the registry still listed the job, and its worker
went on writing (``state.json`` recreated the folder, an ``export-...`` bundle appeared in the
cache). ``delete_run`` does it under the queue's lock: a queued or running training refuses the
delete (stop it first, as before); every other job of the run is dropped from the queue, its
worker ended and waited for (``WORKER_EXIT_S`` at most), and only then the folder goes, with
any export bundle of the run.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from core.errors import StudioError
from core.jobs.registry import JobEntry
from core.jobs.request import STOP_FILE
from core.jobs.runner import JobRunner
from core.jobs.submission import workspace_key
from core.store.runs import RunStore
from core.store.trim import remove_orphan_exports

WORKER_EXIT_S = 10.0
ACTIVE_TRAINING = "This run is still in progress: stop it before deleting it."


def delete_run(runner: JobRunner, store: RunStore, run_id: str) -> None:
    """Ends the run's jobs and deletes the run and its exports.

    Raises:
        RunNotFoundError: unknown or malformed id. StudioError: its training is queued or
            running, or a worker did not end in time (nothing was deleted then).
    """
    store.path(run_id)
    workspace = workspace_key(store)
    with runner.registry.locked() as state:
        mine = [e for e in state.entries if e.workspace == workspace and e.run_id == run_id]
        if any(entry.kind == "train" for entry in mine):
            raise StudioError(ACTIVE_TRAINING)
        for entry in mine:
            state.remove(entry.job_id)
            _end_worker(runner, entry)
        store.delete(run_id)
    remove_orphan_exports(runner.settings)


def _end_worker(runner: JobRunner, entry: JobEntry) -> None:
    """Stops a running job's worker and waits until it is gone."""
    if entry.state != "running" or entry.handle is None:
        return
    with contextlib.suppress(OSError):  # a worker of another machine stops at its next check
        (Path(entry.folder) / STOP_FILE).touch()
    if entry.executor != runner.executor.name:
        return
    runner.executor.kill(entry.handle)
    deadline = time.monotonic() + WORKER_EXIT_S
    while runner.executor.is_alive(entry.handle):
        if time.monotonic() > deadline:
            raise StudioError("A job of this run did not stop in time; try deleting it again.")
        time.sleep(0.05)
