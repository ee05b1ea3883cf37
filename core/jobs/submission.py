"""Putting a job into the queue: its folder, its uploads, its kind's check, its registry entry.

``JobRunner`` (``core.jobs.runner``) submits every kind through ``submit_job``. The job folder
(``core.jobs.request``) is written first, then the job joins the cross-process queue
(``core.jobs.registry``) under its lock, and the queue is settled so a free slot starts it at
once. A refused job leaves no folder behind.

Before anything is written, the uploads must fit under the disk cap; under the lock, a kind
that names its input (``JobKind.input_key``: a batch prediction's zip and model) replaces the
workspace's older jobs of the same input (``core.jobs.replacement``), then the workspace's
quotas are checked (``core.jobs.quotas``). Every job is planned (``core.jobs.memory_plan``:
its kind's measured peak; one that could never fit is refused with a plain sentence) and put
in its lane; the plan and lane are kept in its folder too, so a rebuilt queue keeps them.
"""

from __future__ import annotations

import io
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from core.config.run import RunConfig
from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.executor import Executor
from core.jobs.kinds.registry import get_kind
from core.jobs.memory_plan import check_fits_alone, job_backbone_params, planned_peak_mb
from core.jobs.quotas import check_job_quota
from core.jobs.recovery import write_plan
from core.jobs.registry import LONG_LANE, SHORT_LANE, JobEntry, JobRegistry, RegistryState
from core.jobs.replacement import replace_same_input, write_input_key
from core.jobs.request import (
    STOP_FILE,
    JobRequest,
    absolute_settings,
    job_folder,
    new_job_id,
    write_state,
    write_upload,
)
from core.jobs.scheduler import LOCAL_EXECUTOR, mark_queued, settle
from core.store.disk import check_disk_room
from core.store.runs import RunStore


@dataclass(frozen=True)
class JobQueue:
    """Where submitted jobs go.

    Attributes:
        settings: the submitting process's settings (passed on to the workers).
        registry: the cross-process queue.
        executor: where the workers run.
    """

    settings: Settings
    registry: JobRegistry
    executor: Executor


def workspace_key(store: RunStore) -> str:
    """The workspace as the queue names it: the store's absolute folder."""
    return str(store.root.resolve())


def submit_job(
    queue: JobQueue,
    kind: str,
    store: RunStore,
    run_id: str | None,
    params: dict[str, Any],
    files: dict[str, bytes | IO[bytes]],
    *,
    check_disk: bool,
) -> str:
    """Writes the job folder and queues the job; returns its id (or the run's existing job's).

    Args:
        queue: the queue and where its workers run.
        kind: a name of ``core.jobs.kinds.registry.KINDS``.
        store, run_id: the workspace and the run the job works on (None: no run).
        params: the kind's parameters (JSON types).
        files: uploads to put into the job folder first, by plain file name.
        check_disk: refuse the job when no disk space is left under the cap.

    Raises:
        StudioError: missing run, the kind's check refused the input, or no disk space is left
            under the cap (``DiskFullError``).
    """
    settings = queue.settings
    spec = get_kind(kind)
    if spec.needs_run and run_id is None:
        raise StudioError(f"A {spec.label} needs a run.")
    if run_id is not None:
        store.path(run_id)
    if files:  # nothing is written before the uploads fit under the cap
        check_disk_room(settings, f"this {spec.label}", needed_bytes=upload_bytes(files))
    job_id = new_job_id(kind)
    folder = job_folder(store.root.resolve(), run_id, job_id)
    folder.mkdir(parents=True)
    try:
        for name, data in files.items():
            write_upload(folder, name, data)
        if spec.check is not None:
            spec.check(folder, params, settings)
        if check_disk and spec.disk_action is not None:  # the uploads above count too
            check_disk_room(settings, spec.disk_action)
        if spec.input_key is not None:
            write_input_key(folder, spec.input_key(folder, run_id, params))
        planned_mb = job_plan_mb(queue, kind, store, run_id, params, folder)
        with queue.registry.locked() as state:
            job = NewJob(kind, store, run_id, job_id, params, planned_mb)
            return _enqueue(state, queue, job)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def submit_training(queue: JobQueue, store: RunStore, config: RunConfig) -> str:
    """Creates a run for ``config`` and queues its training; returns the run id.

    Raises:
        DiskFullError, QuotaError: refused; nothing is left behind (no run without a job).
    """
    check_disk_room(queue.settings, "training")
    run_id = store.create(config)
    store.append_log(run_id, f"config: {config.to_json(indent=None)}")
    try:
        submit_job(queue, "train", store, run_id, {"resume": False}, {}, check_disk=False)
    except BaseException:
        shutil.rmtree(store.root / run_id, ignore_errors=True)
        raise
    return run_id


