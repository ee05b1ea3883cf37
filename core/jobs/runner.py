"""The one API pages use for heavy work: ``JobRunner`` (training, export, evaluation, batch).

Heavy work never runs in the web server: the runner writes a job folder and queues it
(``core.jobs.submission``; at most ``Settings.max_jobs`` run at once, the rest wait in order)
and an executor (by default a fresh local process per job) runs ``core.jobs.worker``, which
writes everything to disk. Pages only read those files, by polling::

    runner = get_runner()
    run_id = runner.submit_training(store, config)      # creates the run, queues its training
    snapshot = runner.snapshot(store, run_id)           # RunSnapshot: status, epoch, losses...
    runner.stop(store, run_id)                          # Stop after the current batch
    runner.resume(store, run_id)                        # an interrupted or stopped run

    job_id = runner.submit("predict_batch", store, run_id, {"k": 3}, files={"upload.zip": f})
    status = runner.job_status(store, job_id, run_id)   # JobStatus; .result once finished
    status = runner.latest_job(store, run_id, "evaluate")  # re-attach after a reload
    runner.cancel(store, job_id, run_id)                # drop or end a job of any kind

Each kind's module (``core.jobs.kinds``) documents its parameters, its result and how a page
reads it back; ``train`` jobs start with ``submit_training`` and ``resume``, not ``submit``.

Every call first settles the queue (``tick``): workers that died are reaped (their run reads
``interrupted`` with a plain message) and queued jobs start when slots are free. So a page
that polls keeps the queue moving even if a worker was killed, and a restarted server
re-attaches: a live worker keeps its run, a dead one's run becomes interrupted. Submitting a
kind that is "one per run" (train, export, evaluate) while one is queued or running returns
the existing job's id, so two Resume clicks start one job. Every refusal is a ``StudioError``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from core.config.run import RunConfig
from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.executor import Executor
from core.jobs.registry import LOCK_TIMEOUT_S, PAGE_LOCK_TIMEOUT_S, JobEntry, JobRegistry
from core.jobs.request import (
    JOBS_FOLDER,
    REQUEST_FILE,
    STOP_FILE,
    JobRequest,
    job_folder,
    validate_job_id,
    write_state,
)
from core.jobs.scheduler import settle
from core.jobs.snapshot import JobStatus, RunSnapshot, read_job_status, read_run_snapshot
from core.jobs.submission import JobQueue, submit_job, submit_training, workspace_key
from core.jobs.worker import executor_for
from core.store.runs import RunStore

RESUMABLE = ("interrupted", "stopped")


class JobRunner:
    """Submits, watches and stops heavy jobs; reads their results (see the module docstring).

    Args:
        settings: runs folder (the registry lives in it), job cap and the settings passed to
            workers (default ``Settings.from_env()``).
        executor: where workers run (default ``core.jobs.worker.executor_for(settings)``).
        lock_timeout_s: the longest wait for the queue's lock (a page waits less).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        executor: Executor | None = None,
        lock_timeout_s: float = LOCK_TIMEOUT_S,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.executor: Executor = executor or executor_for(self.settings)
        self.registry = JobRegistry(self.settings.runs_dir, lock_timeout_s)

    @property
    def queue(self) -> JobQueue:
        """Where this runner submits jobs (``core.jobs.submission``)."""
        return JobQueue(self.settings, self.registry, self.executor)

    def submit_training(self, store: RunStore, config: RunConfig) -> str:
        """Creates a run and queues its training (``core.jobs.submission.submit_training``)."""
        return submit_training(self.queue, store, config)

    def resume(self, store: RunStore, run_id: str) -> str:
        """Continues an interrupted or stopped run from its last checkpoint; returns the job id.

        While the run already has a queued or running training job, that job's id is returned
        (nothing new starts).

        Raises:
            StudioError: the run is finished, failed, or not in this workspace.
        """
        store.path(run_id)
        with self.registry.locked() as state:
            settle(state, self.executor, self.settings)
            existing = state.for_run("train", workspace_key(store), run_id)
            if existing is not None:
                return existing.job_id
            status = store.status(run_id)
            if status not in RESUMABLE:
                raise StudioError(
                    f"Only an interrupted or stopped run can be resumed; this one is {status}."
                )
            store.append_log(run_id, "resume requested")
            return submit_job(
                self.queue, "train", store, run_id, {"resume": True}, {}, check_disk=True
            )

    def stop(self, store: RunStore, run_id: str) -> None:
        """Stops the run's training: after the current batch, or at once while it is queued."""
        run_dir = store.path(run_id)
        with self.registry.locked() as state:
            settle(state, self.executor, self.settings)
            entry = state.for_run("train", workspace_key(store), run_id)
            if entry is None:
                return  # not training (any more)
            if entry.state == "running":
                (run_dir / STOP_FILE).touch()  # the worker checks it every batch
                return
            state.remove(entry.job_id)
            store.update_status(run_id, status="stopped", error=None)
            store.append_log(run_id, "stopped while queued")
            write_state(Path(entry.folder), state="stopped", ended=time.time())

    def snapshot(self, store: RunStore, run_id: str) -> RunSnapshot:
        """Everything the Train page shows about the run (settles the queue first).

        Raises:
            RunNotFoundError: the run is not in this workspace.
        """
        store.path(run_id)
        with self.registry.locked() as state:
            settle(state, self.executor, self.settings)
            entry = state.for_run("train", workspace_key(store), run_id)
            position = state.position(entry.job_id) if entry else None
        return read_run_snapshot(store, run_id, entry, position)

    def submit(
        self,
        kind: str,
        store: RunStore,
        run_id: str | None = None,
        params: dict[str, Any] | None = None,
        files: dict[str, bytes | IO[bytes]] | None = None,
    ) -> str:
        """Queues a job of ``kind`` (``core.jobs.kinds``); returns its job id.

        Args:
            kind: "export", "evaluate" or "predict_batch" (training goes through
                ``submit_training`` and ``resume``, which check the run's state).
            store: the visitor's workspace.
            run_id: the run it works on (required unless the kind works without one).
            params: the kind's parameters (JSON types; see the kind's module).
            files: uploads to put into the job folder first, by plain file name.

        Raises:
            StudioError: unknown kind, missing run, the kind's check refused the input, or no
                disk space is left under the cap (``DiskFullError``).
        """
        if kind == "train":
            raise ValueError("Start training with submit_training() or resume().")
        return submit_job(
            self.queue, kind, store, run_id, params or {}, files or {}, check_disk=True
        )

    def cancel(self, store: RunStore, job_id: str, run_id: str | None = None) -> None:
        """Cancels a job of any kind; it reads ``stopped``.

        A training job stops as ``stop`` does (after the current batch); another kind is
        dropped from the queue, or its worker is ended at once.
        """
        status = self.job_status(store, job_id, run_id)
        if status.kind == "train" and status.run_id is not None:
            self.stop(store, status.run_id)
            return
        with self.registry.locked() as state:
            entry = state.remove(job_id)
            if entry is None:
                return
            (status.folder / STOP_FILE).touch()
            if entry.state == "running" and entry.handle is not None:
                self.executor.kill(entry.handle)
            write_state(status.folder, state="stopped", ended=time.time())

    def job_status(self, store: RunStore, job_id: str, run_id: str | None = None) -> JobStatus:
        """The job's state, progress, message, error and (once finished) result.

        Raises:
            StudioError: there is no such job in this workspace (and run).
        """
        folder = job_folder(store.root.resolve(), run_id, validate_job_id(job_id))
        if not (folder / REQUEST_FILE).is_file():
            raise StudioError("There is no such job in this workspace.")
        request = JobRequest.load(folder)
        with self.registry.locked() as state:
            settle(state, self.executor, self.settings)
            entry = state.get(job_id)
            position = state.position(job_id)
        return read_job_status(folder, job_id, request.kind, run_id, entry, position)

    def job_result(self, store: RunStore, job_id: str, run_id: str | None = None) -> dict[str, Any]:
        """The result of a finished job.

        Raises:
            StudioError: the job has not finished; the message says why (its error, if any).
        """
        status = self.job_status(store, job_id, run_id)
        if status.result is None:
            raise StudioError(status.error or f"This job has not finished (it is {status.state}).")
        return status.result

    def latest_job(
        self,
        store: RunStore,
        run_id: str | None,
        kind: str,
        where: Callable[[JobRequest], bool] | None = None,
        limit: int | None = None,
    ) -> JobStatus | None:
        """The newest job of ``kind`` of the run (or workspace): re-attach after a reload.

        Args:
            where: only a job whose request passes it (e.g. the same params); a job whose
                request cannot be read is skipped then.
            limit: read at most this many of the newest job folders of the kind.
        """
        base = store.root if run_id is None else store.path(run_id)
        folder = base / JOBS_FOLDER
        names = sorted(p.name for p in folder.glob(f"{kind}-*")) if folder.is_dir() else []
        for name in list(reversed(names))[:limit]:
            with contextlib.suppress(StudioError, OSError):
                if where is None or where(JobRequest.load(folder / name)):
                    return self.job_status(store, name, run_id)
        return None

    def active_jobs(self) -> list[JobEntry]:
        """Queued and running jobs of every workspace, in queue order (after a tick)."""
        self.tick()
        return self.registry.entries()

    def tick(self) -> None:
        """Settles the queue: reaps dead workers and launches queued jobs into free slots."""
        with self.registry.locked() as state:
            settle(state, self.executor, self.settings)

    # Waiting, for the CLI, benches and tests.
    def wait_for_run(
        self, store: RunStore, run_id: str, timeout_s: float = 600.0, poll_s: float = 0.25
    ) -> RunSnapshot:
        """Polls until the run is no longer active or ``timeout_s`` passed; the last snapshot."""
        deadline = time.monotonic() + timeout_s
        while True:
            snapshot = self.snapshot(store, run_id)
            if not snapshot.active or time.monotonic() > deadline:
                return snapshot
            time.sleep(poll_s)

    def wait_for_job(
        self,
        store: RunStore,
        job_id: str,
        run_id: str | None = None,
        timeout_s: float = 600.0,
        poll_s: float = 0.25,
    ) -> JobStatus:
        """Polls until the job ended or ``timeout_s`` passed; returns the last status."""
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.job_status(store, job_id, run_id)
            if status.done or time.monotonic() > deadline:
                return status
            time.sleep(poll_s)


_runner_lock = threading.Lock()
_runners: dict[Settings, JobRunner] = {}


def get_runner(settings: Settings | None = None) -> JobRunner:
    """The web process's runner for ``settings`` (default: ``Settings.from_env()`` now).

    One runner per settings value, made on first use: a process whose ``STUDIO_*`` folders
    change (the page tests give each test its own) gets a runner, registry and workers that
    use the current folders, never those of the first caller. A page waits for a busy queue
    ``PAGE_LOCK_TIMEOUT_S`` at most (``QueueBusyError``).
    """
    key = settings or Settings.from_env()
    with _runner_lock:
        if key not in _runners:
            _runners[key] = JobRunner(key, lock_timeout_s=PAGE_LOCK_TIMEOUT_S)
        return _runners[key]
