"""The run's snapshot as the Train page reads it: Streamlit-free helpers of ``run_view``.

The run trains in a worker process (``core.jobs.runner``); everything the page shows comes from
the run folder, so a reload, a second tab or a restarted server read the same thing. This
module reads the ``RunSnapshot`` and derives the result card's numbers and the ETA and chart
captions, without Streamlit (the view is ``ui.train.run_view``).
"""

from __future__ import annotations

from typing import Any

from core.config.run import RunConfig
from core.config.settings import Settings
from core.jobs.registry import QueueBusyError, RegistryState
from core.jobs.runner import JobRunner, get_runner
from core.jobs.snapshot import RunSnapshot, read_run_snapshot
from core.jobs.submission import workspace_key
from core.store.run_config import read_run_config
from core.store.run_history import EpochRow
from core.store.runs import RunStore

MAX_LOG_LINES = 200
# The result card: (metrics.json key, label); validation first, then the untouched test split.
RESULT_METRICS = (
    ("val_accuracy", "Val accuracy"),
    ("val_loss", "Val loss"),
    ("test_accuracy", "Test accuracy"),
    ("test_loss", "Test loss"),
)


def runner(settings: Settings) -> JobRunner:
    """The web process's job runner for these settings."""
    return get_runner(settings)


def load_snapshot(run_id: str, store: RunStore, settings: Settings) -> RunSnapshot:
    """Returns the run's snapshot (the queue is settled first: a dead worker reads interrupted).

    Raises:
        RunNotFoundError: the run is not in this workspace (or the id is malformed).
        QueueBusyError: another process held the queue's lock longer than a page waits
            (``core.jobs.registry.PAGE_LOCK_TIMEOUT_S``); ``last_known_snapshot`` reads it.
    """
    return runner(settings).snapshot(store, run_id)


def stored_config(store: RunStore, run_id: str) -> RunConfig | None:
    """The run's own ``config.json`` (None when it cannot be read: the page goes on)."""
    try:
        return read_run_config(store.path(run_id) / "config.json")
    except (OSError, ValueError):
        return None


def last_known_snapshot(run_id: str, store: RunStore, settings: Settings) -> RunSnapshot:
    """The run's snapshot from the queue as last saved: no lock, no settle.

    For a page while another process holds the queue's lock: ``.jobs.json`` is replaced
    atomically, so reading it without the lock gives the last saved queue (a worker that died
    since still reads as running until the next check under the lock).

    Raises:
        RunNotFoundError: the run is not in this workspace (or the id is malformed).
    """
    store.path(run_id)
    try:
        state = RegistryState(runner(settings).registry.entries())
    except QueueBusyError:  # a damaged file is rebuilt under the lock: the run folder alone
        state = RegistryState([])
    entry = state.for_run("train", workspace_key(store), run_id)
    position = state.position(entry.job_id) if entry else None
    return read_run_snapshot(store, run_id, entry, position)


def result_values(snapshot: RunSnapshot) -> dict[str, float | None]:
    """The result card's numbers: ``metrics.json`` first, else the last epoch's row.

    ``metrics.json`` holds the final weights' scores on the validation and test splits; a run
    stopped before its final evaluation only has the history's validation scores.
    """
    metrics = snapshot.metrics
    last = snapshot.history[-1] if snapshot.history else EpochRow()
    found = {
        "val_accuracy": (metrics.val_accuracy, last.val_accuracy),
        "val_loss": (metrics.val_loss, last.val_loss),
        "test_accuracy": (metrics.test_accuracy, None),  # the history has no test scores
        "test_loss": (metrics.test_loss, None),
    }
    values: dict[str, float | None] = {}
    for key, _ in RESULT_METRICS:
        stored, epoch = found[key]
        value = stored if stored is not None else epoch
        values[key] = float(value) if value is not None else None
    return values


def scores_source(snapshot: RunSnapshot, restore_best: bool) -> str:
    """Which epoch's model the result card's numbers are from, as one sentence.

    Training keeps the weights of the best epoch (lowest validation loss) when the recipe
    restores them or the run was stopped; the held-out scores are of that model.
    """
    best = snapshot.metrics.best
    epoch = best.epoch if best is not None else None
    if (restore_best or snapshot.status == "stopped") and isinstance(epoch, int):
        return (
            f"Scores of the model kept: the one from its best epoch, epoch {epoch} of "
            f"{snapshot.epoch} (lowest validation loss)."
        )
    return f"Scores of the model after its last epoch ({snapshot.epoch})."


def format_eta(seconds: float | None) -> str:
    """Formats an ETA in seconds as "1 min 05 s" (or "estimating..." when unknown)."""
    if seconds is None or seconds < 0:
        return "estimating..."
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def epoch_points(snapshot: RunSnapshot) -> int:
    """Returns how many epochs have a point on the chart (rows with a training loss)."""
    return sum(1 for row in snapshot.history if row.loss is not None)


def log_lines(snapshot: RunSnapshot) -> list[str]:
    """The run's last ``MAX_LOG_LINES`` events, oldest first."""
    return list(snapshot.events)[-MAX_LOG_LINES:]


def chart_signature(snapshot: RunSnapshot) -> tuple[Any, ...]:
    """What makes the chart change, other than new per-batch points."""
    return (snapshot.run_id, len(snapshot.history), snapshot.status)
