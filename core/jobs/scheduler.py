"""Queue discipline, run under the registry lock: reap dead workers, launch queued jobs.

``settle`` is called by every process that touches the queue: the web server on each poll
(``JobRunner.tick``), a worker's heartbeat, and a worker as it ends. So a finished job frees its
slot at once, and a killed worker (kill -9, out-of-memory kill, a machine reboot) is noticed by
the next poll and never blocks the queue:

1. a running entry whose process is gone is removed; its job reads ``interrupted`` and, when it
   was training a run that still says it is active, the run reads ``interrupted`` with a plain
   message (``Resume`` continues from the last finished epoch);
2. queued entries are launched in turn (workspaces take turns: ``core.jobs.fairness``), each
   when its lane has a free slot and its planned memory fits next to the running jobs'
   (``core.jobs.memory_plan``);
3. queued runs get a fresh heartbeat, so ``effective_status`` keeps reading them as queued.

The rule of step 2. Each lane runs at most ``Settings.max_jobs`` jobs at once: the long lane
(training, export, evaluation, analyses, batch prediction, the Data page's checks) and the
short lane (a page's question: a model's layers or summary, an augmentation preview, the
quick-prediction model), so a page's few-second question never waits behind a whole training
run. Every local start also needs memory: the plans of the running local jobs plus its own
must fit in the memory for jobs (the budget less the web process's share), or nothing may
run at all. The memory plan decides whether a job fits; the turn order decides which goes
next. Long jobs keep that order: once one waits (for a slot or for memory), the long jobs
behind it wait too, so a large job is never overtaken for ever; a short job behind it may
still start when it fits, as it ends within seconds. Jobs of a Ray cluster (another executor)
take no local memory.

A queued run's ``status.json`` names the job (``job``) and the queue as its owner rather than a
process; the process that last refreshed it is its ``pid``.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import psutil

from core.atomic import write_json_atomic
from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.executor import Executor
from core.jobs.memory_plan import can_start, memory_for_jobs_mb
from core.jobs.registry import LONG_LANE, JobEntry, RegistryState
from core.jobs.request import FINAL_JOB_STATES, read_state, write_state
from core.store.run_status import HOST
from core.store.runs import RunStore

QUEUE_OWNER = "job-queue"
LOCAL_EXECUTOR = "local"  # LocalProcessExecutor.name: jobs on this machine
QUEUED_REFRESH_S = 10.0
LOST_RUN_MESSAGE = (
    "The training process stopped unexpectedly (it was ended from outside or ran out of "
    "memory). Press Resume to continue from the last finished epoch."
)
LOST_JOB_MESSAGE = "The job's process stopped unexpectedly (ended from outside or out of memory)."


def settle(state: RegistryState, executor: Executor, settings: Settings) -> list[JobEntry]:
    """Reaps dead workers, launches queued jobs into free slots, refreshes queued runs.

    Returns:
        The entries that were reaped (their process was gone).
    """
    lost = reap(state, executor)
    launch_queued(state, executor, settings)
    keep_queued_alive(state)
    return lost


def reap(state: RegistryState, executor: Executor) -> list[JobEntry]:
    """Removes running entries of ``executor`` whose worker is gone; marks them interrupted."""
    lost = []
    for entry in state.running():
        if entry.executor != executor.name or executor.is_alive(entry.handle or {}):
            continue
        state.remove(entry.job_id)
        mark_lost(entry)
        lost.append(entry)
    return lost


def mark_lost(entry: JobEntry) -> None:
    """Marks a job whose worker vanished (and the run it was training) as interrupted."""
    folder = Path(entry.folder)
    with contextlib.suppress(OSError):
        if folder.is_dir() and read_state(folder).get("state") not in FINAL_JOB_STATES:
            write_state(folder, state="interrupted", error=LOST_JOB_MESSAGE, ended=time.time())
    if entry.run_id is None:
        return
    store = RunStore(entry.workspace)
    with contextlib.suppress(OSError, StudioError):
        info = store.run_status(entry.run_id)
        if info.active and info.job == entry.job_id:
            store.update_status(entry.run_id, status="interrupted", error=LOST_RUN_MESSAGE)
            store.append_log(entry.run_id, f"worker of job {entry.job_id} is gone: interrupted")


def launch_queued(state: RegistryState, executor: Executor, settings: Settings) -> None:
    """Launches queued entries of ``executor`` that may start now, in turn
    (``RegistryState.in_turn``; the module's step 2)."""
    room_mb = memory_for_jobs_mb(settings) if executor.name == LOCAL_EXECUTOR else 0.0
    long_waits = False
    for entry in state.in_turn():
        if entry.executor != executor.name:
            continue  # another executor's job: its own processes launch it
        if entry.lane == LONG_LANE and long_waits:
            continue
        if not _may_start(state, entry, settings.max_jobs, room_mb):
            long_waits = long_waits or entry.lane == LONG_LANE
            continue
        try:
            handle = executor.launch(Path(entry.folder))
        except (OSError, StudioError) as error:
            state.remove(entry.job_id)
            with contextlib.suppress(OSError):
                write_state(
                    Path(entry.folder),
                    state="failed",
                    error=f"The job could not be started ({error}).",
                    ended=time.time(),
                )
            continue
        state.mark_running(entry, handle, time.time())


def _may_start(state: RegistryState, entry: JobEntry, max_jobs: int, room_mb: float) -> bool:
    """A free slot in the entry's lane and, for a local job, room for its planned memory."""
    running = state.running()
    if sum(1 for other in running if other.lane == entry.lane) >= max_jobs:
        return False
    if entry.executor != LOCAL_EXECUTOR:
        return True
    local = [other.planned_mb for other in running if other.executor == LOCAL_EXECUTOR]
    return can_start(entry.planned_mb, local, room_mb)


def mark_queued(store: RunStore, run_id: str, job_id: str) -> None:
    """Writes the run's ``status.json`` as queued for ``job_id`` (owned by the queue)."""
    info = store.read_status(run_id)
    info.update(
        status="queued",
        error=None,
        job=job_id,
        owner=QUEUE_OWNER,
        pid=os.getpid(),
        host=HOST,
        heartbeat=time.time(),
    )
    write_json_atomic(store.path(run_id) / "status.json", info)


def keep_queued_alive(state: RegistryState, now: float | None = None) -> None:
    """Refreshes the heartbeat of queued runs so they do not read as interrupted."""
    now = time.time() if now is None else now
    for entry in state.queued():
        if entry.run_id is None:
            continue
        store = RunStore(entry.workspace)
        with contextlib.suppress(OSError, StudioError):
            info = store.run_status(entry.run_id)
            if info.job != entry.job_id or info.status != "queued":
                continue
            fresh = info.heartbeat is not None and now - info.heartbeat < QUEUED_REFRESH_S
            if not fresh or info.pid is None or not psutil.pid_exists(info.pid):
                mark_queued(store, entry.run_id, entry.job_id)
