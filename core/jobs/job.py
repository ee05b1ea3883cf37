"""One training run in a background thread, and the snapshot of its state the UI polls.

A ``TrainingJob`` is both the run's ``TrainingEvents`` receiver (the trainer calls it from the
worker thread) and the object a page reads with ``snapshot()``; its state is kept under a lock.
Jobs are queued and launched by ``core.jobs.manager.JobManager``.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.errors import StudioError
from core.settings import Settings
from core.spec.run import RunConfig
from core.store.runs import RunStore, mark_live
from core.train.events import TrainingEvents


class JobSlots(Protocol):
    """What a job needs from whoever schedules it (``core.jobs.manager.JobManager``)."""

    def enqueue(self, job: TrainingJob) -> None:
        """Starts ``job`` when a slot is free."""

    def cancel_queued(self, job: TrainingJob) -> None:
        """Drops ``job`` from the queue if it has not started."""

    def job_ended(self, job: TrainingJob) -> None:
        """Frees ``job``'s slot for the next one."""


# Lazily imported in the worker thread, so importing this module stays cheap for pages.
_trainer: Any = None

MAX_BATCH_ROWS = 5000
MAX_EVENTS = 300
PHASES = {"extracting": "extract", "training": "head", "fine-tuning": "fine_tune"}


@dataclass
class JobSnapshot:
    """A consistent copy of a job's state for the UI (safe to read without locks)."""

    run_id: str
    status: str
    phase: str | None
    epoch: int
    epochs: int
    progress: float
    eta_s: float | None
    history: list[dict[str, Any]] = field(default_factory=list)
    batch_history: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    queue_position: int | None = None
    error: str | None = None


def _trainer_module() -> Any:
    global _trainer
    if _trainer is None:
        import core.train.trainer as trainer

        _trainer = trainer
    return _trainer


class TrainingJob(TrainingEvents):
    """One run trained in a background thread; also receives the trainer's events."""

    def __init__(
        self,
        config: RunConfig,
        store: RunStore,
        run_id: str,
        manager: JobSlots,
        settings: Settings,
        resume: bool = False,
    ) -> None:
        self.config, self.store, self.run_id = config, store, run_id
        self.settings, self.resume = settings, resume
        self._manager = manager
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = "queued"
        self._epoch, self._progress = 0, 0.0
        self._eta: float | None = None
        self._history: list[dict[str, Any]] = []
        self._batches: deque[dict[str, Any]] = deque(maxlen=MAX_BATCH_ROWS)
        self._events: deque[str] = deque(maxlen=MAX_EVENTS)
        self._queue_position: int | None = None
        self._error: str | None = None
        if resume:
            self._history = list(store.load(run_id).history)

    # --- public API -------------------------------------------------------------------------
    def start(self) -> None:
        """Queues the job with its manager (it starts when a slot is free; idempotent)."""
        self._manager.enqueue(self)

    def stop(self) -> None:
        """Asks the job to stop after the current batch (or drops it from the queue)."""
        self._stop.set()
        self._manager.cancel_queued(self)

    def snapshot(self) -> JobSnapshot:
        """Returns a copy of the current state."""
        with self._lock:
            return JobSnapshot(
                run_id=self.run_id,
                status=self._status,
                phase=PHASES.get(self._status),
                epoch=self._epoch,
                epochs=self.config.train.total_epochs,
                progress=self._progress,
                eta_s=self._eta,
                history=list(self._history),
                batch_history=list(self._batches),
                events=list(self._events),
                queue_position=self._queue_position,
                error=self._error,
            )

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the job ended; returns False on timeout."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        """True once the job finished, stopped or failed."""
        return self._done.is_set()

    # --- events from the trainer (TrainingEvents protocol) -------------------------------
    def status(self, status: str) -> None:
        with self._lock:
            self._status = status
            self._queue_position = None
            if status == "extracting":
                self._progress = 0.0

    def message(self, text: str) -> None:
        with self._lock:
            self._events.append(f"{time.strftime('%H:%M:%S')} {text}")

    def extraction(self, split: str, done: int, total: int) -> None:
        with self._lock:
            self._progress = done / total if total else 1.0

    def epoch(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._history = [r for r in self._history if r["epoch"] < row["epoch"]] + [row]
            self._epoch = int(row["epoch"])

    def batch(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._batches.append(row)

    def progress(self, fraction: float, eta_s: float | None, epoch: int, epochs: int) -> None:
        with self._lock:
            self._progress, self._eta = min(max(fraction, 0.0), 1.0), eta_s

    def should_stop(self) -> bool:
        return self._stop.is_set()

    # --- called by the scheduler ----------------------------------------------------------------
    def set_queued(self, position: int) -> None:
        with self._lock:
            changed = self._queue_position != position
            self._queue_position = position
        if changed:
            self.message(f"Waiting in the queue (position {position}).")

    def finish(self, status: str, error: str | None = None) -> None:
        with self._lock:
            self._status, self._error, self._queue_position = status, error, None
            if status == "finished":
                self._progress, self._eta = 1.0, 0.0
        self._done.set()

    def launch(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"train-{self.run_id}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        run_dir = self.store.root / self.run_id  # id validated when the run was created
        try:
            trainer = _trainer_module()
            metrics = trainer.run_training(
                self.config,
                self.store,
                self.run_id,
                self,
                settings=self.settings,
                resume=self.resume,
            )
            self.finish("stopped" if metrics.get("stopped") else "finished")
        except BaseException as error:  # every failure must end as a clean "failed" run
            message = _trainer_module().explain_error(error)
            self._record_failure(message)
        finally:
            mark_live(run_dir, False)
            self._manager.job_ended(self)

    def _record_failure(self, message: str) -> None:
        try:
            self.store.append_log(self.run_id, traceback.format_exc())
            self.store.update_status(self.run_id, status="failed", error=message)
        except (OSError, StudioError):
            pass  # folder gone or unwritable: the run reads as interrupted (or is deleted)
        self.message(f"Failed: {message}")
        self.finish("failed", message)