def upload_bytes(files: dict[str, bytes | IO[bytes]]) -> int:
    """What the uploads will take on disk (a file object's size from its end)."""
    total = 0
    for data in files.values():
        if isinstance(data, bytes | bytearray):
            total += len(data)
        else:
            position = data.tell()
            total += data.seek(0, io.SEEK_END)
            data.seek(position)
    return total


def job_plan_mb(
    queue: JobQueue,
    kind: str,
    store: RunStore,
    run_id: str | None,
    params: dict[str, Any],
    folder: Path,
) -> float:
    """The job's memory plan; a local job that could never fit is refused here.

    Raises:
        StudioError: the job needs more memory than the server has for jobs (a kind with its
            own guard in the worker, training, is never refused here).
    """
    spec = get_kind(kind)
    backbone_params = job_backbone_params(store, run_id, params, folder)
    planned = planned_peak_mb(kind, params, backbone_params)
    if queue.executor.name == LOCAL_EXECUTOR and not spec.own_memory_guard:
        check_fits_alone(planned, queue.settings, spec.label)
    return planned


@dataclass(frozen=True)
class NewJob:
    """A job whose folder is written, on its way into the queue.

    Attributes:
        kind: the job's kind; store: the workspace's runs; run_id: its run (None for a
        workspace job); job_id: its id; params: the kind's parameters; planned_mb: its memory
        plan (``job_plan_mb``).
    """

    kind: str
    store: RunStore
    run_id: str | None
    job_id: str
    params: dict[str, Any]
    planned_mb: float


def _enqueue(state: RegistryState, queue: JobQueue, job: NewJob) -> str:
    """Adds the job under the lock (or returns the run's existing job of this kind)."""
    settings, executor = queue.settings, queue.executor
    spec = get_kind(job.kind)
    workspace = workspace_key(job.store)
    settle(state, executor, settings)
    if spec.one_per_run and job.run_id is not None:
        existing = state.for_run(job.kind, workspace, job.run_id)
        if existing is not None:
            shutil.rmtree(job_folder(workspace, job.run_id, job.job_id), ignore_errors=True)
            return existing.job_id
    if spec.input_key is not None:
        replace_same_input(state, executor, job_folder(workspace, job.run_id, job.job_id))
    check_job_quota(state, settings, workspace, job.kind)
    add_job(state, queue, job)
    settle(state, executor, settings)
    return job.job_id


def add_job(state: RegistryState, queue: JobQueue, job: NewJob) -> None:
    """Writes the request and queued state of a job whose folder exists, and lists it with
    its memory plan (``planned_mb``) and lane, kept in its folder too for a rebuild."""
    settings, executor = queue.settings, queue.executor
    spec = get_kind(job.kind)
    workspace = workspace_key(job.store)
    request = JobRequest(
        job.job_id, job.kind, workspace, job.run_id, job.params, absolute_settings(settings),
        executor.name, time.time(),
    )  # fmt: skip
    request.save()
    write_state(request.folder, state="queued", submitted=request.submitted)
    if spec.owns_run_status and job.run_id is not None:
        (job.store.path(job.run_id) / STOP_FILE).unlink(missing_ok=True)  # an old Stop is done
        mark_queued(job.store, job.run_id, job.job_id)
    lane = SHORT_LANE if spec.short else LONG_LANE
    write_plan(request.folder, job.planned_mb, lane)
    state.add(
        JobEntry(
            job.job_id, job.kind, workspace, job.run_id, str(request.folder),
            executor=executor.name, submitted=request.submitted, planned_mb=job.planned_mb,
            lane=lane,
        )
    )  # fmt: skip
