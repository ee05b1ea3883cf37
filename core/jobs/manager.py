"""Background training jobs and the process-wide manager that caps how many run at once.

A page never calls ``model.fit`` itself (a widget click would rerun the script and cut it
off): it submits a ``RunConfig`` to ``get_manager()``, keeps the run id in the URL, and polls
``job.snapshot()`` from a fragment. The manager runs at most ``Settings.max_jobs`` jobs at a
time, each in its own thread, and keeps the rest queued with their position. Jobs live in the
manager (not in a browser session), so a reloaded page re-attaches with ``get(run_id, store)``.
"""

from __future__ import annotations

import contextlib
import threading
import time

from core.errors import StudioError
from core.jobs.job import TrainingJob
from core.settings import Settings
from core.spec.run import RunConfig
from core.store.runs import RunStore, mark_live


class JobManager:
    """Runs at most ``max_jobs`` training jobs at once; queues the rest in order.

    Reproducibility: each run seeds the process-wide Python/NumPy/TensorFlow generators
    (``keras.utils.set_random_seed`` in ``core.train.session``). With ``max_jobs > 1`` jobs share
    those generators, so a job starting while another runs reseeds them under it; concurrent
    runs are then not bit-for-bit reproducible. The default ``max_jobs=1`` keeps them so.
    """

    def __init__(self, settings: Settings | None = None, max_jobs: int | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.max_jobs = max_jobs or self.settings.max_jobs
        self._lock = threading.RLock()
        self._jobs: dict[tuple[str, str], TrainingJob] = {}
        self._queue: list[TrainingJob] = []
        self._running: list[TrainingJob] = []
        self._heartbeat: threading.Thread | None = None

    def submit(self, config: RunConfig, store: RunStore) -> TrainingJob:
        """Creates a run for ``config`` in ``store`` and queues its job (runs when a slot frees)."""
        run_id = store.create(config)
        store.append_log(run_id, f"config: {config.to_json(indent=None)}")
        job = TrainingJob(config, store, run_id, self, self.settings)
        job.start()
        return job

    def resume(self, store: RunStore, run_id: str) -> TrainingJob:
        """Continues an interrupted (or stopped) run from its last checkpoint.

        Raises:
            StudioError: the run is still active, finished, or has an unreadable config.
        """
        status = store.status(run_id)
        if status not in ("interrupted", "stopped"):
            raise StudioError(
                f"Only an interrupted or stopped run can be resumed; this one is {status}."
            )
        config = store.load(run_id).config
        store.update_status(run_id, status="queued", error=None)
        store.append_log(run_id, "resume requested")
        job = TrainingJob(config, store, run_id, self, self.settings, resume=True)
        job.start()
        return job

    def get(self, run_id: str, store: RunStore) -> TrainingJob | None:
        """The job of ``run_id`` in ``store``'s workspace in this process, or None.

        Jobs are keyed by (workspace folder, run id) and ``store`` is required, so a visitor
        can never reach a job of another workspace, even one with the same run id.
        """
        if not isinstance(store, RunStore):
            raise TypeError("JobManager.get needs the visitor's RunStore (its workspace).")
        with self._lock:
            return self._jobs.get((_root_key(store), run_id))

    def enqueue(self, job: TrainingJob) -> None:
        """Adds a job to the queue (once) and starts jobs while slots are free."""
        with self._lock:
            key = (_root_key(job.store), job.run_id)
            if self._jobs.get(key) is job and (job in self._queue or job in self._running):
                return
            if job.done:
                return
            self._jobs[key] = job
            self._queue.append(job)
            mark_live(job.store.path(job.run_id), True)  # a queued run is not "interrupted"
            self._pump()
            self._ensure_heartbeat()

    def cancel_queued(self, job: TrainingJob) -> None:
        """Removes a job that has not started yet; it ends as ``stopped``."""
        with self._lock:
            if job not in self._queue:
                return
            self._queue.remove(job)
            self._renumber()
        job.store.update_status(job.run_id, status="stopped")
        job.store.append_log(job.run_id, "stopped while queued")
        mark_live(job.store.path(job.run_id), False)
        job.finish("stopped")

    def job_ended(self, job: TrainingJob) -> None:
        """Called by a job's thread when it ends: frees the slot for the next job."""
        with self._lock:
            if job in self._running:
                self._running.remove(job)
            self._pump()
        # A finished run may push the disk over the cap: trim cache and old finished runs now.
        from core.store.workspace import trim_disk

        try:
            trim = trim_disk(self.settings)
        except OSError:
            return
        if trim.runs or trim.feature_entries:
            job.message(
                f"Disk cap reached: deleted {len(trim.runs)} old finished run(s) and "
                f"{trim.feature_entries} cached feature file(s)."
            )

    def _pump(self) -> None:
        while len(self._running) < self.max_jobs and self._queue:
            job = self._queue.pop(0)
            self._running.append(job)
            job.launch()
        self._renumber()

    def _renumber(self) -> None:
        for position, job in enumerate(self._queue, start=1):
            job.set_queued(position)

    def active_jobs(self) -> list[TrainingJob]:
        """Running and queued jobs, running first."""
        with self._lock:
            return [*self._running, *self._queue]

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None or not self._heartbeat.is_alive():
            self._heartbeat = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)
            self._heartbeat.start()

    def _beat(self) -> None:
        """Refreshes ``status.json`` heartbeats so other processes see the runs alive."""
        interval = max(1.0, self.settings.heartbeat_stale_s / 4)
        while True:
            time.sleep(interval)
            for job in self.active_jobs():
                if job.done:
                    continue
                # A deleted or unwritable run folder must not stop the other beats.
                with contextlib.suppress(OSError, StudioError):
                    job.store.update_status(job.run_id)
            with self._lock:
                if not self._running and not self._queue:
                    self._heartbeat = None  # the next enqueue starts a new beat thread
                    return


def _root_key(store: RunStore) -> str:
    return str(store.root.resolve())


_manager_lock = threading.Lock()
_manager: JobManager | None = None


def get_manager() -> JobManager:
    """The process-wide job manager (created on first use from ``Settings.from_env()``)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = JobManager()
        return _manager
