"""``python -m core.jobs.worker JOB_FOLDER/request.json``: run one job in this fresh process.

Started by an executor (``core.jobs.executor``, ``core.jobs.ray_executor``) by this module's
name, ``WORKER_MODULE``, never by a user. The executors get that name from here
(``executor_named``), so they start the worker without importing it. The worker:

1. reads the request and marks the job ``running`` with its pid (``state.json``);
2. starts a heartbeat thread: every ``heartbeat_stale_s / 4`` seconds it refreshes the job's
   state and, for a training job, the run's ``status.json`` (so other processes see it alive),
   and settles the queue (``core.jobs.scheduler.settle``: reaps dead workers, launches queued
   jobs);
3. runs the job's kind (``core.jobs.kinds``) and writes ``result.json`` and the final state;
   a failure becomes a plain sentence in ``state.json`` (the traceback goes to ``worker.log``);
   a finished job of a kind with a follow-up (``JobKind.then``: a finished training queues its
   quick-prediction model) queues that job for the same run;
4. removes its own registry entry and launches the next queued job, under the registry lock.

All its memory (TensorFlow's included) goes back to the OS when it exits. Its OOM score is
raised so that, when memory runs out, the kernel kills the worker rather than the web server.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import traceback

from core.atomic import write_json_atomic
from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.context import JobContext
from core.jobs.executor import Executor, LocalProcessExecutor
from core.jobs.kinds.registry import JobKind, get_kind
from core.jobs.ray_executor import RayExecutor
from core.jobs.registry import JobRegistry
from core.jobs.request import RESULT_FILE, JobRequest, write_state
from core.jobs.scheduler import settle
from core.jobs.submission import JobQueue, submit_job

WORKER_MODULE = "core.jobs.worker"  # this module: what the executors start (python -m)
OOM_SCORE_ADJ = "500"


def executor_named(name: str) -> Executor:
    """A new executor of the kind ``name`` (as stored with a job) that starts this worker.

    Raises:
        StudioError: no executor of that name exists here.
    """
    if name == "local":
        return LocalProcessExecutor(WORKER_MODULE)
    if name == "ray":
        return RayExecutor(WORKER_MODULE)
    raise StudioError(f"Jobs of the '{name}' executor cannot be run here.")


def executor_for(settings: Settings) -> Executor:
    """The executor new jobs use: Ray when ``settings.ray_address`` is set, else local."""
    return executor_named("ray" if settings.ray_address else "local")


class Heartbeat(threading.Thread):
    """Keeps the job (and its run) visibly alive and the queue moving while the job works."""

    def __init__(
        self, context: JobContext, kind: JobKind, registry: JobRegistry, executor: Executor
    ) -> None:
        super().__init__(name=f"heartbeat-{context.request.job_id}", daemon=True)
        self.context, self.kind, self.registry, self.executor = context, kind, registry, executor
        self.interval = max(1.0, context.settings.heartbeat_stale_s / 4)
        self._stopped = threading.Event()

    def run(self) -> None:
        while True:
            self.beat()
            if self._stopped.wait(self.interval):
                return

    def stop(self) -> None:
        """Ends the beats (after the current one)."""
        self._stopped.set()
        self.join(timeout=5)

    def beat(self) -> None:
        """One heartbeat; a failing part never stops the job."""
        context, request = self.context, self.context.request
        with contextlib.suppress(OSError, StudioError):
            write_state(context.folder)
        if request.run_id is not None and self.kind.owns_run_status:
            with contextlib.suppress(OSError, StudioError):
                info = context.store.run_status(request.run_id)
                if info.job == request.job_id and info.active:
                    context.store.update_status(request.run_id)
        with contextlib.suppress(OSError, StudioError), self.registry.locked() as state:
            settle(state, self.executor, context.settings)


def _failure_message(kind: JobKind, error: Exception) -> str:
    if isinstance(error, StudioError):
        return str(error)
    first_line = (str(error).strip().splitlines() or [""])[0][:300]
    return (
        f"The {kind.label} failed unexpectedly ({type(error).__name__}: {first_line}). "
        "The technical details are in the job's log."
    )


def run_job(context: JobContext, kind: JobKind) -> int:
    """Runs the kind and records its outcome; returns the exit code (0 = finished/stopped)."""
    try:
        result = kind.run(context)
    except Exception as error:  # every failure ends as a "failed" job with a sentence
        traceback.print_exc()
        message = _failure_message(kind, error)
        write_state(context.folder, state="failed", error=message, ended=time.time())
        return 1
    write_json_atomic(context.folder / RESULT_FILE, result)
    done = {"progress": 1.0} if context.outcome == "finished" else {}
    write_state(context.folder, state=context.outcome, error=None, ended=time.time(), **done)
    return 0


def queue_follow_up(context: JobContext, kind: JobKind, queue: JobQueue) -> str | None:
    """Queues the kind's follow-up job for the same run; returns its id (None: none queued).

    A follow-up that cannot be queued (a full disk, a deleted run) is only logged: the job
    itself finished, and a page queues the follow-up again when it needs it.
    """
    run_id = context.request.run_id
    if kind.then is None or run_id is None:
        return None
    if kind.then == "predict_model" and not context.settings.quick_predict_after_training:
        return None
    try:
        return submit_job(queue, kind.then, context.store, run_id, {}, {}, check_disk=True)
    except (OSError, StudioError) as error:
        print(f"the follow-up {kind.then} job was not queued: {error}", flush=True)
        return None


def _raise_oom_score() -> None:
    with (
        contextlib.suppress(OSError),
        open("/proc/self/oom_score_adj", "w", encoding="ascii") as handle,
    ):
        handle.write(OOM_SCORE_ADJ)


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``argv`` is ``[request.json path]``; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m {WORKER_MODULE} JOB_FOLDER/request.json", file=sys.stderr)
        return 2
    request = JobRequest.load(args[0])
    context = JobContext.from_request(request)
    kind = get_kind(request.kind)
    registry = JobRegistry(context.settings.runs_dir)
    executor = executor_named(request.executor)
    _raise_oom_score()
    write_state(context.folder, state="running", pid=os.getpid(), started=time.time())
    print(f"worker {os.getpid()} runs {request.job_id}", flush=True)
    heartbeat = Heartbeat(context, kind, registry, executor)
    heartbeat.start()
    try:
        code = run_job(context, kind)
        if code == 0 and context.outcome == "finished":
            queue_follow_up(context, kind, JobQueue(context.settings, registry, executor))
        return code
    finally:
        heartbeat.stop()
        with contextlib.suppress(OSError, StudioError), registry.locked() as state:
            state.remove(request.job_id)
            settle(state, executor, context.settings)


if __name__ == "__main__":
    sys.exit(main())
