"""What a page shows about a training run or another job, read from their folders.

``RunSnapshot`` is everything the Train page shows about one run; ``JobStatus`` is the state of
one export, evaluation or batch prediction. Both are plain data, built from files only
(``status.json``, ``history.json``, ``metrics.json``, ``progress.json``, ``state.json``,
``result.json``) plus the job's registry entry, so any process, a reloaded page or a restarted
server reads the same thing. ``core.jobs.runner.JobRunner`` builds them after settling the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.jobs.progress import PHASES, read_progress
from core.jobs.registry import JobEntry
from core.jobs.request import FINAL_JOB_STATES, RESULT_FILE, read_json, read_state
from core.jobs.scheduler import LOST_JOB_MESSAGE, LOST_RUN_MESSAGE
from core.store.run_history import EpochRow
from core.store.run_metrics import RunMetrics
from core.store.run_status import ACTIVE_STATUSES
from core.store.runs import RunStore


@dataclass
class RunSnapshot:
    """One training run as the Train page shows it.

    Attributes:
        run_id: the run.
        status: queued | extracting | training | fine-tuning | finished | stopped | failed |
            interrupted. A queued run with ``queue_position`` None is starting (its worker is
            loading TensorFlow).
        phase: extract | head | fine_tune while active, else None.
        epoch, epochs: the last finished epoch and the total of both phases.
        progress: 0..1 over the whole run; eta_s: estimated seconds left (active runs only).
        history: one row per finished epoch (``history.json``).
        batch_history: the last per-batch rows ``{"step", "epoch", "fraction", "loss"}``.
        events: plain-language lines, oldest first.
        notices: settings the run changed on its own (e.g. a lowered batch size): show them.
        queue_position: 1-based place in the queue while waiting, else None.
        error: the plain reason of a failed or interrupted run.
        metrics: ``metrics.json`` (filled when the run ended; empty before).
        job_id: the queued or running job of the run, else None.
    """

    run_id: str
    status: str
    phase: str | None = None
    epoch: int = 0
    epochs: int = 0
    progress: float = 0.0
    eta_s: float | None = None
    history: list[EpochRow] = field(default_factory=list)
    batch_history: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    queue_position: int | None = None
    error: str | None = None
    metrics: RunMetrics = field(default_factory=RunMetrics)
    job_id: str | None = None

    @property
    def active(self) -> bool:
        """True while the run is queued, starting or training."""
        return self.status in ACTIVE_STATUSES


@dataclass
class JobStatus:
    """One job (of any kind) as a page shows it.

    Attributes:
        job_id, kind, run_id: which job.
        state: queued | running | finished | failed | stopped | interrupted.
        queue_position: 1-based place in the queue while waiting, else None.
        progress: 0..1; message: the latest plain-language line.
        error: the plain reason of a failed or interrupted job.
        folder: the job folder (the kind's files are there, e.g. ``gradcam/0_overlay.png``).
        result: ``result.json`` once the job finished (or stopped), else None.
    """

    job_id: str
    kind: str
    run_id: str | None
    state: str
    folder: Path
    queue_position: int | None = None
    progress: float = 0.0
    message: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        """True once the job ended (finished, failed, stopped or interrupted)."""
        return self.state in FINAL_JOB_STATES


def read_run_snapshot(
    store: RunStore, run_id: str, entry: JobEntry | None, position: int | None
) -> RunSnapshot:
    """The run's snapshot from its folder and its registry entry (None when it has no job)."""
    record = store.load(run_id)
    progress = read_progress(record.path)
    stored = record.run_status
    status = record.status
    if entry is not None:  # the queue just checked that its worker is alive
        status = "queued" if entry.state == "queued" else stored.status
        status = status if status in ACTIVE_STATUSES else "queued"
    active = status in ACTIVE_STATUSES
    events = list(progress.get("events") or [])
    if position is not None:
        events.append(f"Waiting in the queue (position {position}).")
    error = stored.error if status in ("failed", "interrupted") else None
    if status == "interrupted" and not error:
        error = LOST_RUN_MESSAGE
    return RunSnapshot(
        run_id=run_id,
        status=status,
        phase=(PHASES.get(status) or progress.get("phase")) if active else None,
        epoch=int(progress.get("epoch") or stored.last_epoch),
        epochs=int(progress.get("epochs") or record.config.train.total_epochs),
        progress=1.0 if status == "finished" else float(progress.get("progress") or 0.0),
        eta_s=progress.get("eta_s") if active else None,
        history=record.history,
        batch_history=list(progress.get("batches") or []),
        events=events,
        notices=list(progress.get("notices") or []),
        queue_position=position,
        error=error,
        metrics=record.metrics,
        job_id=entry.job_id if entry is not None else None,
    )


def read_job_status(
    folder: Path, job_id: str, kind: str, run_id: str | None,
    entry: JobEntry | None, position: int | None,
) -> JobStatus:  # fmt: skip
    """The job's status from its folder and its registry entry (None once it left the queue)."""
    info = read_state(folder)
    state = str(info.get("state", "queued"))
    error = info.get("error")
    if entry is not None:
        state = entry.state
    elif state not in FINAL_JOB_STATES:  # not listed and not ended: its worker vanished
        state, error = "interrupted", error or LOST_JOB_MESSAGE
    result = None
    if state in ("finished", "stopped"):
        loaded = read_json(folder / RESULT_FILE)
        result = loaded if isinstance(loaded, dict) else None
    return JobStatus(
        job_id=job_id,
        kind=kind,
        run_id=run_id,
        state=state,
        folder=folder,
        queue_position=position,
        progress=float(info.get("progress") or 0.0),
        message=info.get("message"),
        error=error if state in ("failed", "interrupted") else None,
        result=result,
    )
