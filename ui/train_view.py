"""What the Train page shows about one run, from the live job or from the run store.

While a run is in progress its job (in the process-wide ``core.jobs.manager`` manager) has the
freshest state, per-batch losses included; once it is over, or after a server restart, the run
store's files tell the same story. ``load_view`` hides that difference from the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.store.runs import RunStore

ACTIVE = ("queued", "extracting", "training", "fine-tuning")
MAX_LOG_LINES = 200


@dataclass
class RunView:
    """A run as the Train page shows it (see ``core.jobs.manager.JobSnapshot`` for the fields)."""

    run_id: str
    status: str
    phase: str = ""
    epoch: int = 0
    epochs: int = 0
    progress: float = 0.0
    eta_s: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    batch_history: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    queue_position: int | None = None
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    live: bool = False

    @property
    def active(self) -> bool:
        """True while the run is queued or training."""
        return self.status in ACTIVE


def live_job(run_id: str, store: RunStore) -> Any | None:
    """Returns the job of ``run_id`` in ``store``'s workspace from the process-wide manager."""
    from core.jobs.manager import get_manager

    return get_manager().get(run_id, store)


def load_view(run_id: str, store: RunStore) -> RunView:
    """Returns the run's state: from its live job while it exists, else from ``store``.

    ``store.path`` is checked first, so a run id of another workspace is refused even while
    its job is running in this process.

    Raises:
        RunNotFoundError: the run is not in this workspace (or the id is malformed).
    """
    store.path(run_id)
    job = live_job(run_id, store)
    if job is not None:
        return _from_snapshot(run_id, job.snapshot())
    return _from_store(run_id, store)


def _from_snapshot(run_id: str, snap: Any) -> RunView:
    return RunView(
        run_id=run_id,
        status=str(snap.status),
        phase=str(getattr(snap, "phase", "") or ""),
        epoch=int(snap.epoch or 0),
        epochs=int(snap.epochs or 0),
        progress=float(snap.progress or 0.0),
        eta_s=snap.eta_s,
        history=list(snap.history),
        batch_history=list(snap.batch_history),
        events=list(snap.events)[-MAX_LOG_LINES:],
        queue_position=snap.queue_position,
        error=snap.error,
        live=True,
    )


def _from_store(run_id: str, store: RunStore) -> RunView:
    record = store.load(run_id)
    epochs = int(record.status_info.get("epochs") or 0) or record.config.train.total_epochs
    last = int(record.status_info.get("last_epoch") or len(record.history))
    log_path = record.paths.get("log")
    events: list[str] = []
    if log_path is not None and log_path.is_file():
        events = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    return RunView(
        run_id=run_id,
        status=record.status,
        epoch=last,
        epochs=epochs,
        progress=1.0 if record.status == "finished" else (last / epochs if epochs else 0.0),
        history=list(record.history),
        events=events[-MAX_LOG_LINES:],
        error=record.status_info.get("error"),
        metrics=dict(record.metrics or {}),
    )


def format_eta(seconds: float | None) -> str:
    """Formats an ETA in seconds as "1 min 05 s" (or "estimating..." when unknown)."""
    if seconds is None or seconds < 0:
        return "estimating..."
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def epoch_points(view: RunView) -> int:
    """Returns how many epochs have a point on the chart (rows with a training loss)."""
    return sum(1 for row in view.history if row.get("loss") is not None)
